"""Agent pools as azure-native AgentPool inputs: the legacy WASI pool, adopted read-only by its identity
alone, and the OCIContainer pools that carry the shim selection label on every node they will ever have.

The inputs are plain data in the engine's wire form (camelCase, the keys in the SDK's order, a left-out
input absent), as `render` prints them and components/registration.py hands them to the SDK's own
`AgentPoolArgs`. They are not built from the SDK here: importing pulumi_azure_native and the pulumi
runtime (grpc, protobuf, opentelemetry) cost the offline CLI about 0.35 s of CPU on every command
(`python -X importtime -m migrate --help`, issue 25), more than rendering a phase takes.
`AgentPoolInputs` holds the names for mypy, and tests/components/test_azure_inputs.py builds the SDK's
`AgentPoolArgs` from every phase's inputs, so a misspelled or unknown input still fails a test."""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

from components.core.config import NodeLabel, TargetPool
from components.desired.spec import Input, ResourceSpec, as_list, wire_object

AGENT_POOL_TYPE = "azure-native:containerservice:AgentPool"
# azure-native's WorkloadRuntime.OCI_CONTAINER (test_azure_inputs holds them equal).
OCI_CONTAINER = "OCIContainer"
DEFAULT_SHIM_LABEL = {"key": NodeLabel().key, "value": NodeLabel().value}


def _target_default(field: str) -> Any:
    """A target pool setting a library user left out: the config model's default (defined there only)."""
    return TargetPool.model_fields[field].default


class NodeLabelArgs(TypedDict):
    key: str
    value: str


class WasmNodePoolArgs(TypedDict):
    """An OCIContainer user pool on an existing AKS cluster whose every node carries the shim label."""

    resource_group_name: Input[str]
    """Resource group of the existing cluster."""
    cluster_name: Input[str]
    """Name of the existing AKS cluster."""
    pool_name: str
    """Agent pool name: 1-12 lowercase letters and digits, starting with a letter."""
    vm_size: Input[str]
    """VM size of the pool's nodes, e.g. Standard_D4s_v5."""
    os_sku: NotRequired[Input[str]]
    """OS SKU (default AzureLinux: containerd 2.x)."""
    count: NotRequired[Input[int]]
    """Node count (the starting count when autoscaling)."""
    min_count: NotRequired[int]
    """Autoscaling lower bound; with max_count turns the autoscaler on (count is then AKS's)."""
    max_count: NotRequired[int]
    """Autoscaling upper bound."""
    availability_zones: NotRequired[Input[Sequence[Input[str]]]]
    orchestrator_version: NotRequired[Input[str]]
    """Kubernetes major.minor (e.g. 1.33); AKS picks and upgrades the patch."""
    max_pods: NotRequired[Input[int]]
    max_surge: NotRequired[Input[str]]
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


class UpgradeSettingsInputs(TypedDict):
    maxSurge: Input[str]


class AgentPoolInputs(TypedDict, total=False):
    """The AgentPool inputs this project sends, in the SDK's order; None leaves an input out, as the SDK
    treats it (pulumi/_types.py input_type_to_dict)."""

    resourceGroupName: Input[str]
    resourceName: Input[str]
    agentPoolName: str
    availabilityZones: Input[Sequence[Input[str]]] | None
    count: Input[int] | None
    enableAutoScaling: bool
    maxCount: int | None
    maxPods: Input[int] | None
    minCount: int | None
    mode: str
    nodeLabels: Mapping[str, str]
    nodeTaints: list[str] | None
    orchestratorVersion: Input[str] | None
    osSKU: Input[str]
    osType: str
    upgradeSettings: UpgradeSettingsInputs
    vmSize: Input[str]
    workloadRuntime: str


def _agent_pool_spec(name: str, inputs: AgentPoolInputs, **options: Any) -> ResourceSpec:
    return ResourceSpec(AGENT_POOL_TYPE, name, name, wire_object(inputs), **options)


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
    pool: AgentPoolInputs = {
        "resourceGroupName": args["resource_group_name"],
        "resourceName": args["cluster_name"],
        "agentPoolName": args["pool_name"],
    }
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
    pool: AgentPoolInputs = {
        "resourceGroupName": args["resource_group_name"],
        "resourceName": args["cluster_name"],
        "agentPoolName": args["pool_name"],
        "availabilityZones": as_list(args.get("availability_zones")),
        "count": args.get("count", _target_default("count")),
        "enableAutoScaling": autoscaling,
        "maxCount": args.get("max_count"),
        "maxPods": args.get("max_pods"),
        "minCount": args.get("min_count"),
        "mode": "User",
        "nodeLabels": pool_node_labels(args),
        "nodeTaints": taints or None,
        "orchestratorVersion": args.get("orchestrator_version"),
        "osSKU": args.get("os_sku", _target_default("os_sku")),
        "osType": "Linux",
        "upgradeSettings": {"maxSurge": args.get("max_surge", _target_default("max_surge"))},
        "vmSize": args["vm_size"],
        "workloadRuntime": args.get("workload_runtime", OCI_CONTAINER),
    }
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
