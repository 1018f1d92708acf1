"""Walking the stack files forward and backward, one step at a time, on what the program registers:
each step changes exactly what its phase is about, only cutover lowers the legacy side, and it waits
for the new side, the route and the check."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import pytest

from components.core.config import Phase
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
VERIFICATION = {
    f"{w}/verify-{kind}"
    for w in WORKLOADS
    for kind in ("service-account", "role", "role-binding", "result", "job")
} | {"verify-script-web", "verify-script-shop"}
VERIFICATION_JOBS = {f"{w}/verify-job" for w in WORKLOADS}

BASELINE, PREPARE, CUTOVER, DECOMMISSION = (
    phase_path(phase) for phase in (Phase.BASELINE, Phase.PREPARE, Phase.CUTOVER, Phase.DECOMMISSION)
)
PARALLEL_0, PARALLEL_10, PARALLEL_50, PARALLEL_90, PARALLEL_100 = (
    phase_path(Phase.PARALLEL, weight) for weight in (0, 10, 50, 90, 100)
)
ROUTE = "shop/orders-api/route"
ADMISSION = {"admission-policy-policy", "admission-policy-binding"}

# (from, to) -> (created, changed, deleted), by logical name: the whole reference walk. The adopted
# legacy Deployments and Services never change, and the legacy side's one patch changes only when
# parallel starts (it then waits for the legacy pods on the way back from cutover) and in cutover.
FORWARD = {
    (BASELINE, PREPARE): (
        {
            "target-pool-spinpool",
            *SHIM,
            *_new("web/hello-spin"),
            ROUTE,
            *REPLICAS_PATCHES,
            "alerts-rule-group",
        },
        set(),
        set(),
    ),
    # hello-spin's canary is already the one pod parallel at 0 % checks outside traffic; the gateway
    # workload runs at full capacity from here on, behind a route that sends it nothing yet.
    (PREPARE, PARALLEL_0): (
        _new("shop/orders-api") | _new("shop/inventory") | VERIFICATION,
        REPLICAS_PATCHES | {ROUTE},
        set(),
    ),
    # A traffic step moves only the new side: its pods join the Services and grow toward their share
    # (hello-spin, inventory), or the route's weight moves (orders-api: its pods leave the Gateway's
    # exact split to the route while it is below 100 %).
    (PARALLEL_0, PARALLEL_10): (
        set(),
        {
            "web/hello-spin/wasm-deployment",
            "shop/inventory/wasm-deployment",
            "shop/orders-api/wasm-deployment",
            ROUTE,
        },
        set(),
    ),
    (PARALLEL_10, PARALLEL_50): (
        set(),
        {"web/hello-spin/wasm-deployment", "shop/inventory/wasm-deployment", ROUTE},
        set(),
    ),
    (PARALLEL_50, PARALLEL_90): (set(), {ROUTE}, set()),
    (PARALLEL_90, PARALLEL_100): (set(), {ROUTE, "shop/orders-api/wasm-deployment"}, set()),
    # Cutover takes the legacy pods away, and from now on refuses new pods on the WASI runtime (the
    # admission policy, its legacy pods exempt); the phase is part of the verification Job's template,
    # so cutover runs a fresh check first.
    (PARALLEL_100, CUTOVER): (ADMISSION, REPLICAS_PATCHES | VERIFICATION_JOBS, set()),
    # The legacy Deployments go, and so does the policy's exemption of their pods.
    (CUTOVER, DECOMMISSION): (
        set(),
        {ROUTE, "admission-policy-policy"},
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
    [(PREPARE, BASELINE), (PARALLEL_0, PREPARE), (PARALLEL_50, PARALLEL_10), (CUTOVER, PARALLEL_100)],
    ids=["prepare", "parallel", "traffic-step", "cutover"],
)
def test_backward_step_restores_the_earlier_phase(pulumi_run, registered, start, end):
    before = _registered(pulumi_run, registered, start)
    after = _registered(pulumi_run, registered, end)
    created, changed, deleted = FORWARD[(end, start)]
    assert _step(before, after) == (deleted, changed, created)
    # Nothing protected or adopted is ever dropped by a rollback.
    assert all(not before[name].protect for name in created)


def _awaits(registration) -> dict[str, str]:
    annotations = registration.inputs["metadata"].get("annotations") or {}
    return {k: v for k, v in annotations.items() if k in ("pulumi.com/skipAwait", "pulumi.com/waitFor")}


def test_legacy_patches_wait_for_legacy_pods_only_where_the_way_back_lands(pulumi_run, registered):
    """A patch is awaited as its whole live Deployment (pulumi-kubernetes await.go): on a WASI pool that
    reimages broke, that never completes. So the legacy patch skips the await, except in parallel,
    where the way back from cutover lands and the next step back relies on the legacy pods being Ready
    again: there it waits for the Ready pods the export showed, not for the whole rollout."""
    for path in (PREPARE, CUTOVER):
        phase = _registered(pulumi_run, registered, path)
        for workload in WORKLOADS:
            assert _awaits(phase[f"{workload}/legacy-replicas"]) == {"pulumi.com/skipAwait": "true"}
    parallel = _registered(pulumi_run, registered, PARALLEL_100)
    expected = {"web/hello-spin": 2, "shop/orders-api": 3, "shop/inventory": 2}
    for workload, ready in expected.items():
        wait = _awaits(parallel[f"{workload}/legacy-replicas"])["pulumi.com/waitFor"]
        assert json.loads(wait) == [f"jsonpath={{[?@.readyReplicas > {ready - 1}]}}"], workload


def test_cutover_takes_legacy_pods_away_only_after_the_new_side_route_and_check(pulumi_run, registered):
    cutover = _registered(pulumi_run, registered, CUTOVER)
    for workload in WORKLOADS:
        legacy = cutover[f"{workload}/legacy-replicas"]
        assert legacy.inputs["spec"] == {"replicas": 0}
        assert _depends_on(legacy, "kubernetes:apps/v1:Deployment", f"{workload}/wasm-deployment")
        assert _depends_on(legacy, "kubernetes:batch/v1:Job", f"{workload}/verify-job")
    assert _depends_on(
        cutover["shop/orders-api/legacy-replicas"], "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute", ROUTE
    )


def test_no_legacy_object_is_changed_before_cutover(pulumi_run, registered):
    """Until cutover the legacy side runs as exported: its patch sets the replicas it has."""
    for path in (PREPARE, PARALLEL_0, PARALLEL_50, PARALLEL_100):
        phase = _registered(pulumi_run, registered, path)
        for workload in WORKLOADS:
            adopted = phase[f"{workload}/legacy-deployment"].inputs
            assert phase[f"{workload}/legacy-replicas"].inputs["spec"] == {
                "replicas": adopted["spec"]["replicas"]
            }


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
    stops before the legacy scale-down."""
    cutover = _registered(pulumi_run, registered, CUTOVER)
    job_type = "kubernetes:batch/v1:Job"
    for workload in WORKLOADS:
        job = f"{workload}/verify-job"
        assert _depends_on(cutover[f"{workload}/legacy-replicas"], job_type, job)
        # The check itself waits for the new side only, so it runs before anything legacy changes.
        assert _depends_on(cutover[job], "kubernetes:apps/v1:Deployment", f"{workload}/wasm-deployment")
        assert not any("legacy" in d.rsplit("::", 1)[-1] or "route" in d for d in cutover[job].dependencies)


def test_parallel_verifies_once_the_new_side_is_ready(pulumi_run, registered):
    parallel = _registered(pulumi_run, registered, PARALLEL_50)
    for workload in WORKLOADS:
        job = parallel[f"{workload}/verify-job"]
        assert _depends_on(job, "kubernetes:apps/v1:Deployment", f"{workload}/wasm-deployment")
        assert not _depends_on(job, "kubernetes:apps/v1:DeploymentPatch", f"{workload}/legacy-replicas")


def test_no_step_of_the_walk_relinquishes_a_legacy_field():
    """Simulating the engine's delete step on every transition, forward and back: no patch on a legacy
    object ever reaches its provider's Delete, so `replicas` never falls back to 1 and the Service never
    loses its selector (prepare → baseline, the one rollback that removes patches, included)."""
    from components.desired import build_desired_state
    from components.loading import load_migration
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
    assert {n for n in provider_deletes(removed, set(removed)) if removed[n].is_patch} == REPLICAS_PATCHES
