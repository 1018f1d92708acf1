"""One YAML style for everything the tool prints: block style, sorted keys, literal multi-line strings."""

from __future__ import annotations

from typing import Any

import yaml

from migrate.yamlwriter import BlockWriter

_Base = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_Base):  # type: ignore[misc, valid-type]
    """No anchors/aliases: a shared dict (e.g. labels) is written out in full wherever it appears."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # Literal blocks where YAML allows them (PyYAML falls back to quoted for tabs, trailing spaces).
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def pyyaml_dump(value: Any) -> str:
    """The style, as PyYAML writes it: what `dump` equals."""
    return yaml.dump(
        value, Dumper=_Dumper, sort_keys=True, default_flow_style=False, allow_unicode=True, width=100_000
    )


# Writes each distinct scalar's text once (see migrate/yamlwriter.py); anything else goes to PyYAML.
_WRITER = BlockWriter(pyyaml_dump)


def dump(value: Any) -> str:
    return _WRITER.dump(value)
