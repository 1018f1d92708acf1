"""Proof that every pod of a phase can land only on nodes of its intended pool, from the pools'
labels and taints and each pod template's nodeSelector, RuntimeClass scheduling and tolerations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components.core.config import MigrationConfig
from components.core.identifiers import vm_architecture
from components.core.kubernetes import (
    AKS_WASI_RUNTIME_CLASSES,
    ARCH_LABEL,
    node_affinity_allows,
    node_requirement_holds,
    parse_aks_taint,
    tolerates,
)
from components.desired.spec import DesiredState, ResourceSpec

# A node of any other pool in the cluster (system pool, other teams' pools): no special labels or taints.
OTHER_POOLS = "other pools"
# Labels whose value differs node by node (or, on pools the proof knows no VM size of, with the CPU):
# the proof treats any selector on them as possibly met where the pool does not carry them, which can
# only widen where a pod may land, never hide a stray. A target pool's `kubernetes.io/arch` is known.
PER_NODE_LABELS = frozenset(
    {
        "kubernetes.io/hostname",
        "kubernetes.io/arch",
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "failure-domain.beta.kubernetes.io/zone",
        "failure-domain.beta.kubernetes.io/region",
    }
)


@dataclass(frozen=True)
class NodePool:
    name: str
    labels: dict[str, str]
    taints: tuple[dict[str, str], ...]


def _aks_labels(name: str) -> dict[str, str]:
    """What AKS puts on every node of a user pool."""
    return {
        "kubernetes.azure.com/agentpool": name,
        "agentpool": name,
        "kubernetes.azure.com/mode": "user",
        "kubernetes.io/os": "linux",
    }


def cluster_pools(config: MigrationConfig, state: DesiredState) -> list[NodePool]:
    """Pools whose nodes exist in this phase, labelled as AKS labels their nodes. The legacy pool is
    described by the config (it is adopted by name alone); the target pools by their registered inputs."""
    pools = [NodePool(OTHER_POOLS, {}, ())]
    for spec in state.resources:
        if spec.type != "azure-native:containerservice:AgentPool":
            continue
        inputs = spec.inputs
        name = inputs["agentPoolName"]
        if spec.import_id:  # an adopted WASI pool
            legacy = next(pool for pool in config.legacy_pools if pool.name == name)
            labels = {
                **_aks_labels(name),
                **{f"kubernetes.azure.com/{runtime}": "true" for runtime in AKS_WASI_RUNTIME_CLASSES},
                **legacy.node_labels,
            }
            taints = tuple(parse_aks_taint(taint.as_aks()) for taint in legacy.node_taints)
        else:
            labels = {
                **_aks_labels(name),
                "node.kubernetes.io/instance-type": inputs["vmSize"],
                ARCH_LABEL: vm_architecture(inputs["vmSize"]),
                **(inputs.get("nodeLabels") or {}),
            }
            taints = tuple(parse_aks_taint(taint) for taint in inputs.get("nodeTaints") or [])
        pools.append(NodePool(name, labels, taints))
    return pools


def runtime_classes(
    state: DesiredState, existing: Iterable[Mapping[str, Any]] = ()
) -> dict[str, dict[str, Any]]:
    """RuntimeClass name -> scheduling, for the AKS-managed WASI classes, the classes the cluster
    already has (`existing`: exported RuntimeClass objects, such as a team's own class whose
    scheduling sends its pods to a WASI pool) and the phase's own."""
    classes = {
        name: {"nodeSelector": {f"kubernetes.azure.com/{name}": "true"}} for name in AKS_WASI_RUNTIME_CLASSES
    }
    for obj in existing:
        if obj.get("kind") == "RuntimeClass":
            classes[(obj.get("metadata") or {})["name"]] = obj.get("scheduling") or {}
    for spec in state.resources:
        if spec.inputs.get("kind") == "RuntimeClass" and spec.is_kubernetes and not spec.is_patch:
            classes[spec.inputs["metadata"]["name"]] = spec.inputs.get("scheduling") or {}
    return classes


def candidate_pools(
    pod: dict[str, Any], pools: list[NodePool], classes: dict[str, dict[str, Any]]
) -> list[str]:
    """Pools whose nodes the scheduler may pick for `pod` (a pod spec): those nothing blocks."""
    return [pool.name for pool in pools if not blockers(pod, pool, classes)]


def blockers(pod: dict[str, Any], pool: NodePool, classes: dict[str, dict[str, Any]]) -> list[str]:
    """Why the scheduler may not pick `pool`'s nodes for `pod`: each field of the pod (or of its
    RuntimeClass: its nodeSelector merged over the pod's, its tolerations added) that the pool's
    labels or taints do not meet; required node affinity."""
    runtime_class = pod.get("runtimeClassName")
    if runtime_class and runtime_class not in classes:
        return [f"runtimeClassName {runtime_class}: no such RuntimeClass in this phase"]
    scheduling = classes.get(runtime_class, {}) if runtime_class else {}
    from_class = scheduling.get("nodeSelector") or {}
    selector = {**(pod.get("nodeSelector") or {}), **from_class}
    unknowable = PER_NODE_LABELS - set(pool.labels)
    reasons = []
    for key, value in selector.items():
        if key not in unknowable and pool.labels.get(key) != value:
            source = (
                f"RuntimeClass {runtime_class} scheduling.nodeSelector"
                if key in from_class
                else "nodeSelector"
            )
            reasons.append(f"{source} {key}={value} (the pool has {pool.labels.get(key, 'no such label')})")
    if not node_affinity_allows(pod, unknowable, pool.labels):
        reasons.append(_affinity_reason(pod, pool, unknowable))
    tolerations = list(pod.get("tolerations") or []) + list(scheduling.get("tolerations") or [])
    for taint in pool.taints:
        if taint["effect"] in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            reasons.append(f"taint {taint['key']}={taint['value']}:{taint['effect']} is not tolerated")
    return reasons


def _affinity_reason(pod: Mapping[str, Any], pool: NodePool, unknowable: frozenset[str]) -> str:
    """Which requirements of the required node affinity the pool's labels fail (terms are ORed)."""
    required = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    failing = [
        f"{e['key']} {e['operator']} {','.join(e.get('values') or [])}".rstrip()
        + f" (the pool has {pool.labels.get(e['key'], 'no such label')})"
        for term in required.get("nodeSelectorTerms") or []
        for e in term.get("matchExpressions") or []
        if not node_requirement_holds(e, pool.labels, unknowable)
    ]
    return "required node affinity: " + "; ".join(dict.fromkeys(failing))


def scheduling_problems(
    config: MigrationConfig, state: DesiredState, existing_classes: Iterable[Mapping[str, Any]] = ()
) -> list[str]:
    """Empty when every pod template of the phase lands only on its intended pool, and somewhere.
    `existing_classes`: the RuntimeClasses the cluster already has (from the exports)."""
    pools = cluster_pools(config, state)
    classes = runtime_classes(state, existing_classes)
    problems = []
    for spec in state.resources:
        kind = spec.inputs.get("kind") if spec.is_kubernetes and not spec.is_patch else None
        if kind not in ("Deployment", "DaemonSet"):
            continue
        pod = spec.inputs["spec"]["template"]["spec"]
        intended = _intended_pools(config, spec, pools)
        if kind == "Deployment" and spec.inputs["spec"].get("replicas") == 0:
            continue
        candidates = candidate_pools(pod, pools, classes)
        if not candidates:
            why = "; ".join(
                f"{pool.name}: {', '.join(blockers(pod, pool, classes))}"
                for pool in pools
                if pool.name in intended
            )
            problems.append(f"{spec.label}: no node of any pool can run it in phase {state.phase} ({why})")
        stray = sorted(set(candidates) - intended)
        if stray:
            problems.append(
                f"{spec.label}: may land on {', '.join(stray)}, not only on {', '.join(sorted(intended))}"
            )
        if kind == "DaemonSet" and candidates:  # the installer: every node of every shim pool needs it
            problems.extend(_pools_missed(spec.label, pod, pools, classes, intended - set(candidates)))
    return problems


def _intended_pools(config: MigrationConfig, spec: ResourceSpec, pools: list[NodePool]) -> set[str]:
    """Where a pod template belongs: an adopted (legacy) Deployment's on the WASI pools; the shim's
    installer and the pods of its RuntimeClass on the target pools; a container target's on any pool
    but the WASI ones."""
    legacy = {pool.name for pool in config.legacy_pools}
    if spec.import_id:
        return legacy
    if spec.inputs["kind"] == "DaemonSet" or spec.inputs["spec"]["template"]["spec"].get("runtimeClassName"):
        return {pool.name for pool in config.target_pools}
    return {pool.name for pool in pools} - legacy


def _pools_missed(
    label: str,
    pod: dict[str, Any],
    pools: list[NodePool],
    classes: dict[str, dict[str, Any]],
    missed: set[str],
) -> list[str]:
    return [
        f"{label}: cannot run on {pool.name}, whose nodes need it ({', '.join(blockers(pod, pool, classes))})"
        for pool in pools
        if pool.name in missed
    ]
