"""The fast path of loading YAML: plain data built straight from libyaml's events, for the documents that
need nothing else, and None for every other one (components/core/inputs.py then composes it as before).

An exported manifest or a stack file is mappings, sequences and untagged scalars. For those, PyYAML's
safe loading (Composer, then SafeConstructor) amounts to: a mapping is a dict filled key by key in
document order (a repeated key keeps its first place and takes its last value: `mapping[key] = value`
in BaseConstructor.construct_mapping), a sequence a list, a quoted or block scalar its text, and a
plain scalar whatever the implicit resolvers' first matching tag constructs (yaml/resolver.py,
yaml/constructor.py). This builds exactly that, and answers None as soon as the document holds
anything whose meaning or refusal the slow path owns: an anchor or alias (limits, merge keys,
recursion), an explicit tag, a merge (`<<`) or value (`=`) key, a collection as a key, nesting or a
size beyond the limits, a scalar its constructor refuses, a parse error. Those cost one more parse;
the slow path then says what it always said. A plain scalar's value depends on its text alone, so each
distinct one is constructed once per process; equal texts then share one (immutable) object."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.events import (
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


def plain_documents(text: str, max_depth: int, max_nodes: int) -> list[Any] | None:
    """Every document of the stream as safe loading builds it, or None when the slow path must decide.
    `max_depth` collections open at once and `max_nodes` nodes per document, as the slow path allows."""
    if not AVAILABLE:
        return None
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    parser = CParser(text)
    try:
        return _Builder(max_depth, max_nodes).run(parser.get_event)
    except Exception:  # _Leave, a parse error: the slow path decides, and says why
        return None
    finally:
        parser.dispose()


class _Builder:
    """The documents of one stream, built event by event (this runs once per node of every input)."""

    __slots__ = ("documents", "done", "keys", "max_depth", "max_nodes", "nodes", "root", "stack")

    def __init__(self, max_depth: int, max_nodes: int) -> None:
        self.max_depth, self.max_nodes = max_depth, max_nodes
        self.documents: list[Any] = []
        self.stack: list[Any] = []  # the collections being filled, innermost last
        self.keys: list[Any] = []  # per open collection: a mapping's pending key, else _NO_KEY
        self.root: Any = None
        self.nodes = 0
        self.done = False

    def run(self, next_event: Any) -> list[Any]:
        """Scalars, most of the events, are handled inline; the rest by their handler."""
        handlers = {
            MappingStartEvent: self.mapping,
            SequenceStartEvent: self.sequence,
            MappingEndEvent: self.close,
            SequenceEndEvent: self.close,
            DocumentStartEvent: self.start,
            DocumentEndEvent: self.end,
            StreamStartEvent: self.start,
            StreamEndEvent: self.finish,
        }
        plain, quoted, place = _PLAIN, _QUOTED, self.place
        while not self.done:
            event = next_event()
            if type(event) is not ScalarEvent:
                handlers.get(type(event), self.leave)(event)  # an alias: leave
            elif event.anchor is not None or event.tag is not None:
                raise _Leave
            elif event.implicit[0]:  # plain: its implicit tag's value
                text = event.value
                value = plain.get(text, _NO_KEY)
                place(_plain(text) if value is _NO_KEY else value)
            else:  # quoted or block: its text
                text = event.value
                place(quoted.get(text) or _quoted(text))
        return self.documents

    def leave(self, event: Any) -> None:
        raise _Leave

    def start(self, event: Any) -> None:
        self.nodes = 0  # counted per document, as the composer counts

    def end(self, event: Any) -> None:
        self.documents.append(self.root)

    def finish(self, event: Any) -> None:
        self.done = True

    def mapping(self, event: Any) -> None:
        self.open(event, {})

    def sequence(self, event: Any) -> None:
        self.open(event, [])

    def open(self, event: Any, collection: dict[Any, Any] | list[Any]) -> None:
        stack = self.stack
        if event.anchor is not None or event.tag is not None or len(stack) >= self.max_depth:
            raise _Leave
        if stack and type(stack[-1]) is dict and self.keys[-1] is _NO_KEY:
            raise _Leave  # a collection as a key: unhashable, the slow path refuses it
        self.place(collection)
        stack.append(collection)
        self.keys.append(_NO_KEY)

    def close(self, event: Any) -> None:
        self.stack.pop()
        self.keys.pop()

    def place(self, value: Any) -> None:
        """Into the collection being filled: an item, a key, or the value of the pending key."""
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Leave
        if not self.stack:
            self.root = value
            return
        parent, keys = self.stack[-1], self.keys
        if type(parent) is list:
            parent.append(value)
        elif keys[-1] is _NO_KEY:
            keys[-1] = value
        else:
            parent[keys[-1]] = value
            keys[-1] = _NO_KEY
