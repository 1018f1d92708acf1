"""A block-style YAML writer that reproduces PyYAML's output, byte for byte, at a fraction of its cost.

`migrate.yamlio.dump` writes every rendered resource through PyYAML (the C emitter, with a Python
representer and resolver). PyYAML resolves and analyses every scalar each time it is written; a phase of
500 workloads writes about a million scalars, most of them the same few thousand strings. This writer
walks the data itself and decides how each *distinct* scalar is written once, by asking PyYAML:

- A scalar's text is decided per (type, value) and per context (mapping key, or value/sequence item), and
  cached. A plain ASCII string with no YAML indicator in it is decided here: plain when PyYAML's resolver
  reads it back as a string, single-quoted otherwise (`'yes'`, `'1.0'`, `'2025-01-01'`). Every other
  scalar is written by PyYAML itself, once, in a one-entry document, and its text taken from that.
- A multi-line string PyYAML writes as a literal block (`|`) is cut into lines here, re-indented for
  where it sits; the result is checked once against PyYAML's own text for the same string.
- The layout is PyYAML's block layout: keys sorted, two-space indentation, sequences under a mapping key
  not indented ("indentless"), a nested collection in a sequence item starting on the item's line, and
  empty collections written `{}` and `[]`.

Anything outside those shapes makes the whole document fall back to PyYAML (`fallback`), so the output
never differs: a top level that is not a non-empty dict or list, a key that is not a str or that PyYAML
would not write as a simple key (long, multi-line), a value of any other type (a tuple, a str subclass, a
date), a string long enough for PyYAML to fold at the line width, a literal block with "keep" chomping
(`|+`, which also changes how the document ends). tests/migrate/test_yamlwriter.py holds the writer equal
to PyYAML on generated data and on every document the project renders.

Assumes the dumper's options are those of `migrate.yamlio`: block style, `sort_keys=True`, indentation 2,
`allow_unicode=True`, a width far beyond any line written, no aliases, str written literal when it holds
a line break and plain otherwise."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import ScalarNode

# Longest text of a plain or quoted scalar (its escapes included) this writer writes: PyYAML folds such a
# scalar at a space past the width (100,000 columns). Nested at most MAX_DEPTH deep under keys of at most
# MAX_KEY_LENGTH characters, a scalar starts before column 600, so its last character stays below the width.
MAX_TEXT_LENGTH = 90_000
# PyYAML writes a key longer than 128 bytes (or a multi-line one) as a complex key (`? key`).
MAX_KEY_LENGTH = 100
MAX_DEPTH = 200
# A Python int as PyYAML writes it: str(value), plain (the resolver reads it back as an int).
MAX_INT = 10**18

_STR_TAG = "tag:yaml.org,2002:str"
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
# What keeps a printable ASCII line from being plain in a block context (libyaml's analysis of a scalar,
# yaml_emitter_analyze_scalar): an indicator as its first character, `-`, `?` or `:` first and followed by
# a space or nothing, `---` or `...` first, `: ` or a final `:` anywhere, ` #` anywhere, a space at either
# end, and nothing at all (an empty string).
_FIRST_INDICATORS = frozenset("#,[]{}&*!|>'\"%@`")
_NOT_PLAIN = re.compile(r"[-?:]( |$)|---|\.\.\.| |.*(: |:$| #| $)", re.DOTALL)
# Line breaks besides "\n" that YAML knows (a literal block would write them as they are).
_OTHER_BREAKS = re.compile("[\r\x85\u2028\u2029]")


# Pieces of text a document is written in before they are joined: a list of many small strings costs
# several times the text it holds (a phase's lifecycle.yaml of 2,000 workloads is a million pieces).
_PIECES = 10_000


class Unsupported(Exception):
    """The writer leaves this document to PyYAML."""


class _Literal:
    """A string PyYAML writes as a literal block: its header (`|`, `|-`, `|2-`, ...) and its lines."""

    __slots__ = ("header", "lines")

    def __init__(self, header: str, lines: list[str]) -> None:
        self.header = header
        self.lines = lines

    def text(self, indent: int) -> str:
        pad = " " * indent
        body = "\n".join(pad + line if line else "" for line in self.lines)
        return f" {self.header}\n{body}\n"


class BlockWriter:
    """`dump(value)` equal to `fallback(value)`, the PyYAML dump it stands for."""

    def __init__(self, fallback: Callable[[Any], str]) -> None:
        self._fallback = fallback
        self._resolver = yaml.resolver.Resolver()
        # value -> text after the ": " or "- " (or a _Literal); None: the document goes to PyYAML
        self._values: dict[Any, str | _Literal | None] = {}
        self._keys: dict[str, str | None] = {}
        self.fallbacks = 0  # documents left to PyYAML as a whole (tests read it)
        self._written: list[str] = []  # the document being written: its text joined so far

    def dump(self, value: Any) -> str:
        kind = type(value)
        if (kind is dict or kind is list) and value:
            out: list[str] = []
            self._written = written = []
            try:
                if kind is dict:
                    self._mapping(value, 0, out, False, 0)
                else:
                    self._sequence(value, 0, out, False, 0)
            except (Unsupported, TypeError):  # TypeError: keys that do not sort, an unhashable value
                pass
            else:
                written.append("".join(out))
                return written[0] if len(written) == 1 else "".join(written)
        self.fallbacks += 1
        return self._fallback(value)

    # -- layout ---------------------------------------------------------------------------------------

    def _mapping(
        self, mapping: dict[Any, Any], indent: int, out: list[str], inline: bool, depth: int
    ) -> None:
        """Keys at `indent`; the first one right where the writer stands when `inline` (after "- ")."""
        if depth > MAX_DEPTH:
            raise Unsupported
        pad = " " * indent
        keys = self._keys
        first = inline
        for key in sorted(mapping) if len(mapping) > 1 else mapping:
            if type(key) is not str:
                raise Unsupported
            text = keys.get(key, "") or self._key(key)
            out.append(text if first else pad + text)
            first = False
            self._node(mapping[key], indent, out, True, depth)

    def _sequence(self, items: list[Any], indent: int, out: list[str], inline: bool, depth: int) -> None:
        if depth > MAX_DEPTH:
            raise Unsupported
        item_start = " " * indent + "-"
        first = inline
        for item in items:
            out.append("-" if first else item_start)
            first = False
            self._node(item, indent, out, False, depth)
            if len(out) > _PIECES:  # a long document: its text so far joined, not kept in pieces
                self._written.append("".join(out))
                out.clear()

    def _node(self, value: Any, indent: int, out: list[str], in_mapping: bool, depth: int) -> None:
        """A value after "key:" (in_mapping) or "-" at `indent`, up to and including its line break."""
        kind = type(value)
        if kind is dict:
            if not value:
                out.append(" {}\n")
            elif in_mapping:
                out.append("\n")
                self._mapping(value, indent + 2, out, False, depth + 1)
            else:
                out.append(" ")
                self._mapping(value, indent + 2, out, True, depth + 1)
        elif kind is list:
            if not value:
                out.append(" []\n")
            elif in_mapping:  # indentless: the items at the key's column
                out.append("\n")
                self._sequence(value, indent, out, False, depth + 1)
            else:
                out.append(" ")
                self._sequence(value, indent + 2, out, True, depth + 1)
        else:
            cache_key = (kind, repr(value)) if kind is float else (kind, value)
            text = self._values.get(cache_key, "") or self._scalar(cache_key, value)
            if type(text) is str:
                out.append(text)
            else:
                out.append(text.text(indent + 2))  # type: ignore[union-attr]

    # -- scalars: decided once per distinct value ----------------------------------------------------

    def _key(self, key: str) -> str:
        if key not in self._keys:
            self._keys[key] = self._decide_key(key)
        text = self._keys[key]
        if text is None:
            raise Unsupported
        return text

    def _scalar(self, cache_key: tuple[type, Any], value: Any) -> str | _Literal:
        if cache_key not in self._values:
            self._values[cache_key] = self._decide_value(value)
        text = self._values[cache_key]
        if text is None:
            raise Unsupported
        return text

    def _decide_key(self, key: str) -> str | None:
        if len(key) > MAX_KEY_LENGTH or "\n" in key:
            return None
        ascii_text = self._ascii_line(key)
        if ascii_text is not None:
            return ascii_text + ":"
        text = self._fallback({key: 0})
        if not text.endswith(": 0\n") or "\n" in text[:-1] or text.startswith("?"):
            return None
        if _OTHER_BREAKS.search(text):
            return None
        return text[: -len(" 0\n")]

    def _decide_value(self, value: Any) -> str | _Literal | None:
        """The text after "key:" or "-" with its line break, or a _Literal; None: leave it to PyYAML."""
        kind = type(value)
        if kind not in (str, int, float, bool, type(None)):
            return None
        if kind is int and -MAX_INT < value < MAX_INT:
            return f" {value}\n"
        if kind is str and len(value) <= MAX_TEXT_LENGTH - 2:
            ascii_text = self._ascii_line(value)
            if ascii_text is not None:
                return f" {ascii_text}\n"
        text = self._fallback({"k": value})
        if not text.startswith("k:"):
            return None
        text = text[len("k:") :]
        if kind is str and "\n" in value and text.startswith(" |"):
            return self._literal(value, text)  # a literal block is never folded, whatever its length
        if len(text) > MAX_TEXT_LENGTH:
            return None
        # One line: a break PyYAML writes as it is (U+2028 in a quoted string) is followed by an indent.
        if text.count("\n") != 1 or not text.startswith(" ") or not text.endswith("\n"):
            return None
        if _OTHER_BREAKS.search(text):
            return None
        return text

    def _ascii_line(self, value: str) -> str | None:
        """A printable ASCII string's text: plain when libyaml allows it and the resolver reads it back as a
        str (not a bool, int, float, null or timestamp), else single-quoted; None for any other string."""
        if not _PRINTABLE_ASCII.fullmatch(value):
            return None
        plain = (
            value != ""
            and value[0] not in _FIRST_INDICATORS
            and not _NOT_PLAIN.match(value)
            and self._resolver.resolve(ScalarNode, value, (True, False)) == _STR_TAG
        )
        return value if plain else "'" + value.replace("'", "''") + "'"

    @staticmethod
    def _literal(value: str, pyyaml_text: str) -> _Literal | None:
        """The literal block PyYAML wrote for `value` ({"k": value}), cut into lines; None unless it is one
        this writer reproduces (a line break other than "\\n", "keep" chomping, a quoted style)."""
        if _OTHER_BREAKS.search(value) or value.endswith("\n\n") or value == "\n":
            return None
        lines = value[:-1].split("\n") if value.endswith("\n") else value.split("\n")
        header = "|" + ("2" if value[0] in " \n" else "") + ("" if value.endswith("\n") else "-")
        literal = _Literal(header, lines)
        return literal if literal.text(2) == pyyaml_text else None
