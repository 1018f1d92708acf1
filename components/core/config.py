"""The typed, validated model of one migration: every stack config is parsed into this before anything
is registered, so a bad value stops the run with a message instead of half-applying a phase."""

from __future__ import annotations

import re
from difflib import get_close_matches
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal, Self, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.core import identifiers
from components.core.inputs import ECHO_CHARS, echo, escape
from components.core.kubernetes import is_aks_wasi_runtime_class

PROJECT = "aks-wasm-migration"


class Phase(StrEnum):
    """Migration phases in walking order; applying an earlier one rolls back."""

    BASELINE = "baseline"
    PREPARE = "prepare"
    PARALLEL = "parallel"
    CUTOVER = "cutover"
    DECOMMISSION = "decommission"

    @property
    def position(self) -> int:
        """0 for baseline, 4 for decommission."""
        return list(Phase).index(self)

    def at_least(self, other: Phase) -> bool:
        return self.position >= other.position


RESERVED_LABEL_PREFIXES = ("kubernetes.azure.com/", "kubernetes.io/")

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _label_key(value: str) -> str:
    identifiers.label_key(value)
    if any(value.startswith(reserved) for reserved in RESERVED_LABEL_PREFIXES):
        raise _fail(
            "reserved_label",
            "uses a prefix AKS reserves (kubernetes.azure.com/, kubernetes.io/); choose your own prefix",
        )
    return value


# Namespaces the shim's must never be: Kubernetes' own, its reserved `kube-` prefix, and those AKS and its
# add-ons own (prepare labels the shim's namespace privileged). See docs/design/grammars.md.
KUBERNETES_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
RESERVED_NAMESPACE_PREFIX = "kube-"
AKS_NAMESPACES = (
    "gatekeeper-system",  # Azure Policy add-on
    "calico-system",  # Calico network policy
    "tigera-operator",  # Calico network policy's operator
    "app-routing-system",  # application routing add-on
    "aks-istio-system",  # Istio service mesh add-on
    "aks-istio-ingress",
    "aks-istio-egress",
    "aks-command",  # `az aks command invoke` runs its pods here
)
RESERVED_NAMESPACES = frozenset(KUBERNETES_NAMESPACES + AKS_NAMESPACES)
_OWN_NAMESPACE = (
    "the shim needs a namespace of its own: prepare creates it and labels it pod-security privileged for "
    "the installer (adoptExisting.namespace would import it, and label it all the same), e.g. "
    "wasm-shim-system"
)


def shim_namespace(value: str) -> str:
    """The installer's namespace: a DNS label, and none that Kubernetes or AKS owns. The config also
    refuses the namespaces its workloads, gateways and alerts use (`_shim_namespace_problems`)."""
    identifiers.dns1123_label(value)
    if value in RESERVED_NAMESPACES or value.startswith(RESERVED_NAMESPACE_PREFIX):
        raise _fail(
            "reserved_namespace",
            f"is a namespace Kubernetes (default, kube-*) or AKS ({', '.join(AKS_NAMESPACES)}) owns; "
            + _OWN_NAMESPACE,
        )
    return value


def _no_duplicates(values: tuple[Any, ...]) -> tuple[Any, ...]:
    repeated = sorted({str(value) for value in values if values.count(value) > 1})
    if repeated:
        raise _fail("duplicate", f"lists {', '.join(repeated)} more than once; list each at most once")
    return values


# Identifiers as the target systems define them (components/core/identifiers.py cites each rule).
PoolName = Annotated[str, AfterValidator(identifiers.aks_pool_name)]
DnsLabel = Annotated[str, AfterValidator(identifiers.dns1123_label)]
DnsSubdomain = Annotated[str, AfterValidator(identifiers.dns1123_subdomain)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(identifiers.label_value)]
ResourceQuantity = Annotated[str, AfterValidator(identifiers.resource_quantity)]
ResourceGroup = Annotated[str, AfterValidator(identifiers.azure_resource_group)]
ClusterName = Annotated[str, AfterValidator(identifiers.aks_cluster_name)]
VmSize = Annotated[str, AfterValidator(identifiers.azure_vm_size)]
Registry = Annotated[str, AfterValidator(identifiers.oci_registry)]
Repository = Annotated[str, AfterValidator(identifiers.oci_repository)]
Tag = Annotated[str, AfterValidator(identifiers.oci_tag)]
Digest = Annotated[str, AfterValidator(identifiers.oci_digest_value)]
ImageReference = Annotated[str, AfterValidator(identifiers.oci_image_reference)]
Hostname = Annotated[str, AfterValidator(identifiers.gateway_hostname)]
PathPrefix = Annotated[str, AfterValidator(identifiers.gateway_path_prefix)]
# A workload's name is its legacy Deployment's name, its new pods' `app.kubernetes.io/name` label value
# and the base of every name generated for it; components.core.naming fits those into 63 characters.
WorkloadName = DnsLabel
Zones = Annotated[tuple[Literal["1", "2", "3"], ...], AfterValidator(_no_duplicates)]
# Booleans are not numbers and numbers are not strings: YAML `true` never becomes 1, "3" never 3.
Int = Annotated[int, Strict()]
Bool = Annotated[bool, Strict()]
# A strict float still takes a whole number (YAML `0` for a rate), never a bool or a string.
Number = Annotated[
    float, Strict(), BeforeValidator(lambda value: float(value) if type(value) is int else value)
]


# CPU architectures as nodes carry them in kubernetes.io/arch; AKS pools are amd64 or arm64.
Architecture = Literal["amd64", "arm64"]  # AKS_ARCHITECTURES, as a type pydantic checks
Architectures = Annotated[tuple[Architecture, ...], Field(min_length=1), AfterValidator(_no_duplicates)]
ALL_ARCHITECTURES: tuple[Architecture, ...] = get_args(Architecture)  # == AKS_ARCHITECTURES
# Where a workload's new copy runs (docs/targets.md): the shim on OCIContainer pools, Spin in an
# ordinary Linux container (nothing privileged), or Azure Container Instances in the cluster's VNet.
Target = Literal["shim", "container", "aci"]


class Model(BaseModel):
    """camelCase keys as in the stack files; unknown keys are errors so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Cluster(Model):
    subscription_id: str = Field(
        description=("the Azure subscription of the cluster, a UUID; every Azure resource and call uses it")
    )
    resource_group: ResourceGroup = Field(description="the cluster's resource group")
    name: ClusterName = Field(description="the AKS cluster's name")
    kubernetes_version: str = Field(
        default="1.33",
        pattern=r"^1\.[0-9]+$",
        description="the cluster's Kubernetes version as major.minor, for the offline schema checks",
    )
    kubeconfig: SecretStr | None = Field(
        default=None,
        description=(
            "a kubeconfig for the cluster; set it with pulumi config set --secret --path "
            "cluster.kubeconfig. Without it the program uses the cluster's user credentials"
        ),
    )
    # Entra ID (AAD) clusters: "exec" returns a kubelogin kubeconfig (kubelogin must be on PATH).
    credential_format: Literal["azure", "exec"] | None = Field(
        default=None,
        description=(
            "exec for Entra ID clusters: the user credentials are then a kubelogin kubeconfig"
            " (kubelogin must be on PATH)"
        ),
    )
    export: str | None = Field(
        default=None,
        min_length=1,
        description="the cluster file migrate init writes: RuntimeClasses, the WASI pools' Nodes and the "
        "Pods on them that are not Wasm workloads; read for the RuntimeClass check and decommission",
    )

    aks: str | None = Field(
        default=None,
        min_length=1,
        description="`az aks show -o json` of the cluster (migrate init copies it): its Deployment "
        "Safeguards and AKS Automatic, so check refuses a shim target they would refuse",
    )
    policy_assignments: str | None = Field(
        default=None,
        min_length=1,
        description="`az policy assignment list -o json` at the cluster's scope (migrate init copies it): "
        "Azure Policy assignments that refuse privileged or hostPath pods, so check refuses a shim "
        "target they would refuse",
    )

    crds: str | None = Field(
        default=None,
        min_length=1,
        description="the Gateway API CustomResourceDefinitions of `kubectl get customresourcedefinitions -o "
        "yaml`, without their schemas (migrate init writes it): which HTTPRoute versions the cluster "
        "serves, so check refuses a route it would refuse",
    )

    @field_validator("subscription_id")
    @classmethod
    def _subscription_is_uuid(cls, value: str) -> str:
        if not _UUID.fullmatch(value):
            raise _fail("uuid", "must be an Azure subscription id (a UUID)")
        return value


class Taint(Model):
    key: LabelKey = Field(description="the taint's key (not under kubernetes.azure.com/ or kubernetes.io/)")
    value: LabelValue = Field(default="", description="the taint's value; empty for a taint without one")
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = Field(
        default="NoSchedule", description="what the taint does to pods that do not tolerate it"
    )

    def as_aks(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"

    def as_toleration(self) -> dict[str, str]:
        if self.value:
            return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}
        return {"key": self.key, "operator": "Exists", "effect": self.effect}


class Autoscaling(Model):
    min_count: Int = Field(ge=0, le=1000, description="the fewest nodes the cluster autoscaler keeps")
    max_count: Int = Field(ge=1, le=1000, description="the most nodes the cluster autoscaler adds")

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Autoscaling:
        if self.min_count > self.max_count:
            raise _fail(
                "autoscaling",
                f"minCount {self.min_count} is above maxCount {self.max_count}; need minCount <= maxCount",
            )
        return self


# The OS SKUs of the AgentPool API version azure-native pins (2025-09-01 in 3.29), less Windows and the
# retired CBLMariner, in the SDK's order; a newer name such as Ubuntu2404 is refused until the provider
# has it. Restated, not read from pulumi_azure_native.containerservice.OSSKU: importing the SDK costs
# the offline CLI ~0.35 s of CPU; tests/components/test_azure_inputs.py holds the two equal.
LINUX_OS_SKUS = ("Ubuntu", "AzureLinux", "AzureLinux3", "Ubuntu2204")


def _os_sku(value: str) -> str:
    if value not in LINUX_OS_SKUS:
        raise _fail(
            "os_sku",
            f"must be one of {', '.join(LINUX_OS_SKUS)} (the Linux OS SKUs of the AKS API version "
            "pulumi-azure-native uses)",
        )
    return value


OsSku = Annotated[str, AfterValidator(_os_sku)]


class Pool(Model):
    """Fields of the OCIContainer pools this project creates, as AKS stores them on the agent pool."""

    name: PoolName = Field(
        description=("the agent pool's name: at most 12 lowercase letters and digits, starting with a letter")
    )
    vm_size: VmSize = Field(description="the Azure VM size of the nodes, e.g. Standard_D4s_v5")
    count: Int = Field(
        ge=0,
        le=1000,
        description=(
            "the node count (with autoscaling: the count it starts from, within minCount and maxCount)"
        ),
    )
    os_sku: OsSku = Field(
        default="Ubuntu",
        description=(
            "a Linux OS SKU of the AKS API version pulumi-azure-native pins (AzureLinux, "
            "AzureLinux3, Ubuntu, Ubuntu2204; not yet Ubuntu2404)"
        ),
    )
    autoscaling: Autoscaling | None = Field(
        default=None,
        description=(
            "minCount and maxCount for the cluster autoscaler; without it the pool keeps count nodes"
        ),
    )
    zones: Zones = Field(default=(), description="availability zones (1, 2, 3), each at most once")
    # major.minor only: AKS then picks the patch and auto-upgrade moves it without a drift fight
    # (AKS API 2025-09-01: "When <major.minor> is specified, the latest supported GA patch version is
    # chosen automatically"; the patch shows in currentOrchestratorVersion).
    orchestrator_version: str | None = Field(
        default=None,
        pattern=r"^1\.[0-9]+$",
        description=(
            "the pool's Kubernetes version as major.minor only: AKS picks the patch, and "
            "auto-upgrade moves it without a drift fight"
        ),
    )
    max_pods: Int | None = Field(default=None, ge=10, le=250, description="the most pods per node")
    node_labels: dict[LabelKey, LabelValue] = Field(
        default={},
        description=(
            "labels on every node of the pool (not the shim's selection label, which the program adds)"
        ),
    )
    node_taints: tuple[Taint, ...] = Field(
        default=(), description="taints on every node of the pool: key, value, effect"
    )

    @model_validator(mode="after")
    def _count_within_autoscaling(self) -> Pool:
        scaling = self.autoscaling
        if scaling and not scaling.min_count <= self.count <= scaling.max_count:
            raise _fail(
                "count_range",
                f"count {self.count} is outside autoscaling [{scaling.min_count}, {scaling.max_count}]",
            )
        return self


# What an earlier version of this config asked of the legacy pool; now refused with the reason.
_LEGACY_POOL_DROPPED = (
    "vmSize",
    "count",
    "osSku",
    "zones",
    "orchestratorVersion",
    "autoscaling",
    "maxPods",
    "workloadRuntime",
)


class LegacyPool(Model):
    """The existing WASI pool, adopted read-only: its name identifies it; its labels and taints tell
    the offline scheduling proof where legacy pods may run. Nothing else is ever sent to Azure."""

    name: PoolName = Field(
        description="the WASI pool's name, which identifies it; nothing else is sent to Azure"
    )
    node_labels: dict[LabelKey, LabelValue] = Field(
        default={}, description="the pool's node labels, for the offline scheduling proof"
    )
    node_taints: tuple[Taint, ...] = Field(
        default=(), description="the pool's node taints, for the offline scheduling proof"
    )

    @model_validator(mode="before")
    @classmethod
    def _identity_only(cls, value: Any) -> Any:
        if isinstance(value, dict):
            dropped = [key for key in _LEGACY_POOL_DROPPED if key in value]
            if dropped:
                raise _fail(
                    "legacy_pool_identity",
                    f"remove {', '.join(dropped)}: the WASI pool is adopted read-only (every property as "
                    "AKS holds it is kept), so only its name identifies it",
                )
        return value


class TargetPool(Pool):
    workload_runtime: str = Field(
        default="OCIContainer",
        description="must be OCIContainer: WasmWasi pools are retired and Wasm runs through the shim",
    )
    os_sku: OsSku = Field(
        default="AzureLinux",
        description=(
            "a Linux OS SKU of the AKS API version pulumi-azure-native pins (AzureLinux, "
            "AzureLinux3, Ubuntu, Ubuntu2204; not yet Ubuntu2404)"
        ),
    )
    count: Int = Field(
        default=2,
        ge=0,
        le=1000,
        description=(
            "the node count (with autoscaling: the count it starts from, within minCount and maxCount)"
        ),
    )
    max_surge: str = Field(
        default="33%",
        pattern=r"^([0-9]+%?)$",
        description="extra nodes during an upgrade, a number or a percentage",
    )
    dedicated_taint: Taint | None = Field(
        default=None,
        description=("a taint that keeps other pods off the pool; the shim and the new pods tolerate it"),
    )

    @field_validator("workload_runtime")
    @classmethod
    def _oci_only(cls, value: str) -> str:
        if value != "OCIContainer":
            raise _fail(
                "workload_runtime",
                "target pools must use OCIContainer: WasmWasi pools are retired and Wasm runs through "
                "the shim instead",
            )
        return value

    @property
    def taints(self) -> tuple[Taint, ...]:
        return self.node_taints + ((self.dedicated_taint,) if self.dedicated_taint else ())


class _Image(Model):
    """registry/repository:tag[@digest], each part checked on its own and the whole as a reference."""

    registry: str
    repository: str
    tag: str
    digest: str | None

    @model_validator(mode="after")
    def _whole_reference(self) -> Self:
        """The parts can each be valid and still not make a reference (e.g. too long together)."""
        identifiers.oci_image_reference(self.reference)
        return self

    @property
    def reference(self) -> str:
        image = f"{self.registry}/{self.repository}:{self.tag}"
        return f"{image}@{self.digest}" if self.digest else image


class InstallerImage(_Image):
    registry: Registry = Field(
        default="ghcr.io",
        description="the registry of the shim's node installer image; mirror it into ACR here",
    )
    repository: Repository = Field(
        default="spinframework/containerd-shim-spin/node-installer",
        description="the installer image's repository",
    )
    tag: Tag = Field(default="v0.24.0", description="the installer image's tag")
    digest: Digest | None = Field(
        default=None,
        description="the installer image's digest (sha256:...), to pin it: the multi-arch index digest, "
        "so each node pulls the shim for its own architecture",
    )
    architectures: Architectures = Field(
        default=ALL_ARCHITECTURES,
        description="the node architectures the image (its index) holds: the installer is only scheduled "
        "there, and check refuses a target pool of another",
    )

    @field_validator("registry")
    @classmethod
    def _live_registry(cls, value: str) -> str:
        if value == "k8s.gcr.io":
            raise _fail("registry", "k8s.gcr.io is frozen; use registry.k8s.io or your mirror")
        return value


class NodeLabel(Model):
    key: LabelKey = Field(
        default="wasm-migration.io/shim",
        description=(
            "the key of the label every target pool puts on its nodes; the installer and the "
            "RuntimeClass select nodes by it"
        ),
    )
    value: LabelValue = Field(default="containerd-shim-spin", description="the label's value")


class AdoptExisting(Model):
    """Objects of these names that already exist (made by hand or an earlier tool) are imported instead
    of failing the create with AlreadyExists (pulumi-kubernetes >= 4.29 does not upsert)."""

    namespace: bool = Field(
        default=False,
        description=(
            "import an existing shim namespace read-only instead of creating it; a patch then"
            " owns only its pod-security labels"
        ),
    )
    runtime_class: bool = Field(
        default=False,
        description=(
            "import an existing RuntimeClass of that name, only when it is exactly the "
            "migration's (read from cluster.export)"
        ),
    )


class Shim(Model):
    namespace: Annotated[str, AfterValidator(shim_namespace)] = Field(
        default="wasm-shim-system",
        description=(
            "the installer's namespace, the only one labelled pod-security privileged; not a "
            "namespace Kubernetes or AKS owns, nor one a workload, gateway or alert rule uses"
        ),
    )
    runtime_class_name: DnsLabel = Field(
        default="wasm-spin",
        description="the RuntimeClass the new pods use; the AKS wasmtime-* names are refused",
    )
    handler: DnsLabel = Field(
        default="spin", description="the containerd runtime handler the RuntimeClass names"
    )
    node_label: NodeLabel = Field(
        default=NodeLabel(), description="the label (key, value) that marks the shim's nodes"
    )
    installer_image: InstallerImage = Field(
        default=InstallerImage(), description="the node installer image: registry, repository, tag, digest"
    )
    # Written into containerd's TOML config on every node: an absolute path of POSIX portable filename
    # characters (POSIX.1-2017, 3.282: A-Z a-z 0-9 . _ -), so no quoting can break.
    shim_path: str = Field(
        default="/usr/local/bin/containerd-shim-spin-v2",
        pattern=r"^(/[A-Za-z0-9._-]+)+$",
        description="where the installer puts the shim binary on each node, an absolute path",
    )
    check_interval_seconds: Int = Field(
        default=60, ge=10, le=3600, description="how often the installer's main container re-checks the node"
    )
    adopt_existing: AdoptExisting = Field(
        default=AdoptExisting(),
        description=(
            "import objects that already exist instead of failing with AlreadyExists: namespace, runtimeClass"
        ),
    )

    @field_validator("runtime_class_name")
    @classmethod
    def _not_an_aks_class(cls, value: str) -> str:
        if is_aks_wasi_runtime_class(value):
            raise _fail(
                "runtime_class_name",
                "collides with the AKS-managed WASI RuntimeClasses (wasmtime-spin-*, "
                "wasmtime-slight-*); choose another name such as wasm-spin",
            )
        return value


# Spin's own readiness answer, whatever the app's routes (spin crates/trigger-http/src/server.rs): the
# default probe of the container target, where Spin itself serves.
SPIN_HEALTH_PATH = "/.well-known/spin/health"


class SpinImage(_Image):
    """The Spin runtime image the `container` target runs (ghcr.io/spinframework/spin, entrypoint
    `spin`). Its tag defaults to the Spin release containerd-shim-spin v0.24.0 embeds (3.6.3), so a
    container runs the app on the same Spin as the shim would; the digest must be the multi-arch
    index's (`crane digest ghcr.io/spinframework/spin:v3.6.3-distroless`)."""

    registry: Registry = Field(
        default="ghcr.io", description="the registry of the Spin image; mirror it here"
    )
    repository: Repository = Field(default="spinframework/spin", description="the Spin image's repository")
    tag: Tag = Field(default="v3.6.3-distroless", description="the Spin image's tag")
    digest: Digest | None = Field(
        default=None,
        description="the Spin image's index digest (sha256:...); required once a workload has target "
        "container, so what ran in parallel runs again in cutover",
    )
    architectures: Architectures = Field(
        default=ALL_ARCHITECTURES,
        description="the node architectures the pinned image (its index) holds; the pods run only there",
    )


class SpinContainer(Model):
    """How the `container` target runs an app: the Spin image runs `spin up --from <the app's OCI
    reference>`, pulling the same artifact the shim would run. Spin's registry client reads a Docker
    config, not Entra ID tokens (spin crates/oci/src/client.rs), so a private registry needs
    `pullSecret`; see docs/targets.md."""

    spin_image: SpinImage = Field(
        default=SpinImage(), description="the Spin runtime image: registry, repository, tag, digest"
    )
    pull_secret: DnsSubdomain | None = Field(
        default=None,
        description="a kubernetes.io/dockerconfigjson Secret in each container workload's namespace that "
        "Spin logs in to the app's registry with (e.g. an ACR token's); none for a public registry",
    )


_SUBNET_ID = (
    r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Network/virtualNetworks/[^/]+"
    r"/subnets/[^/]+$"
)
_IDENTITY_ID = (
    r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ManagedIdentity"
    r"/userAssignedIdentities/[^/]+$"
)


class ContainerInstances(Model):
    """Where the `aci` target's container groups run: a subnet of the cluster's VNet delegated to
    Microsoft.ContainerInstance/containerGroups, so the cluster reaches their private IPs (Azure CNI);
    each group runs the Spin image (containerinstance.ContainerGroup, API 2024-10-01-preview+)."""

    location: str | None = Field(
        default=None,
        min_length=1,
        description="the region of the container groups, the cluster's; required for target aci",
    )
    subnet_id: str | None = Field(
        default=None,
        pattern=_SUBNET_ID,
        description="the resource id of a subnet of the cluster's VNet delegated to "
        "Microsoft.ContainerInstance/containerGroups; required for target aci",
    )
    resource_group: ResourceGroup | None = Field(
        default=None, description="the resource group of the container groups; default: the cluster's"
    )
    identity_id: str | None = Field(
        default=None,
        pattern=_IDENTITY_ID,
        description="a user-assigned managed identity with AcrPull on the Spin image's registry, used to "
        "pull that image from ACR; none for a public registry",
    )
    zones: Zones = Field(default=(), description="availability zones the groups are spread over, one each")
    sku: Literal["Standard", "Confidential"] = Field(
        default="Standard", description="the container groups' SKU"
    )


class ResourceList(Model):
    cpu: ResourceQuantity = Field(description="CPU as a Kubernetes quantity, e.g. 100m")
    memory: ResourceQuantity = Field(description="memory as a Kubernetes quantity, e.g. 128Mi")


class Resources(Model):
    requests: ResourceList = Field(description="cpu and memory each new pod requests")
    limits: ResourceList = Field(
        description="cpu and memory limits of each new pod; a request must not exceed its limit"
    )

    @model_validator(mode="after")
    def _requests_within_limits(self) -> Resources:
        """The API server refuses a container whose request exceeds its limit
        (k8s.io/kubernetes/pkg/apis/core/validation: ValidateResourceRequirements)."""
        pairs = {
            name: (getattr(self.requests, name), getattr(self.limits, name)) for name in ("cpu", "memory")
        }
        over = [
            f"requests.{name} {request} is above limits.{name} {limit}"
            for name, (request, limit) in pairs.items()
            if identifiers.quantity_value(request) > identifiers.quantity_value(limit)
        ]
        if over:
            raise _fail("requests_above_limits", f"{'; '.join(over)}; a request must not exceed its limit")
        return self


class Probe(Model):
    """Readiness and liveness of the new pods. Without a path the export's own HTTP probe is kept;
    without either the workload is refused: a Spin app with no route for a guessed path never gets
    Ready (spin-rust-hello answers / with 404)."""

    # Sent by the kubelet as an HTTP request target in origin form (RFC 9112, 3.2.1): '/' and visible
    # ASCII, no spaces or control characters.
    path: str | None = Field(
        default=None,
        pattern=r"^/[!-~]*$",
        description=(
            "the HTTP path of the readiness and liveness probes; required unless the export has an HTTP probe"
        ),
    )
    port: Int | None = Field(
        default=None, ge=1, le=65535, description="the probe's port; default: the serving port"
    )


class Gateway(Model):
    """A Gateway API Gateway that already exists; an HTTPRoute splits traffic exactly through it."""

    name: DnsSubdomain = Field(description="the name of a Gateway API Gateway that already exists")
    namespace: DnsLabel = Field(description="the Gateway's namespace")
    section_name: DnsSubdomain | None = Field(
        default=None, description="the Gateway listener the route attaches to"
    )
    hostnames: Annotated[tuple[Hostname, ...], Field(max_length=16), AfterValidator(_no_duplicates)] = Field(
        default=(), description="the hostnames the route matches"
    )
    path_prefix: PathPrefix = Field(default="/", description="the path prefix the route matches")


class Workload(Model):
    name: WorkloadName = Field(description="the legacy Deployment's name")
    namespace: DnsLabel = Field(default="default", description="the legacy Deployment's namespace")
    manifest: str = Field(
        min_length=1,
        description=(
            "the exported legacy Deployment with everything in its namespace that selects, "
            "scales, routes to or is owned by it (a path relative to the project root)"
        ),
    )
    image: ImageReference | None = Field(
        default=None,
        description=(
            "the image of the new pods; default: the legacy image. Required for "
            "wasmtime-slight-v1: the image of a Spin rebuild"
        ),
    )
    replicas: Int | None = Field(
        default=None,
        ge=1,
        le=1000,
        description="the new side's full capacity; default: the legacy replica count",
    )
    resources: Resources = Field(description="requests and limits of the new pods")
    probe: Probe = Field(default=Probe(), description="path and port of the new pods' HTTP probe")
    canary: Bool = Field(
        default=False,
        description=("run one canary pod of the new side from prepare on, outside every exported selector"),
    )
    canary_replicas: Int = Field(default=1, ge=1, le=100, description="how many canary pods")
    gateway: Gateway | None = Field(
        default=None,
        description=(
            "an exact traffic split through an HTTPRoute on this Gateway: name, namespace, "
            "sectionName, hostnames, pathPrefix"
        ),
    )
    service_port: Annotated[Int, Field(ge=1, le=65535)] | DnsLabel | None = Field(
        default=None,
        description=("the legacy Service port (number or name) that serves the app, when it has several"),
    )
    container_port: Int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description=("the port a rebuilt app listens on, when it changed; required for wasmtime-slight-v1"),
    )
    accept_reduced_capacity: Bool = Field(
        default=False,
        description="accept an entry point reaching fewer Ready pods than at baseline (e.g. replicas lower "
        "than the legacy Deployment's)",
    )
    service: DnsLabel | None = Field(
        default=None,
        description="the Service the new side's Service and route follow, when several select the pods",
    )
    side_by_side: Bool | None = Field(
        default=None,
        description="whether two copies may run at once (default: not for strategy Recreate or a writable "
        "volume holding state; those stop before the new pods start, in cutover)",
    )
    dapr_before_serving: Literal["withoutSidecar", "withSidecar"] | None = Field(
        default=None,
        description="required for Dapr apps: whether new pods run their Dapr sidecar before they serve "
        "(with it they consume the app's messages and may take over its Dapr Service)",
    )
    target: Target = Field(
        default="shim",
        description="where the new copy runs: shim (the RuntimeClass on the target pools), container "
        "(Spin in an ordinary Linux container, nothing privileged) or aci (Spin in Azure Container "
        "Instances); default: the stack's target",
    )
    serving_template: Literal["replicaSet", "deployment"] | None = Field(
        default=None,
        description="for a paused Deployment: run the template its pods run (replicaSet, the default when "
        "the export holds it) or the staged one (deployment)",
    )

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Traffic(Model):
    weight: Int = Field(
        default=50,
        ge=0,
        le=100,
        description="percent of requests for the new pods: the parallel step the stack is at",
    )
    # Gradual traffic: the parallel phase walked one weight at a time (`python -m migrate phases` writes
    # a phase file per step); `weight` stays the weight the stack is at.
    steps: tuple[Annotated[Int, Field(ge=0, le=100)], ...] = Field(
        default=(),
        max_length=26,
        description=(
            "strictly increasing weights the parallel phase walks through between 0 and 100, "
            "one phase file each"
        ),
    )

    @field_validator("steps")
    @classmethod
    def _steps_increase(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(later <= earlier for earlier, later in pairwise(value)):
            raise _fail("steps", "must be strictly increasing weights (percent), e.g. [10, 50, 90]")
        return value

    @property
    def walk(self) -> tuple[int, ...]:
        """The weights the parallel phase walks through, one phase step each: 0 % first (new pods
        checked outside traffic), then `steps` (or `weight`), then 100 % (the new side at full capacity)
        before cutover takes the legacy pods away (components/desired/phase_table.py)."""
        return tuple(sorted({0, *(self.steps or (self.weight,)), 100}))


class Decommission(Model):
    confirm: str | None = Field(
        default=None,
        description=(
            "cluster name/pool,pool... naming every WASI pool of legacyPools, in order; "
            "required in decommission, which deletes them"
        ),
    )
    acknowledge_other_pods: tuple[str, ...] = Field(
        default=(),
        description=(
            "namespace/name of each workload or pod that is not Wasm and runs on a WASI pool "
            "(cluster.export lists them): deleting the pool deletes them"
        ),
    )


class AdmissionPolicy(Model):
    """A ValidatingAdmissionPolicy registered from cutover on (docs/admission-policy.md)."""

    enabled: Bool = Field(
        default=True,
        description=(
            "from cutover on, refuse new pods on the AKS WASI RuntimeClasses and the WASI pools (a "
            "ValidatingAdmissionPolicy, Kubernetes 1.30+); false registers none"
        ),
    )
    docs_url: str | None = Field(
        default=None,
        max_length=300,
        pattern=r"^https://[A-Za-z0-9.-]+(/[A-Za-z0-9._~%/#?=&+-]*)?$",
        description=(
            "an https page the refusal message points to (your runbook); default: the migration's "
            "docs/admission-policy.md"
        ),
    )


class VerificationImage(Model):
    """The image the verification Job runs: any image with a Python 3 interpreter (the script uses the
    standard library only). Always pinned by digest, so what ran in parallel runs again in cutover.
    The default digest is python:3.12-alpine as pinned in several public repositories; check it with
    `crane digest docker.io/library/python:3.12-alpine` (or your mirror) before relying on it."""

    registry: Registry = Field(
        default="docker.io", description="the registry of the verification image (any image with Python 3)"
    )
    repository: Repository = Field(
        default="library/python", description="the verification image's repository"
    )
    tag: Tag = Field(default="3.12-alpine", description="the verification image's tag")
    digest: Digest = Field(
        default="sha256:6d43704baacd1bfbe7c295d7f13079d5d8104ed33568873133f8fc69980419df",
        description="the verification image's digest; the image is always pinned by it",
    )
    architectures: Architectures = Field(
        default=ALL_ARCHITECTURES,
        description="the node architectures the pinned image (its index) holds; the Jobs run only there",
    )

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}@{self.digest}"


class VerificationThresholds(Model):
    """When the new side fails the comparison. Ratios are new / legacy."""

    max_error_rate: Number = Field(
        default=0.0,
        ge=0,
        le=1,
        description="the highest share of failed requests (5xx) of the new side",
    )
    max_p95_ratio: Number = Field(
        default=1.5,
        ge=1,
        le=100,
        description="the highest p95 latency of the new side over the legacy side's",
    )
    max_cold_start_ratio: Number = Field(
        default=2.0,
        ge=1,
        le=100,
        description=("the highest cold start (pod start to Ready) of the new side over the legacy side's"),
    )
    max_memory_ratio: Number = Field(
        default=1.5,
        ge=1,
        le=100,
        description="the highest memory per pod of the new side over the legacy side's",
    )


class Verification(Model):
    """The in-cluster parity and performance check that runs from `parallel` on and gates cutover."""

    enabled: Bool = Field(
        default=True,
        description=(
            "run the verification Job per workload from parallel on; false removes the Job and the gate"
        ),
    )
    image: VerificationImage = Field(
        default=VerificationImage(), description="the image the Job runs: registry, repository, tag, digest"
    )
    paths: tuple[Annotated[str, Field(pattern=r"^/")], ...] = Field(
        default=(), description="the request paths; default: each workload's probe path"
    )
    compare_bodies: Bool = Field(
        default=False, description="compare response bodies too, not only status codes"
    )
    requests_per_path: Int = Field(
        default=50, ge=1, le=10_000, description="requests sent to each side per path"
    )
    requests_per_second: Number = Field(
        default=5.0, gt=0, le=200, description="the request rate to each side"
    )
    request_timeout_seconds: Number = Field(
        default=5.0, gt=0, le=60, description="the timeout of one request"
    )
    timeout_seconds: Int = Field(
        default=600, ge=60, le=7200, description="the whole Job's time limit, awaited by Pulumi"
    )
    thresholds: VerificationThresholds = Field(
        default=VerificationThresholds(),
        description=("when the new side fails: maxErrorRate, maxP95Ratio, maxColdStartRatio, maxMemoryRatio"),
    )


class AzureMonitorAlerts(Model):
    """Azure Monitor managed Prometheus: the cluster's Azure Monitor workspace and an action group."""

    workspace_id: str = Field(
        pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Monitor/accounts/[^/]+$",
        description="the resource id of the cluster's Azure Monitor workspace",
    )
    action_group_id: str = Field(
        pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Insights/actionGroups/[^/]+$",
        description="the resource id of the action group each rule sends to",
    )
    location: str = Field(min_length=1, description="the workspace's region, e.g. westeurope")
    resource_group: ResourceGroup | None = Field(
        default=None, description="the resource group of the rule group; default: the cluster's"
    )


class PrometheusOperatorAlerts(Model):
    """A monitoring.coreos.com/v1 PrometheusRule; `labels` must match the Prometheus ruleSelector."""

    namespace: DnsLabel = Field(default="monitoring", description="the namespace of the PrometheusRule")
    labels: dict[LabelKey, LabelValue] = Field(
        default={}, description="labels of the PrometheusRule; they must match your Prometheus' ruleSelector"
    )


class HttpMetrics(Model):
    """Request metrics some exporter already has (ingress controller, mesh, app); without them the
    error-rate and latency rules are not created."""

    requests_total: str = Field(
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$",
        description="the name of a request counter metric; it must carry a namespace label",
    )
    duration_bucket: str = Field(
        pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*_bucket$",
        description="the name of a request duration histogram's _bucket metric",
    )
    status_label: str = Field(
        default="code",
        pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$",
        description="the label that holds the HTTP status code",
    )
    by: tuple[Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")], ...] = Field(
        default=("namespace", "service"), description="the labels the error-rate and latency rules group by"
    )
    max_error_rate: Number = Field(
        default=0.01, ge=0, le=1, description="the 5xx share that fires the error-rate alert"
    )
    max_p95_seconds: Number = Field(
        default=1.0, gt=0, le=600, description="the p95 latency in seconds that fires the latency alert"
    )


class Alerts(Model):
    """Alerts for the migration's failure modes; `mode: off` is the only way to have none."""

    mode: Literal["azureMonitor", "prometheusOperator", "off"] = Field(
        description="azureMonitor, prometheusOperator or off (the only way to have no alerts)"
    )
    azure_monitor: AzureMonitorAlerts | None = Field(
        default=None, description="for mode azureMonitor: workspaceId, actionGroupId, location, resourceGroup"
    )
    prometheus_operator: PrometheusOperatorAlerts = Field(
        default=PrometheusOperatorAlerts(), description="for mode prometheusOperator: namespace, labels"
    )
    http_metrics: HttpMetrics | None = Field(
        default=None,
        description=(
            "request metrics an exporter already has; without them the error-rate and latency"
            " rules are not created"
        ),
    )

    @model_validator(mode="after")
    def _target_of_the_mode(self) -> Alerts:
        if self.mode == "azureMonitor" and self.azure_monitor is None:
            raise _fail(
                "alerts_target",
                "mode azureMonitor needs azureMonitor {workspaceId, actionGroupId, location}",
            )
        return self


class MigrationConfig(Model):
    phase: Phase = Field(
        description=(
            "the migration phase the stack is in: baseline, prepare, parallel, cutover or "
            "decommission. Apply them in order; apply an earlier one to roll back"
        )
    )
    cluster: Cluster = Field(description="the AKS cluster, and how to reach it")
    legacy_pools: tuple[LegacyPool, ...] = Field(
        description=(
            "every WASI pool of the cluster, each adopted read-only (imported, protected "
            "until decommission); one stack migrates them all"
        )
    )
    target_pools: tuple[TargetPool, ...] = Field(
        default=(),
        description=(
            "the OCIContainer pools for the shim (required when a workload has target shim); never "
            "replaced in place: a change that needs a new pool goes under a new name"
        ),
    )
    target: Target = Field(
        default="shim",
        description="where the workloads' new copies run unless a workload says otherwise: shim, "
        "container or aci (docs/targets.md says when to pick each)",
    )
    shim: Shim = Field(default=Shim(), description="the shim installer and the RuntimeClass")
    container: SpinContainer = Field(
        default=SpinContainer(),
        description="the Spin image and registry login of the container target (and the image the aci "
        "target runs): spinImage, pullSecret",
    )
    aci: ContainerInstances = Field(
        default=ContainerInstances(),
        description="where the aci target's container groups run: location, subnetId, resourceGroup, "
        "identityId, zones, sku",
    )
    workloads: tuple[Workload, ...] = Field(
        default=(), description="the Wasm workloads to move, one entry per legacy Deployment"
    )
    traffic: Traffic = Field(
        default=Traffic(),
        description=(
            "the share of requests for the new pods in the parallel phase, and the steps it walks through"
        ),
    )
    decommission: Decommission = Field(
        default=Decommission(), description="the deliberate keys of the irreversible decommission phase"
    )
    admission_policy: AdmissionPolicy = Field(
        default=AdmissionPolicy(),
        description=(
            "from cutover on, refuse new pods that ask for the retired WASI runtime or pools, the way "
            "back's legacy pods exempt"
        ),
    )
    verification: Verification = Field(
        default=Verification(),
        description=(
            "the parity and performance check of legacy against new pods, from parallel on; "
            "cutover's legacy scale-down waits for it"
        ),
    )
    alerts: Alerts = Field(
        description=(
            "alerts for the migration's failure modes; required, so that alerts are off only "
            "when this says so"
        )
    )

    @field_validator("legacy_pools")
    @classmethod
    def _at_least_one_wasi_pool(cls, value: tuple[LegacyPool, ...]) -> tuple[LegacyPool, ...]:
        if not value:
            raise _fail("legacy_pools", "list the cluster's WasmWasi pools (at least one)")
        return value

    @model_validator(mode="before")
    @classmethod
    def _stack_target_is_the_default(cls, value: Any) -> Any:
        """A workload without `target` takes the stack's: resolved here, once, so every reader sees
        one field (`workloads[].target`)."""
        if isinstance(value, dict) and isinstance(value.get("workloads"), list | tuple):
            default = value.get("target", "shim")
            value = {
                **value,
                "workloads": [
                    {"target": default, **w} if isinstance(w, dict) else w for w in value["workloads"]
                ],
            }
        return value

    @property
    def uses_shim(self) -> bool:
        """Whether any workload runs on the shim: only then are the installer and its RuntimeClass
        registered (with no workload at all, the platform is still prepared for the shim)."""
        return not self.workloads or any(w.target == "shim" for w in self.workloads)

    @property
    def uses_spin_image(self) -> bool:
        """Whether any workload runs the Spin image (in a pod, or in Azure Container Instances)."""
        return any(w.target in ("container", "aci") for w in self.workloads)

    @property
    def uses_aci(self) -> bool:
        return any(w.target == "aci" for w in self.workloads)

    @property
    def decommission_confirmation(self) -> str:
        """What `decommission.confirm` must say: the cluster and the pools that will be deleted."""
        return f"{self.cluster.name}/{','.join(pool.name for pool in self.legacy_pools)}"


class ConfigError(Exception):
    """Every problem found in one config, each naming its key path, the bad value and what is allowed."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def key_path(loc: tuple[Any, ...]) -> str:
    """`a.b[0].c` from a location; keys come from the input, so each is escaped and bounded."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{escape(str(part), ECHO_CHARS)}" if path else escape(str(part), ECHO_CHARS)
    return path


def problem(path: str, value: Any, message: str) -> str:
    shown = "(not set)" if value is None else echo(value)
    return f"{path}: {message} (got {shown})"


MAX_PROBLEMS = 100  # a list of a thousand broken entries needs its first problems fixed, not all shown


def _model_keys(loc: tuple[Any, ...]) -> list[str]:
    """The camelCase keys allowed in the mapping at `loc` (a location inside MigrationConfig)."""
    model: type[BaseModel] | None = MigrationConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = next((f for n, f in model.model_fields.items() if part in (n, f.alias)), None)
        model = _model_in(field.annotation) if field else None
    if model is None:
        return []
    return [field.alias or name for name, field in model.model_fields.items()]


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The config model inside an annotation such as `Pool | None` or `tuple[Pool, ...]`."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for arg in get_args(annotation) if (m := _model_in(arg))), None)


# Keys an earlier version of this config had, and what became of them.
RENAMED_KEYS = {
    ("legacyPool",): "renamed `legacyPools`, a list of every WASI pool of the cluster: one stack migrates "
    "them all, as the shim, its pools and the alerts belong to the cluster; write legacyPools: [{name: ...}]",
}


def _unknown_key(loc: tuple[Any, ...]) -> str:
    if tuple(loc) in RENAMED_KEYS:
        return RENAMED_KEYS[tuple(loc)]
    message = "unknown key; check its spelling against Pulumi.yaml"
    close = get_close_matches(str(loc[-1]), _model_keys(loc[:-1]), n=1) if loc else []
    return f"{message}; did you mean `{close[0]}`?" if close else message


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    items = error.errors(include_url=False)
    for item in items[:MAX_PROBLEMS]:
        loc = tuple(part for part in item["loc"] if not str(part).startswith("function-"))
        value = None if item["type"] == "missing" else item.get("input")
        message = "required key is missing" if item["type"] == "missing" else item["msg"]
        if item["type"] == "extra_forbidden":
            message = _unknown_key(loc)
        problems.append(problem(key_path(loc), value, message.removeprefix("Value error, ")))
    if len(items) > MAX_PROBLEMS:
        problems.append(f"and {len(items) - MAX_PROBLEMS} more problems; fix the ones above first")
    return problems


def _cross_field_problems(config: MigrationConfig) -> list[str]:
    problems = []
    names = [pool.name for pool in config.legacy_pools] + [pool.name for pool in config.target_pools]
    for index, wasi in enumerate(config.legacy_pools):
        if names.count(wasi.name) > 1:
            problems.append(
                problem(f"legacyPools[{index}].name", wasi.name, "pool names must be unique in the cluster")
            )
    for index, pool in enumerate(config.target_pools):
        if names.count(pool.name) > 1:
            problems.append(
                problem(f"targetPools[{index}].name", pool.name, "pool names must be unique in the cluster")
            )
        if config.shim.node_label.key in pool.node_labels:
            problems.append(
                problem(
                    f"targetPools[{index}].nodeLabels",
                    config.shim.node_label.key,
                    "the shim selection label is added by the program; do not set it here",
                )
            )
    seen: set[str] = set()
    for index, workload in enumerate(config.workloads):
        if workload.key in seen:
            problems.append(
                problem(f"workloads[{index}].name", workload.name, f"duplicate workload {workload.key}")
            )
        seen.add(workload.key)
    problems.extend(_shim_namespace_problems(config))
    problems.extend(_target_problems(config))
    expected = config.decommission_confirmation
    if config.phase is Phase.DECOMMISSION and config.decommission.confirm != expected:
        problems.append(
            problem(
                "decommission.confirm",
                config.decommission.confirm,
                f"phase decommission deletes the WASI pools and the legacy workloads for good; "
                f"set decommission.confirm to {expected!r} to confirm",
            )
        )
    return problems


def _target_problems(config: MigrationConfig) -> list[str]:
    """The shim needs pools (a container target's pinned Spin image is asked for at load:
    components.loading, so `migrate init` can write a container stack that leaves the digest to a
    person)."""
    problems = []
    if config.uses_aci:
        on_aci = ", ".join(f"workloads[{i}]" for i, w in enumerate(config.workloads) if w.target == "aci")
        for key, value in (("location", config.aci.location), ("subnetId", config.aci.subnet_id)):
            if value is None:
                problems.append(problem(f"aci.{key}", None, f"required for {on_aci} (target aci)"))
    if config.uses_shim and not config.target_pools:
        shimmed = [f"workloads[{i}]" for i, w in enumerate(config.workloads) if w.target == "shim"]
        who = ", ".join(shimmed) if shimmed else "the shim (no workload is listed yet)"
        problems.append(
            problem(
                "targetPools",
                [],
                f"list at least one OCIContainer pool for {who}; or give every workload target container",
            )
        )
    return problems


def _shim_namespace_problems(config: MigrationConfig) -> list[str]:
    """The shim's namespace shared with anything else the config names: labelling it privileged would
    open that namespace to privileged pods, and rolling back to baseline would delete it."""
    namespace = config.shim.namespace
    users = [f"workloads[{i}]" for i, w in enumerate(config.workloads) if w.namespace == namespace]
    users += [
        f"workloads[{i}].gateway"
        for i, w in enumerate(config.workloads)
        if w.gateway is not None and w.gateway.namespace == namespace
    ]
    if (
        config.alerts.mode == "prometheusOperator"
        and config.alerts.prometheus_operator.namespace == namespace
    ):
        users.append("alerts.prometheusOperator")
    if not users:
        return []
    return [
        problem("shim.namespace", namespace, f"is also the namespace of {', '.join(users)}; {_OWN_NAMESPACE}")
    ]


def parse_config(raw: dict[str, Any]) -> MigrationConfig:
    """Validate a raw config mapping (top-level keys without the project prefix)."""
    try:
        config = MigrationConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(_pydantic_problems(error)) from None
    problems = _cross_field_problems(config)
    if problems:
        raise ConfigError(problems)
    return config


CONFIG_KEYS = tuple(field.alias or name for name, field in MigrationConfig.model_fields.items())


def spin_image_problems(config: MigrationConfig) -> list[str]:
    """A container target runs only a Spin image pinned by digest: what ran in parallel runs again."""
    image = config.container.spin_image
    if not config.uses_spin_image or image.digest is not None:
        return []
    return [
        problem(
            "container.spinImage.digest",
            None,
            "required once a workload has target container: pin the Spin image by its multi-arch "
            f"index digest (crane digest {image.reference})",
        )
    ]
