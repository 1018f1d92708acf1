"""Every name the program derives from a workload (Pulumi logical names, Kubernetes names and label
values), in one module so builders, config checks and tests apply one rule. See docs/design/naming.md."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

DNS_LABEL_MAX = 63
HASH_LENGTH = 8

# The roles of a workload's components; their resources append `-<resource role>`.
WASM = "wasm"
LEGACY = "legacy"
ROUTE = "route"
VERIFY = "verify"
STOP_GATE = "stop-gate"


def logical_name(namespace: str, name: str, role: str) -> str:
    """The Pulumi name of one of a workload's components."""
    return f"{namespace}/{name}/{role}"


def fitted(base: str, suffix: str, limit: int = DNS_LABEL_MAX) -> str:
    """`base + suffix` within `limit` characters (docs/design/naming.md); `suffix` starts with '-'."""
    whole = base + suffix
    if len(whole) <= limit:
        return whole
    digest = hashlib.sha256(whole.encode()).hexdigest()[:HASH_LENGTH]
    kept = base[: limit - len(suffix) - HASH_LENGTH - 1].rstrip("-.")
    return f"{kept}-{digest}{suffix}"


def new_app_name(app: str) -> str:
    """The new Deployment and its PodDisruptionBudget; also the new pods' instance label value."""
    return fitted(app, "-spin")


def new_service_name(legacy_service: str) -> str:
    """The new ClusterIP Service beside the legacy one."""
    return fitted(legacy_service, "-spin")


def route_name(app: str) -> str:
    """The migration's HTTPRoute."""
    return fitted(app, "-migration")


def verify_name(app: str) -> str:
    """The verification Job, its ServiceAccount, Role and RoleBinding, and its label value."""
    return fitted(app, "-verify")


def stop_gate_name(app: str) -> str:
    """The stop gate's Job, ServiceAccount, Role and RoleBinding of a workload that stops before it
    starts again."""
    return fitted(app, "-stop-gate")


def container_group_name(namespace: str, app: str, index: int) -> str:
    """One of the aci target's container groups (ACI: a DNS label of at most 63 characters)."""
    return fitted(f"{namespace}-{app}", f"-{index}")


def endpoint_slice_name(service: str) -> str:
    """The EndpointSlice that lists the container groups behind a Service."""
    return fitted(service, "-aci")


def verification_result_name(app: str) -> str:
    """The ConfigMap the verification Job writes its summary to."""
    return fitted(app, "-verification")


@dataclass(frozen=True)
class NamedObject:
    """A namespaced Kubernetes object a workload's config makes the program create or adopt."""

    kind: str
    namespace: str
    name: str
    role: str  # how a message calls it: "legacy Service", "new Deployment", ...
    source: str = "name"  # the workload's key its name comes from: `name`, or the exported `manifest`


def workload_objects(namespace: str, app: str, legacy_service: str) -> list[NamedObject]:
    """Every namespaced object of one workload, in any phase, by kind and name."""

    def made(kind: str, name: str, role: str, source: str = "name") -> NamedObject:
        return NamedObject(kind, namespace, name, role, source)

    verify = verify_name(app)
    return [
        made("Deployment", app, "legacy Deployment"),
        made("Service", legacy_service, "legacy Service", "manifest"),
        made("Deployment", new_app_name(app), "new Deployment"),
        made("PodDisruptionBudget", new_app_name(app), "new PodDisruptionBudget"),
        made("HorizontalPodAutoscaler", new_app_name(app), "new HorizontalPodAutoscaler"),
        made("Service", new_service_name(legacy_service), "new Service", "manifest"),
        made("HTTPRoute", route_name(app), "HTTPRoute"),
        made("Job", verify, "verification Job"),
        made("ServiceAccount", verify, "verification ServiceAccount"),
        made("Role", verify, "verification Role"),
        made("RoleBinding", verify, "verification RoleBinding"),
        made("ConfigMap", verification_result_name(app), "verification result ConfigMap"),
    ]


def object_clashes(workloads: Iterable[tuple[int, list[NamedObject]]]) -> list[tuple[int, str, str]]:
    """(index, source key, message) for each object an earlier workload's object already names: the
    second create would fail with AlreadyExists halfway through a phase, or two workloads would adopt one
    object."""
    owners: dict[tuple[str, str, str], tuple[int, NamedObject]] = {}
    clashes = []
    for index, objects in workloads:
        for obj in objects:
            key = (obj.kind, obj.namespace, obj.name)
            if key not in owners:
                owners[key] = (index, obj)
                continue
            first, other = owners[key]
            clashes.append(
                (
                    index,
                    obj.source,
                    f"its {obj.role} {obj.namespace}/{obj.name} is also workloads[{first}]'s {other.role}; "
                    "one cluster object cannot be both",
                )
            )
    return clashes
