"""The unit of desired state: one resource as the Pulumi engine will see it (type, name, wire-format
inputs, options), built without Pulumi so it can be rendered, diffed and checked offline; and the plan
of the components that own those resources."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, Union

from components.core.config import PROJECT
from components.export.schemas import object_label

AZURE_PROVIDER = "azure-native"
KUBERNETES_PROVIDER = "kubernetes"

if TYPE_CHECKING:
    from pulumi import Input
else:
    # A component argument the engine may resolve later: pulumi.Input's own definition (pulumi/output.py),
    # restated so the plan is typed without importing the SDK, which costs the offline CLI ~0.13 s of
    # CPU (grpc, protobuf, opentelemetry). The component analyzer reads it in the public args
    # (tests/test_package.py); tests/components/test_azure_inputs.py holds it equal to pulumi.Input.
    T = TypeVar("T")
    Input = Union[T, Awaitable[T], "Output[T]"]  # noqa: F821 (pulumi's own forward reference)


@dataclass(frozen=True)
class ResourceSpec:
    """`depends_on` and `deleted_with` name other specs of the same component. `inputs` are in the
    engine's wire form (camelCase), Azure's as well as Kubernetes'; components/registration.py gives
    Azure's to the SDK's typed args classes."""

    type: str
    name: str
    component: str
    inputs: dict[str, Any]
    protect: bool = False
    import_id: str | None = None
    depends_on: tuple[str, ...] = ()
    ignore_changes: tuple[str, ...] = ()
    replace_on_changes: tuple[str, ...] = ()
    delete_before_replace: bool = False
    retain_on_delete: bool = False
    deleted_with: str | None = None
    # The types of the components above it, outermost first: part of its URN.
    parent_types: tuple[str, ...] = ()

    def under(self, parent_types: tuple[str, ...], depends_on: tuple[str, ...]) -> ResourceSpec:
        """A copy registered under the components `parent_types`, waiting for `depends_on` as well; what
        dataclasses.replace gives, without its way through the frozen __init__ (one object.__setattr__
        per field, 5x the time; every resource of every state is copied so)."""
        copied = object.__new__(ResourceSpec)
        fields = self.__dict__.copy()
        fields["parent_types"] = parent_types
        fields["depends_on"] = (*self.depends_on, *depends_on)
        object.__setattr__(copied, "__dict__", fields)
        return copied

    @property
    def is_kubernetes(self) -> bool:
        return self.type.startswith("kubernetes:")

    @property
    def is_patch(self) -> bool:
        """Server-side apply patches own only the fields they send, on objects owned elsewhere."""
        return self.is_kubernetes and self.type.endswith("Patch")

    @property
    def provider(self) -> str:
        return KUBERNETES_PROVIDER if self.is_kubernetes else AZURE_PROVIDER

    @property
    def label(self) -> str:
        """What a reviewer calls it: `Deployment default/hello`, `DeploymentPatch web/hello` or
        `AgentPool spinpool`."""
        if self.is_kubernetes:
            return object_label(self.inputs) + (" (patch)" if self.is_patch else "")
        inputs = self.inputs
        name = inputs.get("agentPoolName") or inputs.get("ruleGroupName") or inputs.get("containerGroupName")
        name = name or self.name
        return f"{self.type.rsplit(':', 1)[-1]} {name}"


@dataclass(frozen=True)
class EntryShare:
    """The share of requests entering through one entry point (a Gateway route, a Service's cluster IP,
    load balancer or node port) that reaches new pods: a range when it depends on how pods are spread
    over nodes. `reasons` say why it differs from the weight the phase asks for; `conflict` marks an
    entry point whose requests another object takes from the migration (warned about in every phase)."""

    entry: str
    low_percent: int
    high_percent: int
    reasons: tuple[str, ...] = ()
    conflict: bool = False

    @property
    def share(self) -> str:
        if self.low_percent == self.high_percent:
            return f"{self.low_percent}%"
        return f"{self.low_percent}-{self.high_percent}%"


@dataclass(frozen=True)
class WorkloadTraffic:
    """How requests for one workload are shared in a phase: the replicas it runs, the share the phase
    asks for, and the share each entry point really gives (components/analysis/traffic.py)."""

    workload: str
    legacy_replicas: int
    new_replicas: int
    requested_percent: int  # what the phase asks for (traffic.weight in parallel)
    entry_points: tuple[EntryShare, ...] = ()


@dataclass(frozen=True)
class ComponentPlan:
    """One component the phase registers: its type token, logical name and typed args, and the
    resources (by logical name, anywhere in the phase) every one of its resources waits for."""

    type: str
    name: str
    args: Any
    depends_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class DesiredState:
    phase: str
    resources: tuple[ResourceSpec, ...]
    traffic: tuple[WorkloadTraffic, ...] = field(default=())
    # How the resources are grouped; equal states may come from configs that differ elsewhere.
    components: tuple[ComponentPlan, ...] = field(default=(), compare=False)

    def by_name(self) -> dict[str, ResourceSpec]:
        return {spec.name: spec for spec in self.resources}


def in_dependency_order(specs: list[ResourceSpec]) -> list[ResourceSpec]:
    """Stable topological order: each spec after the specs it depends on (within `specs`)."""
    names = {spec.name for spec in specs}
    placed: set[str] = set()
    ordered: list[ResourceSpec] = []
    pending = list(specs)
    while pending:
        ready = [s for s in pending if all(d in placed or d not in names for d in s.depends_on)]
        if not ready:
            raise ValueError(f"dependency cycle among {sorted(s.name for s in pending)}")
        for spec in ready:
            placed.add(spec.name)
            ordered.append(spec)
        pending = [s for s in pending if s.name not in placed]
    return ordered


def wire_object(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """An object of Azure inputs as the engine receives it: only the inputs that are set (None leaves one
    out, as the SDK's input types do: pulumi/_types.py input_type_to_dict)."""
    return {key: value for key, value in inputs.items() if value is not None}


def as_list(value: Any) -> Any:
    """A sequence input as the wire's list (an Output or None as it is)."""
    return list(value) if isinstance(value, list | tuple) else value


# An input that is another resource's output, in Pulumi YAML's interpolation syntax: `render` and the
# diff show it as it is, and registration resolves it from the resource registered under that name.
OUTPUT_REFERENCE = re.compile(r"^\$\{(?P<resource>[^.}]+)\.(?P<path>[A-Za-z0-9_.]+)\}$")


def output_reference(resource: str, path: str) -> str:
    """`${resource.path}`: the output at `path` (camelCase, dotted) of the resource `resource`."""
    return f"${{{resource}.{path}}}"


def kubernetes_type(manifest: dict[str, Any], *, patch: bool = False) -> str:
    """Pulumi's type token for a Kubernetes object, e.g. kubernetes:apps/v1:Deployment."""
    api_version = manifest["apiVersion"]
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{manifest['kind']}{'Patch' if patch else ''}"


def kubernetes_spec(
    name: str, component: str, manifest: dict[str, Any], *, patch: bool = False, **options: Any
) -> ResourceSpec:
    return ResourceSpec(kubernetes_type(manifest, patch=patch), name, component, manifest, **options)


def managed_labels(name: str, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PROJECT,
        "app.kubernetes.io/managed-by": "pulumi",
    }
