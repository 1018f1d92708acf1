"""Everything the tool reads from users, read one way: stack files, exported manifests and engine config.

Input may come from a pull request, so reading must never crash, hang or leave the project: files are
stat'ed before they are opened (a FIFO or /dev/zero is refused, never read), read with a size bound and
decoded as UTF-8 with the offset of a bad byte; YAML is loaded with a bounded depth, a bounded number of
aliases and a bounded expanded size, and recursive aliases are refused; manifest paths must resolve to
regular files inside the project. Values echoed back in error messages are truncated and escaped."""

from __future__ import annotations

import errno
import os
import reprlib
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from yaml.composer import Composer
from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

from components.core.plain_yaml import Limits, plain_documents

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 100  # nesting of collections; kubectl exports with managedFields stay under 20
MAX_ALIASES = 1_000  # alias (`*name`) occurrences per YAML document
MAX_NODES = 500_000  # nodes per document, each alias counted at the full size of what it repeats
ECHO_CHARS = 80  # longest value echoed back in a message
LINE_CHARS = 400  # longest message line taken from another library (YAML, JSON Schema)


class UnsafeInput(Exception):
    """Input refused before or while reading it; the message says why, naming the limit or rule."""


# ---------------------------------------------------------------------------------------------- echo


class _Echo(reprlib.Repr):
    """repr() with every level bounded: strings keep Python's escapes for NUL, newlines and other
    non-printables, containers show their first items only."""

    def __init__(self) -> None:
        super().__init__()
        self.maxlevel = 3
        self.maxdict = self.maxlist = self.maxtuple = self.maxset = self.maxfrozenset = 4
        self.maxstring = self.maxother = ECHO_CHARS

    def repr_int(self, value: int, level: int) -> str:
        return f"<integer of {value.bit_length()} bits>" if value.bit_length() > 256 else repr(value)


_ECHO = _Echo()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def echo(value: Any, limit: int = ECHO_CHARS) -> str:
    """A bad value as shown in a message: like repr(), at most `limit` characters, nothing unprintable."""
    return _clip(_ECHO.repr(value), limit)


def escape(text: str, limit: int = LINE_CHARS) -> str:
    """Text from the input (a key, a library's message) made printable on one line and bounded."""
    text = text[: limit * 2]
    if not text.isprintable():
        text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return _clip(text, limit)


# ------------------------------------------------------------------------------------------- files


def _file_type(mode: int) -> str:
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    )
    return next((name for test, name in kinds if test(mode)), "not a regular file")


def _check_regular(status: os.stat_result, limit: int = MAX_FILE_BYTES) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise UnsafeInput(f"is {_file_type(status.st_mode)}, not a regular file; it is not read")
    if status.st_size > limit:
        raise UnsafeInput(f"is {status.st_size:,} bytes, above the file size limit of {limit:,} bytes")


def read_text(path: Path, limit: int = MAX_FILE_BYTES) -> str:
    """A regular file's UTF-8 text. Stat first, so devices and FIFOs are never opened; open without
    blocking and check again on the open file, so a file swapped in between is refused too."""
    try:
        _check_regular(os.stat(path), limit)
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        raise UnsafeInput(f"cannot read file: {error.strerror}") from None
    except ValueError:  # a NUL character in the path
        raise UnsafeInput("cannot read file: the path holds a NUL character") from None
    with os.fdopen(descriptor, "rb") as file:
        _check_regular(os.fstat(file.fileno()), limit)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise UnsafeInput(f"is above the file size limit of {limit:,} bytes")
    return decode(data)


def decode(data: bytes) -> str:
    """UTF-8 text, or UnsafeInput naming the offset of the first bad byte."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnsafeInput(
            f"is not UTF-8 text: byte 0x{data[error.start]:02x} at byte offset {error.start} ({error.reason})"
        ) from None


def relative_path(relative: str) -> str:
    """`relative` normalized, or UnsafeInput when it could name something outside the project before
    any symlink is followed: a NUL character, an absolute path, a way out through '..'."""
    if "\x00" in relative:
        raise UnsafeInput("the path holds a NUL character")
    if Path(relative).is_absolute():
        raise UnsafeInput("must be a path relative to the project root; absolute paths are refused")
    normal = os.path.normpath(relative)
    if normal == os.pardir or normal.startswith(os.pardir + os.sep):
        raise UnsafeInput("leads outside the project root through '..'; keep manifests inside the project")
    return normal


def project_file(root: Path, relative: str) -> Path:
    """`relative` resolved inside `root` (symlinks resolved), or UnsafeInput saying why not. Nothing
    is opened: read_text then refuses anything but a regular file."""
    relative_path(relative)
    # os.path.realpath, not Path.resolve: the same resolution without building Paths part by part (a
    # load reads a thousand manifests), and a symlink loop is left for read_text to refuse (ELOOP)
    # where Path.resolve raises RuntimeError.
    base = os.path.realpath(root)
    resolved = os.path.realpath(os.path.join(base, relative))  # not normalized: `link/..` follows the link
    inside = base if base.endswith(os.sep) else base + os.sep
    if resolved != base and not resolved.startswith(inside):
        raise UnsafeInput("resolves through a symlink to outside the project root; keep manifests inside it")
    return Path(resolved)


@dataclass(frozen=True)
class FileTexts:
    """A project's files held in memory by normalized relative path: init's generated project before
    anything is written, a git revision's manifests. Read through `read_project_file` as a project root
    on disk is read, so every caller refuses and words the same things (no scratch directory: on a
    filesystem that creates files slowly, writing init's thousand files cost more than loading them)."""

    texts: Mapping[str, str]

    @classmethod
    def of(cls, texts: Mapping[str, str]) -> FileTexts:
        return cls({relative_path(relative): text for relative, text in texts.items()})


Project = Path | FileTexts


def read_project_file(project: Project, relative: str, limit: int = MAX_FILE_BYTES) -> str:
    """The text of `relative` in the project: a root on disk (project_file, then read_text) or files
    held in memory, refused with the same words (a path out of the project, a missing file, one above
    the size limit)."""
    if isinstance(project, Path):
        return read_text(project_file(project, relative), limit)
    text = project.texts.get(relative_path(relative))
    if text is None:
        raise UnsafeInput(f"cannot read file: {os.strerror(errno.ENOENT)}")
    size = len(text.encode()) if len(text) > limit // 4 else 0  # a character is at most 4 bytes
    if size > limit:
        raise UnsafeInput(f"is {size:,} bytes, above the file size limit of {limit:,} bytes")
    return text


# -------------------------------------------------------------------------------------------- YAML


_NO_KEY = object()


def _limit(message: str, mark: Any) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, message, mark)


class _BoundedComposer(Composer):
    """PyYAML's composer made iterative and bounded, counting while composing so nothing is ever
    expanded: depth, alias occurrences, and the document's size with every alias counted at the full
    size of what it repeats (an alias bomb of a few hundred bytes would otherwise expand to billions of
    nodes downstream). An alias to a node still being composed (`&w [*w]`) is refused: the document
    would contain itself. Iterative rather than recursive, which also makes it faster than PyYAML's
    own Python composer; path resolvers (unused by safe loading) are not consulted."""

    if TYPE_CHECKING:  # provided by the parser and the resolver it is mixed with

        def get_event(self) -> Any: ...

        def resolve(self, kind: Any, value: Any, implicit: Any) -> Any: ...

    def compose_document(self) -> yaml.Node:
        self.get_event()  # DocumentStartEvent
        node = self._compose_root()
        self.get_event()  # DocumentEndEvent
        self.anchors = {}
        return node

    def _compose_root(self) -> yaml.Node:
        composition = _Composition(self)
        stack = composition.stack
        while True:
            event = self.get_event()
            kind = type(event)
            if kind is ScalarEvent:
                node = composition.scalar(event)
            elif kind is AliasEvent:
                node = composition.alias(event)
            elif kind is SequenceEndEvent or kind is MappingEndEvent:
                node = composition.close(event)
            else:
                composition.open(event, SequenceNode if kind is SequenceStartEvent else MappingNode)
                continue
            if composition.nodes > MAX_NODES:
                raise _limit(
                    f"the document expands to more than {MAX_NODES:,} nodes (limit: expanded size, aliases "
                    "counted in full)",
                    event.start_mark,
                )
            if not stack:
                return node
            # Into the collection being filled (inline: this runs once per node): an item, a key, or the
            # value of the pending key.
            parent = stack[-1]
            if type(parent[0]) is SequenceNode:
                parent[0].value.append(node)
            elif parent[3] is _NO_KEY:
                parent[3] = node
            else:
                parent[0].value.append((parent[3], node))
                parent[3] = _NO_KEY


class _Composition:
    """One document being composed: its anchors, each anchored node's expanded size, the anchors still
    open, the nodes and aliases counted so far, and the collections being filled."""

    __slots__ = ("aliases", "anchors", "nodes", "open_anchors", "resolve", "sizes", "stack")

    def __init__(self, composer: _BoundedComposer) -> None:
        self.resolve = composer.resolve
        self.anchors: dict[Any, yaml.Node] = composer.anchors
        self.sizes: dict[Any, int] = {}
        self.open_anchors: set[Any] = set()
        self.nodes = self.aliases = 0
        self.stack: list[list[Any]] = []  # [collection node, anchor, node count at its start, pending key]

    def alias(self, event: Any) -> yaml.Node:
        """The anchored node again, counted at its full size."""
        self.aliases += 1
        if self.aliases > MAX_ALIASES:
            raise _limit(f"more than {MAX_ALIASES:,} aliases (limit: alias count)", event.start_mark)
        if event.anchor in self.open_anchors:
            raise _limit(
                f"recursive alias *{escape(event.anchor, 40)} inside its own anchor (limit: no "
                "recursive aliases)",
                event.start_mark,
            )
        if event.anchor not in self.anchors:
            raise _limit(f"found undefined alias {escape(event.anchor, 40)!r}", event.start_mark)
        self.nodes += self.sizes[event.anchor]
        return self.anchors[event.anchor]

    def close(self, event: Any) -> yaml.Node:
        """The collection just ended; its anchor's size is known now."""
        node, anchor, start, _ = self.stack.pop()
        node.end_mark = event.end_mark
        if anchor is not None:
            self.open_anchors.discard(anchor)
            self.sizes[anchor] = self.nodes - start + 1
        return node

    def _new_anchor(self, anchor: Any, event: Any) -> None:
        if anchor in self.anchors:
            raise _limit(f"found duplicate anchor {escape(anchor, 40)!r}", event.start_mark)

    def scalar(self, event: Any) -> yaml.Node:
        self.nodes += 1
        anchor = event.anchor
        if anchor is not None:
            self._new_anchor(anchor, event)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(ScalarNode, event.value, event.implicit)
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
        if anchor is not None:
            self.anchors[anchor], self.sizes[anchor] = node, 1
        return node

    def open(self, event: Any, node_class: type[SequenceNode] | type[MappingNode]) -> None:
        """A sequence or mapping starts: it is filled until its end event."""
        self.nodes += 1
        anchor = event.anchor
        if anchor is not None:
            self._new_anchor(anchor, event)
        if len(self.stack) >= MAX_DEPTH:
            raise _limit(f"nested deeper than {MAX_DEPTH} levels (limit: depth)", event.start_mark)
        tag = event.tag
        if tag is None or tag == "!":
            tag = self.resolve(node_class, None, event.implicit)
        collection = node_class(tag, [], event.start_mark, None, flow_style=event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = collection
            self.open_anchors.add(anchor)
        self.stack.append([collection, anchor, self.nodes, _NO_KEY])


class _PythonLoader(
    yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser, _BoundedComposer, SafeConstructor, Resolver
):
    """Pure-Python PyYAML with the same limits, for a PyYAML built without libyaml."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        _BoundedComposer.__init__(self)
        SafeConstructor.__init__(self)
        Resolver.__init__(self)


LOADERS: tuple[type, ...] = (_PythonLoader,)
if yaml.__with_libyaml__:
    from yaml.cyaml import CParser  # type: ignore[attr-defined]

    class _LibyamlLoader(_BoundedComposer, CParser, SafeConstructor, Resolver):  # type: ignore[misc]
        """libyaml parses (in C, the fast part); composing stays in Python so every limit holds before
        anything recurses: PyYAML's C composer has no depth bound and crashes the interpreter on deeply
        nested input."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _BoundedComposer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

    LOADERS = (_LibyamlLoader, _PythonLoader)


def _yaml_problem(error: Exception) -> UnsafeInput:
    detail = " ".join(str(error).split()).replace(' in "<unicode string>",', " at")
    return UnsafeInput(f"is not valid YAML: {escape(detail)}")


_LIMITS = Limits(MAX_DEPTH, MAX_NODES, MAX_ALIASES)


def load_yaml_documents(text: str, loader_class: type = LOADERS[0]) -> list[Any]:
    """Every document of a YAML stream, safely constructed within the limits above. Plain data comes
    straight from libyaml's events (components/core/plain_yaml.py); anything else, and every refusal,
    takes the composer above, so each message stays what it was."""
    if loader_class is LOADERS[0]:
        documents = plain_documents(text, _LIMITS)
        if documents is not None:
            return documents
    return composed_documents(text, loader_class)


def composed_documents(text: str, loader_class: type = LOADERS[0]) -> list[Any]:
    """The same through the bounded composer and PyYAML's safe constructor, whatever the stream holds."""
    loader = loader_class(text)
    try:
        documents = []
        while loader.check_node():
            documents.append(loader.construct_document(loader.get_node()))
        return documents
    except (yaml.YAMLError, ValueError, OverflowError) as error:  # ValueError: e.g. a date 2024-13-01
        raise _yaml_problem(error) from None
    finally:
        loader.dispose()


def load_yaml(text: str) -> Any:
    """The single document of a YAML stream (None when empty)."""
    documents = load_yaml_documents(text)
    if len(documents) > 1:
        raise UnsafeInput(f"is not valid YAML: expected a single document, found {len(documents)}")
    return documents[0] if documents else None


def check_tree(value: Any) -> None:
    """The same depth and size limits for a value that did not come through YAML (engine JSON)."""
    stack, nodes = [(value, 1)], 0
    while stack:
        item, depth = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise UnsafeInput(f"holds more than {MAX_NODES:,} values (limit: size)")
        if depth > MAX_DEPTH:
            raise UnsafeInput(f"is nested deeper than {MAX_DEPTH} levels (limit: depth)")
        if isinstance(item, dict):
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
