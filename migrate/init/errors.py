"""The one error init raises for its inputs."""

from __future__ import annotations


class InventoryError(Exception):
    """Input that cannot be inventoried; one line that says what is wrong and what is expected."""
