"""The scheduling proof: every pod of every phase lands only on its intended pool."""

from __future__ import annotations

import copy

import pytest

from components.desired import build_desired_state
from components.migration import load_migration
from components.scheduling import (
    OTHER_POOLS,
    candidate_pools,
    cluster_pools,
    runtime_classes,
    scheduling_problems,
)
from tests.conftest import PHASE_FILES, load_raw


def _check(raw: dict) -> list[str]:
    migration = load_migration(raw)
    return scheduling_problems(migration.config, build_desired_state(migration))


def test_every_reference_phase_schedules_only_onto_intended_pools(phase_file):
    assert _check(load_raw(phase_file)) == []


def test_candidates_follow_runtime_class_and_taints():
    migration = load_migration(load_raw(PHASE_FILES[2]))
    state = build_desired_state(migration)
    pools, classes = cluster_pools(migration.config, state), runtime_classes(state)
    assert candidate_pools({"runtimeClassName": "wasm-spin"}, pools, classes) == ["spinpool"]
    assert candidate_pools({"runtimeClassName": "wasmtime-spin-v2"}, pools, classes) == ["wasipool"]
    assert candidate_pools({}, pools, classes) == [OTHER_POOLS, "wasipool"]
    assert candidate_pools({"runtimeClassName": "missing"}, pools, classes) == []


def test_a_pool_without_the_dedicated_taint_lets_wasm_pods_stray():
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    raw["targetPools"][0].pop("dedicatedTaint")
    raw["targetPools"][0]["nodeLabels"] = {}
    raw["shim"]["nodeLabel"] = {"key": "contoso.com/workload-class", "value": "wasm"}
    # Still proven: the RuntimeClass selects the label only the target pool has.
    assert _check(raw) == []


def test_a_taint_nobody_tolerates_is_reported(monkeypatch):
    from components.desired import shim as shim_module

    raw = load_raw(PHASE_FILES[2])
    monkeypatch.setattr(shim_module, "shim_taints", lambda config: [])
    problems = _check(raw)
    assert (
        "DaemonSet wasm-shim-system/containerd-shim-spin-installer: no node of any pool can run it"
        " in phase parallel" in problems
    )
    assert any(p.startswith("Deployment web/hello-spin-spin: no node of any pool") for p in problems)


@pytest.mark.parametrize("label", [{"contoso.com/workload-class": "wasm"}])
def test_a_selector_shared_with_another_pool_is_reported(label):
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    raw["legacyPool"]["nodeLabels"] = dict(label)
    raw["targetPools"][0].pop("dedicatedTaint")
    raw["shim"]["nodeLabel"] = {"key": "contoso.com/workload-class", "value": "wasm"}
    raw["targetPools"][0]["nodeLabels"] = {}
    problems = _check(raw)
    assert "Deployment web/hello-spin-spin: may land on wasipool, not only on spinpool" in problems
    assert (
        "DaemonSet wasm-shim-system/containerd-shim-spin-installer: may land on wasipool, not only on "
        "spinpool" in problems
    )
