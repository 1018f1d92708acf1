"""migrate/yamlwriter.py writes exactly what PyYAML writes with the project's dumper: on generated data of
every type the project emits (tricky strings above all), on what it leaves to PyYAML, and on every
document `render` writes for the reference stacks."""

from __future__ import annotations

import datetime
import math
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import migrate.render
from migrate import yamlio
from migrate.render import render_stack_file
from migrate.yamlio import dump, pyyaml_dump
from migrate.yamlwriter import MAX_DEPTH, MAX_KEY_LENGTH, MAX_TEXT_LENGTH, BlockWriter
from tests.conftest import PHASE_FILES, ROOT

# fmt: off
TRICKY = [
    "", " ", "  ", "yes", "no", "on", "off", "y", "n", "Yes", "NO", "true", "False", "null", "Null", "~",
    "1", "-1", "+1", "1.0", "-1.5", "0x1F", "0o17", "017", "1_000", "1e3", "1.0e+3", ".inf", "-.inf",
    ".NaN", ".5", "1:30", "190:20:30", "=", "<<", "-", "--", "---", "----", "- a", "-a", "a -", ":", ": ",
    "a: b", "a:b", "a :b", "?", "? a", "?a", "#", "# a", "a#b", "a #b", ",", "a,b", "'", '"', "a'b", 'a"b',
    "''", "\\", "a\\b", "*", "*a", "&", "&a", "!", "!a", "!!str", "%", "%TAG", "@", "`", "|", "|-", ">",
    "{", "}", "[", "]", "{}", "[]", "a{b}", "...", "....", "a...", "..", ".", "/", "/a/b", "./a", "$x",
    "2025-01-01", "2025-01-01T10:00:00Z", "2025-1-1", "2001-12-14 21:59:43.10 -5", "12:00", "a b", " a",
    "a ", " a ", "a  b", "a\tb", "\t", "\ta", "a\t", "a\nb", "a\n", "\na", "\n", "a\n\n", "a\n\nb", "\n\n",
    " a\nb", "a \nb", "a\n b", "a\n\n\nb", "a\r\nb", "a\rb", "\x00", "\x07", "\x1b[0m", "\x7f", "\x85",
    "a\x85b", "\xa0", "a\u2028b", "\u2029", "\ufeff", "\ufeffa", "é", "日本語", "a→b", "😀", "a😀",
    "\ud7ff", "\ue000", "\ufffd", "\U0010ffff", "https://example.com/a?b=c#d", "image:1.2",
    "mcr.microsoft.com/a/b:1.0", "key=value", "a=b,c=d", "${VAR}", "$(cmd)", "100%", "50m", "128Mi", "0",
    "00", "0.0", "-0", "-0.0", "1.", "1e", "e3", "0b101", "1__0", "Y", "N", "~a", "a~",
]
# fmt: on

STRINGS = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=20),
    st.text(alphabet=" \n\t\r-:#'\"?,[]{}&*!|>%@`.~=aZ01é😀\x85\u2028", max_size=12),
    st.builds(lambda a, b, c: a + b + c, *[st.sampled_from(TRICKY)] * 3),
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.sampled_from([0.0, -0.0, 1e16, 1e-5, 1.5e300]),
    STRINGS,
)
DATA = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(STRINGS, children, max_size=4)
    ),
    max_leaves=40,
)


def same(value: Any) -> str:
    written = dump(value)
    assert written == pyyaml_dump(value), repr(value)
    return written


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DATA)
def test_any_data_is_written_as_pyyaml_writes_it(value):
    same(value)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.one_of(STRINGS, st.integers(), st.booleans(), st.none()), SCALARS, max_size=5))
def test_keys_of_any_type_are_written_as_pyyaml_writes_them(value):
    same(value)


@pytest.mark.parametrize("string", TRICKY, ids=repr)
def test_a_tricky_string_in_every_position(string):
    for shape in (
        {"k": string},
        {string: "v"},
        [string],
        {"a": [string, {"b": string, string: [string]}], "z": {"y": {"x": string}}},
        [[string, [string]], {"k": [[string]]}],
        {"a": {string: {string: string}}},
    ):
        same(shape)
    for text in (f"{string}\n{string}", f"\n{string}", f"{string}\n", f"  {string}\nx\n", f"x\n{string}\n\n"):
        same({"a": {"b": text, "c": [text, [text]]}, "d": text})


@pytest.mark.parametrize("length", [MAX_TEXT_LENGTH - 3, MAX_TEXT_LENGTH + 1, 99_990, 100_010, 250_000])
def test_long_strings_fold_as_pyyaml_folds_them(length):
    words = ("word " * length)[:length]
    for value in (words, "a" * length, words.replace(" ", ": "), f"{words}\n{words}", words + "é\t"):
        same({"key": value, "list": [{"nested": value}]})


def test_the_longest_string_written_here_at_the_deepest_and_widest_place_is_not_folded():
    words = ("word " * MAX_TEXT_LENGTH)[: MAX_TEXT_LENGTH - 3]
    deep: Any = {"k" * MAX_KEY_LENGTH: words}
    for _ in range(MAX_DEPTH - 1):
        deep = {"k" * MAX_KEY_LENGTH: deep}
    assert "\n" not in same(deep).rstrip("\n").rsplit(":", 1)[-1]
    assert dump(deep) == pyyaml_dump(deep)


def test_long_and_multi_line_keys():
    for key in ("k" * 100, "k" * 101, "k" * 128, "k" * 129, "é" * 64, "é" * 65, "a\nb", "日" * 43, "日" * 50):
        same({key: 1, "b": {key: [key]}})


def test_layout_of_nested_and_empty_collections():
    same({"a": [], "b": {}, "c": [[]], "d": [{}], "e": [[[1]], {"x": []}], "f": {"g": {"h": {}}}})
    for top in ({}, [], [{}], [[]], "text", 1, None, 1.5, True):
        same(top)
    deep: Any = "leaf"
    for depth in range(300):
        deep = {"k": deep} if depth % 2 else [deep]
    same(deep)


def test_floats_and_numbers_keep_their_type_and_sign():
    numbers = (0.0, -0.0, 1.0, -1.0, 1e16, 1e-05, 1.5e300, math.inf, -math.inf, math.nan, 10**30, -(10**30))
    for value in numbers:
        assert yaml.safe_load(same({"v": value, "l": [value]}))["v"] == value or math.isnan(value)
    same({"a": 1, "b": 1.0, "c": True, "d": [1, 1.0, True, False, 0, 0.0, -0.0, None]})


def test_what_pyyaml_refuses_is_refused_the_same_way():
    for value in ({"a": object()}, [{"a": "ok"}, {"b": 1j}]):
        with pytest.raises(yaml.YAMLError):
            dump(value)
    same({"a": "é", 1: "mixed keys, unsorted", None: 1})
    same({"tuple": (1, "a"), "set": {1, 2}, "bytes": [b"\x00bytes"], "date": datetime.date(2025, 1, 1)})


def test_a_long_document_joined_as_it_goes_is_written_as_pyyaml_writes_it():
    """A document of far more pieces than the writer keeps unjoined (a phase's lifecycle.yaml), whose
    last items are unsupported (the whole document then goes to PyYAML, nothing of the joined text kept)."""
    entries = [
        {"name": f"r{i}", "lifecycle": {"dependsOn": [f"d{i}", "x"], "protect": i % 2 == 0}}
        for i in range(5000)
    ]
    long = {"phase": "parallel", "resources": entries, "deleted": [[{"a": [1, {"b": []}]}] * 3] * 2000}
    same(long)
    same({**long, "z": [*entries, {"tuple": (1, 2)}]})
    assert dump(long) == pyyaml_dump(long) and dump(long).count("\n") > 30_000


def test_a_new_writer_gives_the_same_text_as_a_warm_one():
    value = {"b": ["yes", "a: b", "x\ny", 1.0, None], "a": {"c": "- d", "e": ""}}
    assert BlockWriter(pyyaml_dump).dump(value) == same(value)


@pytest.mark.parametrize("path", PHASE_FILES, ids=lambda path: path.name)
def test_every_rendered_document_is_written_as_pyyaml_writes_it(path, monkeypatch):
    before = yamlio._WRITER.fallbacks
    written = render_stack_file(path, ROOT).rendered
    assert yamlio._WRITER.fallbacks == before  # every document went through the writer
    monkeypatch.setattr(migrate.render, "dump", pyyaml_dump)
    assert render_stack_file(path, ROOT).rendered == written
