"""The phase table (components/desired/phase_table.py) as a keyword table: its rows stated as expected
data, the table total, `plan_workload` equal to the pre-refactor if/else code over a grid, the ordering
derived from each row, and each row's effect on what the program registers, read by the independent
simulator (tests/transition_simulator.py) through every step of the reference walk, forward and back,
and through cutover and back for a workload that must never run two copies."""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from itertools import pairwise, product
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core import naming
from components.core.config import Phase
from components.desired import legacy_ready_at_rest, plan_of, workload_capacity
from components.desired.phase_table import (
    TABLE,
    At,
    Await,
    Capacity,
    Count,
    Isolation,
    Kind,
    LegacySide,
    New,
    Ordering,
    Part,
    Row,
    Share,
    ordering,
    plan_workload,
    row_of,
    scaled,
)
from components.loading import load_migration
from tests.conftest import PHASE_FILES, ROOT, load_raw, phase_path
from tests.traffic_simulator import Cluster
from tests.transition_simulator import Transition

# ---------------------------------------------------------------------------------------------------
# The rows, as the README's phase table reads them.

EXPECTED = """
phase          | kind   | legacy  | new    | isolation | route | asked | awaits                      | check
baseline       | spread | adopted | none   | all       | -     | 0 %   | -                           | no
baseline       | routed | adopted | none   | all       | -     | 0 %   | -                           | no
baseline       | single | adopted | none   | all       | -     | 0 %   | -                           | no
prepare        | spread | kept    | canary | all       | -     | 0 %   | -                           | no
prepare        | routed | kept    | canary | all       | 0 %   | 0 %   | -                           | no
prepare        | single | kept    | zero   | all       | 0 %   | 0 %   | -                           | no
parallel 0 %   | spread | kept    | scaled | all       | -     | w %   | legacy Ready                | yes
parallel 0 %   | routed | kept    | target | all       | w %   | w %   | legacy Ready                | yes
parallel 0 %   | single | kept    | zero   | all       | 0 %   | 0 %   | legacy Ready+new gone first | no
parallel w %   | spread | kept    | scaled | none      | -     | w %   | legacy Ready                | yes
parallel w %   | routed | kept    | target | services  | w %   | w %   | legacy Ready                | yes
parallel w %   | single | kept    | zero   | all       | 0 %   | 0 %   | legacy Ready+new gone first | no
parallel 100 % | spread | kept    | scaled | none      | -     | w %   | legacy Ready                | yes
parallel 100 % | routed | kept    | target | none      | w %   | w %   | legacy Ready                | yes
parallel 100 % | single | kept    | zero   | all       | 0 %   | 0 %   | legacy Ready+new gone first | no
cutover        | spread | zero    | target | none      | -     | 100 % | verified+legacy last        | yes
cutover        | routed | zero    | target | none      | 100 % | 100 % | verified+legacy last        | yes
cutover        | single | zero    | target | none      | 100 % | 100 % | legacy gone first           | no
decommission   | spread | deleted | target | none      | -     | 100 % | -                           | no
decommission   | routed | deleted | target | none      | 100 % | 100 % | -                           | no
decommission   | single | deleted | target | none      | 100 % | 100 % | -                           | no
"""


def _expected_rows() -> list[Row]:
    lines = [line.split("|") for line in EXPECTED.strip().splitlines()[1:]]
    rows = []
    for cells in lines:
        step, kind, legacy, new, isolation, route, asked, awaits, check = (c.strip() for c in cells)
        phase, _, at = step.partition(" ")
        rows.append(
            Row(
                phase=Phase(phase),
                at=At(at) if at else At.ANY,
                kind=Kind.SINGLE_COPY if kind == "single" else Kind(kind),
                legacy=LegacySide(legacy),
                new=New(new),
                isolation=Isolation(isolation),
                route=None if route == "-" else Share(route),
                asked=Share(asked),
                awaits=() if awaits == "-" else tuple(Await(a) for a in awaits.split("+")),
                check=check == "yes",
            )
        )
    return rows


def test_the_rows_read_like_the_readme():
    assert list(TABLE) == _expected_rows()


def test_the_table_is_total():
    """Every phase and kind has exactly one row for every traffic weight (parallel: one per kind of step,
    0 %, w %, 100 %; every other phase: one for any weight)."""
    for phase, kind in product(Phase, Kind):
        for weight in range(0, 101):
            matching = [
                row
                for row in TABLE
                if row.phase is phase
                and row.kind is kind
                and (row.at is At.ANY if phase is not Phase.PARALLEL else row.at is _step(weight))
            ]
            assert len(matching) == 1, (phase, kind, weight, matching)
            assert row_of(phase, kind, weight) is matching[0]
        steps = {row.at for row in TABLE if row.phase is phase and row.kind is kind}
        assert steps == ({At.ZERO, At.SHARE, At.FULL} if phase is Phase.PARALLEL else {At.ANY})


def _step(weight: int) -> At:
    return At.ZERO if weight == 0 else At.FULL if weight == 100 else At.SHARE


# ---------------------------------------------------------------------------------------------------
# plan_workload against the pre-refactor code.


@dataclass(frozen=True)
class _ReferencePlan:
    """The pre-refactor WorkloadPlan, verbatim but for its name."""

    legacy: LegacySide
    new: Count | None
    isolation: Isolation
    route_weight: int | None
    requested_percent: int
    await_legacy: bool = False
    stop_then_start: bool = False


def _reference_requested_share(phase: Phase, weight: int) -> int:
    """The pre-refactor requested_share, verbatim."""
    if phase is Phase.PARALLEL:
        return weight
    return 100 if phase.at_least(Phase.CUTOVER) else 0


def _reference_plan_workload(
    phase: Phase,
    weight: int,
    capacity: Capacity,
    *,
    gateway: bool,
    canary: int | None,
    stop_then_start: bool,
) -> _ReferencePlan:
    """THE PRE-REFACTOR ORACLE: components/desired/plan.py plan_workload before the phase table became
    data, copied verbatim (only WorkloadPlan and requested_share renamed to the copies above)."""
    WorkloadPlan, requested_share = _ReferencePlan, _reference_requested_share
    requested = requested_share(phase, weight)
    route = None if not gateway else (0 if phase is Phase.PREPARE else requested)
    if phase is Phase.BASELINE:
        return WorkloadPlan(LegacySide.ADOPTED, None, Isolation.ALL, None, 0)
    if stop_then_start:
        if phase.at_least(Phase.CUTOVER):
            legacy = LegacySide.ZERO if phase is Phase.CUTOVER else LegacySide.DELETED
            return WorkloadPlan(
                legacy, capacity.target, Isolation.NONE, route, requested, stop_then_start=True
            )
        # Registered at zero, so that a rollback from cutover stops the new pods before legacy ones start.
        zero = Count(0, 0) if capacity.target.autoscaled else Count(0)
        return WorkloadPlan(
            LegacySide.KEPT, zero, Isolation.ALL, route, 0, phase is Phase.PARALLEL, stop_then_start=True
        )
    if phase is Phase.PREPARE:
        new = None
        if canary is not None:
            new = Count(canary, canary) if capacity.target.autoscaled else Count(canary)
        return WorkloadPlan(LegacySide.KEPT, new, Isolation.ALL, route, 0)
    if phase is Phase.PARALLEL:
        if gateway:
            isolation = {0: Isolation.ALL, 100: Isolation.NONE}.get(weight, Isolation.SERVICES)
            return WorkloadPlan(LegacySide.KEPT, capacity.target, isolation, route, requested, True)
        isolation = Isolation.ALL if weight == 0 else Isolation.NONE
        return WorkloadPlan(LegacySide.KEPT, scaled(weight, capacity), isolation, None, requested, True)
    legacy = LegacySide.ZERO if phase is Phase.CUTOVER else LegacySide.DELETED
    return WorkloadPlan(legacy, capacity.target, Isolation.NONE, route, requested)


WEIGHTS = (0, 1, 5, 10, 25, 33, 50, 67, 75, 90, 95, 99, 100)
CAPACITIES = (
    Capacity(Count(3), Count(3)),
    Capacity(Count(2), Count(5)),  # a configured target above the export
    Capacity(Count(5), Count(2)),
    Capacity(Count(1), Count(1)),
    Capacity(Count(0), Count(0)),  # scaled to zero
    Capacity(Count(0), Count(3)),
    Capacity(Count(30, 80), Count(30, 80)),  # an HPA
    Capacity(Count(1, 1), Count(1, 1)),
    Capacity(Count(0, 100), Count(0, 100)),  # KEDA's defaults
    Capacity(Count(0, 0), Count(0, 0)),
)


@pytest.mark.parametrize("phase", list(Phase), ids=str)
def test_plan_workload_is_the_pre_refactor_code_over_a_grid(phase):
    for weight, capacity, gateway, stop_then_start, canary in product(
        WEIGHTS, CAPACITIES, (False, True), (False, True), (None, 1, 3)
    ):
        given = dict(gateway=gateway, canary=canary, stop_then_start=stop_then_start)
        plan = plan_workload(phase, weight, capacity, **given)
        reference = _reference_plan_workload(phase, weight, capacity, **given)
        if gateway and stop_then_start and phase is Phase.PARALLEL:
            # The one deliberate change: the old code weighted a single-copy workload's route w % to a
            # Service with no pods in parallel (requests failed); it now stays at 0 % until cutover.
            reference = replace(reference, route_weight=0)
        got = _ReferencePlan(
            plan.legacy,
            plan.new,
            plan.isolation,
            plan.route_weight,
            plan.requested_percent,
            plan.await_legacy,
            plan.stop_then_start,
        )
        assert got == reference, (phase, weight, capacity, given)


# ---------------------------------------------------------------------------------------------------
# What waits for what, derived from each row's awaits.

_PLAIN = Ordering(
    (Part.NEW, Part.CHECK, Part.ROUTE, Part.LEGACY), {Part.CHECK: (Part.NEW,), Part.ROUTE: (Part.NEW,)}
)
ORDERINGS = {
    (): _PLAIN,
    (Await.LEGACY_READY,): _PLAIN,
    (Await.VERIFIED, Await.LEGACY_LAST): Ordering(
        (Part.NEW, Part.CHECK, Part.ROUTE, Part.LEGACY),
        {
            Part.CHECK: (Part.NEW,),
            Part.ROUTE: (Part.NEW, Part.CHECK),
            Part.LEGACY: (Part.NEW, Part.ROUTE, Part.CHECK),
        },
    ),
    (Await.LEGACY_GONE_FIRST,): Ordering(
        (Part.LEGACY, Part.STOP_GATE, Part.NEW, Part.CHECK, Part.ROUTE),
        {
            Part.CHECK: (Part.NEW,),
            Part.ROUTE: (Part.NEW,),
            Part.STOP_GATE: (Part.LEGACY,),
            Part.NEW: (Part.STOP_GATE,),
        },
        gate=Part.LEGACY,
    ),
    (Await.LEGACY_READY, Await.NEW_GONE_FIRST): Ordering(
        (Part.NEW, Part.STOP_GATE, Part.CHECK, Part.ROUTE, Part.LEGACY),
        {
            Part.CHECK: (Part.NEW,),
            Part.ROUTE: (Part.NEW,),
            Part.STOP_GATE: (Part.NEW,),
            Part.LEGACY: (Part.STOP_GATE,),
        },
        gate=Part.NEW,
    ),
}


@pytest.mark.parametrize("awaits", list(ORDERINGS), ids=lambda a: "+".join(a) or "nothing")
def test_the_ordering_of_each_kind_of_row(awaits):
    assert ordering(awaits) == ORDERINGS[awaits]
    derived = ordering(awaits)
    for part in derived.parts:  # registered after what it waits for
        assert all(derived.parts.index(w) < derived.parts.index(part) for w in derived.after(part))


def test_every_row_orders_its_parts_one_of_these_ways():
    assert {row.awaits for row in TABLE} <= set(ORDERINGS)


# ---------------------------------------------------------------------------------------------------
# Each row's effect on what the program registers, read by the independent simulator.

_RUNS: dict[Any, list[Any]] = {}

# The resource of each part whose dependencies show the ordering.
_RESOURCE = {
    Part.LEGACY: "legacy-replicas",
    Part.NEW: "wasm-deployment",
    Part.ROUTE: "route",
    Part.CHECK: "verify-job",
    Part.STOP_GATE: "stop-gate-job",
}


def _registrations(pulumi_run, key: Any, raw: dict[str, Any]) -> list[Any]:
    if key not in _RUNS:
        _RUNS[key] = pulumi_run(raw).registrations
    return _RUNS[key]


def _object(registrations: list[Any], name: str) -> tuple[str, str] | None:
    found = next((r for r in registrations if r.name == name), None)
    if found is None:
        return None
    return found.inputs["metadata"]["namespace"], found.inputs["metadata"]["name"]


def _waits(registrations: list[Any]) -> dict[str, set[str]]:
    """What each registered resource waits for, transitively (the engine's dependencies)."""
    direct = {r.name: {urn.rsplit("::", 1)[-1] for urn in r.dependencies} for r in registrations}
    closed: dict[str, set[str]] = {}

    def closure(name: str) -> set[str]:
        if name not in closed:
            closed[name] = set()
            for dependency in direct.get(name, ()):
                closed[name] |= {dependency} | closure(dependency)
        return closed[name]

    return {name: closure(name) for name in direct}


def _part_closure(derived: Ordering, part: Part) -> set[Part]:
    found: set[Part] = set()
    for waited in derived.after(part):
        found |= {waited} | _part_closure(derived, waited)
    return found


def _check_effects(transition: Transition, target: list[Any], raw: dict[str, Any]) -> None:
    migration = load_migration(raw)
    waits = _waits(target)
    for legacy in migration.workloads:
        workload = legacy.config
        plan, capacity = plan_of(migration.config, legacy), workload_capacity(legacy)
        prefix = f"{workload.namespace}/{workload.name}"
        # At rest: the legacy side as the row says, the new side at the row's count.
        legacy_key = (workload.namespace, legacy.deployment["metadata"]["name"])
        legacy_pods = transition.after.get(legacy_key)
        if plan.legacy is LegacySide.DELETED:
            assert legacy_pods is None, prefix
        else:
            assert legacy_pods is not None
            assert legacy_pods.count == (capacity.legacy.minimum if plan.legacy.runs else 0), prefix
        new_key = _object(target, f"{prefix}/wasm-deployment")
        if plan.new is None:
            assert new_key is None, prefix
        else:
            assert new_key is not None and transition.after[new_key].count == plan.new.minimum, prefix
        # The route's weight to the new side.
        route_key = _object(target, f"{prefix}/route")
        if plan.route_weight is None:
            assert route_key is None, prefix
        else:
            assert route_key is not None
            new_service = (workload.namespace, naming.new_service_name(legacy.service["metadata"]["name"]))
            assert transition.routes_after[route_key].get(new_service, 0) == plan.route_weight, prefix
        # The legacy patch proves the legacy pods Ready exactly where the row awaits them.
        patch = next((s for s in transition.steps if s.name == f"{prefix}/legacy-replicas"), None)
        if patch is not None:
            expected = legacy_ready_at_rest(legacy, capacity) if plan.await_legacy else 0
            assert (patch.proves or 0) == expected, prefix
        # What waits for what: exactly the row's ordering, between the parts registered.
        derived = plan.ordering
        present = {p for p, suffix in _RESOURCE.items() if f"{prefix}/{suffix}" in waits}
        for part in present:
            found = {p for p in present if f"{prefix}/{_RESOURCE[p]}" in waits[f"{prefix}/{_RESOURCE[part]}"]}
            assert found == _part_closure(derived, part) & present, (prefix, part)
        if plan.stop_then_start:
            assert transition.copies(_raw_workload(raw, workload.name)) == 0, prefix


def _raw_workload(raw: dict[str, Any], name: str) -> dict[str, Any]:
    return next(w for w in raw["workloads"] if w["name"] == name)


WALK_STEPS = [*pairwise(PHASE_FILES), *((b, a) for a, b in pairwise(PHASE_FILES[:-1]))]


@pytest.mark.parametrize(
    ("source", "target"), WALK_STEPS, ids=lambda p: p.stem.split(".")[1] if isinstance(p, Path) else p
)
def test_each_row_does_what_it_says_through_the_walk(pulumi_run, source, target):
    raw = load_raw(target)
    before = _registrations(pulumi_run, source, load_raw(source))
    after = _registrations(pulumi_run, target, raw)
    _check_effects(Transition(before, after, raw, ROOT), after, raw)


HELLO = ROOT / "manifests/legacy/web/hello-spin.yaml"


def _single_copy(project_dir: Path, phase: Phase, weight: int | None = None) -> dict[str, Any]:
    listing = yaml.safe_load(HELLO.read_text())
    deployment = listing["items"][0]
    deployment["spec"].update(replicas=1, strategy={"type": "Recreate"})
    pod = deployment["spec"]["template"]["spec"]
    pod["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": "hello-data"}}]
    pod["containers"][0]["volumeMounts"] = [{"name": "data", "mountPath": "/data"}]
    path = project_dir / "hello.yaml"
    path.write_text(yaml.safe_dump(listing))
    raw = copy.deepcopy(load_raw(phase_path(phase, weight)))
    raw["workloads"] = [{**raw["workloads"][0], "manifest": str(path.relative_to(ROOT))}]
    return raw


@pytest.mark.parametrize(
    ("source", "target"),
    [
        ((Phase.PARALLEL, 100), (Phase.CUTOVER, None)),
        ((Phase.CUTOVER, None), (Phase.PARALLEL, 100)),
        ((Phase.PREPARE, None), (Phase.PARALLEL, 0)),
        ((Phase.CUTOVER, None), (Phase.DECOMMISSION, None)),
    ],
    ids=lambda step: f"{step[0]}-{step[1]}" if step[1] is not None else str(step[0]),
)
def test_a_single_copy_row_does_what_it_says(pulumi_run, project_dir, source, target):
    raw = _single_copy(project_dir, *target)
    assert load_migration(raw).workloads[0].stop_then_start
    before = pulumi_run(_single_copy(project_dir, *source)).registrations
    after = pulumi_run(raw).registrations
    transition = Transition(before, after, raw, ROOT)
    _check_effects(transition, after, raw)
    gates = [s for s in transition.steps if s.gone is not None]
    assert len(gates) == (1 if target[0] in (Phase.CUTOVER, Phase.PARALLEL) else 0)


@pytest.mark.parametrize(
    ("phase", "weight"),
    [
        (Phase.PREPARE, None),
        (Phase.PARALLEL, 0),
        (Phase.PARALLEL, 50),
        (Phase.PARALLEL, 100),
        (Phase.CUTOVER, None),
    ],
    ids=lambda value: str(value),
)
def test_a_single_copy_route_never_sends_requests_to_a_service_without_pods(
    pulumi_run, project_dir, phase, weight
):
    """A single-copy workload behind a Gateway has no new pods before cutover: its route must not give
    the new Service any weight until then (the simulator counts what a route sends to a Service no
    pod backs, which the Gateway answers with 503s)."""
    raw = _single_copy(project_dir, phase, weight)
    gateway = next(w["gateway"] for w in load_raw(phase_path(phase, weight))["workloads"] if "gateway" in w)
    raw["workloads"][0]["gateway"] = {**gateway, "pathPrefix": "/hello"}
    assert load_migration(raw).workloads[0].stop_then_start
    cluster = Cluster(pulumi_run(raw).registrations, raw, ROOT)
    workload = raw["workloads"][0]
    assert cluster.unserved(workload.get("namespace", "default"), workload["gateway"]) == 0
