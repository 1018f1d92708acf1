"""The fast path of loading YAML: plain data built straight from libyaml's events, for the documents that
need nothing else, and None for every other one (components/core/inputs.py then composes it as before).

An exported manifest or a stack file is mappings, sequences and untagged scalars. For those, PyYAML's
safe loading (Composer, then SafeConstructor) amounts to: a mapping is a dict filled key by key in
document order (a repeated key keeps its first place and takes its last value: `mapping[key] = value`
in BaseConstructor.construct_mapping), a sequence a list, a quoted or block scalar its text, and a
plain scalar whatever the implicit resolvers' first matching tag constructs (yaml/resolver.py,
yaml/constructor.py), and an alias the very object its anchor made (constructed once per document).
This builds exactly that, counting as the composer counts (collections open at once; nodes per
document, an alias at the full size of what it repeats; aliases), and answers None as soon as the
document holds anything whose meaning or refusal the slow path owns: an explicit tag, a merge (`<<`)
or value (`=`) key, a collection as a key, an alias that is recursive, undefined or beyond the limits,
a repeated anchor, nesting or a size beyond the limits, a scalar its constructor refuses, a parse
error. Those cost one more parse; the slow path then says what it always said. A plain scalar's value
depends on its text alone, so each distinct one is constructed once per process; equal texts then
share one (immutable) object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

AVAILABLE = bool(yaml.__with_libyaml__)

_NO_KEY = object()
# Tags whose constructor the slow path owns: merge keys are flattened by the mapping's constructor,
# `=` keys retagged there; `!`, `&` and `*` alone resolve to a tag nothing constructs.
_SLOW_TAGS = frozenset({"tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"})
_CACHED_CHARS = 200  # longer scalars are rare and seldom repeated: built each time, not kept
_CACHED_VALUES = 200_000  # distinct scalars kept per process before the caches start over


class _Leave(Exception):
    """The stream holds something the slow path owns."""


class _Scalars(SafeConstructor, Resolver):
    """What safe loading makes of an untagged plain scalar: its implicit tag, then that tag's constructor."""

    def __init__(self) -> None:
        SafeConstructor.__init__(self)
        Resolver.__init__(self)

    def plain(self, text: str) -> Any:
        """The value; _Leave when the slow path owns the tag, or the constructor's error (a date
        2024-13-01), which the slow path raises again with the document's position."""
        tag = self.resolve(ScalarNode, text, (True, False))
        construct = self.yaml_constructors.get(tag)
        if construct is None or tag in _SLOW_TAGS:
            raise _Leave
        return construct(self, ScalarNode(tag, text, None, None))


_SCALARS = _Scalars()
_PLAIN: dict[str, Any] = {}  # plain scalar text -> its value
_QUOTED: dict[str, str] = {}  # quoted or block scalar text -> one shared copy of it


def _plain(text: str) -> Any:
    value = _SCALARS.plain(text)
    if len(text) <= _CACHED_CHARS:
        if len(_PLAIN) >= _CACHED_VALUES:
            _PLAIN.clear()
        _PLAIN[text] = value
    return value


def _quoted(text: str) -> str:
    if len(text) > _CACHED_CHARS:
        return text
    if len(_QUOTED) >= _CACHED_VALUES:
        _QUOTED.clear()
    return _QUOTED.setdefault(text, text)


def plain_documents(text: str, limits: Limits) -> list[Any] | None:
    """Every document of the stream as safe loading builds it, or None when the slow path must decide."""
    if not AVAILABLE:
        return None
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    parser = CParser(text)
    try:
        return _Builder(limits).run(parser.get_event)
    except Exception:  # _Leave, a parse error: the slow path decides, and says why
        return None
    finally:
        parser.dispose()


@dataclass(frozen=True)
class Limits:
    """What the slow path allows a document: collections open at once, nodes (an alias counted at the
    size of what it repeats) and aliases."""

    depth: int
    nodes: int
    aliases: int


class _Builder:
    """The documents of one stream, built event by event (this runs once per node of every input)."""

    __slots__ = (
        "aliases",
        "anchored",
        "anchors",
        "documents",
        "done",
        "keys",
        "limits",
        "nodes",
        "root",
        "sizes",
        "stack",
    )

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.documents: list[Any] = []
        self.stack: list[Any] = []  # the collections being filled, innermost last
        self.keys: list[Any] = []  # per open collection: a mapping's pending key, else _NO_KEY
        self.root: Any = None
        self.done = False
        self.start(None)

    def run(self, next_event: Any) -> list[Any]:
        """Scalars, most of the events, are handled inline; the rest by their handler."""
        handlers = {
            MappingStartEvent: self.mapping,
            SequenceStartEvent: self.sequence,
            MappingEndEvent: self.close,
            SequenceEndEvent: self.close,
            AliasEvent: self.alias,
            DocumentStartEvent: self.start,
            DocumentEndEvent: self.end,
            StreamStartEvent: self.start,
            StreamEndEvent: self.finish,
        }
        plain, quoted, place = _PLAIN, _QUOTED, self.place
        while not self.done:
            event = next_event()
            if type(event) is not ScalarEvent:
                handlers[type(event)](event)
            elif event.tag is not None:
                raise _Leave
            elif event.anchor is not None:
                self.anchored_scalar(event)
            elif event.implicit[0]:  # plain: its implicit tag's value
                text = event.value
                value = plain.get(text, _NO_KEY)
                place(_plain(text) if value is _NO_KEY else value)
            else:  # quoted or block: its text
                text = event.value
                place(quoted.get(text) or _quoted(text))
        return self.documents

    def start(self, event: Any) -> None:
        """A document starts: anchors and counts are per document, as the composer keeps them."""
        self.nodes = self.aliases = 0
        self.anchors: dict[str, Any] = {}
        self.sizes: dict[str, int] = {}  # an anchor's nodes, known once it is closed
        self.anchored: dict[int, tuple[str, int]] = {}  # open anchored collection's depth -> (anchor, nodes)

    def end(self, event: Any) -> None:
        self.documents.append(self.root)

    def finish(self, event: Any) -> None:
        self.done = True

    def anchored_scalar(self, event: Any) -> None:
        if event.anchor in self.anchors:
            raise _Leave  # a repeated anchor
        value = _plain(event.value) if event.implicit[0] else event.value
        self.place(value)
        self.anchors[event.anchor], self.sizes[event.anchor] = value, 1

    def alias(self, event: Any) -> None:
        """The anchored object again, counted at its full size; recursive or undefined: refused."""
        self.aliases += 1
        size = self.sizes.get(event.anchor)
        if size is None or self.aliases > self.limits.aliases:
            raise _Leave
        self.nodes += size - 1
        self.place(self.anchors[event.anchor])

    def mapping(self, event: Any) -> None:
        self.open(event, {})

    def sequence(self, event: Any) -> None:
        self.open(event, [])

    def open(self, event: Any, collection: dict[Any, Any] | list[Any]) -> None:
        stack, anchor = self.stack, event.anchor
        if event.tag is not None or len(stack) >= self.limits.depth:
            raise _Leave
        self.place(collection)
        if anchor is not None:
            if anchor in self.anchors:
                raise _Leave  # a repeated anchor
            self.anchors[anchor] = collection
            self.anchored[len(stack)] = (anchor, self.nodes)
        stack.append(collection)
        self.keys.append(_NO_KEY)

    def close(self, event: Any) -> None:
        self.stack.pop()
        self.keys.pop()
        if self.anchored:
            anchor, start = self.anchored.pop(len(self.stack), (None, 0))
            if anchor is not None:
                self.sizes[anchor] = self.nodes - start + 1

    def place(self, value: Any) -> None:
        """Into the collection being filled: an item, a key, or the value of the pending key."""
        self.nodes += 1
        if self.nodes > self.limits.nodes:
            raise _Leave
        if not self.stack:
            self.root = value
            return
        parent, keys = self.stack[-1], self.keys
        if type(parent) is list:
            parent.append(value)
        elif keys[-1] is _NO_KEY:
            if type(value) is dict or type(value) is list:
                raise _Leave  # a collection as a key: unhashable, the slow path refuses it
            keys[-1] = value
        else:
            parent[keys[-1]] = value
            keys[-1] = _NO_KEY
