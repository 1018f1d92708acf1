"""Pulumi entry point: the stack config's `phase` selects what this run registers."""

from components.phase import program

program()
