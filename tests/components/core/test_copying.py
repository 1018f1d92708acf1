"""copy_tree copies what copy.deepcopy copies: equal values, nothing shared with the original, and a node
shared by YAML aliases shared in the copy as in deepcopy's."""

from __future__ import annotations

import copy
import datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from components.core.copying import copy_tree
from components.core.inputs import load_yaml_documents

TREES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=30,
)


def containers(value, found=None):
    found = [] if found is None else found
    if isinstance(value, (dict, list)):
        found.append(value)
        for item in value.values() if isinstance(value, dict) else value:
            containers(item, found)
    return found


@settings(max_examples=300, deadline=None)
@given(TREES)
def test_a_copy_equals_deepcopy_and_shares_nothing(value):
    copied = copy_tree(value)
    assert copied == copy.deepcopy(value)
    originals = {id(node) for node in containers(value)}
    assert not originals & {id(node) for node in containers(copied)}


def test_aliases_stay_shared_and_other_values_are_deep_copied():
    (document,) = load_yaml_documents(
        "a: &labels {app: x}\nb: *labels\nc: [&l [1, 2], *l]\nd: 2025-01-01\ne: !!set {x}\n"
    )
    copied, deep = copy_tree(document), copy.deepcopy(document)
    assert copied == deep == document
    assert copied["a"] is copied["b"] and copied["c"][0] is copied["c"][1]
    assert copied["a"] is not document["a"] and copied["e"] is not document["e"]
    assert copied["d"] == datetime.date(2025, 1, 1)
    shared = {"x": [1]}
    pair = copy_tree({"k": (shared, shared), "s": shared})
    assert pair["k"][0] is pair["k"][1] is pair["s"] and pair["s"] is not shared
