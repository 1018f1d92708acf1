"""Hostile inputs, each class of issue 20 and what else was found, through `init`, `check`, `render`,
`diff` and the program: no traceback, no write outside the project, and nothing from the input changes
the rendered structure of a PR comment or of migration-report.md (each is rendered with a plain value
and with hostile ones, and the GFM document trees compared)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.core.config import PROJECT, Phase
from migrate.markdown import printable
from tests.components.export.test_rules import CASES as REFUSED_EXPORTS
from tests.components.export.test_rules import _write as write_refused_export
from tests.conftest import ROOT, load_raw, phase_path, run_bounded
from tests.markdown_tree import HOSTILE, nodes, tree
from tests.migrate.init.test_end_to_end import CLUSTER, EXPORT, POOLS

PLAIN = "plainvalue"
# Values a comment or report may have to show: every hostile string of the markdown model.
VALUES = [value for value in HOSTILE if value.strip()]


def _no_traceback(answer) -> None:
    assert answer.code is not None, "no answer within the time bound"
    assert answer.code in (0, 1, 2), answer.err[-2000:]
    assert "Traceback" not in answer.err + answer.out


def _no_html_or_links_beyond(markdown: str, plain: str) -> None:
    kinds = ("html_block", "html_inline", "link", "image")
    assert [n.type for n in nodes(markdown) if n.type in kinds] == [
        n.type for n in nodes(plain) if n.type in kinds
    ]


# --- 1. values Kubernetes refuses: every command refuses them with one line, the program registers none


@pytest.mark.parametrize("case", REFUSED_EXPORTS, ids=list(REFUSED_EXPORTS))
@pytest.mark.parametrize("command", ["check", "render", "diff"])
def test_a_refused_export_is_one_line_in_every_command(project_dir, case, command):
    change, expected = REFUSED_EXPORTS[case]
    stack = write_refused_export(project_dir, change)
    argv = {
        "check": ["check", stack],
        "render": ["render", stack],
        "diff": ["diff", phase_path(Phase.PREPARE), stack],
    }
    answer = run_bounded(argv[command])
    _no_traceback(answer)
    assert answer.code == 1
    said = answer.out if command == "check" else answer.err
    assert expected in said, said


@pytest.mark.parametrize("case", REFUSED_EXPORTS, ids=list(REFUSED_EXPORTS))
def test_a_refused_export_registers_nothing(project_dir, pulumi_run, case):
    change, expected = REFUSED_EXPORTS[case]
    stack = write_refused_export(project_dir, change)
    raw = {k.split(":", 1)[1]: v for k, v in yaml.safe_load(stack.read_text())["config"].items()}
    with pytest.raises(pulumi.RunError) as caught:
        pulumi_run(raw)
    assert str(caught.value).startswith("invalid stack configuration, nothing was changed:\n  - ")
    assert expected in str(caught.value)
    assert pulumi_run.last.mocks.resources == []


# --- 2. values Kubernetes accepts (annotation values, env values, file names, --stack): the comment keeps
# its structure


def _stack_with(project_dir: Path, name: str, phase: Phase, weight: int | None, value: str) -> Path:
    """The reference stack at `phase`, its hello-spin export carrying `value` where Kubernetes takes any
    text: a pod-template annotation value, an environment variable, a Service annotation."""
    export = yaml.safe_load((ROOT / "manifests/legacy/web/hello-spin.yaml").read_text())
    deployment = next(item for item in export["items"] if item["kind"] == "Deployment")
    template = deployment["spec"]["template"]
    template["metadata"].setdefault("annotations", {})["team.example.com/note"] = value
    template["spec"]["containers"][0]["env"] = [{"name": "NOTE", "value": value}]
    service = next(item for item in export["items"] if item["kind"] == "Service")
    service["metadata"].setdefault("annotations", {})["team.example.com/note"] = value
    manifest = project_dir / f"{abs(hash((name, value)))}.yaml"
    manifest.write_text(yaml.safe_dump(export))
    raw = load_raw(phase_path(phase, weight))
    raw["workloads"] = copy.deepcopy(raw["workloads"])
    raw["workloads"][0]["manifest"] = str(manifest.relative_to(ROOT))
    path = project_dir / name
    path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}))
    return path


def _diff(project_dir: Path, value: str, file_name: str, stack: str, steps: Any) -> str:
    (source_phase, source_weight), (target_phase, target_weight) = steps
    directory = project_dir / str(abs(hash((value, file_name))))
    directory.mkdir()
    source = _stack_with(directory, f"a-{file_name}.yaml", source_phase, source_weight, PLAIN)
    target = _stack_with(directory, f"b-{file_name}.yaml", target_phase, target_weight, value)
    answer = run_bounded(["diff", source, target, f"--stack={stack}"])
    _no_traceback(answer)
    assert answer.code == 0, answer.err
    return answer.out


STEPS = {
    "re-export in parallel": ((Phase.PARALLEL, 50), (Phase.PARALLEL, 50)),
    "cutover to decommission": ((Phase.CUTOVER, None), (Phase.DECOMMISSION, None)),
}
# A file name may hold anything but '/' and NUL; a --stack anything at all.
NAMES = [value.replace("/", "_").replace("\x00", "_") for value in VALUES if value.replace("/", "")]


@pytest.mark.parametrize("steps", STEPS.values(), ids=list(STEPS))
def test_no_accepted_value_changes_the_comment(project_dir, steps):
    plain = _diff(project_dir, PLAIN + "-b", "plain", "prod", steps)
    expected = tree(plain)
    for index, value in enumerate(VALUES):
        name = NAMES[index % len(NAMES)]
        if len(name) > 100 or name.startswith("."):
            name = f"x{name[:100]}"
        hostile = _diff(project_dir, value, name, value, steps)
        assert printable(value).strip()[:4] in hostile  # the comment does show the value
        assert tree(hostile) == expected, (value, hostile[:3000])
        _no_html_or_links_beyond(hostile, plain)


# --- 3. init: names and keys of a hand-edited export in migration-report.md, and writes


def _export_with(directory: Path, value: str) -> Path:
    """The value where the report shows it from init's own reading, in fields `check` does not refuse
    (the report also lists what `check` says, and a value Kubernetes refuses there would add a line):
    a StatefulSet's name (not migrated) and the names of thumbnailer's volumes (its notes)."""
    export = yaml.safe_load(EXPORT.read_text())
    for item in export["items"]:
        name = item["metadata"].get("name")
        if item["kind"] == "StatefulSet" and name == "indexer":
            item["metadata"]["name"] = f"indexer{value}"
        if item["kind"] == "Deployment" and name == "thumbnailer":
            pod = item["spec"]["template"]["spec"]
            for volume in pod["volumes"]:
                volume["name"] = f"{volume['name']}{value}"
            for container in pod["containers"]:
                for mount in container.get("volumeMounts") or []:
                    mount["name"] = f"{mount['name']}{value}"
    path = directory / "export.yaml"
    path.write_text(yaml.safe_dump(export))
    return path


def _report(tmp_path: Path, value: str) -> str:
    directory = tmp_path / str(abs(hash(value)))
    directory.mkdir()
    out = directory / "project"
    answer = run_bounded(
        [
            "init",
            "--kubectl-export",
            _export_with(directory, value),
            "--node-pools",
            POOLS,
            "--cluster",
            CLUSTER,
            "--out",
            out,
        ]
    )
    _no_traceback(answer)
    assert answer.code == 0, answer.err
    written = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    assert all(p.startswith(("project/", "export.yaml")) for p in written), written
    return (out / "migration-report.md").read_text()


def test_no_export_value_changes_the_report(tmp_path):
    plain = _report(tmp_path, PLAIN)
    expected = tree(plain)
    assert "indexerplainvalue" in plain and "logsplainvalue" in plain and "cacheplainvalue" in plain
    for value in VALUES:
        hostile = _report(tmp_path, value)
        assert tree(hostile) == expected, (value, hostile)
        _no_html_or_links_beyond(hostile, plain)
        assert hostile.rstrip().endswith("legacy objects without changes.")  # nothing hidden at the end


def test_init_writes_nothing_through_a_symlink_out_of_the_project(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    out = tmp_path / "project"
    (out / "manifests/legacy").mkdir(parents=True)
    (out / "manifests/legacy/web").symlink_to(outside)
    (out / "migration-report.md").symlink_to(outside / "report.md")
    for force in ([], ["--force"]):
        argv = ["init", "--kubectl-export", EXPORT, "--node-pools", POOLS, "--cluster", CLUSTER, "--out", out]
        answer = run_bounded([*argv, *force])
        _no_traceback(answer)
        assert answer.code == 2 and "is a symlink" in answer.err
        assert list(outside.iterdir()) == []
        assert sorted(os.listdir(out)) == ["manifests", "migration-report.md"]


# --- 4. the program itself on accepted hostile values: it registers them unchanged, nothing more


@pytest.mark.parametrize("value", ["x\n<!-- hidden", "`<img src=https://evil.example/x.png>`"])
def test_the_program_registers_hostile_accepted_values_as_data(project_dir, pulumi_run, value):
    stack = _stack_with(project_dir, "stack.yaml", Phase.PARALLEL, 50, value)
    raw = {k.split(":", 1)[1]: v for k, v in yaml.safe_load(stack.read_text())["config"].items()}
    run = pulumi_run(raw)
    new = run.custom()["web/hello-spin/wasm-deployment"].inputs
    assert new["spec"]["template"]["metadata"]["annotations"]["team.example.com/note"] == value
