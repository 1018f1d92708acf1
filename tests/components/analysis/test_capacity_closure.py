"""What each step of a transition waits for, kept as its relevant part only (components/analysis/
capacity.py _closure), equals the whole transitive closure cut to that part, cycles included."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from components.analysis.capacity import _closure

NAMES = st.sampled_from([f"r{i}" for i in range(12)])
GRAPHS = st.dictionaries(NAMES, st.lists(NAMES, max_size=4).map(tuple), max_size=12)


def whole_closure(depends):
    """The walk the capacity analysis made before: every resource's whole closure."""
    done = {}

    def visit(name, trail):
        if name in done:
            return done[name]
        found = set()
        for dependency in depends.get(name, ()):
            if dependency not in trail:
                found |= {dependency} | visit(dependency, trail | {name})
        done[name] = found
        return found

    for name in depends:
        visit(name, frozenset())
    return done


@settings(max_examples=500, deadline=None)
@given(GRAPHS, st.sets(NAMES))
def test_the_relevant_part_of_each_closure_is_kept(depends, relevant):
    whole = whole_closure(depends)
    kept = _closure(depends, relevant)
    assert kept.keys() == whole.keys()
    assert all(set(kept[name]) == whole[name] & relevant for name in whole)
