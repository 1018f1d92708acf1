"""The pack's rules as pure functions over (resource type, props, options, config) that return violation
messages. Props are the engine's inputs in the provider's camelCase, plain data in which a value not
known during preview is one of pulumi-policy's sentinel strings: a rule skips what it cannot read, and
`pulumi up`, which validates again with every input resolved, decides it.

Self-contained (a pack runs from its folder alone); where it restates a fact of the migration project
(the AKS WASI classes, the default installer namespace and RuntimeClass), tests/policy holds it equal."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)

AGENT_POOL = "azure-native:containerservice:AgentPool"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
CONTAINER_GROUP = "azure-native:containerinstance:ContainerGroup"
WASM_WASI = "WasmWasi"
# The RuntimeClasses AKS created for WASI pools (restated from components/core/kubernetes.py).
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
AKS_WASI_CLASS_PATTERN = re.compile(r"^wasmtime-(spin|slight)-v[0-9-]+$")
DEFAULT_INSTALLER_NAMESPACE = "wasm-shim-system"
DEFAULT_RUNTIME_CLASS_NAME = "wasm-spin"
# containerd handlers of the Wasm shims (runwasi, containerd-wasm-shims, containerd-shim-spin).
WASM_SHIM_HANDLERS = frozenset({"spin", "slight", "wws", "lunatic", "wasmedge", "wasmtime", "wasmer"})
DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
POD_SECURITY_ENFORCE = "pod-security.kubernetes.io/enforce"
# What Pod Security's baseline level lets a container add; anything else needs a privileged namespace.
BASELINE_CAPABILITIES = frozenset(
    {
        "AUDIT_WRITE",
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "MKNOD",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    }
)
UNKNOWN_VALUES = frozenset(
    {
        UNKNOWN_ARCHIVE_VALUE,
        UNKNOWN_ARRAY_VALUE,
        UNKNOWN_ASSET_VALUE,
        UNKNOWN_BOOLEAN_VALUE,
        UNKNOWN_NUMBER_VALUE,
        UNKNOWN_OBJECT_VALUE,
        UNKNOWN_STRING_VALUE,
    }
)
# Where each pod-bearing kind of the core, apps and batch groups keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
_KUBERNETES_TYPE = re.compile(
    r"^kubernetes:(core|apps|batch|extensions)/[a-z0-9]+:(?P<kind>[A-Za-z]+?)(Patch)?$"
)
RUNTIME_CLASS = re.compile(r"^kubernetes:node\.k8s\.io/[a-z0-9]+:RuntimeClass$")
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


@dataclass(frozen=True)
class Options:
    """The resource options a rule reads (pulumi-policy's PolicyResourceOptions carries no import id)."""

    protect: bool = False
    ignore_changes: tuple[str, ...] = ()

    @property
    def adopted_read_only(self) -> bool:
        """Kept as it is: with ignore_changes `*` the engine sends an existing object none of the program's
        inputs, and protect keeps it. The pack cannot tell an import from a create with these options."""
        return self.protect and "*" in self.ignore_changes


@dataclass(frozen=True)
class Config:
    installer_namespace: str = DEFAULT_INSTALLER_NAMESPACE
    runtime_class_name: str = DEFAULT_RUNTIME_CLASS_NAME


ADOPTED = "protect=True and ignore_changes=['*']"


def is_unknown(value: Any) -> bool:
    return isinstance(value, str) and value in UNKNOWN_VALUES


def is_aks_wasi_runtime_class(name: Any) -> bool:
    return isinstance(name, str) and (
        name in AKS_WASI_RUNTIME_CLASSES or bool(AKS_WASI_CLASS_PATTERN.match(name))
    )


def at(value: Any, *path: str) -> Any:
    """The value at `path`, or None where a key is missing or a step is not a mapping (unknown too)."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> list[Any]:
    """A list's mappings; an unknown or missing list has none to check."""
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def kubernetes_kind(resource_type: str) -> tuple[str, bool] | None:
    """(kind, is a patch) of a built-in Kubernetes resource type token."""
    match = _KUBERNETES_TYPE.match(resource_type)
    return (match["kind"], resource_type.endswith("Patch")) if match else None


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    kind = kubernetes_kind(resource_type)
    path = POD_SPEC_PATHS.get(kind[0]) if kind else None
    spec = at(props, *path) if path else None
    return spec if isinstance(spec, Mapping) else None


def containers(spec: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for key in _CONTAINER_LISTS:
        yield from items(spec.get(key))


def namespace_of(props: Mapping[str, Any], provider_namespace: Any = None) -> Any:
    """metadata.namespace, else the provider's default namespace, else Kubernetes' `default`."""
    namespace = at(props, "metadata", "namespace")
    if namespace is None:
        namespace = provider_namespace
    return "default" if namespace is None or namespace == "" else namespace


def _name(props: Mapping[str, Any], fallback: str) -> str:
    name = at(props, "metadata", "name") or at(props, "agentPoolName") or at(props, "name")
    return name if isinstance(name, str) and not is_unknown(name) else fallback


# 1. No WASI pools.
def wasi_pool_violations(resource_type: str, props: Mapping[str, Any], opts: Options) -> list[str]:
    if opts.adopted_read_only:
        return []
    if resource_type == AGENT_POOL:
        pools = [props]
    elif resource_type == MANAGED_CLUSTER:
        pools = items(props.get("agentPoolProfiles"))
    else:
        return []
    return [
        f"agent pool {_name(pool, '?')!r} has workloadRuntime {WASM_WASI}: AKS refuses new WASI pools since "
        "2025-05-05 and node images since 2025-07 carry no Wasm shims. Use an OCIContainer pool with "
        f"containerd-shim-spin. Only an existing pool adopted read-only ({ADOPTED}) passes: it is kept "
        "as it is until a migration deletes it (the pack sees no import id, so these options stand for it)"
        for pool in pools
        if pool.get("workloadRuntime") == WASM_WASI
    ]


# 2. Wasm pods on the migration's RuntimeClass, never an AKS wasmtime-* one.
def wasi_runtime_class_violations(
    resource_type: str, props: Mapping[str, Any], opts: Options, config: Config
) -> list[str]:
    spec = pod_spec(resource_type, props)
    name = at(spec, "runtimeClassName")
    if spec is None or opts.adopted_read_only or not is_aks_wasi_runtime_class(name):
        return []
    return [
        f"pod template runs on the AKS WASI RuntimeClass {name!r}, whose nodes lose their shims on the next "
        f"node image: use the migration's RuntimeClass {config.runtime_class_name!r} (containerd-shim-spin). "
        f"Only a legacy workload adopted read-only ({ADOPTED}) passes, kept until decommission deletes it"
    ]


def other_wasm_class_violations(
    resources: Sequence[tuple[str, Mapping[str, Any]]], config: Config
) -> list[str]:
    """Pods on a RuntimeClass this same stack declares with a Wasm shim handler under another name than
    the migration's: a second Wasm class escapes the checks that name one. Classes declared elsewhere are
    not seen (their handler is unknown here)."""
    wasm_classes = {
        at(props, "metadata", "name")
        for resource_type, props in resources
        if RUNTIME_CLASS.match(resource_type) and props.get("handler") in WASM_SHIM_HANDLERS
    }
    violations = []
    for resource_type, props in resources:
        name = at(pod_spec(resource_type, props), "runtimeClassName")
        if isinstance(name, str) and name in wasm_classes and name != config.runtime_class_name:
            violations.append(
                f"{resource_type} {_name(props, '?')!r} runs on RuntimeClass {name!r}, whose handler is a "
                f"Wasm shim, not on the migration's {config.runtime_class_name!r}"
            )
    return violations


# 3. Every image pinned by digest.
def image_violations(resource_type: str, props: Mapping[str, Any], opts: Options) -> list[str]:
    """An object adopted read-only is exempt: the stack never applies its inputs, so the image is what
    already runs; pinning it would mean changing the live legacy object, which the migration never does."""
    if opts.adopted_read_only:
        return []
    if resource_type == CONTAINER_GROUP:
        found = [*items(props.get("containers")), *items(props.get("initContainers"))]
    else:
        spec = pod_spec(resource_type, props)
        found = list(containers(spec)) if spec is not None else []
    return [
        f"container {_name(container, '?')!r} image {container['image']!r} is not pinned by digest "
        "(@sha256:<64 hex>): a tag can move, and what the review saw is then not what runs"
        for container in found
        if isinstance(container.get("image"), str)
        and not is_unknown(container["image"])
        and not DIGEST.search(container["image"])
    ]


# 4. Privileged only in the installer's namespace.
def _privileged_pod_findings(spec: Mapping[str, Any]) -> list[str]:
    found = [key for key in ("hostPID", "hostIPC", "hostNetwork") if spec.get(key) is True]
    found += [f"hostPath volume {_name(v, '?')!r}" for v in items(spec.get("volumes")) if v.get("hostPath")]
    for container in containers(spec):
        context = container.get("securityContext")
        if at(context, "privileged") is True:
            found.append(f"privileged container {_name(container, '?')!r}")
        added = at(context, "capabilities", "add")
        extra = (
            sorted(
                c
                for c in added
                if isinstance(c, str) and c not in BASELINE_CAPABILITIES and not is_unknown(c)
            )
            if isinstance(added, list)
            else []
        )
        if extra:
            found.append(f"container {_name(container, '?')!r} adds {', '.join(extra)}")
    return found


def privilege_violations(
    resource_type: str,
    props: Mapping[str, Any],
    opts: Options,
    config: Config,
    provider_namespace: Any = None,
) -> list[str]:
    """An object adopted read-only is exempt, as for images: the stack applies none of it."""
    if opts.adopted_read_only:
        return []
    kind = kubernetes_kind(resource_type)
    if kind and kind[0] == "Namespace":
        name = at(props, "metadata", "name")
        level = at(props, "metadata", "labels", POD_SECURITY_ENFORCE)
        if level == "privileged" and name != config.installer_namespace and not is_unknown(name):
            return [
                f"namespace {name!r} is labelled {POD_SECURITY_ENFORCE}: privileged; only the shim "
                f"installer's namespace {config.installer_namespace!r} may be"
            ]
        return []
    if resource_type == CONTAINER_GROUP:
        return [
            f"container group runs privileged container {_name(c, '?')!r}: nothing privileged runs outside "
            f"the installer's namespace {config.installer_namespace!r}"
            for c in [*items(props.get("containers")), *items(props.get("initContainers"))]
            if at(c, "securityContext", "privileged") is True
        ]
    spec = pod_spec(resource_type, props)
    namespace = namespace_of(props, provider_namespace)
    if spec is None or is_unknown(namespace) or namespace == config.installer_namespace:
        return []
    return [
        f"{finding} in namespace {namespace!r}: only the shim installer's namespace "
        f"{config.installer_namespace!r} may run privileged pods"
        for finding in _privileged_pod_findings(spec)
    ]


# 5. The legacy WASI pool and Deployments protected until decommission.
def protection_violations(resource_type: str, props: Mapping[str, Any], opts: Options) -> list[str]:
    if opts.protect:
        return []
    kind = kubernetes_kind(resource_type)
    if resource_type == AGENT_POOL and props.get("workloadRuntime") == WASM_WASI:
        what = f"WASI pool {_name(props, '?')!r}"
    elif (
        kind
        and not kind[1]
        and is_aks_wasi_runtime_class(at(pod_spec(resource_type, props), "runtimeClassName"))
    ):
        what = f"{kind[0]} {_name(props, '?')!r} on an AKS WASI RuntimeClass"
    else:
        return []
    return [
        f"{what} is not protected: it serves until the migration's decommission, which removes it only "
        "after `pulumi state unprotect`; set protect=True"
    ]
