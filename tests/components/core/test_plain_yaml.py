"""The fast path (plain data from libyaml's events) builds what the bounded composer and PyYAML's safe
constructor build, value for value and type for type, and leaves every other document, and every
refusal, to them: load_yaml_documents answers the same, messages included."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from components.core.inputs import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_NODES,
    UnsafeInput,
    composed_documents,
    load_yaml_documents,
)
from components.core.plain_yaml import AVAILABLE, Limits, plain_documents
from tests.conftest import PHASE_FILES, ROOT

LIMITS = Limits(MAX_DEPTH, MAX_NODES, MAX_ALIASES)
pytestmark = pytest.mark.skipif(not AVAILABLE, reason="the fast path needs PyYAML built with libyaml")


def typed(value, seen=None):
    """`value` with every type spelled out (1, 1.0 and True are equal in Python, not in a manifest), and
    every collection met again (an alias) named by the order it was first met in."""
    seen = {} if seen is None else seen
    if isinstance(value, (dict, list)):
        if id(value) in seen:
            return ("again", seen[id(value)])
        seen[id(value)] = len(seen)
    if isinstance(value, dict):
        return ("dict", [(typed(k, seen), typed(v, seen)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [typed(item, seen) for item in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def slow(text):
    """The composer's answer: the documents, or the message it refuses the text with."""
    try:
        return typed(composed_documents(text))
    except UnsafeInput as error:
        return f"refused: {error}"


def answer(text):
    try:
        return typed(load_yaml_documents(text))
    except UnsafeInput as error:
        return f"refused: {error}"


def fast(text):
    documents = plain_documents(text, LIMITS)
    return None if documents is None else typed(documents)


PLAIN = [
    "",
    "# only a comment\n",
    "---\n",
    "--- \n...\n---\n",
    "a: 1\n---\nb: 2\n...\n",
    "x",
    "a: {b: [1, 2, {c: d}], e: []}\nf: {}\n",
    "a: 1\na: 2\nb: 3\n",  # a repeated key keeps its place and takes the last value
    "1: a\ntrue: b\n1.0: c\n",  # equal keys of different types: the first key, the last value
    "{a: {x: 1}, b: 2, a: [3]}",
    "- yes\n- No\n- on\n- OFF\n- y\n- n\n- ~\n- null\n- Null\n-\n- ''\n",
    "- 0o17\n- 0x1F\n- 017\n- 0b101\n- 1_000\n- 190:20:30\n- -0\n- +12\n",
    "- 1.5\n- .5\n- 1e3\n- 1.0e+3\n- .inf\n- -.Inf\n- .NaN\n- 6.8523015e+5\n- 190:20:30.15\n",
    "- 2024-01-02\n- 2001-12-14t21:59:43.10-05:00\n- 2001-12-14 21:59:43.10\n- 2002-12-14\n",
    "- '1'\n- \"true\"\n- 'null'\n- \"2024-01-02\"\n- '<<'\n- '='\n- \"\"\n",
    "a: |\n  line\n  two\nb: >-\n  folded\n  text\nc: |+\n  kept\n\n",
    "key with spaces: value, with #no comment\n'quoted key': \"a\\tb\\u00e9\"\n",
    "? complex\n: value\n",
    "[a, b, {c: d}, [e]]",
    "a:\n- 1\n- - 2\n  - 3\n",
    "a: 99999999999999999999999999999999999999\n",
    "café: ünïcødé\nemoji: 🙂\n",
    "[" * MAX_DEPTH + "]" * MAX_DEPTH,
    "a: &x 1\nb: *x\n",  # anchors and aliases: the anchored object again, shared
    "base: &b {x: [1, &i 2]}\nc: *b\nd: [*b, *i, *b]\n",
    "hostnames: &id001\n- a.example\nfirst: {h: *id001}\nsecond: {h: *id001}\n",
    "? &k key\n: value\nother: *k\n*k : again\n",  # an alias to a scalar as a key
    "a: &a x\nb: [" + ", ".join(["*a"] * MAX_ALIASES) + "]",  # at the alias limit
    "a: &a [&b 1]\n---\nb: &a [2]\nc: *a\n",  # anchors are per document
    "apiVersion: v1\nkind: List\nitems:\n- kind: Service\n  metadata: {name: web, labels: {app: web}}\n",
]
BOMB = (
    "a: &a ["
    + ", ".join(["x"] * 10)
    + "]\n"
    + "".join(
        f"{name}: &{name} [{', '.join([f'*{before}'] * 10)}]\n"
        for before, name in zip("abcde", "bcdef", strict=True)
    )
)
SLOW = [
    "&w [*w]",  # aliases the composer refuses: recursive, undefined, a repeated anchor, too many
    "a: &m {b: *m}",
    "a: *nowhere",
    "a: &x 1\nb: &x 2\n",
    "a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]",
    "a: &a [1, 2]\nb: {*a : x}",  # an alias to a collection as a key
    BOMB,  # 60 aliases expanding to a million nodes
    "base: &b {x: 1}\nc: {<<: *b, y: 2}\n",  # merge keys
    "a: {<<: {x: 1}}",  # a merge key without an alias
    "a: !!str 1\n",  # explicit tags
    "a: !!binary AAAA\n",
    "a: !!set {x}\n",
    "a: !custom x\n",
    "a: ! x\n",
    "=: value\n",  # the value key
    "a: =\n",
    "- !\n",
    "{[1]: x}",  # a collection as a key
    "{{a: 1}: x}",
    "&w [*w]",
    "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
    "- " * 5_000 + "x",
    "[" + "1," * 600_000 + "]",
    "a: 2024-13-01",
    "a: !!python/object/apply:os.system [true]",
    "a: [1, 2",
    "a: b: c",
    "\t- x",
    "a: 1\n--- [\n",  # a good document, then a broken one
    "a: " + "1" * 5_000 + "\n",  # an integer beyond Python's conversion limit
    "- *\n",
]


@pytest.mark.parametrize("text", PLAIN, ids=range(len(PLAIN)))
def test_plain_documents_are_built_as_the_composer_builds_them(text):
    documents = fast(text)
    assert documents is not None
    assert documents == slow(text) == answer(text)


@pytest.mark.parametrize("text", SLOW, ids=range(len(SLOW)))
def test_everything_else_is_left_to_the_composer_with_its_message(text):
    assert fast(text) is None
    assert answer(text) == slow(text)


def test_the_reference_files_take_the_fast_path():
    for path in [*PHASE_FILES, *sorted((ROOT / "manifests").rglob("*.yaml"))]:
        text = path.read_text()
        assert fast(text) is not None, path
        assert fast(text) == slow(text), path


def test_nan_is_the_one_object_the_slow_path_makes():
    """NaN differs from itself, so which NaNs are the same object shows when what holds them is compared
    (containers compare items by identity first): PyYAML returns its one `nan_value` each time."""
    fast, slow = load_yaml_documents("[.nan, .NaN]")[0], composed_documents("a: [.NAN]")[0]["a"]
    assert fast[0] is fast[1] is slow[0] and fast == slow + slow


def test_each_call_builds_new_collections():
    first, second = plain_documents("a: {b: [1]}", LIMITS), load_yaml_documents("a: {b: [1]}")
    first[0]["a"]["b"].append(2)
    assert second == [{"a": {"b": [1]}}] == load_yaml_documents("a: {b: [1]}")


# Scalars as written in a document: every implicit type, quoted look-alikes, odd spellings, and a few
# tokens that make the text something else (a tag, an anchor, an alias, a merge or value key, a syntax
# error); keys likewise, including equal keys of different types and collections.
GOOD_SCALARS = st.sampled_from(
    [
        "a",
        "x y",
        "1",
        "-1",
        "0o7",
        "0x1f",
        "1_0",
        "1:30",
        "1.5",
        ".inf",
        ".nan",
        "1e3",
        "yes",
        "No",
        "on",
        "~",
        "null",
        "2024-01-02",
        "2001-12-14t21:59:43.10-05:00",
        "'q'",
        '"d\\n"',
        "'true'",
        '"1"',
        "é",
        "99999999999999999999",
        "''",
    ]
)
BAD_SCALARS = st.sampled_from(
    ["2024-13-01", "<<", "=", "!", "&a x", "*a", "!!str 1", "!!int '3'", "[", "'", "k: v"]
)
GOOD_KEYS = st.sampled_from(["a", "b", "1", "true", "1.0", "'a'", '"b"', "~", "x y"])
BAD_KEYS = st.sampled_from(["<<", "=", "[x]", "{k: v}", "&k a", "*k"])


def _one(draw, good, bad):
    """Mostly a good token: one in twenty makes the document something the fast path leaves alone."""
    return draw(good if draw(st.sampled_from([True] * 19 + [False])) else bad)


@st.composite
def nodes(draw, indent=0, depth=3):
    """A node as YAML text, in block or flow style; block collections indented under their parent."""
    style = draw(st.sampled_from(["scalar", "flow-seq", "flow-map", "block-seq", "block-map"]))
    if depth == 0 or style == "scalar":
        return _one(draw, GOOD_SCALARS, BAD_SCALARS)
    if style.startswith("flow"):
        items = draw(st.lists(nodes(indent, 0), max_size=3))
        if style == "flow-seq":
            return "[" + ", ".join(items) + "]"
        keys = [_one(draw, GOOD_KEYS, BAD_KEYS) for _ in items]
        return "{" + ", ".join(f"{k}: {v}" for k, v in zip(keys, items, strict=True)) + "}"
    pad = " " * (indent + 2)
    items = draw(st.lists(nodes(indent + 2, depth - 1), min_size=1, max_size=3))
    if style == "block-seq":
        return "".join(f"\n{pad}- {item}" for item in items)
    keys = [_one(draw, GOOD_KEYS, BAD_KEYS) for _ in items]
    return "".join(f"\n{pad}{k}: {v}" for k, v in zip(keys, items, strict=True))


DOCUMENTS = st.lists(nodes(), min_size=1, max_size=3).map(lambda docs: "\n---\n".join(docs) + "\n")


@settings(max_examples=1500, deadline=None)
@given(DOCUMENTS)
def test_any_text_loads_as_the_composer_loads_it(text):
    found = fast(text)
    expected = slow(text)
    if found is not None:
        assert found == expected
    assert answer(text) == expected
