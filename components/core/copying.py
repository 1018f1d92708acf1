"""`copy_tree`: copy.deepcopy for parsed YAML and JSON, several times faster.

Parsed manifests are dicts, lists and scalars; copy.deepcopy dispatches on every node through its
registry, its memo and its keep-alive list. This copies dicts and lists itself, returns str, int,
float, bool and None as they are (as deepcopy does: they are immutable), keeps deepcopy's memo so a
node shared by YAML aliases stays shared in the copy, and hands any other value (a date, bytes, a
set) to copy.deepcopy with the same memo: the copy equals deepcopy's, sharing included."""

from __future__ import annotations

import copy
from typing import Any

_ATOMIC = frozenset({str, int, float, bool, type(None)})


def copy_tree(value: Any, memo: dict[int, Any] | None = None) -> Any:
    if memo is None:
        memo = {}
    kind = type(value)
    if kind in _ATOMIC:
        return value
    if kind is dict:
        found = memo.get(id(value))
        if found is not None:
            return found
        new: dict[Any, Any] = {}
        memo[id(value)] = new
        for key, item in value.items():
            if type(key) not in _ATOMIC:
                key = copy.deepcopy(key, memo)
            new[key] = item if type(item) in _ATOMIC else copy_tree(item, memo)
        return new
    if kind is list:
        found = memo.get(id(value))
        if found is not None:
            return found
        items: list[Any] = []
        memo[id(value)] = items
        for item in value:
            items.append(item if type(item) in _ATOMIC else copy_tree(item, memo))
        return items
    return copy.deepcopy(value, memo)
