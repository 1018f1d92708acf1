"""The scheduling proof: every pod of every phase lands only on its intended pool."""

from __future__ import annotations

import copy

import pytest

from components.analysis.scheduling import (
    OTHER_POOLS,
    candidate_pools,
    cluster_pools,
    runtime_classes,
    scheduling_problems,
)
from components.core.config import Phase
from components.desired import build_desired_state
from components.loading import load_migration
from tests.conftest import load_raw, phase_path


def _check(raw: dict) -> list[str]:
    migration = load_migration(raw)
    return scheduling_problems(migration.config, build_desired_state(migration))


def test_every_reference_phase_schedules_only_onto_intended_pools(phase_file):
    assert _check(load_raw(phase_file)) == []


def test_candidates_follow_runtime_class_and_taints():
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    state = build_desired_state(migration)
    pools, classes = cluster_pools(migration.config, state), runtime_classes(state)
    assert candidate_pools({"runtimeClassName": "wasm-spin"}, pools, classes) == ["spinpool"]
    assert candidate_pools({"runtimeClassName": "wasmtime-spin-v2"}, pools, classes) == ["wasipool"]
    assert candidate_pools({}, pools, classes) == [OTHER_POOLS, "wasipool"]
    assert candidate_pools({"runtimeClassName": "missing"}, pools, classes) == []


def test_a_pool_without_the_dedicated_taint_lets_wasm_pods_stray():
    raw = copy.deepcopy(load_raw(phase_path(Phase.PARALLEL, 50)))
    raw["targetPools"][0].pop("dedicatedTaint")
    raw["targetPools"][0]["nodeLabels"] = {}
    raw["shim"]["nodeLabel"] = {"key": "contoso.com/workload-class", "value": "wasm"}
    # Still proven: the RuntimeClass selects the label only the target pool has.
    assert _check(raw) == []


def test_a_taint_nobody_tolerates_is_reported(monkeypatch):
    from dataclasses import replace

    from components import desired

    original = desired.shim_component

    def untolerating(config):
        plan = original(config)
        return replace(plan, args={**plan.args, "tolerations": []})

    raw = load_raw(phase_path(Phase.PARALLEL, 50))
    monkeypatch.setattr(desired, "shim_component", untolerating)
    problems = _check(raw)
    assert (
        "DaemonSet wasm-shim-system/containerd-shim-spin-installer: no node of any pool can run it"
        " in phase parallel (spinpool: taint contoso.com/wasm=true:NoSchedule is not tolerated)" in problems
    )
    assert any(p.startswith("Deployment web/hello-spin-spin: no node of any pool") for p in problems)


@pytest.mark.parametrize("label", [{"contoso.com/workload-class": "wasm"}])
def test_a_selector_shared_with_another_pool_is_reported(label):
    raw = copy.deepcopy(load_raw(phase_path(Phase.PARALLEL, 50)))
    raw["legacyPools"][0]["nodeLabels"] = dict(label)
    raw["targetPools"][0].pop("dedicatedTaint")
    raw["shim"]["nodeLabel"] = {"key": "contoso.com/workload-class", "value": "wasm"}
    raw["targetPools"][0]["nodeLabels"] = {}
    problems = _check(raw)
    assert "Deployment web/hello-spin-spin: may land on wasipool, not only on spinpool" in problems
    assert (
        "DaemonSet wasm-shim-system/containerd-shim-spin-installer: may land on wasipool, not only on "
        "spinpool" in problems
    )


def test_required_node_affinity_is_part_of_the_proof():
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    state = build_desired_state(migration)
    pools, classes = cluster_pools(migration.config, state), runtime_classes(state)

    def affinity(*expressions):
        terms = [{"matchExpressions": list(expressions)}]
        return {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}}
        }

    wasm = {"runtimeClassName": "wasm-spin"}
    workload_class = {"key": "contoso.com/workload-class", "operator": "In", "values": ["wasm"]}
    assert candidate_pools({**wasm, "affinity": affinity(workload_class)}, pools, classes) == ["spinpool"]
    gpu = {"key": "contoso.com/gpu", "operator": "Exists"}
    assert candidate_pools({**wasm, "affinity": affinity(gpu)}, pools, classes) == []
    zone = {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["westeurope-3"]}
    assert candidate_pools({**wasm, "affinity": affinity(zone)}, pools, classes) == ["spinpool"]  # per node
    pinned = {"nodeSelector": {"kubernetes.azure.com/agentpool": "wasipool"}, "tolerations": []}
    assert candidate_pools(pinned, pools, classes) == ["wasipool"]
    not_wasm = {**workload_class, "operator": "NotIn"}
    assert candidate_pools({"affinity": affinity(not_wasm)}, pools, classes) == [OTHER_POOLS, "wasipool"]


def test_an_affinity_the_shim_pool_cannot_meet_is_reported(project_dir):
    from tests.components.desired.test_workloads import with_affinity

    stranded = """        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions:
                - key: contoso.com/ssd
                  operator: Exists
"""
    problems = _check(with_affinity(project_dir, stranded))
    # Each names its pool and the field that shuts it out.
    required = "required node affinity: contoso.com/ssd Exists (the pool has no such label)"
    stranded = "no node of any pool can run it in phase parallel"
    assert f"Deployment web/hello-spin-spin: {stranded} (spinpool: {required})" in problems
    assert f"Deployment web/hello-spin: {stranded} (wasipool: {required})" in problems


def test_a_runtime_class_the_cluster_already_has_places_its_pods():
    """A team's own class (`wasmtime-spin` from deislabs' runtime.yaml, handler spin, scheduled onto the
    WASI pool, as in tests/fixtures/clusters/kwasm) is read from the exports: without it the proof
    found no node for that Deployment in every phase, and `check` refused a workload init migrates."""
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    state = build_desired_state(migration)
    team = {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {"name": "wasmtime-spin"},
        "handler": "spin",
        "scheduling": {"nodeSelector": {"kubernetes.azure.com/agentpool": "wasipool"}},
    }
    pools = cluster_pools(migration.config, state)
    pod = {"runtimeClassName": "wasmtime-spin"}
    assert candidate_pools(pod, pools, runtime_classes(state)) == []
    assert candidate_pools(pod, pools, runtime_classes(state, [team])) == ["wasipool"]
    # The phase's own class wins over an exported one of the same name.
    ours = {**team, "metadata": {"name": "wasm-spin"}}
    assert candidate_pools({"runtimeClassName": "wasm-spin"}, pools, runtime_classes(state, [ours])) == [
        "spinpool"
    ]
