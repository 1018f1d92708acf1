"""Reading a large `kubectl get ... -A -o yaml` List without building every object.

PyYAML builds about 30k nodes a second on a small machine, and a cluster's export holds hundreds of
thousands (managedFields and status alone are half of them). kubectl prints a List in one fixed layout
(sigs.k8s.io/yaml): top-level keys at column 0, each item starting with `- ` at column 0 and continuing
at column 2 or deeper, an item's own keys at exactly column 2 and its metadata's keys at column 4. In that
layout each item's text can be cut out by lines, its kind read from its `  kind:` line, and only the
items a caller wants parsed; anything else (a hand-formatted file, flow style, indented sequences) is
parsed whole by the caller instead."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from components.core.inputs import load_yaml

# Patterns start with a literal newline rather than `^` so that the regex engine jumps from newline to
# newline instead of trying every character of a many-megabyte export.
_KIND = re.compile(r"\n  kind: ['\"]?([A-Za-z0-9]+)['\"]?[ \t]*\n")
_OWNED = re.compile(r"\n    ownerReferences:")
# metadata.name and metadata.namespace (column 4): keys are sorted, and no key an item has before
# `metadata` (apiVersion, handler, kind) holds a mapping, so the first such line is metadata's own. The
# same holds for a Pod's spec.nodeName (nothing else has a `nodeName` at column 4).
_NAME = re.compile(r"\n    name: ['\"]?([^'\"\n]*?)['\"]?[ \t]*\n")
_NAMESPACE = re.compile(r"\n    namespace: ['\"]?([^'\"\n]*?)['\"]?[ \t]*\n")
_NODE_NAME = re.compile(r"\n    nodeName: ['\"]?([^'\"\n]*?)['\"]?[ \t]*\n")
# metadata.ownerReferences: its entries at column 4, their keys at column 6.
_OWNER_REFERENCES = re.compile(r"\n    ownerReferences:\n((?:    - [^\n]*\n|      [^\n]*\n)+)")
_OWNER_KIND = re.compile(r"(?:^|\n)(?:    -|     ) kind: ['\"]?([^'\"\n]*?)['\"]?[ \t]*(?=\n)")
_OWNER_NAME = re.compile(r"(?:^|\n)(?:    -|     ) name: ['\"]?([^'\"\n]*?)['\"]?[ \t]*(?=\n)")
_ITEMS_KEY = re.compile(r"^items:[ \t]*$", re.MULTILINE)
_ITEM_START = re.compile(r"\n- ")
# A line at column 0 that belongs to no item: the List's next key (or anything kubectl never prints).
_ITEMS_END = re.compile(r"\n(?![ #\n]|- )")
# `status` (an item's key, column 2) and `metadata.managedFields` (column 4) with every line below them:
# deeper lines, the sequence's own `- ` lines at the key's column, and blank lines.
_STATUS = re.compile(r"^  status:[^\n]*\n(?:(?:   [^\n]*|[ \t]*)\n)*", re.MULTILINE)
MANAGED_FIELDS = re.compile(
    r"^    managedFields:[^\n]*\n(?:(?:     [^\n]*|    - [^\n]*|[ \t]*)\n)*", re.MULTILINE
)


class ExportedObject(dict):  # type: ignore[type-arg]
    """A parsed item that keeps the text kubectl printed for it, so it can be written out unchanged."""

    source_text: str | None = None


@dataclass(frozen=True)
class ItemText:
    """One item's text as kubectl printed it, and what can be read off it without parsing it."""

    kind: str | None
    text: str

    @property
    def owned(self) -> bool:
        return bool(_OWNED.search(self.text))

    @cached_property
    def name(self) -> str | None:
        match = _NAME.search(self.text)
        return match.group(1) if match else None

    @cached_property
    def namespace(self) -> str | None:
        match = _NAMESPACE.search(self.text)
        return match.group(1) if match else None

    @cached_property
    def node_name(self) -> str | None:
        """A Pod's spec.nodeName."""
        match = _NODE_NAME.search(self.text) if self.kind == "Pod" else None
        return match.group(1) if match else None

    @cached_property
    def owners(self) -> tuple[tuple[str, str], ...]:
        """(kind, name) of each ownerReference."""
        block = _OWNER_REFERENCES.search(self.text)
        if block is None:
            return ()
        found = []
        for entry in re.split(r"(?=^    - )", block.group(1), flags=re.MULTILINE):
            kind, name = _OWNER_KIND.search(entry), _OWNER_NAME.search(entry)
            if kind and name:
                found.append((kind.group(1), name.group(1)))
        return tuple(found)


def split_list(text: str) -> tuple[str, list[ItemText]] | None:
    """(the List's own top-level lines, each item's text) in kubectl's layout, else None."""
    if not text.endswith("\n"):
        text += "\n"
    key = _ITEMS_KEY.search(text)
    if key is None:
        return None
    body_start = key.end() + 1
    end = _ITEMS_END.search(text, key.end())
    body_end = end.start() + 1 if end else len(text)
    envelope = text[: key.start()] + text[body_end:]
    starts = [match.start() + 1 for match in _ITEM_START.finditer(text, key.end(), body_end)]
    before_first = text[body_start : starts[0] if starts else body_end]
    if (
        envelope.startswith("- ")
        or _ITEM_START.search(envelope)
        or any(line.strip() and not line.lstrip().startswith("#") for line in before_first.splitlines())
    ):
        return None
    bounds = [*starts, body_end]
    items = [text[begin:finish] for begin, finish in itertools.pairwise(bounds)]
    return envelope, [ItemText(_kind(item), item) for item in items]


def _kind(text: str) -> str | None:
    match = _KIND.search("\n  " + text[2:] if text.startswith("- kind:") else text)
    return match.group(1) if match else None


def without_server_sections(text: str) -> str:
    """An item's text without `status` and `metadata.managedFields`: what the API server writes, which
    nothing here reads."""
    return MANAGED_FIELDS.sub("", _STATUS.sub("", text))


def parse_item(item: ItemText) -> ExportedObject:
    """One item, parsed without its server sections, remembering its full text."""
    parsed = load_yaml(without_server_sections(item.text))
    if not isinstance(parsed, list) or len(parsed) != 1 or not isinstance(parsed[0], dict):
        raise ValueError("an item of the List is not an object")
    obj = ExportedObject(parsed[0])
    obj.source_text = item.text
    return obj


# A pass looks at what earlier passes parsed and returns which of the remaining items to parse.
Pass = Callable[[list[ExportedObject]], Callable[[ItemText], bool]]


def read_selected(text: str, passes: list[Pass]) -> tuple[dict[str, Any], list[ExportedObject]] | None:
    """The List's envelope and the items the passes select, parsed, in the export's order; None when the
    layout is not kubectl's. Raises UnsafeInput or ValueError for a selected item that is not YAML
    or not an object; items no pass selects are cut out but never parsed."""
    split = split_list(text)
    if split is None:
        return None
    envelope_text, items = split
    envelope = load_yaml(envelope_text + "items: []\n")
    if not isinstance(envelope, dict):
        return None
    parsed: dict[int, ExportedObject] = {}
    for make_selector in passes:
        selected = make_selector(list(parsed.values()))
        for index, item in enumerate(items):
            if index not in parsed and selected(item):
                parsed[index] = parse_item(item)
    return envelope, [parsed[index] for index in sorted(parsed)]
