"""The one loading module: bounded reads, UTF-8, YAML limits, project paths, escaped echoes; and the
Pulumi program refusing the same input as the `migrate` commands, before anything is registered."""

from __future__ import annotations

import copy
import os
from pathlib import Path

import pulumi
import pytest

from components.core import inputs
from components.core.inputs import (
    LOADERS,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_FILE_BYTES,
    FileTexts,
    UnsafeInput,
    check_tree,
    echo,
    escape,
    load_yaml,
    load_yaml_documents,
    project_file,
    read_project_file,
    read_text,
)
from tests.conftest import PHASE_FILES, ROOT, load_raw


def _refused(call, *args) -> str:
    with pytest.raises(UnsafeInput) as caught:
        call(*args)
    return str(caught.value)


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_reference_files_load_as_safe_load_would(loader):
    import yaml

    for path in [*PHASE_FILES, *sorted((ROOT / "manifests").rglob("*.yaml"))]:
        text = path.read_text()
        assert load_yaml_documents(text, loader) == list(yaml.safe_load_all(text)), path


@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_merge_keys_and_shared_anchors_still_work(loader):
    assert load_yaml_documents("base: &b {x: 1}\nc: {<<: *b, y: 2}\nd: [*b, *b]", loader) == [
        {"base": {"x": 1}, "c": {"x": 1, "y": 2}, "d": [{"x": 1}, {"x": 1}]}
    ]


@pytest.mark.parametrize(
    ("text", "limit"),
    [
        ("&w [*w]", "recursive alias *w inside its own anchor (limit: no recursive aliases)"),
        ("a: &m {<<: *m}", "recursive alias *m inside its own anchor"),
        ("[" * 100_000 + "]" * 100_000, f"nested deeper than {MAX_DEPTH} levels (limit: depth)"),
        ("- " * 5_000 + "x", f"nested deeper than {MAX_DEPTH} levels (limit: depth)"),
        ("a: &a x\nb: [" + ", ".join(["*a"] * (MAX_ALIASES + 1)) + "]", "(limit: alias count)"),
        ("[" + "1," * 600_000 + "]", "more than 500,000 nodes (limit: expanded size"),
        ("a: 2024-13-01", "month must be in 1..12"),
        ("a: !!python/object/apply:os.system [true]", "could not determine a constructor"),
    ],
    ids=["recursive", "recursive-merge", "deep-flow", "deep-block", "aliases", "size", "date", "tag"],
)
@pytest.mark.parametrize("loader", LOADERS, ids=lambda loader: loader.__name__)
def test_yaml_limits_are_named(text, limit, loader):
    assert limit in _refused(load_yaml_documents, text, loader)


def test_a_stack_file_is_one_document():
    assert "expected a single document, found 2" in _refused(load_yaml, "a: 1\n---\nb: 2")


def test_nesting_at_the_depth_limit_loads():
    assert load_yaml("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert "limit: depth" in _refused(load_yaml, "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))


def test_a_non_utf8_byte_is_named_with_its_offset(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_bytes(b"config:\n  a: caf\xe9\n")
    assert _refused(read_text, path) == (
        "is not UTF-8 text: byte 0xe9 at byte offset 16 (invalid continuation byte)"
    )


def test_devices_fifos_and_directories_are_never_opened(tmp_path, monkeypatch):
    os.mkfifo(tmp_path / "fifo")
    opened = []
    monkeypatch.setattr(inputs.os, "open", lambda *args: opened.append(args))
    assert (
        _refused(read_text, Path("/dev/zero")) == "is a character device, not a regular file; it is not read"
    )
    assert _refused(read_text, tmp_path / "fifo") == "is a FIFO, not a regular file; it is not read"
    assert _refused(read_text, tmp_path) == "is a directory, not a regular file; it is not read"
    assert opened == []


def test_a_file_above_the_size_limit_is_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: nothing to read, only the size says no
    assert (
        _refused(read_text, big)
        == f"is {MAX_FILE_BYTES + 1:,} bytes, above the file size limit of 8,388,608 bytes"
    )


@pytest.mark.parametrize(
    ("relative", "reason"),
    [
        ("/etc/passwd", "absolute paths are refused"),
        ("../x.yaml", "leads outside the project root through '..'"),
        ("a/../../x.yaml", "leads outside the project root through '..'"),
        ("link/passwd", "resolves through a symlink to outside the project root"),
        ("a\x00b", "the path holds a NUL character"),
    ],
)
def test_project_paths_stay_inside_the_root(tmp_path, relative, reason):
    root = tmp_path / "project"
    root.mkdir()
    (root / "link").symlink_to("/etc")
    assert reason in _refused(project_file, root, relative)


def test_a_symlink_loop_is_refused_in_one_line(tmp_path):
    (tmp_path / "a.yaml").symlink_to("b.yaml")
    (tmp_path / "b.yaml").symlink_to("a.yaml")
    assert (
        _refused(read_project_file, tmp_path, "a.yaml")
        == "cannot read file: Too many levels of symbolic links"
    )


def test_project_paths_inside_the_root_resolve(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "a.yaml").write_text("x: 1\n")
    (tmp_path / "alias.yaml").symlink_to(tmp_path / "m" / "a.yaml")
    assert project_file(tmp_path, "m/../alias.yaml") == (tmp_path / "m" / "a.yaml").resolve()


@pytest.mark.parametrize(
    "relative",
    ["m/a.yaml", "./m/a.yaml", "m//a.yaml", "x/../m/a.yaml", "m/missing.yaml", "/etc/passwd", "../m/a.yaml",
     "a\x00b", "big.yaml", "m/é.yaml"],
)  # fmt: skip
def test_files_held_in_memory_read_and_refuse_as_the_same_files_on_disk(tmp_path, relative):
    """init's generated project and a revision's manifests are loaded from memory: each path reads
    the same text, or is refused with the same words, as from a root holding those files."""
    texts = {"m/a.yaml": "x: 1\n", "m/é.yaml": "é: ü\n", "big.yaml": "é" * (MAX_FILE_BYTES // 2 + 1)}
    (tmp_path / "m").mkdir()
    (tmp_path / "x").mkdir()
    for name, text in texts.items():
        (tmp_path / name).write_text(text)

    def outcome(project: Path | FileTexts) -> str:
        try:
            return read_project_file(project, relative)
        except UnsafeInput as error:
            return f"refused: {error}"

    on_disk = outcome(tmp_path)
    assert outcome(FileTexts.of(texts)) == on_disk
    assert on_disk.startswith("refused") == (relative not in ("m/a.yaml", "./m/a.yaml", "m//a.yaml",
                                                              "x/../m/a.yaml", "m/é.yaml"))  # fmt: skip


def test_echo_truncates_and_escapes():
    assert echo("x" * 5_000_000) == "'" + "x" * 37 + "..." + "x" * 38 + "'"
    assert echo("a\x00b\nc\u202e") == "'a\\x00b\\nc\\u202e'"
    assert len(echo({"k": [["v" * 100] * 100] * 100})) <= 80
    assert echo(10**5000) == "<integer of 16610 bits>"
    assert escape("key\x00\nname") == "key\\x00\\nname"
    assert len(escape("y" * 10_000)) == 400


def test_check_tree_holds_engine_values_to_the_same_limits():
    deep: list = []
    for _ in range(MAX_DEPTH + 5):
        deep = [deep]
    assert "limit: depth" in _refused(check_tree, deep)
    assert "limit: size" in _refused(check_tree, [0] * 600_000)
    check_tree({"a": [1, {"b": 2}]})


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw, _: raw["workloads"][0].update(manifest="/dev/zero"), "absolute paths are refused"),
        (lambda raw, _: raw["workloads"][0].update(manifest="../../etc/passwd"), "leads outside the project"),
        (
            lambda raw, project: raw["workloads"][0].update(manifest=_recursive_manifest(project)),
            "recursive alias",
        ),
        (
            lambda raw, project: raw["workloads"][0].update(manifest=_latin1_manifest(project)),
            "is not UTF-8 text: byte 0xe9 at byte offset",
        ),
    ],
    ids=["dev-zero", "dotdot", "recursive-alias", "latin1"],
)
def test_the_program_refuses_the_same_input_before_registering(pulumi_run, project_dir, change, expected):
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    change(raw, project_dir)
    with pytest.raises(pulumi.RunError) as caught:
        pulumi_run(raw)
    assert str(caught.value).startswith("invalid stack configuration, nothing was changed:\n  - workloads[0]")
    assert expected in str(caught.value)
    assert pulumi_run.last.mocks.resources == []


@pytest.mark.parametrize("depth", [500, 50_000], ids=["beyond-the-limit", "beyond-python-json"])
def test_the_program_refuses_engine_values_nested_too_deep(pulumi_run, depth):
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    raw["traffic"] = "[" * depth + "]" * depth  # the engine hands structured values over as JSON text
    with pytest.raises(pulumi.RunError) as caught:
        pulumi_run(raw)
    assert f"traffic: is nested deeper than {MAX_DEPTH} levels (limit: depth)" in str(caught.value)
    assert pulumi_run.last.mocks.resources == []


def _recursive_manifest(project: Path) -> str:
    (project / "loop.yaml").write_text("apiVersion: v1\nkind: List\nitems: &w [*w]\n")
    return str((project / "loop.yaml").relative_to(ROOT))


def _latin1_manifest(project: Path) -> str:
    (project / "latin1.yaml").write_bytes(
        (ROOT / "manifests/legacy/web/hello-spin.yaml").read_bytes() + b"#\xe9\n"
    )
    return str((project / "latin1.yaml").relative_to(ROOT))
