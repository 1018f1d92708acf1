"""The migration guide's first step, "evaluate your workloads", as pure functions: a cluster's read-only
export (kubectl List, `az aks nodepool list`) in; the Wasm workloads found, a readiness report and a
baseline stack config out. No file or network access here: migrate/init.py is the shell around it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from components import identifiers
from components.config import (
    AKS_WASI_RUNTIME_CLASSES,
    PROJECT,
    ConfigError,
    DnsLabel,
    Gateway,
    LegacyPool,
    Phase,
    Probe,
    ResourceQuantity,
    WorkloadName,
    parse_aks_taint,
    parse_config,
)
from components.inputs import UnsafeInput, load_yaml, load_yaml_documents
from components.legacy import (
    SPIDERLIGHTNING_CLASS,
    export_autoscaler,
    is_wasi_pod,
    serving_ports,
    unexported_autoscaler,
)
from components.selectors import service_selects
from migrate.kubectl_list import MANAGED_FIELDS, ExportedObject, ItemText, Pass, read_selected
from migrate.markdown import code, text

# Handlers of containerd Wasm shims (containerd-shim-<handler>-v1/v2); RuntimeClass handlers are often
# versioned ("spin-v2", "spin-v0-8-0"), so the part before the first '-' or '_' is compared.
WASM_SHIM_HANDLERS = frozenset({"spin", "slight", "wasmtime", "wasmedge", "wws", "lunatic", "wasmer", "wamr"})
KRUSTLET_ARCHES = frozenset({"wasm32-wagi", "wasm32-wasi"})
ARCH_LABEL = "kubernetes.io/arch"
WASI_LABEL_PREFIX = "kubernetes.azure.com/wasmtime-"
AGENTPOOL_LABELS = ("kubernetes.azure.com/agentpool", "agentpool")
WASM_ANNOTATION_PREFIXES = ("module.wasm.image/", "wasm.", "wasi.", "kubernetes.azure.com/wasm")
# The shims behind the AKS classes and the Spin each embeds: containerd-shim-spin's README (v0.15.1 -> Spin
# 2.6.0, v0.24.0 -> 3.6.3, the target) and deislabs/containerd-wasm-shims' README table (v0.8 -> Spin
# 1.4.0, v0.5.1 -> 1.0.0; v0.3.0 predates the table and Spin 1.0).
READY_CLASSES = {"wasmtime-spin-v2": "v0.15.1 (Spin 2.6)", "wasmtime-spin-v0-15-1": "v0.15.1 (Spin 2.6)"}
OLD_SPIN_CLASSES = {
    "wasmtime-spin-v1": "v0.8.0 (Spin 1.4)",
    "wasmtime-spin-v0-8-0": "v0.8.0 (Spin 1.4)",
    "wasmtime-spin-v0-5-1": "v0.5.1 (Spin 1.0)",
    "wasmtime-spin-v0-3-0": "v0.3.0 (Spin 0.x)",
}
TARGET_SHIM = "containerd-shim-spin v0.24.0 (Spin 3.6.3)"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod")
# Proposed when the export declares none: the AKS WASI documentation's example app (100m / 128Mi).
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
# Share of a node's vCPUs and memory left for pods after AKS's kube-reserved, eviction threshold and
# system DaemonSets (including the shim installer); an estimate, stated in the report.
ALLOCATABLE_SHARE = 0.7
# GiB per vCPU of common Azure VM families (Dv3+/Dsv4/Dsv5/Dasv5: 4, Ev*: 8, Fsv2: 2, B2s: 2, DSv2: 3.5).
GIB_PER_VCPU = {"D": 4.0, "DS": 3.5, "E": 8.0, "F": 2.0, "B": 2.0, "A": 2.0}
TARGET_POOL_BASE_NAME = "spinpool"
MIN_TARGET_NODES = 2

_VM_SIZE = re.compile(r"^Standard_([A-Z]+?)(\d+)")
_NAMESPACE = TypeAdapter(DnsLabel)
_WORKLOAD_NAME = TypeAdapter(WorkloadName)
_QUANTITY = TypeAdapter(ResourceQuantity)


class InventoryError(Exception):
    """Input that cannot be inventoried; one line that says what is wrong and what is expected."""


# ---------------------------------------------------------------------------------------------------
# Reading the inputs


ITEMS_MESSAGE = "a kubectl List needs `items`, each an object with kind and metadata"


def read_export(text: str, source: str, pools: list[WasiPool] | None = None) -> list[dict[str, Any]]:
    """The items of a `kubectl get ... -A -o yaml` List. Given the WASI pools and kubectl's layout, only
    what the inventory can use is parsed (migrate/kubectl_list.py): RuntimeClasses and the objects in
    front of workloads; workloads whose text names a Wasm RuntimeClass, a wasmtime-* label, a WASI pool or
    one of its taints, or a Krustlet arch (every signal wasm_signals looks for); and Services whose text
    holds a pod label value of those workloads. The rest is cut out by lines and never parsed, so a
    syntax error inside an object that cannot matter goes unnoticed."""
    try:
        selected = read_selected(text, _passes(pools)) if pools is not None else None
        if selected is not None:
            envelope, parsed = selected
            documents: list[Any] = [{**envelope, "items": parsed}]
        else:
            documents = [d for d in load_yaml_documents(text) if d is not None]
    except UnsafeInput as error:
        raise InventoryError(f"{source}: {error}") from None
    except ValueError:
        raise InventoryError(f"{source}: {ITEMS_MESSAGE}") from None
    document = documents[0] if len(documents) == 1 else None
    if not isinstance(document, dict) or document.get("kind") != "List":
        raise InventoryError(
            f"{source}: not a kubectl List; produce it with `kubectl get deployments,statefulsets,daemonsets,"
            "cronjobs,jobs,pods,services,hpa,pdb,ingresses,httproutes,runtimeclasses -A -o yaml`"
        )
    items = document.get("items")
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("kind"), str)
        and isinstance(item.get("metadata"), dict)
        for item in items
    ):
        raise InventoryError(f"{source}: {ITEMS_MESSAGE}")
    return items


NEIGHBOUR_KINDS = frozenset(
    {"RuntimeClass", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "HTTPRoute"}
)
_LABEL_TOKEN = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")


def _passes(pools: list[WasiPool] | None) -> list[Pass]:
    def neighbours(_: list[ExportedObject]) -> Callable[[ItemText], bool]:
        return lambda item: item.kind is None or item.kind in NEIGHBOUR_KINDS

    def workloads(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        hints = (
            "wasmtime-",
            *KRUSTLET_ARCHES,
            *wasm_runtime_classes(parsed),
            *(pool.name for pool in pools or []),
            *(taint["key"] for pool in pools or [] for taint in pool.taints),
        )
        return lambda item: (
            item.kind in WORKLOAD_KINDS
            and not (item.kind in ("Pod", "Job") and item.owned)
            and any(hint in item.text for hint in hints)
        )

    def services(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        values = {
            str(value)
            for obj in parsed
            if obj.get("kind") == "Deployment"
            for value in ((pod_template(obj).get("metadata") or {}).get("labels") or {}).values()
        }
        return lambda item: item.kind == "Service" and not values.isdisjoint(_LABEL_TOKEN.findall(item.text))

    return [neighbours, workloads, services]


def read_node_pools(text: str, source: str) -> list[dict[str, Any]]:
    """The pools of `az aks nodepool list -o json`."""
    try:
        pools = json.loads(text)
    except json.JSONDecodeError as error:
        raise InventoryError(f"{source}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(pools, list) or not all(
        isinstance(pool, dict) and isinstance(pool.get("name"), str) for pool in pools
    ):
        raise InventoryError(f"{source}: not the output of `az aks nodepool list -o json` (a list of pools)")
    return pools


@dataclass(frozen=True)
class ClusterRef:
    subscription_id: str
    resource_group: str
    name: str


def parse_cluster(value: str) -> ClusterRef:
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise InventoryError(f"--cluster {value!r}: expected SUBSCRIPTION/RESOURCE_GROUP/NAME")
    return ClusterRef(*parts)


@dataclass(frozen=True)
class WasiPool:
    name: str
    pool: dict[str, Any]
    taints: tuple[dict[str, str], ...]


def wasi_pools(pools: list[dict[str, Any]], source: str) -> list[WasiPool]:
    found = [
        WasiPool(p["name"], p, tuple(parse_aks_taint(t) for t in p.get("nodeTaints") or []))
        for p in sorted(pools, key=lambda p: p["name"])
        if p.get("workloadRuntime") == "WasmWasi"
    ]
    if not found:
        names = ", ".join(f"{p['name']} ({p.get('workloadRuntime') or 'OCIContainer'})" for p in pools)
        raise InventoryError(f"{source}: no pool with workloadRuntime WasmWasi (pools: {names or 'none'})")
    return found


# ---------------------------------------------------------------------------------------------------
# Finding Wasm workloads


def _meta(obj: dict[str, Any]) -> tuple[str, str]:
    metadata = obj.get("metadata") or {}
    return str(metadata.get("namespace") or "default"), str(metadata.get("name") or "")


def pod_template(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod template (metadata and spec) of any workload kind; a bare Pod is its own template."""
    if obj.get("kind") == "Pod":
        return obj
    spec = obj.get("spec") or {}
    if obj.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    template = spec.get("template")
    return template if isinstance(template, dict) else {}


def wasm_runtime_classes(objects: Iterable[dict[str, Any]]) -> dict[str, str]:
    """RuntimeClass name -> handler, for the AKS classes and every class in the export with a Wasm shim."""
    classes = {name: name.split("-")[1] for name in AKS_WASI_RUNTIME_CLASSES}
    for obj in objects:
        if obj.get("kind") == "RuntimeClass":
            handler = str(obj.get("handler") or "")
            if re.split(r"[-_]", handler)[0] in WASM_SHIM_HANDLERS:
                classes[_meta(obj)[1]] = handler
    return classes


def _node_terms(pod: dict[str, Any]) -> list[dict[str, Any]]:
    node = (pod.get("affinity") or {}).get("nodeAffinity") or {}
    required = (node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")
    preferred = [
        p.get("preference") or {} for p in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    ]
    return [t for t in (required or []) + preferred if isinstance(t, dict)]


@dataclass(frozen=True)
class Signals:
    """Why a pod counts as Wasm, and which WASI pools it names (by pool name or taint)."""

    reasons: tuple[str, ...]
    pinned_pools: frozenset[str]
    krustlet: bool


def wasm_signals(pod: dict[str, Any], pools: list[WasiPool], classes: dict[str, str]) -> Signals:
    reasons: list[str] = []
    pinned: set[str] = set()
    krustlet = False
    names = {pool.name for pool in pools}
    runtime_class = pod.get("runtimeClassName")
    if isinstance(runtime_class, str) and (runtime_class.startswith("wasmtime-") or runtime_class in classes):
        handler = classes.get(runtime_class)
        reasons.append(f"runtimeClassName {runtime_class}" + (f" (handler {handler})" if handler else ""))
    for key, value in (pod.get("nodeSelector") or {}).items():
        if key.startswith(WASI_LABEL_PREFIX):
            reasons.append(f"nodeSelector {key}={value}")
        elif key in AGENTPOOL_LABELS and value in names:
            reasons.append(f"nodeSelector {key}={value} (WASI pool)")
            pinned.add(value)
        elif key == ARCH_LABEL and value in KRUSTLET_ARCHES:
            reasons.append(f"nodeSelector {key}={value} (Krustlet)")
            krustlet = True
    for term in _node_terms(pod):
        for expression in term.get("matchExpressions") or []:
            key, values = expression.get("key") or "", list(expression.get("values") or [])
            if key.startswith(WASI_LABEL_PREFIX):
                reasons.append(f"node affinity on {key}")
            elif key in AGENTPOOL_LABELS and names & set(values) and expression.get("operator") == "In":
                reasons.append(f"node affinity {key} in {', '.join(sorted(names & set(values)))} (WASI pool)")
                pinned.update(names & set(values))
            elif key == ARCH_LABEL and KRUSTLET_ARCHES & set(values) and expression.get("operator") == "In":
                reasons.append(f"node affinity {key} in {', '.join(sorted(KRUSTLET_ARCHES & set(values)))}")
                krustlet = True
    for toleration in pod.get("tolerations") or []:
        key = toleration.get("key")
        if key == ARCH_LABEL and toleration.get("value") in KRUSTLET_ARCHES:
            reasons.append(f"toleration {key}={toleration.get('value')} (Krustlet)")
            krustlet = True
            continue
        for pool in pools:  # a key-less `Exists` tolerates every taint: that says nothing about WASI
            if key and any(_tolerates(toleration, taint) for taint in pool.taints):
                reasons.append(f"toleration for WASI pool {pool.name}'s taint {key}")
    return Signals(tuple(dict.fromkeys(reasons)), frozenset(pinned), krustlet)


def _tolerates(toleration: dict[str, Any], taint: dict[str, str]) -> bool:
    if toleration.get("key") != taint["key"] or toleration.get("effect") not in (None, "", taint["effect"]):
        return False
    return toleration.get("operator") == "Exists" or toleration.get("value", "") == taint["value"]


# ---------------------------------------------------------------------------------------------------
# Quantities and sizing


def vm_capacity(vm_size: str) -> tuple[int, float] | None:
    """(vCPUs, GiB) read from an Azure VM size name such as Standard_D4s_v5; None for unknown families."""
    match = _VM_SIZE.match(vm_size)
    if not match or match.group(1) not in GIB_PER_VCPU:
        return None
    vcpus = int(match.group(2))
    return vcpus, vcpus * GIB_PER_VCPU[match.group(1)]


# ---------------------------------------------------------------------------------------------------
# Per-workload analysis


@dataclass
class WorkloadFinding:
    """One Wasm workload: what it is, whether it moves with this stack, and what a person should know."""

    kind: str
    namespace: str
    name: str
    wasi_pool: str
    signals: tuple[str, ...]
    runtime_class: str | None
    classification: str = ""
    migrated: bool = False
    reason: str = ""
    manifest: str | None = None
    service: str | None = None
    blocking: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    proposed: dict[str, Any] = field(default_factory=dict)
    # For migrated Deployments: the config entry, the exported objects and the replicas to size for.
    entry: dict[str, Any] = field(default_factory=dict)
    objects: tuple[dict[str, Any], ...] = ()
    autoscalers: list[dict[str, Any]] = field(default_factory=list)
    peak_replicas: int = 1

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "wasiPool": self.wasi_pool,
            "runtimeClass": self.runtime_class,
            "signals": list(self.signals),
            "classification": self.classification,
            "migrated": self.migrated,
            "reason": self.reason or None,
            "manifest": self.manifest,
            "service": self.service,
            "blocking": self.blocking,
            "notes": self.notes,
            "proposed": self.proposed,
        }


_NOT_MIGRATED = {
    "StatefulSet": "StatefulSets keep stable identities and volume claims, which the side-by-side move of a "
    "Deployment cannot carry; after `prepare`, redeploy it with runtimeClassName {runtime_class}",
    "DaemonSet": "a DaemonSet runs on every WASI node; after `prepare`, point it at runtimeClassName "
    "{runtime_class} (it then runs on the shim pool's nodes)",
    "Job": "a Job runs to completion and is not moved side by side; after `prepare`, run new Jobs with "
    "runtimeClassName {runtime_class}",
    "CronJob": "a CronJob is not moved side by side; after `prepare`, set runtimeClassName {runtime_class} "
    "in its jobTemplate so the next runs use the shim pool",
    "Pod": "a bare Pod (no ownerReferences): nothing re-creates it, so the next reimage of its WASI node "
    "loses it for good; recreate it as a Deployment with a Service and run init again",
}


def classify(finding: WorkloadFinding, classes: dict[str, str]) -> None:
    runtime_class = finding.runtime_class or ""
    handler = classes.get(runtime_class, "")
    if runtime_class in READY_CLASSES:
        finding.classification = "ready"
        finding.notes.append(
            f"Spin on {runtime_class} (shim {READY_CLASSES[runtime_class]}): runs unchanged on {TARGET_SHIM}"
        )
    elif runtime_class in OLD_SPIN_CLASSES:
        finding.classification = "rebuild recommended"
        finding.notes.append(
            f"built for {runtime_class} (shim {OLD_SPIN_CLASSES[runtime_class]}); the target runs "
            f"{TARGET_SHIM}. The app was compiled against an older Spin SDK and host interfaces and was "
            "never tested on Spin 3: rebuild it with the current Spin SDK (manifest "
            "`spin_manifest_version = 2`), test it, and set `image:` to the rebuild"
        )
    elif runtime_class == SPIDERLIGHTNING_CLASS or handler.startswith("slight"):
        finding.classification = "rewrite required"
        finding.notes.append(
            "SpiderLightning (slight) is deprecated upstream since 2024-01-01 and has no successor shim: "
            "nothing on the target runs it, so the app needs a rewrite for Spin"
        )
    elif any("Krustlet" in signal for signal in finding.signals):
        finding.classification = "rewrite required"
    else:
        finding.classification = "decision needed"


def _container_notes(finding: WorkloadFinding, pod: dict[str, Any], annotations: dict[str, Any]) -> None:
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
    if len(containers) > 1:
        finding.blocking.append(
            f"{len(containers)} containers "
            f"({', '.join(str(c.get('name')) for c in containers)}): a Spin pod runs "
            "exactly one Wasm container; move the sidecars' work elsewhere (or into the app) and export "
            "the Deployment again; until then `check` fails on this workload's manifest"
        )
    if pod.get("initContainers"):
        finding.notes.append(
            "init containers: runtimeClassName applies to the whole pod, so they start under the Spin "
            "shim too; confirm they run there"
        )
    volumes = pod.get("volumes") or []
    host_paths = [v.get("name") for v in volumes if isinstance(v, dict) and "hostPath" in v]
    if host_paths:
        finding.notes.append(
            f"hostPath volumes ({', '.join(map(str, host_paths))}): the target nodes' paths differ and Pod "
            "Security baseline / AKS Deployment Safeguards reject hostPath; replace them"
        )
    other = [v.get("name") for v in volumes if isinstance(v, dict) and "hostPath" not in v]
    if other:
        finding.notes.append(
            f"volumes ({', '.join(map(str, other))}): a Spin component sees only the files its "
            "manifest grants, so a mounted volume is invisible unless the app maps that path; confirm "
            "how the app uses it"
        )
    security = _security_assumptions(pod, containers)
    if security:
        finding.notes.append(
            f"securityContext relied on the WASI sandbox ({'; '.join(security)}): under the shim the pod is "
            "an ordinary pod to admission control (Pod Security, Safeguards); drop what the "
            "module never needed"
        )
    wasm_annotations = sorted(k for k in annotations if k.startswith(WASM_ANNOTATION_PREFIXES))
    if wasm_annotations:
        finding.notes.append(
            f"WASI annotations ({', '.join(wasm_annotations)}) are dropped from the new pods: "
            "they only meant something to the WASI pool"
        )


def _security_assumptions(pod: dict[str, Any], containers: list[dict[str, Any]]) -> list[str]:
    found = [f"{key}: true" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    pod_context = pod.get("securityContext") or {}
    if pod_context.get("runAsUser") == 0:
        found.append("pod runAsUser: 0")
    for container in containers:
        context = container.get("securityContext") or {}
        name = container.get("name")
        if context.get("privileged"):
            found.append(f"{name}: privileged")
        if context.get("allowPrivilegeEscalation"):
            found.append(f"{name}: allowPrivilegeEscalation")
        if context.get("runAsUser") == 0:
            found.append(f"{name}: runAsUser 0")
        if (context.get("capabilities") or {}).get("add"):
            found.append(f"{name}: capabilities.add {context['capabilities']['add']}")
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{name}: seccomp Unconfined")
    return found


def _resources(finding: WorkloadFinding, container: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Requests and limits for the config, from the export, with proposals where it has none."""
    declared = container.get("resources") or {}
    requests = dict(declared.get("requests") or {})
    limits = dict(declared.get("limits") or {})
    result: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
    proposed = []
    for resource in ("cpu", "memory"):
        request = _valid_quantity(requests.get(resource))
        limit = _valid_quantity(limits.get(resource))
        if request is None:
            request = limit or DEFAULT_REQUESTS[resource]
            proposed.append(f"requests.{resource} {request}")
        if limit is None:
            limit = request
            proposed.append(f"limits.{resource} {limit}")
        result["requests"][resource], result["limits"][resource] = request, limit
    if proposed:
        finding.notes.append(
            f"no resource {'requests' if any(p.startswith('requests') for p in proposed) else 'limits'} "
            f"in the export; proposed {', '.join(proposed)} (from the limits where set, else the AKS "
            "example's 100m/128Mi): measure and adjust"
        )
        finding.proposed["resources"] = result
    return result


def _valid_quantity(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _QUANTITY.validate_python(str(value))
    except ValidationError:
        return None


def _probe(finding: WorkloadFinding, container: dict[str, Any]) -> dict[str, Any] | None:
    for kind in ("readinessProbe", "livenessProbe"):
        http = (container.get(kind) or {}).get("httpGet") or {}
        if isinstance(http.get("path"), str) and http["path"].startswith("/"):
            probe: dict[str, Any] = {"path": http["path"]}
            port = http.get("port")
            if isinstance(port, str):
                port = next(
                    (p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port),
                    None,
                )
            if isinstance(port, int) and 1 <= port <= 65535:
                probe["port"] = port
            try:
                Probe.model_validate(probe)
            except ValidationError:
                finding.notes.append(
                    f"the export's probe path {http['path']!r} is not one the config accepts"
                )
                break
            return probe
    finding.blocking.append(
        "no HTTP readiness or liveness probe in the export: set `probe.path` to a route the app serves "
        "(a Spin app answers only the routes in its spin.toml, so a guessed / may be 404 and the new pods "
        "never get Ready); until then `check` fails on this workload's `probe.path`"
    )
    return None


def _label_selector_matches(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    match_labels = selector.get("matchLabels") or {}
    if not match_labels and not selector.get("matchExpressions"):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = (
            expression.get("key"),
            expression.get("operator"),
            expression.get("values") or [],
        )
        if (operator == "In" and labels.get(key) not in values) or (
            operator == "NotIn" and labels.get(key) in values
        ):
            return False
        if (operator == "Exists" and key not in labels) or (operator == "DoesNotExist" and key in labels):
            return False
    return all(labels.get(k) == v for k, v in match_labels.items())


@dataclass(frozen=True)
class Index:
    """The export's objects by namespace and kind, and Services by one of their selector labels, so each
    workload's neighbours are found without scanning the whole namespace."""

    by_namespace: dict[tuple[str, str], list[dict[str, Any]]]
    services_by_label: dict[tuple[str, str, str], list[tuple[int, dict[str, Any]]]]
    routes_by_backend: dict[tuple[str, str], list[dict[str, Any]]]

    @classmethod
    def of(cls, objects: list[dict[str, Any]]) -> Index:
        by_namespace: dict[tuple[str, str], list[dict[str, Any]]] = {}
        routes: dict[tuple[str, str], list[dict[str, Any]]] = {}
        services: dict[tuple[str, str, str], list[tuple[int, dict[str, Any]]]] = {}
        for position, obj in enumerate(objects):
            namespace = _meta(obj)[0]
            by_namespace.setdefault((namespace, str(obj.get("kind"))), []).append(obj)
            if obj.get("kind") == "HTTPRoute":
                backends = {
                    str(ref.get("name"))
                    for rule in (obj.get("spec") or {}).get("rules") or []
                    for ref in rule.get("backendRefs") or []
                }
                for backend in sorted(backends):
                    routes.setdefault((namespace, backend), []).append(obj)
            selector = (obj.get("spec") or {}).get("selector") if obj.get("kind") == "Service" else None
            if isinstance(selector, dict) and selector:
                key, value = min(selector.items(), key=lambda pair: str(pair))
                services.setdefault((namespace, str(key), str(value)), []).append((position, obj))
        return cls(by_namespace, services, routes)

    def get(self, namespace: str, kind: str) -> list[dict[str, Any]]:
        return self.by_namespace.get((namespace, kind), [])

    def services_selecting(self, namespace: str, labels: dict[str, Any]) -> list[dict[str, Any]]:
        """Services whose non-empty selector the labels satisfy, in export order."""
        candidates = sorted(
            (
                entry
                for key, value in labels.items()
                for entry in self.services_by_label.get((namespace, str(key), str(value)), [])
            ),
            key=lambda entry: entry[0],
        )
        return [
            s for _, s in candidates if service_selects((s.get("spec") or {}).get("selector") or {}, labels)
        ]


def _neighbour_notes(
    finding: WorkloadFinding, deployment: dict[str, Any], service: dict[str, Any], index: Index
) -> dict[str, Any] | None:
    """HPA, PDB, Ingress and HTTPRoute notes; returns the proposed `gateway:` from an HTTPRoute."""
    namespace, name = finding.namespace, finding.name
    labels = (pod_template(deployment).get("metadata") or {}).get("labels") or {}
    service_name = _meta(service)[1]
    for hpa in index.get(namespace, "HorizontalPodAutoscaler"):
        target = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if target.get("kind") == "Deployment" and target.get("name") == name:
            spec = hpa["spec"]
            finding.peak_replicas = max(finding.peak_replicas, int(spec.get("maxReplicas") or 1))
            finding.autoscalers.append(hpa)
            finding.notes.append(
                f"HPA {_meta(hpa)[1]} scales the legacy Deployment ({spec.get('minReplicas', 1)}-"
                f"{spec.get('maxReplicas')}); it is written into the legacy export so that `check` sees it, "
                f"and the target pool is sized for maxReplicas. The new Deployment {name}-spin gets no "
                "autoscaler from the migration: create one for it after cutover"
            )
    for pdb in index.get(namespace, "PodDisruptionBudget"):
        if _label_selector_matches((pdb.get("spec") or {}).get("selector") or {}, labels):
            finding.notes.append(
                f"PDB {_meta(pdb)[1]} selects the legacy pods; it does not cover the new pods unless its "
                "selector matches their labels (the Service's selector labels, from parallel on); the "
                "migration adds its own PDB for the new Deployment"
            )
    for ingress in index.get(namespace, "Ingress"):
        if service_name in _ingress_services(ingress):
            finding.notes.append(
                f"Ingress {_meta(ingress)[1]} routes to Service {service_name}: the Service "
                "keeps its name and "
                "address and selects the new pods from cutover on, so the Ingress needs no change"
            )
    gateway = None
    for route in index.routes_by_backend.get((namespace, service_name), []):
        proposal = _gateway_from_route(route, service_name, namespace)
        if proposal is None:
            continue
        finding.notes.append(
            f"HTTPRoute {_meta(route)[1]} routes to Service {service_name}: proposed `gateway:` from its "
            f"parentRefs, hostnames and path, for an exact weighted split. The migration adds its own "
            f"HTTPRoute {name}-migration for the same hostnames and path; Gateway API gives a conflicting "
            f"match to the oldest route, so narrow or remove {_meta(route)[1]} before `parallel`"
        )
        if gateway is None:
            gateway = proposal
    return gateway


def _ingress_services(ingress: dict[str, Any]) -> set[str]:
    spec = ingress.get("spec") or {}
    backends = [spec.get("defaultBackend") or {}]
    for rule in spec.get("rules") or []:
        backends += [p.get("backend") or {} for p in (rule.get("http") or {}).get("paths") or []]
    return {str((b.get("service") or {}).get("name")) for b in backends if b.get("service")}


def _gateway_from_route(route: dict[str, Any], service_name: str, namespace: str) -> dict[str, Any] | None:
    spec = route.get("spec") or {}
    rules = [
        rule
        for rule in spec.get("rules") or []
        if any(
            ref.get("name") == service_name and ref.get("kind", "Service") == "Service"
            for ref in rule.get("backendRefs") or []
        )
    ]
    parents = spec.get("parentRefs") or []
    if not rules or not parents:
        return None
    parent = parents[0]
    gateway: dict[str, Any] = {"name": parent.get("name"), "namespace": parent.get("namespace") or namespace}
    if parent.get("sectionName"):
        gateway["sectionName"] = parent["sectionName"]
    if spec.get("hostnames"):
        gateway["hostnames"] = list(spec["hostnames"])
    path = next(
        (
            (match.get("path") or {}).get("value")
            for match in rules[0].get("matches") or []
            if (match.get("path") or {}).get("type", "PathPrefix") == "PathPrefix"
        ),
        None,
    )
    if path:
        gateway["pathPrefix"] = path
    try:
        Gateway.model_validate(gateway)
    except ValidationError:
        return None
    return gateway


def _with_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with its managedFields: the selective read drops them, so where the printed text shows
    a manager writing through the scale subresource (an autoscaler) that section is read again."""
    text = getattr(obj, "source_text", None)
    match = MANAGED_FIELDS.search(text) if text and "subresource: scale" in text else None
    if match is None:
        return obj
    section = load_yaml(match.group(0))
    return {**obj, "metadata": {**obj["metadata"], **section}}


def _selecting_services(deployment: dict[str, Any], index: Index, namespace: str) -> list[dict[str, Any]]:
    labels = (pod_template(deployment).get("metadata") or {}).get("labels") or {}
    found = index.services_selecting(namespace, labels)
    return [s for s in found if (s.get("spec") or {}).get("ports")]


# ---------------------------------------------------------------------------------------------------
# The whole inventory


@dataclass(frozen=True)
class Inventory:
    config: dict[str, Any]
    exports: dict[str, dict[str, Any]]
    report: dict[str, Any]


def _legacy_pool_config(pool: WasiPool) -> dict[str, Any]:
    """The WASI pool as the config knows it: adopted read-only, so its name identifies it, and its labels
    and taints tell the scheduling proof where legacy pods may run; AKS keeps everything else."""
    config: dict[str, Any] = {"name": pool.name}
    if pool.pool.get("nodeLabels"):
        config["nodeLabels"] = dict(pool.pool["nodeLabels"])
    if pool.taints:
        config["nodeTaints"] = [
            {k: v for k, v in taint.items() if v or k != "value"} for taint in pool.taints
        ]
    try:
        LegacyPool.model_validate(config)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InventoryError(
            f"WASI pool {pool.name}: the config model cannot describe legacyPool.{where} "
            f"({first['msg']}; got {first.get('input')!r})"
        ) from None
    return config


def _kubernetes_version(pools: list[dict[str, Any]]) -> str | None:
    """The highest minor any pool runs: nodes are never newer than the control plane."""
    minors = []
    for pool in pools:
        match = re.match(
            r"^1\.([0-9]+)",
            str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or ""),
        )
        if match:
            minors.append(int(match.group(1)))
    return f"1.{max(minors)}" if minors else None


def _target_pool(
    legacy: WasiPool,
    all_pools: list[dict[str, Any]],
    migrated: list[WorkloadFinding],
    requests: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A proposed OCIContainer pool: the legacy VM size and zones, enough nodes for the workloads'
    requests at their peak replicas, never fewer than the legacy pool had."""
    taken = {pool["name"] for pool in all_pools}
    name = next(
        candidate
        for candidate in [TARGET_POOL_BASE_NAME, *(f"{TARGET_POOL_BASE_NAME}{i}" for i in range(2, 100))]
        if candidate not in taken
    )
    source = legacy.pool
    vm_size = str(source.get("vmSize"))
    cpu = sum(requests[f.key]["cpu"] * f.peak_replicas for f in migrated)
    memory_gib = sum(requests[f.key]["memory"] * f.peak_replicas for f in migrated) / 2**30
    capacity = vm_capacity(vm_size)
    legacy_nodes = int(source.get("count") or 0)
    sizing: dict[str, Any] = {
        "vmSize": vm_size,
        "requestedCpu": round(cpu, 3),
        "requestedMemoryGiB": round(memory_gib, 3),
        "legacyNodes": legacy_nodes,
        "allocatableShare": ALLOCATABLE_SHARE,
    }
    if capacity:
        vcpus, gib = capacity
        needed = math.ceil(max(cpu / (vcpus * ALLOCATABLE_SHARE), memory_gib / (gib * ALLOCATABLE_SHARE)))
        sizing.update(nodeVcpus=vcpus, nodeMemoryGiB=gib, nodesForRequests=needed)
    else:
        needed = 0
        sizing["nodesForRequests"] = None
    count = max(MIN_TARGET_NODES, needed, legacy_nodes)
    legacy_max = int(source.get("maxCount") or 0) if source.get("enableAutoScaling") else 0
    pool: dict[str, Any] = {
        "name": name,
        "vmSize": vm_size,
        "osSku": "AzureLinux",
        "count": count,
        "autoscaling": {"minCount": count, "maxCount": max(2 * count, legacy_max)},
    }
    if source.get("availabilityZones"):
        pool["zones"] = [str(zone) for zone in source["availabilityZones"]]
    if source.get("maxPods"):
        pool["maxPods"] = source["maxPods"]
    pool["maxSurge"] = "33%"
    sizing["count"] = count
    return pool, sizing


def _export_list(objects: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(objects)}


def _valid_names(finding: WorkloadFinding) -> bool:
    try:
        _WORKLOAD_NAME.validate_python(finding.name)
        _NAMESPACE.validate_python(finding.namespace)
    except ValidationError:
        return False
    return True


def build_inventory(
    objects: list[dict[str, Any]],
    node_pools: list[dict[str, Any]],
    cluster: ClusterRef,
    stack: str,
    legacy_pool: str | None = None,
    sources: dict[str, str] | None = None,
) -> Inventory:
    """Every Wasm workload of the export, the stack config that migrates those on `legacy_pool` (default:
    the first WASI pool by name, which also takes the workloads not pinned to any one WASI pool) and the
    report. Raises InventoryError when there is nothing to migrate."""
    pools = wasi_pools(node_pools, (sources or {}).get("nodePools", "node pools"))
    by_name = {pool.name: pool for pool in pools}
    if legacy_pool is not None and legacy_pool not in by_name:
        raise InventoryError(
            f"--legacy-pool {legacy_pool}: not a WASI pool (WASI pools: {', '.join(by_name)})"
        )
    chosen = by_name[legacy_pool] if legacy_pool else pools[0]
    classes = wasm_runtime_classes(objects)
    index = Index.of(objects)
    legacy_config = _legacy_pool_config(chosen)

    findings: list[WorkloadFinding] = []
    for obj in objects:
        kind = obj.get("kind")
        if kind not in WORKLOAD_KINDS or (
            kind in ("Pod", "Job") and (obj["metadata"].get("ownerReferences"))
        ):
            continue
        template = pod_template(obj)
        spec = template.get("spec")
        pod: dict[str, Any] = spec if isinstance(spec, dict) else {}
        signals = wasm_signals(pod, pools, classes)
        if not signals.reasons:
            continue
        namespace, name = _meta(obj)
        pinned = sorted(signals.pinned_pools)
        finding = WorkloadFinding(
            str(kind),
            namespace,
            name,
            pinned[0] if pinned else pools[0].name,
            signals.reasons,
            pod.get("runtimeClassName"),
        )
        findings.append(finding)
        classify(finding, classes)
        _decide(finding, obj, pod, template, signals, chosen, index, classes)

    if not findings:
        raise InventoryError(
            "the export holds no Wasm workload (no wasmtime-*/Wasm RuntimeClass, WASI node selector, "
            f"affinity or toleration, or Krustlet arch); WASI pools: {', '.join(by_name)}"
        )
    migrated = [f for f in findings if f.migrated]
    requests = {
        f.key: {
            "cpu": float(identifiers.quantity_value(f.entry["resources"]["requests"]["cpu"])),
            "memory": float(identifiers.quantity_value(f.entry["resources"]["requests"]["memory"])),
        }
        for f in migrated
    }
    target, sizing = _target_pool(chosen, node_pools, migrated, requests)
    cluster_config = {
        "subscriptionId": cluster.subscription_id,
        "resourceGroup": cluster.resource_group,
        "name": cluster.name,
    }
    version = _kubernetes_version(node_pools)
    if version:
        cluster_config["kubernetesVersion"] = version
    workloads = [f.entry for f in migrated]
    config = {
        "phase": Phase.BASELINE.value,
        "cluster": cluster_config,
        "legacyPools": [legacy_config],
        "targetPools": [target],
        "workloads": workloads,
        # Where alerts go is the cluster owner's choice (an Azure Monitor workspace and action group, or
        # prometheus-operator); the report asks for it. Off until then, and said so.
        "alerts": {"mode": "off"},
    }
    try:
        parse_config(config)
    except ConfigError as error:  # inputs that passed every per-field check but not the whole model
        raise InventoryError(f"the generated config is invalid: {error.problems[0]}") from None
    exports = {str(f.manifest): _export_list(f.objects) for f in migrated}
    report = {
        "stack": stack,
        "stackFile": f"stacks/Pulumi.{stack}.yaml",
        "cluster": cluster_config,
        "sources": sources or {},
        "wasiPools": [
            {
                "name": pool.name,
                "vmSize": pool.pool.get("vmSize"),
                "count": pool.pool.get("count"),
                "nodeTaints": list(pool.pool.get("nodeTaints") or []),
                "inThisStack": pool is chosen,
                "workloads": sorted(f"{f.kind} {f.key}" for f in findings if f.wasi_pool == pool.name),
            }
            for pool in pools
        ],
        "legacyPool": chosen.name,
        "targetPool": {**target, "sizing": sizing},
        "workloads": [f.as_dict() for f in findings],
        "summary": {
            "wasmWorkloads": len(findings),
            "migrated": len(migrated),
            "notMigrated": len(findings) - len(migrated),
            "blocking": sum(len(f.blocking) for f in findings if f.migrated),
            **{
                c: sum(f.classification == c for f in migrated)
                for c in ("ready", "rebuild recommended", "rewrite required")
            },
        },
    }
    return Inventory(config, exports, report)


def _decide(
    finding: WorkloadFinding,
    obj: dict[str, Any],
    pod: dict[str, Any],
    template: dict[str, Any],
    signals: Signals,
    chosen: WasiPool,
    index: Index,
    classes: dict[str, str],
) -> None:
    """Whether this stack migrates the workload, and if not, why."""
    runtime_class = finding.runtime_class
    target_class = "wasm-spin"
    if finding.kind != "Deployment":
        finding.reason = f"not migrated: {_NOT_MIGRATED[finding.kind].format(runtime_class=target_class)}"
        if signals.krustlet:
            finding.reason += (
                "; it is a Krustlet-era WAGI/WASI module, not a Spin app: rebuild it as one first"
            )
        return
    if not _valid_names(finding):
        finding.reason = (
            f"not migrated: {finding.key} is not a name the config accepts (namespace and name must be "
            "DNS-1123 labels: at most 63 lowercase letters, digits and '-')"
        )
        return
    if signals.krustlet:
        finding.reason = (
            "not migrated: a Krustlet-era WAGI/WASI module (kubernetes.io/arch wasm32-*), not a Spin app: "
            f"rebuild it as a Spin app and deploy that with runtimeClassName {target_class}"
        )
        return
    if finding.wasi_pool != chosen.name:
        why = (
            "pinned to WASI pool" if signals.pinned_pools else "not pinned to one WASI pool, so it goes with"
        )
        finding.reason = (
            f"in another stack: {why} {finding.wasi_pool}; this stack migrates {chosen.name}. "
            f"Run init again with --legacy-pool {finding.wasi_pool} and another --stack"
        )
        return
    if not is_wasi_pod(pod):
        if runtime_class and (runtime_class in classes or runtime_class.startswith("wasmtime-")):
            handler = f" (handler {classes[runtime_class]})" if runtime_class in classes else ""
            finding.reason = (
                f"not migrated: RuntimeClass {runtime_class}{handler} is not one of the AKS WASI classes "
                "the migration adopts, and the target runs containerd-shim-spin only: rebuild the app for "
                "Spin, or run it on its own shim"
            )
        else:
            finding.reason = (
                "not migrated: pinned to WASI nodes without a Wasm RuntimeClass, so it runs as an ordinary "
                "container there; move it off the WASI pool by removing the pin (no Wasm migration needed)"
            )
        return
    services = _selecting_services(obj, index, finding.namespace)
    if not services:
        finding.reason = (
            "not migrated: no Service selects its pods; the migration moves traffic through the Service, so "
            "create one (or redeploy it yourself on the shim's RuntimeClass)"
        )
        return
    service = next((s for s in services if _meta(s)[1] == finding.name), services[0])
    if len(services) > 1:
        others = ", ".join(_meta(s)[1] for s in services if s is not service)
        finding.notes.append(
            f"more Services select these pods ({others}); only {_meta(service)[1]} follows the new pods, the "
            "others lose their endpoints at cutover: point them at the new pods' labels or remove them"
        )
    finding.migrated = True
    finding.service = _meta(service)[1]
    if len(serving_ports(service, None)) != 1:
        ports = ", ".join(
            f"{p.get('name', '(unnamed)')}:{p.get('port')}" for p in service["spec"].get("ports") or []
        )
        finding.blocking.append(
            f"Service {finding.service} has several ports ({ports}) and not one named http/web/app: set "
            "`servicePort:` to the one that serves the app (the route, the probes and the verification use "
            "it); until then `check` fails on this workload's `servicePort`"
        )
    finding.manifest = f"manifests/legacy/{finding.namespace}/{finding.name}.yaml"
    if finding.classification == "rewrite required":  # SpiderLightning: Krustlet modules stopped above
        finding.blocking.append(
            "set `image:` to the Spin rewrite of this SpiderLightning app (slight has no successor shim) and "
            "`containerPort:` to the port the rewrite listens on (Spin: 80; slight listened on 3000); until "
            "then `check` fails on this workload's `image` and `containerPort`"
        )
    if signals.pinned_pools:
        finding.notes.append(
            f"pinned to WASI pool {chosen.name} by its agentpool label: the new pods leave that pin out (the "
            "RuntimeClass places them), as the render's translation annotation shows"
        )
    containers = pod.get("containers") or [{}]
    template_annotations = (template.get("metadata") or {}).get("annotations") or {}
    _container_notes(finding, pod, {**(obj["metadata"].get("annotations") or {}), **template_annotations})
    finding.entry = {
        "name": finding.name,
        "namespace": finding.namespace,
        "manifest": finding.manifest,
        "resources": _resources(finding, containers[0]),
    }
    probe = _probe(finding, containers[0])
    if probe:
        finding.entry["probe"] = probe
    finding.peak_replicas = max(int((obj.get("spec") or {}).get("replicas", 1) or 1), 1)
    gateway = _neighbour_notes(finding, obj, service, index)
    if gateway:
        finding.proposed["gateway"] = finding.entry["gateway"] = gateway
    finding.objects = (obj, service, *finding.autoscalers)
    exported = [_with_managed_fields(obj), *finding.objects[1:]]
    unseen = None if export_autoscaler(exported, obj) else unexported_autoscaler(exported, obj)
    if unseen:
        finding.blocking.append(
            f"its replicas are managed by {unseen}, which is not in the export: `check` refuses this "
            "workload's manifest until the autoscaler's HorizontalPodAutoscaler is exported with it (the new "
            "side gets a translation of it) or the autoscaler is gone"
        )


# ---------------------------------------------------------------------------------------------------
# Output


class NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Objects that share a dict (one selector used twice) are written out in full, as kubectl does."""

    def ignore_aliases(self, data: object) -> bool:
        return True


STACK_HEADER = """\
# Generated by `python -m migrate init` from a read-only export of {cluster}.
# Phase baseline adopts the WASI pool and the legacy Deployments unchanged. Read migration-report.md
# first: it lists what a person must decide before `python -m migrate check` passes.
"""


def stack_file_text(config: dict[str, Any], cluster_name: str) -> str:
    document = {"config": {f"{PROJECT}:{key}": value for key, value in config.items()}}
    return STACK_HEADER.format(cluster=cluster_name) + yaml.dump(
        document, Dumper=NoAliasDumper, sort_keys=False, default_flow_style=False, width=110
    )


def export_text(listing: dict[str, Any], source: str) -> str:
    """The objects as kubectl printed them: its own text where the export was read in kubectl's layout
    (server fields included: the loader strips them), else dumped from the objects."""
    header = (
        f"# Exported by `python -m migrate init` from {source}: the Deployment, the Service users reach "
        "and any HPA that scales it.\n"
    )
    texts = [text for item in listing["items"] if (text := getattr(item, "source_text", None))]
    if len(texts) == len(listing["items"]):
        return (
            f'{header}apiVersion: v1\nitems:\n{"".join(texts)}kind: List\nmetadata:\n  resourceVersion: ""\n'
        )
    return header + yaml.dump(
        listing, Dumper=NoAliasDumper, sort_keys=False, default_flow_style=False, width=100_000
    )


def _cell(value: Any) -> str:
    return text(value)


def report_markdown(report: dict[str, Any]) -> str:
    """The readiness report a person reads before the first `pulumi preview`."""
    summary, target = report["summary"], report["targetPool"]
    sizing = target["sizing"]
    workloads = report["workloads"]
    migrated = [w for w in workloads if w["migrated"]]
    lines = [
        f"# Migration readiness: {text(report['cluster']['name'])} (stack {code(report['stack'])})",
        "",
        f"{summary['wasmWorkloads']} Wasm workload(s) found; {summary['migrated']} Deployment(s) in "
        f"{code(report['stackFile'])} ({summary['ready']} ready, {summary['rebuild recommended']} rebuild "
        f"recommended, {summary['rewrite required']} rewrite required); "
        f"{summary['notMigrated']} not migrated "
        f"by this stack; {summary['blocking']} decision(s) block `python -m migrate check`.",
        "",
        "## What a person must decide before `check` passes",
        "",
    ]
    blocking = [(w, item) for w in migrated for item in w["blocking"]]
    lines += [f"- **{text(w['namespace'] + '/' + w['name'])}**: {text(item)}" for w, item in blocking] or [
        "- nothing"
    ]
    lines += [
        "",
        "Alerts are off in the generated stack (`alerts.mode: off`): before `parallel`, set `alerts.mode` to "
        "`azureMonitor` (with the cluster's Azure Monitor workspace and an action group) or "
        "`prometheusOperator` (README: alerts).",
    ]
    lines += [
        "",
        "## WASI node pools",
        "",
        "| pool | VM size | nodes | taints | in this stack | Wasm workloads |",
    ]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for pool in report["wasiPools"]:
        lines.append(
            f"| {_cell(pool['name'])} | {_cell(pool['vmSize'])} | {_cell(pool['count'])} | "
            f"{_cell(', '.join(pool['nodeTaints']) or '-')} "
            f"| {'yes (legacyPool)' if pool['inThisStack'] else 'no'} | {len(pool['workloads'])} |"
        )
    lines += [
        "",
        "Workloads not pinned to one WASI pool by name belong to the first WASI pool; the config describes "
        "one legacy pool per stack, so each further WASI pool is migrated by its own stack "
        "(`init --legacy-pool NAME --stack NAME`).",
        "",
        "## Proposed target pool",
        "",
        f"{code(target['name'])}: {text(target['vmSize'])} ({text(target['osSku'])}), "
        f"{target['count']} nodes, autoscaling "
        f"{target['autoscaling']['minCount']}-{target['autoscaling']['maxCount']}"
        + (f", zones {text(', '.join(target['zones']))}" if target.get("zones") else "")
        + ".",
        "",
        f"- requests at peak replicas (HPA maxReplicas where an HPA exists): {sizing['requestedCpu']} CPU, "
        f"{sizing['requestedMemoryGiB']} GiB memory",
    ]
    if sizing.get("nodesForRequests") is not None:
        lines.append(
            f"- a {text(sizing['vmSize'])} node has {sizing['nodeVcpus']} vCPU / "
            f"{sizing['nodeMemoryGiB']} GiB; "
            f"assuming {int(sizing['allocatableShare'] * 100)} % is allocatable to these pods, the requests "
            f"need {sizing['nodesForRequests']} node(s)"
        )
    else:
        lines.append(
            f"- {text(sizing['vmSize'])}: capacity unknown to this tool, so the count follows the legacy pool"
        )
    lines += [
        f"- the legacy pool has {sizing['legacyNodes']} node(s); the proposal keeps at least that many "
        f"(and at least {MIN_TARGET_NODES})",
        "- `orchestratorVersion` is left out, so AKS creates the pool at the control plane's version",
        "",
        "## Migrated workloads",
        "",
        "| workload | runtime class | readiness | found by | Service |",
        "| --- | --- | --- | --- | --- |",
    ]
    for w in migrated:
        lines.append(
            f"| {_cell(w['namespace'] + '/' + w['name'])} | {_cell(w['runtimeClass'])} | "
            f"{_cell(w['classification'])} | {_cell('; '.join(w['signals']))} | {_cell(w['service'])} |"
        )
    for w in migrated:
        lines += [
            "",
            f"### {text(w['namespace'] + '/' + w['name'])}",
            "",
            f"Manifest: {code(w['manifest'])}",
            "",
        ]
        lines += [f"- **must decide:** {text(item)}" for item in w["blocking"]]
        lines += [f"- {text(note)}" for note in w["notes"]]
        if w["proposed"]:
            lines.append(f"- proposed in the stack file: {code(json.dumps(w['proposed'], sort_keys=True))}")
    lines += ["", "## Not migrated by this stack", ""]
    others = [w for w in workloads if not w["migrated"]]
    if others:
        lines += ["| workload | found by | why |", "| --- | --- | --- |"]
        lines += [
            f"| {_cell(w['kind'] + ' ' + w['namespace'] + '/' + w['name'])} | "
            f"{_cell('; '.join(w['signals']))} | "
            f"{_cell(w['reason'])} |"
            for w in others
        ]
    else:
        lines.append("- nothing: every Wasm workload is a Deployment in this stack")
    lines += [
        "",
        "## Next",
        "",
        "Paths in the stack file are relative to the directory init wrote to; `migrate check` and the Pulumi "
        "program read them from the project root (where Pulumi.yaml is), so keep `stacks/` and `manifests/` "
        "there.",
        "",
        f"1. Decide the items above in {code(report['stackFile'])} (and re-export where they say so).",
        f"2. {code('python -m migrate check ' + report['stackFile'])} until it passes, then "
        f"{code('python -m migrate phases ' + report['stackFile'])} for the phase files.",
        "3. `pulumi preview` the baseline: it adopts the WASI pool and the legacy objects without changes.",
        "",
    ]
    return "\n".join(lines)
