"""The typed, validated model of one migration: every stack config is parsed into this before anything
is registered, so a bad value stops the run with a message instead of half-applying a phase."""

from __future__ import annotations

import re
from difflib import get_close_matches
from enum import StrEnum
from itertools import pairwise
from typing import Annotated, Any, Literal, get_args

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


# RuntimeClasses AKS created for WASI pools; their names stay taken while the pool exists.
AKS_WASI_RUNTIME_CLASSES = frozenset(
    {
        "wasmtime-slight-v1",
        "wasmtime-spin-v1",
        "wasmtime-spin-v2",
        "wasmtime-spin-v0-15-1",
        "wasmtime-spin-v0-8-0",
        "wasmtime-spin-v0-5-1",
        "wasmtime-spin-v0-3-0",
    }
)
_AKS_WASI_CLASS_PATTERN = re.compile(r"^wasmtime-(spin|slight)-v[0-9-]+$")
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


# Namespaces the shim's must never be: Kubernetes' initial namespaces and its reserved `kube-` prefix
# ("Avoid creating namespaces with the prefix kube-, since it is reserved for Kubernetes system
# namespaces", kubernetes.io/docs/concepts/overview/working-with-objects/namespaces), and the namespaces
# AKS and its add-ons own. Prepare creates the shim's namespace (AlreadyExists for one that exists) and
# labels it pod-security `privileged` for the installer: adopting one of these instead would open a
# platform namespace to privileged pods, and rolling back to baseline would delete it.
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


class Model(BaseModel):
    """camelCase keys as in the stack files; unknown keys are errors so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Cluster(Model):
    subscription_id: str
    resource_group: ResourceGroup
    name: ClusterName
    kubernetes_version: str = Field(default="1.33", pattern=r"^1\.[0-9]+$")
    kubeconfig: SecretStr | None = None
    # Entra ID (AAD) clusters: "exec" returns a kubelogin kubeconfig (kubelogin must be on PATH).
    credential_format: Literal["azure", "exec"] | None = None
    export: str | None = Field(
        default=None,
        min_length=1,
        description="cluster-level objects `migrate init` exported: RuntimeClasses, the WASI pools' Nodes "
        "and the Pods on them that are not Wasm workloads",
    )

    @field_validator("subscription_id")
    @classmethod
    def _subscription_is_uuid(cls, value: str) -> str:
        if not _UUID.fullmatch(value):
            raise _fail("uuid", "must be an Azure subscription id (a UUID)")
        return value


def parse_aks_taint(taint: str) -> dict[str, str]:
    """AKS's `key=value:Effect` (value optional), the inverse of Taint.as_aks."""
    key_value, _, effect = taint.rpartition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect}


class Taint(Model):
    key: LabelKey
    value: LabelValue = ""
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] = "NoSchedule"

    def as_aks(self) -> str:
        return f"{self.key}={self.value}:{self.effect}" if self.value else f"{self.key}:{self.effect}"

    def as_toleration(self) -> dict[str, str]:
        if self.value:
            return {"key": self.key, "operator": "Equal", "value": self.value, "effect": self.effect}
        return {"key": self.key, "operator": "Exists", "effect": self.effect}


class Autoscaling(Model):
    min_count: Int = Field(ge=0, le=1000)
    max_count: Int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Autoscaling:
        if self.min_count > self.max_count:
            raise _fail(
                "autoscaling",
                f"minCount {self.min_count} is above maxCount {self.max_count}; need minCount <= maxCount",
            )
        return self


def _linux_os_skus() -> tuple[str, ...]:
    """The OS SKUs of the AgentPool API version azure-native pins (2025-09-01 in 3.29), less Windows and
    the retired CBLMariner; a newer name such as Ubuntu2404 is refused until the provider has it."""
    from pulumi_azure_native.containerservice import OSSKU

    return tuple(
        sku.value for sku in OSSKU if not sku.value.startswith("Windows") and sku.value != "CBLMariner"
    )


LINUX_OS_SKUS = _linux_os_skus()


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

    name: PoolName
    vm_size: VmSize
    count: Int = Field(ge=0, le=1000)
    os_sku: OsSku = "Ubuntu"
    autoscaling: Autoscaling | None = None
    zones: Zones = ()
    # major.minor only: AKS then picks the patch and auto-upgrade moves it without a drift fight
    # (AKS API 2025-09-01: "When <major.minor> is specified, the latest supported GA patch version is
    # chosen automatically"; the patch shows in currentOrchestratorVersion).
    orchestrator_version: str | None = Field(default=None, pattern=r"^1\.[0-9]+$")
    max_pods: Int | None = Field(default=None, ge=10, le=250)
    node_labels: dict[LabelKey, LabelValue] = {}
    node_taints: tuple[Taint, ...] = ()

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

    name: PoolName
    node_labels: dict[LabelKey, LabelValue] = {}
    node_taints: tuple[Taint, ...] = ()

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
    workload_runtime: str = "OCIContainer"
    os_sku: OsSku = "AzureLinux"
    count: Int = Field(default=2, ge=0, le=1000)
    max_surge: str = Field(default="33%", pattern=r"^([0-9]+%?)$")
    dedicated_taint: Taint | None = None

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


class InstallerImage(Model):
    registry: Registry = "ghcr.io"
    repository: Repository = "spinframework/containerd-shim-spin/node-installer"
    tag: Tag = "v0.24.0"
    digest: Digest | None = None

    @field_validator("registry")
    @classmethod
    def _live_registry(cls, value: str) -> str:
        if value == "k8s.gcr.io":
            raise _fail("registry", "k8s.gcr.io is frozen; use registry.k8s.io or your mirror")
        return value

    @model_validator(mode="after")
    def _whole_reference(self) -> InstallerImage:
        """The parts can each be valid and still not make a reference (e.g. too long together)."""
        identifiers.oci_image_reference(self.reference)
        return self

    @property
    def reference(self) -> str:
        image = f"{self.registry}/{self.repository}:{self.tag}"
        return f"{image}@{self.digest}" if self.digest else image


class NodeLabel(Model):
    key: LabelKey = "wasm-migration.io/shim"
    value: LabelValue = "containerd-shim-spin"


class AdoptExisting(Model):
    """Objects of these names that already exist (made by hand or an earlier tool) are imported instead
    of failing the create with AlreadyExists (pulumi-kubernetes >= 4.29 does not upsert)."""

    namespace: bool = False
    runtime_class: bool = False


class Shim(Model):
    namespace: Annotated[str, AfterValidator(shim_namespace)] = "wasm-shim-system"
    runtime_class_name: DnsLabel = "wasm-spin"
    handler: DnsLabel = "spin"
    node_label: NodeLabel = NodeLabel()
    installer_image: InstallerImage = InstallerImage()
    # Written into containerd's TOML config on every node: an absolute path of POSIX portable filename
    # characters (POSIX.1-2017, 3.282: A-Z a-z 0-9 . _ -), so no quoting can break.
    shim_path: str = Field(default="/usr/local/bin/containerd-shim-spin-v2", pattern=r"^(/[A-Za-z0-9._-]+)+$")
    check_interval_seconds: Int = Field(default=60, ge=10, le=3600)
    adopt_existing: AdoptExisting = AdoptExisting()

    @field_validator("runtime_class_name")
    @classmethod
    def _not_an_aks_class(cls, value: str) -> str:
        if value in AKS_WASI_RUNTIME_CLASSES or _AKS_WASI_CLASS_PATTERN.match(value):
            raise _fail(
                "runtime_class_name",
                "collides with the AKS-managed WASI RuntimeClasses (wasmtime-spin-*, "
                "wasmtime-slight-*); choose another name such as wasm-spin",
            )
        return value


class ResourceList(Model):
    cpu: ResourceQuantity
    memory: ResourceQuantity


class Resources(Model):
    requests: ResourceList
    limits: ResourceList

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
    path: str | None = Field(default=None, pattern=r"^/[!-~]*$")
    port: Int | None = Field(default=None, ge=1, le=65535)


class Gateway(Model):
    """A Gateway API Gateway that already exists; an HTTPRoute splits traffic exactly through it."""

    name: DnsSubdomain
    namespace: DnsLabel
    section_name: DnsSubdomain | None = None
    hostnames: Annotated[tuple[Hostname, ...], Field(max_length=16), AfterValidator(_no_duplicates)] = ()
    path_prefix: PathPrefix = "/"


class Workload(Model):
    name: WorkloadName
    namespace: DnsLabel = "default"
    manifest: str = Field(min_length=1, description="exported legacy Deployment and Service (YAML)")
    image: ImageReference | None = None
    replicas: Int | None = Field(default=None, ge=1, le=1000)
    resources: Resources
    probe: Probe = Probe()
    canary: Bool = False
    canary_replicas: Int = Field(default=1, ge=1, le=100)
    gateway: Gateway | None = None
    service_port: Annotated[Int, Field(ge=1, le=65535)] | DnsLabel | None = Field(
        default=None, description="the legacy Service port (number or name) that serves the app"
    )
    container_port: Int | None = Field(
        default=None, ge=1, le=65535, description="the port a rebuilt app listens on, when it changed"
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
    serving_template: Literal["replicaSet", "deployment"] | None = Field(
        default=None,
        description="for a paused Deployment: run the template its pods run (replicaSet, the default when "
        "the export holds it) or the staged one (deployment)",
    )

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Traffic(Model):
    weight: Int = Field(default=50, ge=0, le=100, description="percent of requests to new pods")
    # Gradual traffic: the parallel phase walked one weight at a time (`python -m migrate phases` writes
    # a phase file per step); `weight` stays the weight the stack is at.
    steps: tuple[Annotated[Int, Field(ge=0, le=100)], ...] = Field(default=(), max_length=26)

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
    confirm: str | None = None
    acknowledge_other_pods: tuple[str, ...] = Field(
        default=(),
        description="`<namespace>/<name>` of each workload or pod that is not Wasm and runs on a WASI pool "
        "(cluster.export lists them): deleting the pool deletes them",
    )


class VerificationImage(Model):
    """The image the verification Job runs: any image with a Python 3 interpreter (the script uses the
    standard library only). Always pinned by digest, so what ran in parallel runs again in cutover.
    The default digest is python:3.12-alpine as pinned in several public repositories; check it with
    `crane digest docker.io/library/python:3.12-alpine` (or your mirror) before relying on it."""

    registry: Registry = "docker.io"
    repository: Repository = "library/python"
    tag: Tag = "3.12-alpine"
    digest: Digest = "sha256:6d43704baacd1bfbe7c295d7f13079d5d8104ed33568873133f8fc69980419df"

    @property
    def reference(self) -> str:
        return f"{self.registry}/{self.repository}:{self.tag}@{self.digest}"


class VerificationThresholds(Model):
    """When the new side fails the comparison. Ratios are new / legacy."""

    max_error_rate: Number = Field(default=0.0, ge=0, le=1, description="share of failed requests (5xx)")
    max_p95_ratio: Number = Field(default=1.5, ge=1, le=100)
    max_cold_start_ratio: Number = Field(default=2.0, ge=1, le=100, description="pod start to Ready")
    max_memory_ratio: Number = Field(default=1.5, ge=1, le=100)


class Verification(Model):
    """The in-cluster parity and performance check that runs from `parallel` on and gates cutover."""

    enabled: Bool = True
    image: VerificationImage = VerificationImage()
    paths: tuple[Annotated[str, Field(pattern=r"^/")], ...] = Field(
        default=(), description="request paths; default: each workload's probe path"
    )
    compare_bodies: Bool = False
    requests_per_path: Int = Field(default=50, ge=1, le=10_000)
    requests_per_second: Number = Field(default=5.0, gt=0, le=200)
    request_timeout_seconds: Number = Field(default=5.0, gt=0, le=60)
    timeout_seconds: Int = Field(default=600, ge=60, le=7200, description="whole Job, awaited by Pulumi")
    thresholds: VerificationThresholds = VerificationThresholds()


class AzureMonitorAlerts(Model):
    """Azure Monitor managed Prometheus: the cluster's Azure Monitor workspace and an action group."""

    workspace_id: str = Field(
        pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Monitor/accounts/[^/]+$"
    )
    action_group_id: str = Field(
        pattern=r"(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.Insights/actionGroups/[^/]+$"
    )
    location: str = Field(min_length=1, description="the workspace's region, e.g. westeurope")
    resource_group: ResourceGroup | None = Field(default=None, description="default: the cluster's")


class PrometheusOperatorAlerts(Model):
    """A monitoring.coreos.com/v1 PrometheusRule; `labels` must match the Prometheus ruleSelector."""

    namespace: DnsLabel = "monitoring"
    labels: dict[LabelKey, LabelValue] = {}


class HttpMetrics(Model):
    """Request metrics some exporter already has (ingress controller, mesh, app); without them the
    error-rate and latency rules are not created."""

    requests_total: str = Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    duration_bucket: str = Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*_bucket$")
    status_label: str = Field(default="code", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    by: tuple[Annotated[str, Field(pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")], ...] = ("namespace", "service")
    max_error_rate: Number = Field(default=0.01, ge=0, le=1)
    max_p95_seconds: Number = Field(default=1.0, gt=0, le=600)


class Alerts(Model):
    """Alerts for the migration's failure modes; `mode: off` is the only way to have none."""

    mode: Literal["azureMonitor", "prometheusOperator", "off"]
    azure_monitor: AzureMonitorAlerts | None = None
    prometheus_operator: PrometheusOperatorAlerts = PrometheusOperatorAlerts()
    http_metrics: HttpMetrics | None = None

    @model_validator(mode="after")
    def _target_of_the_mode(self) -> Alerts:
        if self.mode == "azureMonitor" and self.azure_monitor is None:
            raise _fail(
                "alerts_target",
                "mode azureMonitor needs azureMonitor {workspaceId, actionGroupId, location}",
            )
        return self


class MigrationConfig(Model):
    phase: Phase
    cluster: Cluster
    legacy_pools: tuple[LegacyPool, ...]
    target_pools: tuple[TargetPool, ...]
    shim: Shim = Shim()
    workloads: tuple[Workload, ...] = ()
    traffic: Traffic = Traffic()
    decommission: Decommission = Decommission()
    verification: Verification = Verification()
    alerts: Alerts

    @field_validator("legacy_pools")
    @classmethod
    def _at_least_one_wasi_pool(cls, value: tuple[LegacyPool, ...]) -> tuple[LegacyPool, ...]:
        if not value:
            raise _fail("legacy_pools", "list the cluster's WasmWasi pools (at least one)")
        return value

    @field_validator("target_pools")
    @classmethod
    def _at_least_one_target(cls, value: tuple[TargetPool, ...]) -> tuple[TargetPool, ...]:
        if not value:
            raise _fail("target_pools", "list at least one OCIContainer pool for the shim")
        return value

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
