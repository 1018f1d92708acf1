"""migrate/init/planner.py and migrate/init/report.py on their own: the walk init asks the planner about,
the must-decide list that merges init's findings with what `check` says, and the one table helper."""

from __future__ import annotations

import re

import pytest
from markdown_it.tree import SyntaxTreeNode

from components.core.config import Phase
from migrate.init.planner import Step, must_decide, step_config, walk
from migrate.init.report import (
    cell_code,
    cell_text,
    move_statement,
    new_side_statement,
    reach_statement,
    table,
)
from migrate.markdown import WORD_JOINER, printable
from tests.markdown_tree import HOSTILE, parser

RAW = {
    "phase": "baseline",
    "cluster": {
        "subscriptionId": "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f",
        "resourceGroup": "rg",
        "name": "aks",
    },
    "legacyPools": [{"name": "wasiarm"}, {"name": "wasipool"}],
    "targetPools": [{"name": "spinpool", "vmSize": "Standard_D4s_v5"}],
    "alerts": {"mode": "off"},
}


@pytest.mark.parametrize(
    ("traffic", "labels"),
    [
        (
            {},
            [
                "baseline",
                "prepare",
                "parallel 0%",
                "parallel 50%",
                "parallel 100%",
                "cutover",
                "decommission",
            ],
        ),
        (
            {"steps": [10, 90]},
            [
                "baseline",
                "prepare",
                "parallel 0%",
                "parallel 10%",
                "parallel 90%",
                "parallel 100%",
                "cutover",
                "decommission",
            ],
        ),
        ({"weight": 100}, ["baseline", "prepare", "parallel 0%", "parallel 100%", "cutover", "decommission"]),
    ],
)
def test_the_walk_is_every_phase_and_every_traffic_step(traffic, labels):
    assert [step.label for step in walk({**RAW, "traffic": traffic})] == labels


def test_a_step_changes_only_what_a_person_changes_then():
    prepare = step_config(RAW, Step(Phase.PREPARE, 0))
    assert prepare == {**RAW, "phase": "prepare", "traffic": {"weight": 0}}
    decommission = step_config(RAW, Step(Phase.DECOMMISSION, 100))
    # the confirmation check asks for: the cluster and every WASI pool it deletes
    assert decommission["decommission"] == {"confirm": "aks/wasiarm,wasipool"}
    assert RAW["phase"] == "baseline" and "decommission" not in RAW  # the generated config is untouched


@pytest.mark.parametrize(
    ("decisions", "problems", "expected"),
    [
        (  # a finding check also reports: one item, with check's line
            [{"key": "workloads[0].probe.path", "workload": "a/b", "text": "set it"}],
            [{"line": "workloads[0].probe.path: is required", "workload": "a/b", "steps": ["baseline"]}],
            [("workloads[0].probe.path", "set it", ["workloads[0].probe.path: is required"])],
        ),
        (  # a finding check does not report (yet), and a check line init found nothing about
            [{"key": "workloads[0].daprBeforeServing", "workload": "a/b", "text": "decide"}],
            [{"line": "cluster.kubernetesVersion: no schemas", "workload": "", "steps": ["cutover"]}],
            [
                ("workloads[0].daprBeforeServing", "decide", []),
                ("", "cluster.kubernetesVersion: no schemas", ["cluster.kubernetesVersion: no schemas"]),
            ],
        ),
        (  # a key is a prefix of another key's line only at a `.` or `:`
            [{"key": "workloads[1].image", "workload": "a/c", "text": "rewrite"}],
            [
                {"line": "workloads[1].image: set the image", "workload": "a/c", "steps": ["prepare"]},
                {"line": "workloads[1].imagePullSecret: x", "workload": "a/c", "steps": ["prepare"]},
                {"line": "workloads[11].image: other", "workload": "a/d", "steps": ["prepare"]},
            ],
            [
                ("workloads[1].image", "rewrite", ["workloads[1].image: set the image"]),
                ("", "workloads[1].imagePullSecret: x", ["workloads[1].imagePullSecret: x"]),
                ("", "workloads[11].image: other", ["workloads[11].image: other"]),
            ],
        ),
    ],
)
def test_must_decide_merges_findings_with_what_check_says(decisions, problems, expected):
    items = must_decide(decisions, problems)
    assert [(i["key"], i["text"], [c["line"] for c in i["check"]]) for i in items] == expected
    listed = [c["line"] for i in items for c in i["check"]]
    assert sorted(listed) == sorted(p["line"] for p in problems)  # every line once


def _cells(markdown: str) -> list[list[str]]:
    root = SyntaxTreeNode(parser().parse(markdown))
    (found,) = [node for node in root.children if node.type == "table"]
    rows = [row for section in found.children for row in section.children]
    return [["".join(t.content for t in cell.children[0].children) for cell in row.children] for row in rows]


@pytest.mark.parametrize("value", [value for value in HOSTILE if value.strip()])
def test_every_table_cell_holds_exactly_its_value(value):
    """One row stays one row of three cells, each showing the value: text with the invisible word joiners
    migrate/markdown.py puts around `@`; a code span with one more backslash before a pipe that follows
    an odd run of them, where this parser reads the escape differently from GitHub's (as
    tests/migrate/test_markdown.py says)."""
    markdown = "\n".join(table(["code", "text", "after"], [[cell_code(value), cell_text(value), "end"]]))
    header, (shown_code, shown_text, after) = _cells(markdown)
    shown = printable(value)
    assert header == ["code", "text", "after"] and after == "end"
    assert shown_text.replace(WORD_JOINER, "") == shown
    assert shown_code in (shown, re.sub(r"(\\+)\|", lambda m: m.group(1) + "\\|", shown))


@pytest.mark.parametrize(
    ("answer", "new_side", "reach", "move"),
    [
        (
            {
                "planned": True,
                "autoscaler": ["HPA", 4, 20],
                "replicas": None,
                "reach": [],
                "stopThenStart": False,
            },
            "gets an HPA 4..20",
            "no entry point",
            "side by side: new pods run beside the legacy ones before cutover",
        ),
        (
            {
                "planned": True,
                "autoscaler": None,
                "replicas": 1,
                "reach": [
                    {"entry": "ClusterIP a/b", "from": "cutover"},
                    {"entry": "ClusterIP a/c", "from": None},
                ],
                "stopThenStart": True,
            },
            "runs 1 replica, no autoscaler",
            "ClusterIP a/b from cutover; ClusterIP a/c never",
            "stop-then-start: the legacy pods stop before the new ones start, in cutover (a short "
            "interruption)",
        ),
        (
            {"planned": False, "autoscaler": None, "replicas": None, "reach": [], "stopThenStart": False},
            "not planned: the loader refuses this workload (see what to decide)",
            "-",
            "-",
        ),
    ],
)
def test_statements_say_what_the_answer_holds(answer, new_side, reach, move):
    assert (new_side_statement(answer), reach_statement(answer), move_statement(answer)) == (
        new_side,
        reach,
        move,
    )
