"""The `aci` target's new side: container groups in the cluster's VNet running the Spin image, and the
Kubernetes objects that make them a backend like any pods: a Service without a selector, and
EndpointSlices that list the groups' private IPs (kubernetes.io docs "Services without selectors"). An
EndpointSlice labelled with an exported Service's name adds the groups to that Service too: kube-proxy
serves every slice of a Service, and the EndpointSlice controller leaves slices another manager owns
alone (k8s.io/kubernetes pkg/controller/endpointslice: it lists slices by its own managed-by label)."""

import math
from collections.abc import Sequence
from typing import Any, NotRequired, TypedDict

from components.core import identifiers, naming
from components.core.config import PROJECT
from components.core.kubernetes import MANAGED_BY_LABEL, SERVICE_NAME_LABEL
from components.desired.spec import (
    ResourceSpec,
    kubernetes_spec,
    managed_labels,
    output_reference,
    wire_object,
)
from components.desired.workloads import ResourcesArgs

CONTAINER_GROUP_TYPE = "azure-native:containerinstance:ContainerGroup"
# The slices' manager: never endpointslice-controller.k8s.io, whose slices the controller rewrites.
ENDPOINTS_MANAGER = f"{PROJECT}.io"
WORKLOAD_TAG = f"{PROJECT}-workload"
# ACI takes CPU in cores and memory in GB as decimals (ContainerGroup API: ResourceRequests cpu,
# memoryInGB); a pod's quantities are rounded up to 0.01 core and 0.1 GB, so a group never gets less.
_CPU_STEP, _MEMORY_STEP = 100, 10


class ServedPortArgs(TypedDict):
    """A Service port the groups serve: its number and (where the Service names its ports) name."""

    port: int
    name: NotRequired[str]


class ExportedServiceArgs(TypedDict):
    """An exported Service the groups join in this phase (an EndpointSlice labelled with its name)."""

    name: str
    port: ServedPortArgs


class AciWorkloadArgs(TypedDict):
    """N container groups of the Spin image serving one app, a selectorless Service and the slices."""

    namespace: str
    app_name: str
    copies: int
    """How many container groups (each one copy: ACI has no replicas inside a group)."""
    image: str
    """The Spin image, pinned by digest."""
    app: str
    """The app's OCI reference Spin pulls (`spin up --from`)."""
    listen_port: int
    """The port Spin listens on and the groups expose (a pod's container port, as a number)."""
    resources: ResourcesArgs
    """Requests and limits (cpu, memory) of the container, as a pod's; rounded up to ACI's steps."""
    probe_path: str
    """The readiness and liveness probes' HTTP path."""
    resource_group_name: str
    location: str
    subnet_id: str
    """A subnet of the cluster's VNet delegated to Microsoft.ContainerInstance/containerGroups."""
    service_name: str
    """The Service without a selector the groups stand behind."""
    service_port: ServedPortArgs
    join: NotRequired[Sequence[ExportedServiceArgs]]
    """Exported Services the groups join (one EndpointSlice each)."""
    identity_id: NotRequired[str]
    """A user-assigned identity with AcrPull on the Spin image's registry."""
    zones: NotRequired[Sequence[str]]
    """Zones the groups are spread over, one each."""
    sku: NotRequired[str]


def aci_resource_names(name: str, copies: int) -> dict[str, Any]:
    return {
        "groups": [f"{name}-group-{index}" for index in range(copies)],
        "service": f"{name}-service",
        "slice": f"{name}-endpoints",
        "joined": f"{name}-joined",
    }


def _cores(quantity: str) -> float:
    """CPU cores, rounded up to ACI's step so a group never gets less than the pods asked for."""
    return max(math.ceil(identifiers.quantity_value(quantity) * _CPU_STEP), 1) / _CPU_STEP


def _gigabytes(quantity: str) -> float:
    """Memory in GB (10^9 bytes, as ACI counts it), rounded up to its step."""
    return max(math.ceil(identifiers.quantity_value(quantity) * _MEMORY_STEP / 10**9), 1) / _MEMORY_STEP


# azure-native containerinstance inputs, in the SDK's order: plain data in the engine's wire form, not
# the SDK's args (see components/desired/pools.py for why); tests/components/test_azure_inputs.py builds
# the SDK's ContainerGroupArgs from them.


class PortInputs(TypedDict):
    port: int
    protocol: str


class HttpGetInputs(TypedDict):
    port: int
    path: str
    scheme: str


class ProbeInputs(TypedDict):
    failureThreshold: int
    httpGet: HttpGetInputs
    periodSeconds: int


class QuantitiesInputs(TypedDict):
    cpu: float
    memoryInGB: float


class ResourceRequirementsInputs(TypedDict):
    requests: QuantitiesInputs
    limits: QuantitiesInputs


class EnvironmentVariableInputs(TypedDict):
    name: str
    value: str


class ContainerInputs(TypedDict):
    name: str
    command: list[str]
    environmentVariables: list[EnvironmentVariableInputs]
    image: str
    livenessProbe: ProbeInputs
    ports: list[PortInputs]
    readinessProbe: ProbeInputs
    resources: ResourceRequirementsInputs


class IdentityInputs(TypedDict):
    type: str
    userAssignedIdentities: list[str]


class RegistryCredentialInputs(TypedDict):
    server: str
    identity: str


class IpAddressInputs(TypedDict):
    ports: list[PortInputs]
    type: str
    autoGeneratedDomainNameLabelScope: str


class SubnetIdInputs(TypedDict):
    id: str


class ContainerGroupInputs(TypedDict):
    containers: list[ContainerInputs]
    resourceGroupName: str
    containerGroupName: str
    identity: IdentityInputs | None
    imageRegistryCredentials: list[RegistryCredentialInputs] | None
    ipAddress: IpAddressInputs
    location: str
    osType: str
    restartPolicy: str
    sku: str
    subnetIds: list[SubnetIdInputs]
    tags: dict[str, str]
    zones: list[str] | None


def _probe(args: AciWorkloadArgs, period: int) -> ProbeInputs:
    return {
        "failureThreshold": 3,
        "httpGet": {"port": args["listen_port"], "path": args["probe_path"], "scheme": "http"},
        "periodSeconds": period,
    }


def _container(args: AciWorkloadArgs) -> ContainerInputs:
    """The Spin image running `spin up` for the app."""
    resources = args["resources"]
    port = args["listen_port"]
    return {
        "name": args["app_name"],
        "command": ["spin", "up", "--listen", f"0.0.0.0:{port}", "--from", args["app"]],
        "environmentVariables": [
            {"name": "HOME", "value": "/tmp"},
            {"name": "XDG_CACHE_HOME", "value": "/tmp/cache"},
        ],
        "image": args["image"],
        "livenessProbe": _probe(args, 10),
        "ports": [{"port": port, "protocol": "TCP"}],
        "readinessProbe": _probe(args, 5),
        "resources": {
            "requests": {
                "cpu": _cores(resources["requests"]["cpu"]),
                "memoryInGB": _gigabytes(resources["requests"]["memory"]),
            },
            "limits": {
                "cpu": _cores(resources["limits"]["cpu"]),
                "memoryInGB": _gigabytes(resources["limits"]["memory"]),
            },
        },
    }


def container_group_inputs(args: AciWorkloadArgs, index: int) -> dict[str, Any]:
    """One copy: the Spin image running the app, reachable on its private IP only."""
    zones = list(args.get("zones") or [])
    identity = args.get("identity_id")
    group: ContainerGroupInputs = {
        "containers": [_container(args)],
        "resourceGroupName": args["resource_group_name"],
        "containerGroupName": naming.container_group_name(args["namespace"], args["app_name"], index),
        "identity": {"type": "UserAssigned", "userAssignedIdentities": [identity]} if identity else None,
        "imageRegistryCredentials": (
            [{"server": args["image"].split("/", 1)[0], "identity": identity}] if identity else None
        ),
        # autoGeneratedDomainNameLabelScope: the SDK's IpAddressArgs sets Unsecure when it is not given.
        "ipAddress": {
            "ports": [{"port": args["listen_port"], "protocol": "TCP"}],
            "type": "Private",
            "autoGeneratedDomainNameLabelScope": "Unsecure",
        },
        "location": args["location"],
        "osType": "Linux",
        "restartPolicy": "Always",
        "sku": args.get("sku", "Standard"),
        "subnetIds": [{"id": args["subnet_id"]}],
        # Azure tag names cannot hold '/' (ARM "Use tags to organize your Azure resources"): the
        # workload goes in the value.
        "tags": {WORKLOAD_TAG: f"{args['namespace']}/{args['app_name']}"},
        "zones": [zones[index % len(zones)]] if zones else None,
    }
    return wire_object(group)


def _slice(
    args: AciWorkloadArgs, name: str, service: str, port: ServedPortArgs, groups: Sequence[str]
) -> dict[str, Any]:
    slice_port: dict[str, Any] = {"port": args["listen_port"], "protocol": "TCP"}
    if "name" in port:
        slice_port["name"] = port["name"]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": name,
            "namespace": args["namespace"],
            "labels": {
                **managed_labels(args["app_name"], "aci-workload"),
                SERVICE_NAME_LABEL: service,
                MANAGED_BY_LABEL: ENDPOINTS_MANAGER,
            },
        },
        "addressType": "IPv4",
        "ports": [slice_port],
        "endpoints": [
            {"addresses": [output_reference(group, "ipAddress.ip")], "conditions": {"ready": True}}
            for group in groups
        ],
    }


def aci_workload_specs(name: str, args: AciWorkloadArgs) -> list[ResourceSpec]:
    """The groups first (their IPs are outputs), then the Service and the slices that list them."""
    names = aci_resource_names(name, args["copies"])
    specs = []
    for index, resource in enumerate(names["groups"]):
        specs.append(ResourceSpec(CONTAINER_GROUP_TYPE, resource, name, container_group_inputs(args, index)))
    port = args["service_port"]
    service_port: dict[str, Any] = {"port": port["port"], "protocol": "TCP"}
    if "name" in port:
        service_port["name"] = port["name"]
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": args["service_name"],
            "namespace": args["namespace"],
            "labels": managed_labels(args["app_name"], "aci-workload"),
        },
        "spec": {"type": "ClusterIP", "ports": [service_port]},
    }
    groups = tuple(names["groups"])
    specs.append(kubernetes_spec(names["service"], name, service))
    own = _slice(args, naming.endpoint_slice_name(args["service_name"]), args["service_name"], port, groups)
    specs.append(kubernetes_spec(names["slice"], name, own, depends_on=(names["service"], *groups)))
    for index, joined in enumerate(args.get("join") or []):
        slice_name = naming.endpoint_slice_name(joined["name"])
        manifest = _slice(args, slice_name, joined["name"], joined["port"], groups)
        specs.append(kubernetes_spec(f"{names['joined']}-{index}", name, manifest, depends_on=groups))
    return specs
