"""Proof that every pod of a phase can land only on nodes of its intended pool, from the pools'
labels and taints and each pod template's nodeSelector, RuntimeClass scheduling and tolerations."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.config import AKS_WASI_RUNTIME_CLASSES, MigrationConfig
from components.desired.spec import DesiredState

# A node of any other pool in the cluster (system pool, other teams' pools): no special labels or taints.
OTHER_POOLS = "other pools"


@dataclass(frozen=True)
class NodePool:
    name: str
    labels: dict[str, str]
    taints: tuple[dict[str, str], ...]


def cluster_pools(config: MigrationConfig, state: DesiredState) -> list[NodePool]:
    """Pools whose nodes exist in this phase, labelled as AKS labels their nodes."""
    pools = [NodePool(OTHER_POOLS, {}, ())]
    for spec in state.resources:
        if spec.type != "azure-native:containerservice:AgentPool":
            continue
        inputs = spec.inputs
        labels = dict(inputs.get("nodeLabels") or {})
        if inputs["workloadRuntime"] == "WasmWasi":
            labels.update({f"kubernetes.azure.com/{name}": "true" for name in AKS_WASI_RUNTIME_CLASSES})
        taints = tuple(_parse_taint(taint) for taint in inputs.get("nodeTaints") or [])
        pools.append(NodePool(inputs["agentPoolName"], labels, taints))
    return pools


def _parse_taint(taint: str) -> dict[str, str]:
    key_value, _, effect = taint.rpartition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect}


def runtime_classes(state: DesiredState) -> dict[str, dict[str, Any]]:
    """RuntimeClass name -> scheduling, for the AKS-managed WASI classes and the phase's own."""
    classes = {
        name: {"nodeSelector": {f"kubernetes.azure.com/{name}": "true"}} for name in AKS_WASI_RUNTIME_CLASSES
    }
    for spec in state.resources:
        if spec.inputs.get("kind") == "RuntimeClass" and spec.is_kubernetes:
            classes[spec.inputs["metadata"]["name"]] = spec.inputs.get("scheduling") or {}
    return classes


def _tolerates(tolerations: list[dict[str, Any]], taint: dict[str, str]) -> bool:
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint["effect"]):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint["key"]:
                return True
        elif toleration.get("key") == taint["key"] and toleration.get("value", "") == taint["value"]:
            return True
    return False


def candidate_pools(
    pod: dict[str, Any], pools: list[NodePool], classes: dict[str, dict[str, Any]]
) -> list[str]:
    """Pools whose nodes the scheduler may pick for `pod` (a pod spec)."""
    selector = dict(pod.get("nodeSelector") or {})
    tolerations = list(pod.get("tolerations") or [])
    runtime_class = pod.get("runtimeClassName")
    if runtime_class:
        scheduling = classes.get(runtime_class)
        if scheduling is None:
            return []
        selector.update(scheduling.get("nodeSelector") or {})
        tolerations += scheduling.get("tolerations") or []
    return [
        pool.name
        for pool in pools
        if all(pool.labels.get(key) == value for key, value in selector.items())
        and all(_tolerates(tolerations, t) for t in pool.taints if t["effect"] in ("NoSchedule", "NoExecute"))
    ]


def scheduling_problems(config: MigrationConfig, state: DesiredState) -> list[str]:
    """Empty when every pod template of the phase lands only on its intended pool, and somewhere."""
    pools = cluster_pools(config, state)
    classes = runtime_classes(state)
    target = {pool.name for pool in config.target_pools}
    legacy = {config.legacy_pool.name}
    problems = []
    for spec in state.resources:
        kind = spec.inputs.get("kind") if spec.is_kubernetes else None
        if kind not in ("Deployment", "DaemonSet"):
            continue
        # Adopted Deployments are the legacy ones; everything this project creates targets the shim pools.
        intended = legacy if spec.import_id else target
        pod = spec.inputs["spec"]["template"]["spec"]
        if kind == "Deployment" and spec.inputs["spec"].get("replicas") == 0:
            continue
        candidates = candidate_pools(pod, pools, classes)
        if not candidates:
            problems.append(f"{spec.label}: no node of any pool can run it in phase {state.phase}")
        stray = sorted(set(candidates) - intended)
        if stray:
            problems.append(
                f"{spec.label}: may land on {', '.join(stray)}, not only on {', '.join(sorted(intended))}"
            )
    return problems
