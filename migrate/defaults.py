"""The defaults `diff` takes and the parser shows, here so that building the parser (every command,
`--help`) does not import the diff and the library behind it (migrate/__main__.py)."""

from __future__ import annotations

DEFAULT_MAX_CHARS = 60_000
STACK_PLACEHOLDER = "<stack>"
