"""Capacity through every step of the walk, forward and back: each entry point (every exported Service
that selects a workload's pods, and its Gateway route) reaches at least as many Ready pods as at
baseline, at rest and at the worst moment the engine may produce inside one `pulumi up`. Computed by
tests/transition_simulator.py from what the program registers under mocks, and held equal to what
`migrate check` reports (components/analysis/capacity.py)."""

from __future__ import annotations

import copy
import re
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from components.analysis.capacity import route_keys, worst_moments
from components.analysis.traffic import analysed_state
from components.core.config import Phase
from components.loading import load_migration
from tests.conftest import PHASE_FILES, ROOT, load_raw
from tests.transition_simulator import Transition, entries

_RUNS: dict[Path, Any] = {}


def _registrations(pulumi_run, path: Path) -> list[Any]:
    if path not in _RUNS:
        _RUNS[path] = pulumi_run(load_raw(path)).registrations
    return _RUNS[path]


def _baseline(pulumi_run, raw: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Per workload and entry point, the Ready pods it reaches at baseline."""
    baseline = _registrations(pulumi_run, PHASE_FILES[0])
    at_rest = Transition(baseline, baseline, raw, ROOT)
    return {
        f"{w.get('namespace', 'default')}/{w['name']}": {
            label: reach[0] for label, reach in at_rest.worst(w).items()
        }
        for w in raw["workloads"]
    }


STEPS = [*pairwise(PHASE_FILES), *((b, a) for a, b in pairwise(PHASE_FILES[:-1]))]


@pytest.mark.parametrize(("source", "target"), STEPS, ids=lambda p: p.stem.split(".")[1])
def test_no_moment_of_any_step_reaches_fewer_pods_than_baseline(pulumi_run, source, target):
    raw = load_raw(target)
    baseline = _baseline(pulumi_run, raw)
    transition = Transition(_registrations(pulumi_run, source), _registrations(pulumi_run, target), raw, ROOT)
    simulated = {}
    for workload in raw["workloads"]:
        key = f"{workload.get('namespace', 'default')}/{workload['name']}"
        for label, (_, _, lowest) in transition.worst(workload).items():
            assert lowest >= baseline[key][label], (key, label, lowest)
            simulated[(key, label)] = lowest
    # What `migrate check` proves is what the simulation finds.
    before = analysed_state(load_migration(load_raw(source)))
    migration = load_migration(raw)
    after = analysed_state(migration)
    reported = {
        (w.entry.workload, w.entry.label): w.lowest
        for w in worst_moments(before, after, migration.workloads, route_keys(migration.workloads))
    }
    assert reported == simulated


def test_the_simulation_can_see_a_dip(pulumi_run):
    """Skipping parallel at 100 % on the way back from cutover lowers the new side while the legacy
    pods it relies on are only starting: the simulation (and check) must find that moment."""
    cutover = next(p for p in PHASE_FILES if p.name.endswith("4-cutover.yaml"))
    back = next(p for p in PHASE_FILES if p.name.endswith("parallel-10.yaml"))
    raw = load_raw(back)
    transition = Transition(_registrations(pulumi_run, cutover), _registrations(pulumi_run, back), raw, ROOT)
    baseline = _baseline(pulumi_run, raw)
    hello = next(w for w in raw["workloads"] if w["name"] == "hello-spin")
    worst = transition.worst(hello)
    assert worst["Service web/hello-spin"][2] < baseline["web/hello-spin"]["Service web/hello-spin"]


def test_entry_points_are_every_service_selecting_the_workload_and_its_route():
    raw = load_raw(PHASE_FILES[0])
    orders = next(w for w in raw["workloads"] if w["name"] == "orders-api")
    assert [e.label for e in entries(orders, ROOT)] == [
        "Gateway gateway-system/public shop.contoso.com/orders",
        "Service shop/orders-api",
    ]


def test_an_alias_service_is_an_entry_point_too(pulumi_run, project_dir):
    """A second Service selecting the pods (an alias kept from before a Helm migration) must keep its
    capacity through the walk as well."""
    import yaml

    objects = yaml.safe_load((ROOT / "manifests/legacy/web/hello-spin.yaml").read_text())["items"]
    alias = copy.deepcopy(objects[1])
    alias["metadata"]["name"] = "hello"
    alias["spec"].pop("clusterIP", None)
    alias["spec"].pop("clusterIPs", None)
    alias["spec"]["type"] = "ClusterIP"
    alias["spec"].pop("externalTrafficPolicy", None)
    for port in alias["spec"]["ports"]:
        port.pop("nodePort", None)
    alias.pop("status", None)
    path = project_dir / "hello.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [*objects, alias]}))
    relative = str(path.relative_to(ROOT))
    runs = []
    for source in PHASE_FILES[:-1]:
        raw = load_raw(source)
        raw["workloads"][0]["manifest"] = relative
        runs.append((raw, pulumi_run(raw).registrations))
    hello = runs[0][0]["workloads"][0]
    base = Transition(runs[0][1], runs[0][1], runs[0][0], ROOT).worst(hello)
    assert set(base) == {"Service web/hello-spin", "Service web/hello"}
    for (_, before), (raw, after) in [*pairwise(runs), *((b, a) for a, b in pairwise(runs))]:
        for label, (_, _, lowest) in Transition(before, after, raw, ROOT).worst(hello).items():
            assert lowest >= base[label][0], (raw["phase"], label)


def test_a_workload_below_its_baseline_is_refused_unless_accepted(project_dir):
    from migrate.check import capacity_problems
    from migrate.state import load_raw as load_stack

    raw = load_raw(next(p for p in PHASE_FILES if p.name.endswith("4-cutover.yaml")))
    raw["workloads"][2]["replicas"] = 1  # inventory ran 2 legacy pods
    path = project_dir / "cutover.yaml"
    loaded = load_stack(path, raw)
    assert capacity_problems(loaded) == [
        "shop/inventory: Service shop/inventory reaches 1 Ready pod at rest in phase cutover, fewer than the "
        "2 Ready pods it reaches at baseline; give the new side that capacity (workloads[].replicas) or set "
        "acceptReducedCapacity: true on the workload to accept it"
    ]
    raw["workloads"][2]["acceptReducedCapacity"] = True
    assert capacity_problems(load_stack(path, raw)) == []
    assert Phase.CUTOVER.value == raw["phase"]


_CAPACITY_LINE = re.compile(
    r"^  - `(?P<key>[^`]+)` (?P<label>.+?): (?P<before>\d+) → (?P<after>\d+)"
    r"(?:; at the worst moment (?P<lowest>\d+) Ready pods?)?"
)


def _capacity_lines(out: str) -> dict[tuple[str, str], tuple[int, int, int]]:
    section = (
        out.split("- Capacity: ", 1)[1].split("\n- ", 1)[0].split("\n\n")[0] if "- Capacity: " in out else ""
    )
    found = {}
    for line in section.splitlines()[1:]:
        match = _CAPACITY_LINE.match(line)
        assert match, line
        before, after = int(match["before"]), int(match["after"])
        lowest = int(match["lowest"]) if match["lowest"] else min(before, after)
        found[(match["key"], match["label"])] = (before, after, lowest)
    return found


@pytest.mark.parametrize(("source", "target"), STEPS, ids=lambda p: p.stem.split(".")[1])
def test_the_pr_comment_names_every_capacity_change_the_simulation_finds(pulumi_run, capsys, source, target):
    """Reviewers read capacity in the diff's risks: every entry point whose Ready pods change (at rest
    or at the worst moment) is listed with the numbers the independent simulation finds, and no other."""
    from migrate.__main__ import main

    raw = load_raw(target)
    transition = Transition(_registrations(pulumi_run, source), _registrations(pulumi_run, target), raw, ROOT)
    expected = {}
    for workload in raw["workloads"]:
        key = f"{workload.get('namespace', 'default')}/{workload['name']}"
        for label, (before, after, lowest) in transition.worst(workload).items():
            if not before == after == lowest:
                expected[(key, label)] = (before, after, lowest)
    main(["diff", str(source), str(target), "--max-chars", "0"])
    assert _capacity_lines(capsys.readouterr().out) == expected
