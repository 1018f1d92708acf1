"""Agent pools as ARM inputs: the legacy WASI pool exactly as AKS holds it (for import), and the
OCIContainer pools that carry the shim selection label on every node they will ever have."""

from __future__ import annotations

from typing import Any

from components.config import LegacyPool, MigrationConfig, Pool, TargetPool
from components.desired.spec import ResourceSpec

AGENT_POOL_TYPE = "azure-native:containerservice:AgentPool"
LEGACY_POOL_COMPONENT = "legacy-pool"

# AKS cannot change these on an existing pool; a change means a new pool (delete, then create).
POOL_REPLACE_FIELDS = ("agentPoolName", "vmSize", "osSKU", "availabilityZones", "maxPods", "workloadRuntime")
# Drift that AKS itself causes (autoscaler, auto-upgrade) must not show up as a change.
LEGACY_IGNORED_FIELDS = ("count", "orchestratorVersion")


def target_pool_name(pool: TargetPool) -> str:
    """Logical name of a target pool's AgentPool, and of the component that owns it."""
    return f"target-pool-{pool.name}"


def agent_pool_id(config: MigrationConfig, pool_name: str) -> str:
    cluster = config.cluster
    return (
        f"/subscriptions/{cluster.subscription_id}/resourceGroups/{cluster.resource_group}"
        f"/providers/Microsoft.ContainerService/managedClusters/{cluster.name}/agentPools/{pool_name}"
    )


def _pool_inputs(
    config: MigrationConfig, pool: Pool, workload_runtime: str, node_labels: dict[str, str], taints: list[str]
) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "resourceGroupName": config.cluster.resource_group,
        "resourceName": config.cluster.name,
        "agentPoolName": pool.name,
        "mode": "User",
        "osType": "Linux",
        "osSKU": pool.os_sku,
        "vmSize": pool.vm_size,
        "count": pool.count,
        "workloadRuntime": workload_runtime,
        "enableAutoScaling": pool.autoscaling is not None,
    }
    if pool.autoscaling:
        inputs["minCount"] = pool.autoscaling.min_count
        inputs["maxCount"] = pool.autoscaling.max_count
    if pool.zones:
        inputs["availabilityZones"] = list(pool.zones)
    if pool.orchestrator_version:
        inputs["orchestratorVersion"] = pool.orchestrator_version
    if pool.max_pods:
        inputs["maxPods"] = pool.max_pods
    if node_labels:
        inputs["nodeLabels"] = node_labels
    if taints:
        inputs["nodeTaints"] = taints
    return inputs


def legacy_pool_spec(config: MigrationConfig) -> ResourceSpec:
    """Adopt the WASI pool as it is and protect it: nothing here may ever reimage or delete it."""
    pool: LegacyPool = config.legacy_pool
    inputs = _pool_inputs(
        config, pool, pool.workload_runtime, dict(pool.node_labels), [t.as_aks() for t in pool.node_taints]
    )
    return ResourceSpec(
        AGENT_POOL_TYPE,
        f"legacy-pool-{pool.name}",
        LEGACY_POOL_COMPONENT,
        inputs,
        protect=True,
        import_id=agent_pool_id(config, pool.name),
        ignore_changes=LEGACY_IGNORED_FIELDS,
    )


def target_pool_spec(config: MigrationConfig, pool: TargetPool) -> ResourceSpec:
    label = config.shim.node_label
    labels = {**pool.node_labels, label.key: label.value}
    inputs = _pool_inputs(config, pool, pool.workload_runtime, labels, [t.as_aks() for t in pool.taints])
    inputs["upgradeSettings"] = {"maxSurge": pool.max_surge}
    return ResourceSpec(
        AGENT_POOL_TYPE,
        target_pool_name(pool),
        target_pool_name(pool),
        inputs,
        ignore_changes=("count",) if pool.autoscaling else (),
        replace_on_changes=POOL_REPLACE_FIELDS,
        delete_before_replace=True,
    )
