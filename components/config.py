"""The typed, validated model of one migration: every stack config is parsed into this before anything
is registered, so a bad value stops the run with a message instead of half-applying a phase."""

from __future__ import annotations

import re
from difflib import get_close_matches
from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.inputs import ECHO_CHARS, echo, escape

PROJECT = "aks-wasm-migration"


class Phase(StrEnum):
    """Migration phases in walking order; applying an earlier one rolls back."""

    BASELINE = "baseline"
    PREPARE = "prepare"
    PARALLEL = "parallel"
    CUTOVER = "cutover"
    DECOMMISSION = "decommission"

    @property
    def index(self) -> int:
        return list(Phase).index(self)

    def at_least(self, other: Phase) -> bool:
        return self.index >= other.index


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

_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$")
_QUANTITY = re.compile(r"^[0-9]+(\.[0-9]+)?(m|k|Ki|Mi|Gi|Ti|M|G|T)?$")
_SHA256_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _fail(kind: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(kind, message)


def _pool_name(value: str) -> str:
    if not _POOL_NAME.match(value):
        raise _fail("pool_name", "must be 1-12 lowercase letters and digits, starting with a letter")
    return value


def _dns_label(value: str) -> str:
    if not _DNS_LABEL.match(value):
        raise _fail("dns_label", "must be a DNS label: lowercase letters, digits and '-', at most 63")
    return value


def _label_key(value: str) -> str:
    prefix, _, name = value.rpartition("/")
    if not _LABEL_NAME.match(name) or (prefix and not _DNS_SUBDOMAIN.match(prefix)):
        raise _fail("label_key", "must be a Kubernetes label key: [prefix/]name")
    if any(value.startswith(reserved) for reserved in RESERVED_LABEL_PREFIXES):
        raise _fail(
            "reserved_label",
            "uses a prefix AKS reserves (kubernetes.azure.com/, kubernetes.io/); choose your own prefix",
        )
    return value


def _label_value(value: str) -> str:
    if not _LABEL_VALUE.match(value):
        raise _fail("label_value", "must be a Kubernetes label value: at most 63 of [A-Za-z0-9-_.]")
    return value


def _quantity(value: str) -> str:
    if not _QUANTITY.match(value):
        raise _fail("quantity", "must be a Kubernetes quantity such as 100m, 0.5, 128Mi or 1Gi")
    return value


PoolName = Annotated[str, AfterValidator(_pool_name)]
DnsLabel = Annotated[str, AfterValidator(_dns_label)]
LabelKey = Annotated[str, AfterValidator(_label_key)]
LabelValue = Annotated[str, AfterValidator(_label_value)]
Quantity = Annotated[str, AfterValidator(_quantity)]


class Model(BaseModel):
    """camelCase keys as in the stack files; unknown keys are errors so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True)


class Cluster(Model):
    subscription_id: str
    resource_group: str = Field(min_length=1, max_length=90)
    name: str = Field(min_length=1, max_length=63)
    kubernetes_version: str = Field(default="1.33", pattern=r"^1\.[0-9]+$")
    kubeconfig: SecretStr | None = None
    # Entra ID (AAD) clusters: "exec" returns a kubelogin kubeconfig (kubelogin must be on PATH).
    credential_format: Literal["azure", "exec"] | None = None

    @field_validator("subscription_id")
    @classmethod
    def _subscription_is_uuid(cls, value: str) -> str:
        if not _UUID.match(value):
            raise _fail("uuid", "must be an Azure subscription id (a UUID)")
        return value


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
    min_count: int = Field(ge=0, le=1000)
    max_count: int = Field(ge=1, le=1000)

    @model_validator(mode="after")
    def _min_not_above_max(self) -> Autoscaling:
        if self.min_count > self.max_count:
            raise _fail(
                "autoscaling",
                f"minCount {self.min_count} is above maxCount {self.max_count}; need minCount <= maxCount",
            )
        return self


OsSku = Literal["Ubuntu", "Ubuntu2204", "Ubuntu2404", "AzureLinux", "AzureLinux3"]


class Pool(Model):
    """Fields shared by the legacy and the target pools, as AKS stores them on the agent pool."""

    name: PoolName
    vm_size: str = Field(min_length=1)
    count: int = Field(ge=0, le=1000)
    os_sku: OsSku = "Ubuntu"
    autoscaling: Autoscaling | None = None
    zones: tuple[Literal["1", "2", "3"], ...] = ()
    orchestrator_version: str | None = Field(default=None, pattern=r"^1\.[0-9]+(\.[0-9]+)?$")
    max_pods: int | None = Field(default=None, ge=10, le=250)
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


class LegacyPool(Pool):
    """The existing WASI pool, described exactly as AKS holds it so it can be imported."""

    workload_runtime: Literal["WasmWasi"] = "WasmWasi"


class TargetPool(Pool):
    workload_runtime: str = "OCIContainer"
    os_sku: OsSku = "AzureLinux"
    count: int = Field(default=2, ge=0, le=1000)
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
    registry: str = "ghcr.io"
    repository: str = "spinframework/containerd-shim-spin/node-installer"
    tag: str = "v0.24.0"
    digest: str | None = None

    @field_validator("digest")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256_DIGEST.match(value):
            raise _fail("digest", "must be sha256: followed by 64 lowercase hex digits")
        return value

    @field_validator("registry")
    @classmethod
    def _live_registry(cls, value: str) -> str:
        if value == "k8s.gcr.io":
            raise _fail("registry", "k8s.gcr.io is frozen; use registry.k8s.io or your mirror")
        return value

    @property
    def reference(self) -> str:
        image = f"{self.registry}/{self.repository}:{self.tag}"
        return f"{image}@{self.digest}" if self.digest else image


class NodeLabel(Model):
    key: LabelKey = "wasm-migration.io/shim"
    value: LabelValue = "containerd-shim-spin"


class Shim(Model):
    namespace: DnsLabel = "wasm-shim-system"
    runtime_class_name: DnsLabel = "wasm-spin"
    handler: DnsLabel = "spin"
    node_label: NodeLabel = NodeLabel()
    installer_image: InstallerImage = InstallerImage()
    shim_path: str = Field(default="/usr/local/bin/containerd-shim-spin-v2", pattern=r"^/[^\s]+$")
    check_interval_seconds: int = Field(default=60, ge=10, le=3600)

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
    cpu: Quantity
    memory: Quantity


class Resources(Model):
    requests: ResourceList
    limits: ResourceList


class Probe(Model):
    path: str = Field(default="/", pattern=r"^/")
    port: int | None = Field(default=None, ge=1, le=65535)


class Gateway(Model):
    """A Gateway API Gateway that already exists; an HTTPRoute splits traffic exactly through it."""

    name: DnsLabel
    namespace: DnsLabel
    section_name: DnsLabel | None = None
    hostnames: tuple[str, ...] = ()
    path_prefix: str = Field(default="/", pattern=r"^/")


class Workload(Model):
    name: DnsLabel
    namespace: DnsLabel = "default"
    manifest: str = Field(min_length=1, description="exported legacy Deployment and Service (YAML)")
    image: str | None = None
    replicas: int | None = Field(default=None, ge=1, le=1000)
    resources: Resources
    probe: Probe = Probe()
    canary: bool = False
    canary_replicas: int = Field(default=1, ge=1, le=100)
    gateway: Gateway | None = None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


class Traffic(Model):
    weight: int = Field(default=50, ge=0, le=100, description="percent of requests to new pods")


class Decommission(Model):
    confirm: str | None = None


class MigrationConfig(Model):
    phase: Phase
    cluster: Cluster
    legacy_pool: LegacyPool
    target_pools: tuple[TargetPool, ...]
    shim: Shim = Shim()
    workloads: tuple[Workload, ...] = ()
    traffic: Traffic = Traffic()
    decommission: Decommission = Decommission()

    @field_validator("target_pools")
    @classmethod
    def _at_least_one_target(cls, value: tuple[TargetPool, ...]) -> tuple[TargetPool, ...]:
        if not value:
            raise _fail("target_pools", "list at least one OCIContainer pool for the shim")
        return value

    @property
    def decommission_confirmation(self) -> str:
        """What `decommission.confirm` must say: the cluster and pool that will be deleted."""
        return f"{self.cluster.name}/{self.legacy_pool.name}"


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


def _unknown_key(loc: tuple[Any, ...]) -> str:
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
    names = [config.legacy_pool.name] + [pool.name for pool in config.target_pools]
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
    expected = config.decommission_confirmation
    if config.phase is Phase.DECOMMISSION and config.decommission.confirm != expected:
        problems.append(
            problem(
                "decommission.confirm",
                config.decommission.confirm,
                f"phase decommission deletes the WASI pool and the legacy workloads for good; "
                f"set decommission.confirm to {expected!r} to confirm",
            )
        )
    return problems


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
