"""The whole inventory, as pure functions: a cluster's export and node pools in; the Wasm workloads
found (migrate/init/detect.py), what this stack does with each (decide.py), the target it proposes
(sizing.py), the config of the one stack that migrates every WASI pool of the cluster, its exports and
the facts the readiness report states. No file or network access here: migrate/init/pipeline.py is the
shell around it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from components.core import identifiers
from components.core.config import ConfigError, Phase, parse_config
from components.export import facts
from components.export.schemas import KUBERNETES_VERSIONS
from migrate.init.decide import decide
from migrate.init.detect import ClusterView, wasm_workloads
from migrate.init.errors import InventoryError
from migrate.init.files import CLUSTER_EXPORT_DIR, cluster_objects, export_list
from migrate.init.findings import WorkloadFinding
from migrate.init.guardrails import AzureExports, config_keys
from migrate.init.node_pools import ClusterRef, kubernetes_version, wasi_pools
from migrate.init.sizing import legacy_pool_config, pool_arch, runtime_class_proposal, target_pools


@dataclass(frozen=True)
class Inventory:
    """The stack's config, the files init writes (relative path -> kubectl List of exported objects)
    and the report's facts (before the planner is asked: migrate/init/planner.py)."""

    config: dict[str, Any]
    exports: dict[str, dict[str, Any]]
    report: dict[str, Any]


def build_inventory(
    objects: list[dict[str, Any]],
    node_pools: list[dict[str, Any]],
    cluster: ClusterRef,
    stack: str,
    sources: dict[str, str] | None = None,
    azure: AzureExports | None = None,
) -> Inventory:
    """Every Wasm workload of the export, the config of the one stack that migrates every WASI pool,
    its files and the report's facts. Raises InventoryError when there is nothing to migrate."""
    pools = wasi_pools(node_pools, (sources or {}).get("nodePools", "node pools"))
    view = ClusterView.of(objects, node_pools, pools)
    legacy_config = [legacy_pool_config(pool, index) for index, pool in enumerate(pools)]
    pods = facts.pods_on_nodes(view.index, view.wasi_nodes)
    findings = _findings(objects, view, pods)
    migrated = [f for f in findings if f.migrated]
    targets, sizing = target_pools(view, node_pools, migrated, _requests(migrated))
    cluster_file = f"{CLUSTER_EXPORT_DIR}/{stack}.yaml"
    azure = azure or AzureExports({"aks": None, "policyAssignments": None}, [])
    # The control plane's version where `az aks show` says it; else the newest the node pools run.
    version = (azure.aks.version if azure.aks else None) or kubernetes_version(node_pools)
    cluster_config = _cluster_config(cluster, version, cluster_file)
    cluster_config.update(config_keys(azure, stack))
    target, target_decisions, target_notes = azure.target()
    config: dict[str, Any] = {
        "phase": Phase.BASELINE.value,
        "cluster": cluster_config,
        "legacyPools": legacy_config,
        "targetPools": targets,
    }
    if target != "shim":
        config["target"] = target
    class_name, class_note = runtime_class_proposal(view)
    if class_name:
        config["shim"] = {"runtimeClassName": class_name}
    config["workloads"] = [f.entry for f in migrated]
    # Where alerts go is the cluster owner's choice (an Azure Monitor workspace and action group, or
    # prometheus-operator); the report asks for it. Off until then, and said so.
    config["alerts"] = {"mode": "off"}
    _validate(config)
    others = _other_pods(view, pods, {(f.namespace, f.name) for f in migrated})
    exports = {str(f.manifest): export_list(f.objects) for f in migrated}
    listed = {pod["pod"] for pod in others}
    exports[cluster_file] = export_list(cluster_objects(view, [pod for pod in pods if pod.key in listed]))
    report = {
        "stack": stack,
        "stackFile": f"stacks/Pulumi.{stack}.yaml",
        "clusterFile": cluster_file,
        "cluster": cluster_config,
        "sources": sources or {},
        "wasiPools": _wasi_pool_rows(view, findings),
        "targetPools": [{**pool, "sizing": size} for pool, size in zip(targets, sizing, strict=True)],
        "workloads": [f.as_dict() for f in findings],
        "otherPods": others,
        "decisions": _decisions(migrated, others, cluster_config.get("kubernetesVersion")) + target_decisions,
        "notes": [*target_notes, *_cluster_notes(class_note, targets, sizing)],
        "summary": _summary(findings, migrated),
    }
    return Inventory(config, exports, report)


def _findings(
    objects: list[dict[str, Any]], view: ClusterView, pods: Sequence[facts.PodOnNode]
) -> list[WorkloadFinding]:
    """Every Wasm workload of the export, classified and decided."""
    findings = []
    for finding, workload in wasm_workloads(objects, view, pods):
        decide(finding, workload, view)
        findings.append(finding)
    if not findings:
        raise InventoryError(
            "the export holds no Wasm workload (no wasmtime-*/Wasm RuntimeClass, WASI node selector or "
            f"affinity, or Krustlet arch); WASI pools: {', '.join(pool.name for pool in view.pools)}"
        )
    return findings


def _requests(migrated: list[WorkloadFinding]) -> dict[str, dict[str, float]]:
    """Each migrated workload's requests (CPUs, bytes), as its config entry states them."""
    return {
        f.key: {
            "cpu": float(identifiers.quantity_value(f.entry["resources"]["requests"]["cpu"])),
            "memory": float(identifiers.quantity_value(f.entry["resources"]["requests"]["memory"])),
        }
        for f in migrated
    }


def _cluster_config(cluster: ClusterRef, version: str | None, cluster_file: str) -> dict[str, Any]:
    config: dict[str, Any] = {
        "subscriptionId": cluster.subscription_id,
        "resourceGroup": cluster.resource_group,
        "name": cluster.name,
    }
    if version:
        config["kubernetesVersion"] = version
    config["export"] = cluster_file
    return config


def _validate(config: dict[str, Any]) -> None:
    try:
        parse_config(config)
    except ConfigError as error:  # inputs that passed every per-field check but not the whole model
        raise InventoryError(f"the generated config is invalid: {error.problems[0]}") from None


def _other_pods(
    view: ClusterView, pods: Sequence[facts.PodOnNode], migrated: set[tuple[str, str]]
) -> list[dict]:
    """Pods on WASI nodes that are neither a migrated workload's nor a DaemonSet's: deleting the pools
    deletes them. Each with its controller chain and the name `decommission.acknowledgeOtherPods` takes
    (the top controller's, else the Pod's)."""
    found = []
    for pod in pods:
        namespace = facts.namespace_of(pod.pod) or "default"
        top = pod.chain[-1] if pod.chain else None
        if pod.daemon_set or (top and top[0] == "Deployment" and (namespace, top[1]) in migrated):
            continue
        found.append(
            {
                "pod": pod.key,
                "node": pod.node,
                "pool": view.wasi_nodes.get(pod.node),
                "chain": [f"{kind} {name}" for kind, name in pod.chain],
                "acknowledge": f"{namespace}/{top[1] if top else facts.name_of(pod.pod)}",
            }
        )
    return found


def _decisions(
    migrated: list[WorkloadFinding], others: list[dict], version: str | None
) -> list[dict[str, str]]:
    """What a person must decide, by config key: each migrated workload's, then the stack's."""
    decisions: list[dict[str, str]] = []
    for position, finding in enumerate(migrated):
        decisions += [
            {"key": f"workloads[{position}].{d.key}", "workload": finding.key, "text": d.text}
            for d in finding.decisions
        ]
    if others:
        names = sorted({pod["acknowledge"] for pod in others})
        decisions.append(
            {
                "key": "decommission.acknowledgeOtherPods",
                "workload": "",
                "text": f"{len(others)} pod(s) that are not migrated Wasm workloads run on WASI nodes "
                "(listed below): decommission deletes them with the pools. Move them off the WASI pools, "
                f"or list {', '.join(names)} in `decommission.acknowledgeOtherPods` before decommission",
            }
        )
    if version and version not in KUBERNETES_VERSIONS:
        decisions.append(
            {
                "key": "cluster.kubernetesVersion",
                "workload": "",
                "text": f"the cluster runs Kubernetes {version}, and `check` validates against the schemas "
                f"of {', '.join(KUBERNETES_VERSIONS)} only: set `cluster.kubernetesVersion` to the control "
                "plane's version if it is newer (`az aks show --query kubernetesVersion`), or upgrade the "
                "control plane first (`az aks upgrade --control-plane-only` leaves every node pool, the WASI "
                "pools included, as it is)",
            }
        )
    return decisions


def _cluster_notes(
    class_note: str | None, targets: list[dict[str, Any]], sizing: list[dict[str, Any]]
) -> list[str]:
    notes = [class_note] if class_note else []
    if len(targets) > 1:
        notes.append(
            f"the WASI pools have {len(targets)} architectures, so {len(targets)} target pools are proposed "
            f"({', '.join(p['name'] + ' ' + s['arch'] for p, s in zip(targets, sizing, strict=True))}); "
            "the new pods are not pinned to an architecture, so each image must run on every target pool "
            "(a Spin app's Wasm artifact is architecture-neutral; check images that also carry a container)"
        )
    return notes


def _wasi_pool_rows(view: ClusterView, findings: list[WorkloadFinding]) -> list[dict[str, Any]]:
    return [
        {
            "name": pool.name,
            "vmSize": pool.vm_size,
            "arch": pool_arch(view, pool),
            "count": pool.count,
            "nodeTaints": [str(t) for t in pool.pool.get("nodeTaints") or []],
            "workloads": sorted(f"{f.kind} {f.key}" for f in findings if f.wasi_pool == pool.name),
        }
        for pool in view.pools
    ]


def _summary(findings: list[WorkloadFinding], migrated: list[WorkloadFinding]) -> dict[str, int]:
    return {
        "wasmWorkloads": len(findings),
        "migrated": len(migrated),
        "notMigrated": len(findings) - len(migrated),
        **{
            c: sum(f.classification == c for f in migrated)
            for c in ("ready", "rebuild recommended", "rewrite required")
        },
    }
