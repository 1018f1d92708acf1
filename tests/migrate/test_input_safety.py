"""Every `migrate` command answers hostile or broken input with a clear message and exit 0, 1 or 2:
no traceback, no hang, no read outside the project. Commands that could hang run under run_bounded."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core.config import PROJECT
from components.core.inputs import ECHO_CHARS
from tests.conftest import PHASE_FILES, ROOT, load_raw, run_bounded

HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"
BASELINE = PHASE_FILES[0]
# Six levels of ten: a million strings from 238 bytes.
ALIAS_BOMB = "".join(
    f"{name}: &{name} [{', '.join([f'*{prev}'] * 10 if prev else ['x'] * 10)}]\n"
    for prev, name in zip(["", "a", "b", "c", "d", "e"], "abcdef", strict=True)
)


def plain(path: Path) -> str:
    """A phase file as a plain stack file: without the generated header that `migrate` verifies."""
    return "".join(line for line in path.read_text().splitlines(keepends=True) if not line.startswith("#"))


def write_stack(path: Path, raw: dict[str, Any], extra: dict[str, Any] | None = None) -> Path:
    config = {f"{PROJECT}:{k}": v for k, v in raw.items()} | (extra or {})
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def with_manifest_path(directory: Path, manifest: str) -> Path:
    raw = copy.deepcopy(load_raw(BASELINE))
    raw["workloads"][0]["manifest"] = manifest
    return write_stack(directory / "stack.yaml", raw)


def answered(answer, code: int) -> None:
    assert answer.code == code, (answer.code, answer.err[-2000:])
    assert "Traceback" not in answer.err + answer.out


@pytest.mark.parametrize("command", [["check"], ["render"], ["diff", BASELINE]])
def test_a_stack_file_with_a_non_utf8_byte_names_file_and_offset(tmp_path, command):
    data = plain(BASELINE).encode()
    offset = data.index(b"baseline\n")
    bad = tmp_path / "latin1.yaml"
    bad.write_bytes(data[:offset] + b"\xe9" + data[offset:])
    answer = run_bounded([*command[:1], bad, *command[1:]])
    answered(answer, 2)
    assert f"{bad}: stack file: is not UTF-8 text: byte 0xe9 at byte offset {offset}" in answer.err


@pytest.mark.parametrize("command", ["check", "diff", "check --from"])
def test_a_recursive_alias_is_refused(tmp_path, command):
    stack = tmp_path / "recursive.yaml"
    stack.write_text(plain(BASELINE) + "  aks-wasm-migration:shim: &w [*w]\n")
    argv = {
        "check": ["check", stack],
        "diff": ["diff", BASELINE, stack],
        "check --from": ["check", BASELINE, "--from", stack],
    }[command]
    answer = run_bounded(argv)
    answered(answer, 2)
    assert "recursive alias *w inside its own anchor (limit: no recursive aliases)" in answer.err


def test_a_300_byte_alias_bomb_is_refused_at_the_expanded_size_limit(tmp_path):
    assert len(ALIAS_BOMB) <= 300
    stack = tmp_path / "bomb.yaml"
    stack.write_text(ALIAS_BOMB + plain(BASELINE))
    answer = run_bounded(["check", stack])
    answered(answer, 2)
    assert "expands to more than 500,000 nodes (limit: expanded size" in answer.err


def test_an_aliased_value_below_the_limits_is_echoed_short(tmp_path):
    """Four levels (10,000 strings) pass the YAML limits; the config error echoes a bounded value."""
    levels = ALIAS_BOMB.splitlines()[:4]
    stack = tmp_path / "big.yaml"
    text = plain(BASELINE) + "  aks-wasm-migration:traffic: *d\n"  # the last `traffic` key wins
    stack.write_text("\n".join(levels) + "\n" + text)
    answer = run_bounded(["check", stack])
    answered(answer, 1)
    assert "traffic: Input should be a valid dictionary" in answer.out
    assert max(len(line) for line in answer.out.splitlines()) < 300


def test_a_huge_or_binary_value_is_truncated_and_escaped(tmp_path):
    raw = copy.deepcopy(load_raw(BASELINE))
    raw["phase"] = "\x00\x1b[31m" + "x" * 5_000_000
    answer = run_bounded(["check", write_stack(tmp_path / "huge.yaml", raw)])
    answered(answer, 1)
    line = next(line for line in answer.out.splitlines() if line.startswith(f"{tmp_path}/huge.yaml: phase:"))
    assert "(got '\\x00\\x1b[31mxxxx" in line and "\x00" not in answer.out and "\x1b" not in answer.out
    assert len(line.split("(got ")[1]) <= ECHO_CHARS + 1


@pytest.mark.parametrize(
    ("manifest", "reason"),
    [
        ("/dev/zero", "must be a path relative to the project root; absolute paths are refused"),
        (str(HELLO), "must be a path relative to the project root; absolute paths are refused"),
        ("../../../../../../etc/passwd", "leads outside the project root through '..'"),
        ("manifests/../../outside.yaml", "leads outside the project root through '..'"),
        ("manifests", "is a directory, not a regular file; it is not read"),
        ("nowhere.yaml", "cannot read file: No such file or directory"),
    ],
)
def test_manifest_paths_must_resolve_to_regular_files_inside_the_project(tmp_path, manifest, reason):
    answer = run_bounded(["check", with_manifest_path(tmp_path, manifest)])
    answered(answer, 1)
    assert f"workloads[0].manifest: {reason}" in answer.out


def test_a_fifo_in_the_project_is_refused_without_opening_it(tmp_path, project_dir):
    fifo = project_dir / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would block until a writer came
    answer = run_bounded(["check", with_manifest_path(tmp_path, str(fifo.relative_to(ROOT)))])
    answered(answer, 1)
    assert "workloads[0].manifest: is a FIFO, not a regular file; it is not read" in answer.out


@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd"])
def test_a_symlink_out_of_the_project_is_refused(tmp_path, project_dir, target):
    link = project_dir / "escape.yaml"
    link.symlink_to(target)
    answer = run_bounded(["check", with_manifest_path(tmp_path, str(link.relative_to(ROOT)))])
    answered(answer, 1)
    assert "workloads[0].manifest: resolves through a symlink to outside the project root" in answer.out
    assert "root:" not in answer.out  # nothing of /etc/passwd is echoed


def test_a_symlink_inside_the_project_is_followed(tmp_path, project_dir):
    link = project_dir / "hello.yaml"
    link.symlink_to(HELLO)
    answer = run_bounded(["check", with_manifest_path(tmp_path, str(link.relative_to(ROOT)))])
    answered(answer, 0)


FOREIGN_KEYS = {
    "azure-native:location": "westeurope",
    "azure-native:subscriptionId": "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f",
    "pulumi:disable-default-providers": ["kubernetes"],
    "kubernetes:enableServerSideApply": "true",
    "azure-native:clientSecret": {"secure": "v1:AAAA"},
}


@pytest.mark.parametrize("command", ["check", "render", "diff"])
def test_keys_of_other_namespaces_are_ignored(tmp_path, command):
    stack = write_stack(tmp_path / "foreign.yaml", load_raw(BASELINE), FOREIGN_KEYS)
    argv = {"check": ["check", stack], "render": ["render", stack], "diff": ["diff", BASELINE, stack]}[
        command
    ]
    answer = run_bounded(argv)
    answered(answer, 0)
    if command == "diff":
        assert "No resource changes." in answer.out


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw: raw.update(workload=raw.pop("workloads")), "workload: unknown key; check its spelling"),
        (lambda raw: raw["cluster"].update(resourceGroupName="rg"), "did you mean `resourceGroup`?"),
        (
            lambda raw: raw["workloads"][0]["resources"]["limits"].update(memroy="1Gi"),
            "workloads[0].resources.limits.memroy: unknown key; check its spelling against Pulumi.yaml; "
            "did you mean `memory`?",
        ),
    ],
)
def test_misspelled_keys_of_this_project_stay_errors_with_a_suggestion(tmp_path, change, expected):
    raw = copy.deepcopy(load_raw(BASELINE))
    change(raw)
    answer = run_bounded(["check", write_stack(tmp_path / "typo.yaml", raw)])
    answered(answer, 1)
    assert expected in answer.out


def test_a_misspelled_namespace_is_not_silently_ignored(tmp_path):
    raw = load_raw(BASELINE)
    stack = write_stack(tmp_path / "ns.yaml", raw, {"aks-wasm-migraton:traffic": {"weight": 10}})
    answer = run_bounded(["check", stack])
    answered(answer, 2)
    assert "unknown namespace 'aks-wasm-migraton'; did you mean `aks-wasm-migration:traffic`?" in answer.err


@pytest.mark.parametrize(
    ("key", "value", "what"),
    [
        ("name", "aks-other", "different clusters"),
        ("subscriptionId", "00000000-0000-4000-8000-000000000000", "different subscriptions"),
    ],
)
def test_diff_refuses_two_clusters_unless_allowed(tmp_path, key, value, what):
    raw = copy.deepcopy(load_raw(PHASE_FILES[1]))
    source = load_raw(BASELINE)["cluster"]
    raw["cluster"][key] = value
    other = write_stack(tmp_path / "other.yaml", raw)
    refused = run_bounded(["diff", BASELINE, other])
    answered(refused, 2)
    assert refused.out == ""
    [line] = refused.err.splitlines()
    assert line.startswith(f"{what}: {BASELINE} is {source['subscriptionId']}/{source['resourceGroup']}/")
    assert f"{other} is {raw['cluster']['subscriptionId']}/" in line and "--allow-cross-cluster" in line
    allowed = run_bounded(["diff", BASELINE, other, "--allow-cross-cluster"])
    answered(allowed, 0)
    first = allowed.out.splitlines()[0]
    assert first.startswith("> ⚠️ Warning: **not one cluster's transition:** ") and what in first


def test_an_invalid_quantity_in_an_exported_manifest_is_refused(tmp_path, project_dir):
    text = HELLO.read_text().replace("cpu: 100m", "cpu: lots", 1)
    assert text != HELLO.read_text()
    (project_dir / "hello.yaml").write_text(text)
    answer = run_bounded(
        ["check", with_manifest_path(tmp_path, str((project_dir / "hello.yaml").relative_to(ROOT)))]
    )
    answered(answer, 1)
    assert (
        "workloads[0].manifest: Deployment web/hello-spin: spec.template.spec.containers[0].resources.limits."
        "cpu: must be a non-negative Kubernetes quantity such as 100m, 0.5, 128Mi or 1Gi (got 'lots')"
    ) in answer.out
