"""Agent pools as typed azure-native args: the legacy WASI pool, adopted read-only by its identity
alone, and the OCIContainer pools that carry the shim selection label on every node they will ever have.

The args are the SDK's own `AgentPoolArgs`, so a misspelled or unknown argument raises TypeError when
the spec is built; `wire_inputs` turns them into the camelCase inputs the engine receives, by the SDK's
own property names."""

import enum
from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import pulumi
from pulumi import _types as pulumi_types
from pulumi_azure_native import containerservice

from components.core.config import NodeLabel, TargetPool
from components.desired.spec import ResourceSpec

AGENT_POOL_TYPE = "azure-native:containerservice:AgentPool"
OCI_CONTAINER = containerservice.WorkloadRuntime.OCI_CONTAINER.value
DEFAULT_SHIM_LABEL = {"key": NodeLabel().key, "value": NodeLabel().value}


def _target_default(field: str) -> Any:
    """A target pool setting a library user left out: the config model's default (defined there only)."""
    return TargetPool.model_fields[field].default


class NodeLabelArgs(TypedDict):
    key: str
    value: str


class WasmNodePoolArgs(TypedDict):
    """An OCIContainer user pool on an existing AKS cluster whose every node carries the shim label."""

    resource_group_name: pulumi.Input[str]
    """Resource group of the existing cluster."""
    cluster_name: pulumi.Input[str]
    """Name of the existing AKS cluster."""
    pool_name: str
    """Agent pool name: 1-12 lowercase letters and digits, starting with a letter."""
    vm_size: pulumi.Input[str]
    """VM size of the pool's nodes, e.g. Standard_D4s_v5."""
    os_sku: NotRequired[pulumi.Input[str]]
    """OS SKU (default AzureLinux: containerd 2.x)."""
    count: NotRequired[pulumi.Input[int]]
    """Node count (the starting count when autoscaling)."""
    min_count: NotRequired[int]
    """Autoscaling lower bound; with max_count turns the autoscaler on (count is then AKS's)."""
    max_count: NotRequired[int]
    """Autoscaling upper bound."""
    availability_zones: NotRequired[pulumi.Input[Sequence[pulumi.Input[str]]]]
    orchestrator_version: NotRequired[pulumi.Input[str]]
    """Kubernetes major.minor (e.g. 1.33); AKS picks and upgrades the patch."""
    max_pods: NotRequired[pulumi.Input[int]]
    max_surge: NotRequired[pulumi.Input[str]]
    """Upgrade surge (default 33%)."""
    node_labels: NotRequired[Mapping[str, str]]
    """Extra node labels; the shim label is added."""
    node_taints: NotRequired[Sequence[str]]
    """AKS taints, `key=value:Effect`; dedicate the pool with one and tolerate it in the shim."""
    shim_label: NotRequired[NodeLabelArgs]
    """The label the shim installer and the RuntimeClass select (default wasm-migration.io/shim)."""
    workload_runtime: NotRequired[str]
    """Only OCIContainer: WasmWasi pools are retired."""


class LegacyWasiPoolArgs(TypedDict):
    """The retired WASI pool, named by what identifies it; nothing else is ever sent to Azure."""

    subscription_id: str
    resource_group_name: str
    cluster_name: str
    pool_name: str


def wire_inputs(value: Any) -> Any:
    """SDK args objects to the engine's camelCase wire form, by the SDK's own property names."""
    if pulumi_types.is_input_type(type(value)):
        return {key: wire_inputs(item) for key, item in pulumi_types.input_type_to_dict(value).items()}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: wire_inputs(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [wire_inputs(item) for item in value]
    return value


def _agent_pool_spec(name: str, args: containerservice.AgentPoolArgs, **options: Any) -> ResourceSpec:
    return ResourceSpec(AGENT_POOL_TYPE, name, name, wire_inputs(args), sdk_args=args, **options)


def managed_cluster_id(subscription_id: str, resource_group: str, cluster: str) -> str:
    """The AKS cluster's ARM id: identifies the Kubernetes provider and scopes the alert rules."""
    return (
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.ContainerService/managedClusters/{cluster}"
    )


def agent_pool_id(subscription_id: str, resource_group: str, cluster: str, pool: str) -> str:
    return f"{managed_cluster_id(subscription_id, resource_group, cluster)}/agentPools/{pool}"


def legacy_pool_specs(name: str, args: LegacyWasiPoolArgs) -> list[ResourceSpec]:
    """Adopt the WASI pool read-only and protect it. The engine imports, then updates a resource whose
    program inputs differ from what azure-native reads back (pulumi/pulumi#19339); azure-native reads
    back every writable property of the pool (`ResponseToSdkInputs`), so any input the program omitted
    would become a PUT on a WasmWasi pool. `ignore_changes=["*"]` makes the engine keep every imported
    input (processIgnoreChanges with the top-level wildcard, sdk/go/common/resource/properties_path.go),
    so the import never turns into an update; only decommission, by deleting it, ever acts on it."""
    pool = containerservice.AgentPoolArgs(
        resource_group_name=args["resource_group_name"],
        resource_name=args["cluster_name"],
        agent_pool_name=args["pool_name"],
    )
    import_id = agent_pool_id(
        args["subscription_id"], args["resource_group_name"], args["cluster_name"], args["pool_name"]
    )
    return [_agent_pool_spec(name, pool, protect=True, import_id=import_id, ignore_changes=("*",))]


def pool_node_labels(args: WasmNodePoolArgs) -> dict[str, str]:
    label = args.get("shim_label") or DEFAULT_SHIM_LABEL
    return {**(args.get("node_labels") or {}), label["key"]: label["value"]}


def wasm_node_pool_specs(name: str, args: WasmNodePoolArgs) -> list[ResourceSpec]:
    """No replace_on_changes, no delete_before_replace: once Wasm pods run on the pool, replacing it in
    place is an outage. A change azure-native can only make by replacement (vmSize, the pool name; see
    POOL_FORCE_NEW) is refused by `migrate check` and done blue/green under a new pool name."""
    autoscaling = "min_count" in args or "max_count" in args
    taints = list(args.get("node_taints") or [])
    pool = containerservice.AgentPoolArgs(
        resource_group_name=args["resource_group_name"],
        resource_name=args["cluster_name"],
        agent_pool_name=args["pool_name"],
        mode=containerservice.AgentPoolMode.USER,
        os_type=containerservice.OSType.LINUX,
        os_sku=args.get("os_sku", _target_default("os_sku")),
        vm_size=args["vm_size"],
        count=args.get("count", _target_default("count")),
        workload_runtime=args.get("workload_runtime", OCI_CONTAINER),
        enable_auto_scaling=autoscaling,
        min_count=args.get("min_count"),
        max_count=args.get("max_count"),
        availability_zones=args.get("availability_zones"),
        orchestrator_version=args.get("orchestrator_version"),
        max_pods=args.get("max_pods"),
        node_labels=pool_node_labels(args),
        node_taints=taints or None,
        upgrade_settings=containerservice.AgentPoolUpgradeSettingsArgs(
            max_surge=args.get("max_surge", _target_default("max_surge"))
        ),
    )
    # With the autoscaler on, AKS owns the node count: its changes must not show as drift.
    return [_agent_pool_spec(name, pool, ignore_changes=("count",) if autoscaling else ())]


# What azure-native can change on an AgentPool only by replacing it: the ARM path parameters and the
# properties its generator marks force-new (pulumi/pulumi-azure-native provider/pkg/gen/replacement.go,
# as of 3.29). tests/components/desired/test_pools.py checks this list against that source's fixture.
POOL_FORCE_NEW: tuple[str, ...] = (
    "resourceGroupName",
    "resourceName",
    "agentPoolName",
    "vmSize",
    "gpuInstanceProfile",
    "nodePublicIPTags",
)
# What AKS refuses to change on an existing pool (the PUT fails): a new pool under a new name, too.
POOL_IMMUTABLE: tuple[str, ...] = ("availabilityZones", "maxPods", "osType")
