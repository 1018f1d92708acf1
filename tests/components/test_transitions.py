"""Walking the stack files forward and backward, one step at a time, on what the program registers:
each step changes exactly what its phase is about, and a rollback orders legacy capacity first."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from components.config import Phase
from tests.conftest import PHASE_FILES, load_raw, phase_path

NEW_SIDE = {"deployment", "service", "pdb"}
SHIM = {
    "shim-namespace",
    "shim-service-account",
    "shim-installer-script",
    "shim-installer",
    "shim-runtime-class",
}


def _new(prefix: str, *kinds: str) -> set[str]:
    return {f"{prefix}/wasm-{kind}" for kind in kinds or NEW_SIDE}


LEGACY_DEPLOYMENTS = {
    f"{w}/legacy-deployment" for w in ("web/hello-spin", "shop/orders-api", "shop/inventory")
}
WORKLOADS = ("web/hello-spin", "shop/orders-api", "shop/inventory")
REPLICAS_PATCHES = {f"{w}/legacy-replicas" for w in WORKLOADS}
SELECTOR_PATCHES = {f"{w}/legacy-selector" for w in WORKLOADS}
VERIFICATION = {
    f"{w}/verify-{kind}"
    for w in WORKLOADS
    for kind in ("service-account", "role", "role-binding", "result", "job")
} | {"verify-script-web", "verify-script-shop"}
VERIFICATION_JOBS = {f"{w}/verify-job" for w in WORKLOADS}

BASELINE, PREPARE, CUTOVER, DECOMMISSION = (
    phase_path(phase) for phase in (Phase.BASELINE, Phase.PREPARE, Phase.CUTOVER, Phase.DECOMMISSION)
)
PARALLEL_10, PARALLEL_50, PARALLEL_90 = (phase_path(Phase.PARALLEL, weight) for weight in (10, 50, 90))
# Parallel workloads with the default split: their new replicas follow the weight.
WEIGHTED = {"web/hello-spin/wasm-deployment", "shop/inventory/wasm-deployment"}
SPLIT_LEGACY = {"web/hello-spin/legacy-replicas", "shop/inventory/legacy-replicas"}

# (from, to) -> (created, changed, deleted), by logical name: the whole reference walk. The adopted
# legacy Deployments and Services never change: only their patches do.
FORWARD = {
    (BASELINE, PREPARE): (
        {
            "target-pool-spinpool",
            *SHIM,
            *_new("web/hello-spin"),
            "shop/orders-api/route",
            *REPLICAS_PATCHES,
            *SELECTOR_PATCHES,
            "alerts-rule-group",
        },
        set(),
        set(),
    ),
    (PREPARE, PARALLEL_10): (
        _new("shop/orders-api") | _new("shop/inventory") | VERIFICATION,
        {"web/hello-spin/wasm-deployment", "shop/orders-api/route"},
        set(),
    ),
    # A traffic step moves only the weight: the route's split and the bounded default split, which
    # trades legacy pods for new ones (10 % → 50 %: 2 legacy + 1 new → 1 + 1; 50 % → 90 %: 1 + 2).
    (PARALLEL_10, PARALLEL_50): (set(), SPLIT_LEGACY | {"shop/orders-api/route"}, set()),
    (PARALLEL_50, PARALLEL_90): (set(), WEIGHTED | {"shop/orders-api/route"}, set()),
    # The phase is part of the verification Job's template: cutover runs a fresh check.
    (PARALLEL_90, CUTOVER): (
        set(),
        # The gateway workload's new pods join the legacy objects' selectors once they take over.
        REPLICAS_PATCHES
        | SELECTOR_PATCHES
        | VERIFICATION_JOBS
        | {"shop/orders-api/route", "shop/orders-api/wasm-deployment"},
        set(),
    ),
    (CUTOVER, DECOMMISSION): (
        set(),
        {"shop/orders-api/route"},
        LEGACY_DEPLOYMENTS | REPLICAS_PATCHES | {"legacy-pool-wasipool"} | VERIFICATION,
    ),
}


def test_forward_covers_the_whole_walk():
    assert list(FORWARD) == list(pairwise(PHASE_FILES))


@pytest.fixture(scope="module")
def registered():
    """Registered custom resources per phase file, from one program run each."""
    return {}


def _registered(pulumi_run, cache_: dict, path: Path) -> dict:
    if path not in cache_:
        cache_[path] = pulumi_run(load_raw(path)).custom()
    return cache_[path]


def _step(before: dict, after: dict) -> tuple[set, set, set]:
    created = set(after) - set(before)
    deleted = set(before) - set(after)
    changed = {n for n in set(before) & set(after) if before[n].inputs != after[n].inputs}
    return created, changed, deleted


@pytest.mark.parametrize(("start", "end"), list(FORWARD), ids=lambda path: path.stem.split(".")[1])
def test_forward_step(pulumi_run, registered, start, end):
    before = _registered(pulumi_run, registered, start)
    after = _registered(pulumi_run, registered, end)
    assert _step(before, after) == FORWARD[(start, end)]
    for name in set(before) & set(after):
        assert before[name].protect == after[name].protect or name == "legacy-pool-wasipool", name


@pytest.mark.parametrize(
    ("start", "end"),
    [(PREPARE, BASELINE), (PARALLEL_10, PREPARE), (PARALLEL_50, PARALLEL_10), (CUTOVER, PARALLEL_90)],
    ids=["prepare", "parallel", "traffic-step", "cutover"],
)
def test_backward_step_restores_the_earlier_phase(pulumi_run, registered, start, end):
    before = _registered(pulumi_run, registered, start)
    after = _registered(pulumi_run, registered, end)
    created, changed, deleted = FORWARD[(end, start)]
    assert _step(before, after) == (deleted, changed, created)
    # Nothing protected or adopted is ever dropped by a rollback.
    assert all(not before[name].protect for name in created)


def test_rollback_from_cutover_brings_legacy_pods_back_before_traffic_moves(pulumi_run, registered):
    parallel = _registered(pulumi_run, registered, PARALLEL_50)
    for workload in WORKLOADS:
        legacy = parallel[f"{workload}/legacy-replicas"]
        legacy_urn_tail = f"{legacy.type}::{legacy.name}"
        movers = [f"{workload}/legacy-selector"]
        if workload == "shop/orders-api":
            movers.append("shop/orders-api/route")
        for name in movers:
            assert any(d.endswith(legacy_urn_tail) for d in parallel[name].dependencies), name
        # Going forward the split's scale-down waits for the new pods instead: no capacity dip.
        new = f"kubernetes:apps/v1:Deployment::{workload}/wasm-deployment"
        assert any(d.endswith(new) for d in legacy.dependencies)


def test_cutover_scales_legacy_down_only_after_the_new_side_is_ready(pulumi_run, registered):
    cutover = _registered(pulumi_run, registered, CUTOVER)
    for workload in WORKLOADS:
        dependencies = cutover[f"{workload}/legacy-replicas"].dependencies
        assert any(
            d.endswith(f"kubernetes:apps/v1:Deployment::{workload}/wasm-deployment") for d in dependencies
        )
        assert any(
            d.endswith(f"kubernetes:core/v1:ServicePatch::{workload}/legacy-selector") for d in dependencies
        )


def test_backward_from_decommission_would_need_deleted_objects_back(pulumi_run, registered):
    """Decommission is the one step without a way back: the cutover state re-adopts objects that the
    decommission step deleted, which an import cannot find. `migrate check` refuses this transition."""
    decommission = _registered(pulumi_run, registered, DECOMMISSION)
    cutover = _registered(pulumi_run, registered, CUTOVER)
    back = set(cutover) - set(decommission) - VERIFICATION
    assert back == LEGACY_DEPLOYMENTS | REPLICAS_PATCHES | {"legacy-pool-wasipool"}
    assert all(cutover[name].import_id for name in back - REPLICAS_PATCHES)


def _depends_on(registration, type_: str, name: str) -> bool:
    return any(d.endswith(f"{type_}::{name}") for d in registration.dependencies)


def test_cutover_changes_nothing_legacy_before_the_verification_passes(pulumi_run, registered):
    """A failing Job fails its registration; its dependents are never registered, so `pulumi up`
    stops before the legacy scale-down, the Service switch and the route shift."""
    cutover = _registered(pulumi_run, registered, CUTOVER)
    job_type = "kubernetes:batch/v1:Job"
    for workload in WORKLOADS:
        job = f"{workload}/verify-job"
        gated = [f"{workload}/legacy-replicas", f"{workload}/legacy-selector"]
        if workload == "shop/orders-api":
            gated.append("shop/orders-api/route")
        for name in gated:
            assert _depends_on(cutover[name], job_type, job), name
        # The check itself waits for the new side only, so it runs before anything legacy changes.
        assert _depends_on(cutover[job], "kubernetes:apps/v1:Deployment", f"{workload}/wasm-deployment")
        assert not any("legacy" in d.rsplit("::", 1)[-1] or "route" in d for d in cutover[job].dependencies)


def test_parallel_verifies_after_the_split_has_settled(pulumi_run, registered):
    parallel = _registered(pulumi_run, registered, PARALLEL_50)
    for workload in WORKLOADS:
        job = parallel[f"{workload}/verify-job"]
        # The legacy side's capacity is its replicas patch; the adopted Deployment itself never changes.
        assert _depends_on(job, "kubernetes:apps/v1:DeploymentPatch", f"{workload}/legacy-replicas")
        assert _depends_on(job, "kubernetes:apps/v1:Deployment", f"{workload}/wasm-deployment")
        assert not any(
            d.endswith(f"::{workload}/verify-job")
            for d in parallel[f"{workload}/legacy-replicas"].dependencies
        )


def test_no_step_of_the_walk_relinquishes_a_legacy_field():
    """Simulating the engine's delete step on every transition, forward and back: no patch on a legacy
    object ever reaches its provider's Delete, so `replicas` never falls back to 1 and the Service never
    loses its selector (prepare → baseline, the one rollback that removes patches, included)."""
    from components.desired import build_desired_state
    from components.migration import load_migration
    from tests.engine import provider_deletes

    states = [build_desired_state(load_migration(load_raw(path))).by_name() for path in PHASE_FILES]
    for before, after in [*pairwise(states), *((b, a) for a, b in pairwise(states[:-1]))]:
        removed = {name: spec for name, spec in before.items() if name not in after}
        relinquished = {n for n in provider_deletes(removed, set(removed)) if removed[n].is_patch}
        assert relinquished == set()
    # Without retain_on_delete, prepare → baseline would relinquish every patch it removes.
    prepare, baseline = states[1], states[0]
    removed = {
        name: replace(spec, retain_on_delete=False) for name, spec in prepare.items() if name not in baseline
    }
    assert {n for n in provider_deletes(removed, set(removed)) if removed[n].is_patch} == (
        REPLICAS_PATCHES | SELECTOR_PATCHES
    )
