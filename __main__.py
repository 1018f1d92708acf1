"""Pulumi entry point: the stack config's `phase` selects what this run registers."""

from components.migration_phase import program

program()
