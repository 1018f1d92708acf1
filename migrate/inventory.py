"""The migration guide's first step, "evaluate your workloads", as pure functions: a cluster's read-only
export (kubectl List, `az aks nodepool list`) in; the Wasm workloads found, the files of one stack that
migrates every WASI pool of the cluster, and the facts the readiness report states out. No file or
network access here: migrate/init.py is the shell around it, migrate/init_plan.py asks the planner
about the generated config and migrate/init_report.py renders the report. What a workload is (who
selects, scales, owns and runs it) comes from components/export/facts.py, the one place it is
computed."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from components.core import identifiers, kubernetes
from components.core.config import (
    PROJECT,
    ConfigError,
    DnsLabel,
    Gateway,
    LegacyPool,
    Phase,
    Probe,
    ResourceQuantity,
    Shim,
    WorkloadName,
    parse_config,
)
from components.core.inputs import UnsafeInput, load_yaml, load_yaml_documents
from components.core.kubernetes import AKS_WASI_RUNTIME_CLASSES, parse_aks_taint
from components.export import facts
from components.export.schemas import KUBERNETES_VERSIONS
from components.export.workload import SPIDERLIGHTNING_CLASS, serving_ports, unexported_autoscaler
from migrate.kubectl_list import MANAGED_FIELDS, ExportedObject, ItemText, Pass, read_selected

# Handlers of containerd Wasm shims (containerd-shim-<handler>-v1/v2); RuntimeClass handlers are often
# versioned ("spin-v2", "spin-v0-8-0"), so the part before the first '-' or '_' is compared.
WASM_SHIM_HANDLERS = frozenset({"spin", "slight", "wasmtime", "wasmedge", "wws", "lunatic", "wasmer", "wamr"})
KRUSTLET_ARCHES = kubernetes.KRUSTLET_ARCHES
ARCH_LABEL = kubernetes.ARCH_LABEL
WASI_LABEL_PREFIX = kubernetes.WASI_NODE_LABEL_PREFIX
AGENTPOOL_LABELS = kubernetes.AGENTPOOL_LABELS
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
# The same by containerd handler, for a RuntimeClass of the team's own on a WASI pool: the containerd
# runtime table AgentBaker wrote on WASI nodes (tests/fixtures/clusters/README.md: `spin` and
# `spin-v0-15-1` run io.containerd.spin.v2, the v0.15.1 shim).
READY_HANDLERS = {"spin": "v0.15.1 (Spin 2.6)", "spin-v0-15-1": "v0.15.1 (Spin 2.6)"}
OLD_SPIN_HANDLERS = {
    "spin-v0-8-0": "v0.8.0 (Spin 1.4)",
    "spin-v0-5-1": "v0.5.1 (Spin 1.0)",
    "spin-v0-3-0": "v0.3.0 (Spin 0.x)",
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
# One proposed OCIContainer pool per architecture of the WASI pools.
TARGET_POOL_NAMES = {"amd64": "spinpool", "arm64": "spinarm"}
MIN_TARGET_NODES = 2
# KEDA's default maxReplicaCount (kedacore/keda apis/keda/v1alpha1/scaledobject_types.go).
KEDA_DEFAULT_MAX_REPLICAS = 100
SHIM_DEFAULTS = Shim()
FREE_RUNTIME_CLASS_BASE = "wasm-spin-migration"
CLUSTER_EXPORT_DIR = "manifests/cluster"

_VM_SIZE = re.compile(r"^Standard_([A-Z]+?)(\d+)")
# Azure VM size names (learn.microsoft.com, "Azure virtual machine sizes naming conventions"): the
# additive features after the vCPU count hold `p` for an Arm-based (Ampere Altra / Cobalt) processor,
# e.g. Standard_D4ps_v5, Standard_E8pds_v5.
_ARM_VM_SIZE = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_v\d+$")
_NAMESPACE = TypeAdapter(DnsLabel)
_WORKLOAD_NAME = TypeAdapter(WorkloadName)
_QUANTITY = TypeAdapter(ResourceQuantity)


class InventoryError(Exception):
    """Input that cannot be inventoried; one line that says what is wrong and what is expected."""


# ---------------------------------------------------------------------------------------------------
# Reading the inputs


ITEMS_MESSAGE = "a kubectl List needs `items`, each an object with kind and metadata"
EXPORT_COMMAND = (
    "the README's `kubectl get $(kubectl api-resources ...) -A -o yaml` (first steps for a real cluster)"
)


def read_export(text: str, source: str, pools: list[WasiPool] | None = None) -> list[dict[str, Any]]:
    """The items of a `kubectl get ... -A -o yaml` List. Given the WASI pools and kubectl's layout, only
    what the inventory can use is parsed (migrate/kubectl_list.py, `_passes`); the rest is cut out by
    lines and never parsed, so a syntax error inside an object that cannot matter goes unnoticed."""
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
        raise InventoryError(f"{source}: not a kubectl List; produce it with {EXPORT_COMMAND}")
    items = document.get("items")
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("kind"), str)
        and isinstance(item.get("metadata"), dict)
        for item in items
    ):
        raise InventoryError(f"{source}: {ITEMS_MESSAGE}")
    return items


# Kinds read in the namespaces of the Wasm Deployments: what selects, scales or routes to them.
NEIGHBOUR_KINDS = frozenset(
    {
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "HTTPRoute",
        "ScaledObject",
        "NetworkPolicy",
        "ServiceMonitor",
        "PodMonitor",
    }
)
_LABEL_TOKEN = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")


def _passes(pools: list[WasiPool] | None) -> list[Pass]:
    """What is parsed, in passes that each see what the earlier ones parsed:

    1. every RuntimeClass, the Nodes whose text names a WASI pool, and items of unknown kind;
    2. workloads whose text names a Wasm RuntimeClass, a wasmtime-* label, a WASI pool or a Krustlet
       arch (every signal `wasm_signals` looks for), owned Pods and Jobs left out;
    3. Pods bound to a WASI pool's Node;
    4. in the namespaces of the Deployments found: the Namespace itself, every object of a kind that
       selects, scales or routes (NEIGHBOUR_KINDS), the Services whose text holds a pod label value of
       those Deployments, and everything a Deployment found owns;
    5. and 6. the controllers of what was parsed (a Pod's ReplicaSet, then its Deployment), for the
       controller chains of the pods on WASI nodes."""
    names = {pool.name for pool in pools or []}

    def cluster(_: list[ExportedObject]) -> Callable[[ItemText], bool]:
        return lambda item: (
            item.kind is None
            or item.kind == "RuntimeClass"
            or (item.kind == "Node" and any(name in item.text for name in names))
        )

    def workloads(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        hints = ("wasmtime-", *KRUSTLET_ARCHES, *wasm_runtime_classes(parsed), *names)
        return lambda item: (
            item.kind in WORKLOAD_KINDS
            and not (item.kind in ("Pod", "Job") and item.owned)
            and any(hint in item.text for hint in hints)
        )

    def on_wasi_nodes(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        nodes = {facts.name_of(o) for o in parsed if o.get("kind") == "Node" and facts.node_pool(o) in names}
        return lambda item: item.kind == "Pod" and item.node_name in nodes

    def neighbours(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        deployments = [o for o in parsed if o.get("kind") == "Deployment"]
        namespaces = {facts.namespace_of(o) for o in deployments}
        owners = {(facts.namespace_of(o), facts.name_of(o)) for o in deployments}
        values = {value for o in deployments for value in facts.template_labels(o).values()}

        def wanted(item: ItemText) -> bool:
            if item.kind == "Namespace":
                return item.name in namespaces
            if item.namespace not in namespaces:
                return False
            if item.kind in NEIGHBOUR_KINDS:
                return True
            if item.kind == "Service" and not values.isdisjoint(_LABEL_TOKEN.findall(item.text)):
                return True
            return any(
                kind == "Deployment" and (item.namespace, name) in owners for kind, name in item.owners
            )

        return wanted

    def controllers(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        wanted = {
            (controller[0], facts.namespace_of(o), controller[1])
            for o in parsed
            if (controller := facts.controller_of(o)) is not None
        }
        return lambda item: (item.kind, item.namespace, item.name) in wanted

    return [cluster, workloads, on_wasi_nodes, neighbours, controllers, controllers]


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


def vm_arch(vm_size: str) -> str:
    """arm64 for an Arm-based Azure VM size (a `p` among its additive features), else amd64."""
    return "arm64" if _ARM_VM_SIZE.match(vm_size) else "amd64"


@dataclass(frozen=True)
class WasiPool:
    name: str
    pool: dict[str, Any]
    taints: tuple[dict[str, str], ...]

    @property
    def vm_size(self) -> str:
        return str(self.pool.get("vmSize") or "")

    @property
    def count(self) -> int:
        count = self.pool.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 0


def wasi_pools(pools: list[dict[str, Any]], source: str) -> list[WasiPool]:
    found = [
        WasiPool(p["name"], p, tuple(parse_aks_taint(str(t)) for t in p.get("nodeTaints") or []))
        for p in sorted(pools, key=lambda p: p["name"])
        if p.get("workloadRuntime") == "WasmWasi"
    ]
    if not found:
        names = ", ".join(f"{p['name']} ({p.get('workloadRuntime') or 'OCIContainer'})" for p in pools)
        raise InventoryError(f"{source}: no pool with workloadRuntime WasmWasi (pools: {names or 'none'})")
    return found


# ---------------------------------------------------------------------------------------------------
# The cluster as init sees it


def _meta(obj: Mapping[str, Any]) -> tuple[str, str]:
    return facts.namespace_of(obj) or "default", facts.name_of(obj)


def wasm_runtime_classes(objects: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """RuntimeClass name -> handler, for the AKS classes and every class in the export with a Wasm shim."""
    classes = {name: name.split("-")[1] for name in AKS_WASI_RUNTIME_CLASSES}
    for obj in objects:
        if obj.get("kind") == "RuntimeClass":
            handler = str(obj.get("handler") or "")
            if re.split(r"[-_]", handler)[0] in WASM_SHIM_HANDLERS:
                classes[facts.name_of(obj)] = handler
    return classes


@dataclass
class ClusterView:
    """What the whole export says, read once: the objects indexed, each pool's node labels, the WASI
    pools' nodes, the Wasm RuntimeClasses (and which run Spin on a WASI pool), the Namespaces."""

    index: facts.ObjectIndex
    pools: list[WasiPool]
    pool_labels: dict[str, dict[str, str]]
    wasi_nodes: dict[str, str]  # node name -> its WASI pool
    classes: dict[str, str]  # Wasm RuntimeClass -> handler
    on_wasi: dict[str, str]  # RuntimeClass -> "spin" | "slight", for classes that run Spin on a WASI pool

    @classmethod
    def of(cls, objects: Sequence[dict[str, Any]], node_pools: list[dict[str, Any]], pools: list[WasiPool]):
        index = facts.ObjectIndex(objects)
        nodes = index.of("Node", None)
        labels = facts.pool_labels(node_pools, nodes)
        names = {pool.name for pool in pools}
        wasi_nodes = {facts.name_of(n): str(facts.node_pool(n)) for n in nodes if facts.node_pool(n) in names}
        on_wasi: dict[str, str] = {}
        for runtime_class in index.of("RuntimeClass", None):
            shim = facts.runs_spin_on_wasi(runtime_class, labels)
            if shim:
                on_wasi[facts.name_of(runtime_class)] = shim
        return cls(index, pools, labels, wasi_nodes, wasm_runtime_classes(objects), on_wasi)

    def arch(self, pool: WasiPool) -> str:
        """The pool's architecture: its exported Nodes' kubernetes.io/arch, else its VM size's."""
        return self.pool_labels.get(pool.name, {}).get(ARCH_LABEL) or vm_arch(pool.vm_size)

    def namespace(self, name: str) -> Mapping[str, Any]:
        return self.index.named("Namespace", None, name) or {}


def _node_terms(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    node = (pod.get("affinity") or {}).get("nodeAffinity") or {}
    required = (node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")
    preferred = [
        p.get("preference") or {} for p in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    ]
    return [t for t in (required or []) + preferred if isinstance(t, dict)]


@dataclass(frozen=True)
class Signals:
    """Why a pod counts as Wasm, and which WASI pools it names by pool name."""

    reasons: tuple[str, ...]
    pinned_pools: frozenset[str]
    krustlet: bool


def wasm_signals(pod: Mapping[str, Any], pools: list[WasiPool], classes: dict[str, str]) -> Signals:
    """A pod spec's Wasm signals: a Wasm RuntimeClass, a WASI node label or pool name in its
    nodeSelector or node affinity, a Krustlet arch. Tolerating a WASI pool's taint is no signal: an
    ordinary container may tolerate it too (it is reported among the pods on WASI nodes)."""
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
        if toleration.get("key") == ARCH_LABEL and toleration.get("value") in KRUSTLET_ARCHES:
            reasons.append(f"toleration {ARCH_LABEL}={toleration.get('value')} (Krustlet)")
            krustlet = True
    return Signals(tuple(dict.fromkeys(reasons)), frozenset(pinned), krustlet)


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


@dataclass(frozen=True)
class Decision:
    """Something a person must decide before `check` passes: the config key it is made in (relative
    to the workload's entry, or a top-level key), what breaks and the fix."""

    key: str
    text: str


@dataclass
class WorkloadFinding:
    """One Wasm workload: what it is, whether the stack migrates it, and what a person should know."""

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
    services: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    proposed: dict[str, Any] = field(default_factory=dict)
    # For migrated Deployments: the config entry, the related objects and the replicas to size for.
    entry: dict[str, Any] = field(default_factory=dict)
    objects: tuple[Mapping[str, Any], ...] = ()
    peak_replicas: int = 1

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def decide(self, key: str, text: str) -> None:
        self.decisions.append(Decision(key, text))

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
            "services": self.services,
            "decisions": [{"key": d.key, "text": d.text} for d in self.decisions],
            "notes": self.notes,
            "proposed": self.proposed,
            "related": [f"{o.get('kind')} {facts.name_of(o)}" for o in self.objects],
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


def classify(finding: WorkloadFinding, classes: dict[str, str], on_wasi: dict[str, str]) -> None:
    runtime_class = finding.runtime_class or ""
    handler = classes.get(runtime_class, "")
    own_class = runtime_class in on_wasi and runtime_class not in AKS_WASI_RUNTIME_CLASSES
    if runtime_class in READY_CLASSES or (own_class and handler in READY_HANDLERS):
        shim = READY_CLASSES.get(runtime_class) or READY_HANDLERS[handler]
        finding.classification = "ready"
        finding.notes.append(f"Spin on {runtime_class} (shim {shim}): runs unchanged on {TARGET_SHIM}")
    elif runtime_class in OLD_SPIN_CLASSES or (own_class and handler in OLD_SPIN_HANDLERS):
        shim = OLD_SPIN_CLASSES.get(runtime_class) or OLD_SPIN_HANDLERS[handler]
        finding.classification = "rebuild recommended"
        finding.notes.append(
            f"built for {runtime_class} (shim {shim}); the target runs {TARGET_SHIM}. The app was compiled "
            "against an older Spin SDK and host interfaces and was never tested on Spin 3: rebuild it with "
            "the current Spin SDK (manifest `spin_manifest_version = 2`), test it, and set `image:` to the "
            "rebuild"
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


def _container_notes(
    finding: WorkloadFinding, pod: Mapping[str, Any], annotations: Mapping[str, Any]
) -> None:
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)]
    if len(containers) > 1:
        finding.decide(
            "manifest",
            f"{len(containers)} containers ({', '.join(str(c.get('name')) for c in containers)}): a Spin pod "
            "runs exactly one Wasm container; move the sidecars' work elsewhere (or into the app) and export "
            "the Deployment again",
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
    wasm_annotations = sorted(k for k in annotations if str(k).startswith(WASM_ANNOTATION_PREFIXES))
    if wasm_annotations:
        finding.notes.append(
            f"WASI annotations ({', '.join(wasm_annotations)}) are dropped from the new pods: "
            "they only meant something to the WASI pool"
        )


def _security_assumptions(pod: Mapping[str, Any], containers: list[dict[str, Any]]) -> list[str]:
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


def _resources(finding: WorkloadFinding, container: Mapping[str, Any]) -> dict[str, dict[str, str]]:
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


def _probe(finding: WorkloadFinding, container: Mapping[str, Any]) -> dict[str, Any] | None:
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
    finding.decide(
        "probe.path",
        "no HTTP readiness or liveness probe in the export: a Spin app answers only the routes in its "
        "spin.toml, so a guessed / may be 404 and the new pods never get Ready; set `probe.path` to a route "
        "the app serves",
    )
    return None


def _gateway_from_route(route: Mapping[str, Any], service_name: str, namespace: str) -> dict[str, Any] | None:
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


def primary_service(
    name: str, services: list[Mapping[str, Any]], related: list[Mapping[str, Any]]
) -> tuple[Mapping[str, Any] | None, str]:
    """The Service users reach the workload through, and why: the one named like the workload, else the
    only one an HTTPRoute or Ingress of the export routes to, else the only one."""
    named = [s for s in services if facts.name_of(s) == name]
    if named:
        return named[0], "named like the workload"
    routed = set()
    for obj in related:
        if obj.get("kind") == "HTTPRoute":
            routed |= facts.route_backends(obj)
        elif obj.get("kind") == "Ingress":
            routed |= facts.ingress_backends(obj)
    reached = [s for s in services if facts.name_of(s) in routed]
    if len(reached) == 1:
        return reached[0], "the one an HTTPRoute or Ingress routes to"
    if len(services) == 1:
        return services[0], "the only one"
    return None, ""


def _keda_note(scaled: Mapping[str, Any], controlled: list[Mapping[str, Any]]) -> str:
    spec = scaled.get("spec") or {}
    triggers = ", ".join(str(t.get("type")) for t in spec.get("triggers") or [] if isinstance(t, dict))
    bounds = f"{spec.get('minReplicaCount', 0)}..{spec.get('maxReplicaCount', KEDA_DEFAULT_MAX_REPLICAS)}"
    owned = ", ".join(facts.name_of(h) for h in controlled) or f"keda-hpa-{facts.name_of(scaled)}"
    return (
        f"KEDA ScaledObject {facts.name_of(scaled)} scales it ({bounds} replicas, triggers "
        f"{triggers or 'none'}): the ScaledObject is translated for the new Deployment and paused at zero in "
        f"cutover; KEDA's own HPA ({owned}) is never touched. An External metric (a queue's length) is the "
        "whole queue on each side: "
        "while both sides run, each scales for all of it"
    )


def _dapr_decision(app_id: str) -> str:
    return (
        f"Dapr app-id {app_id}: with the sidecar a pod joins the app-id's pub/sub consumer groups, input "
        "bindings and actor placement, so new pods consume production messages as soon as they start; and "
        f"Dapr's operator re-points the {app_id}-dapr Service at whichever Deployment with that app-id it "
        "reconciled last (dapr/dapr pkg/operator/handlers/dapr_handler.go, patchDaprService). Set "
        "`daprBeforeServing: withoutSidecar` (new pods run without Dapr until they serve) or `withSidecar`"
    )


def analyse_deployment(
    finding: WorkloadFinding,
    deployment: dict[str, Any],
    signals: Signals,
    view: ClusterView,
) -> None:
    """Whether a Wasm Deployment on a WASI pool migrates, its config entry, its related objects and
    everything a person must decide or know about it."""
    index = view.index
    services = [
        s for s in facts.selecting_services(index, finding.namespace, facts.template_labels(deployment))
    ]
    if not services:
        finding.reason = (
            "not migrated: no Service selects its pods; the migration moves traffic through the Service, so "
            "create one (or redeploy it yourself on the shim's RuntimeClass)"
        )
        return
    related = facts.related_objects(index, deployment)
    finding.migrated = True
    finding.objects = tuple(related)  # the exported objects themselves: export_text copies their text
    finding.services = [facts.name_of(s) for s in services]
    finding.manifest = f"manifests/legacy/{finding.namespace}/{finding.name}.yaml"
    primary, why = primary_service(finding.name, services, related)
    entry: dict[str, Any] = {
        "name": finding.name,
        "namespace": finding.namespace,
        "manifest": finding.manifest,
    }
    if primary is None:
        finding.decide(
            "service",
            f"{len(services)} Services select its pods ({', '.join(finding.services)}) and none is named "
            "like it or the only one an HTTPRoute or Ingress routes to: set `service:` to the one users "
            "reach (the new side's Service and route follow it)",
        )
    else:
        finding.service = facts.name_of(primary)
        if len(services) > 1:
            entry["service"] = finding.service
            finding.notes.append(
                f"{len(services)} Services select its pods ({', '.join(finding.services)}): `service: "
                f"{finding.service}` proposed ({why}); the plan section says which reach the new pods and "
                "when"
            )
        if len(serving_ports(dict(primary), None)) != 1:
            ports = ", ".join(
                f"{p.get('name', '(unnamed)')}:{p.get('port')}"
                for p in (primary.get("spec") or {}).get("ports") or []
            )
            finding.decide(
                "servicePort",
                f"Service {finding.service} has several ports ({ports}) and not one named http/web/app: "
                "set `servicePort:` to the one that serves the app (the route, the probes and the "
                "verification use it)",
            )
    if finding.classification == "rewrite required":  # SpiderLightning: Krustlet modules stopped earlier
        finding.decide(
            "image",
            "set `image:` to the Spin rewrite of this SpiderLightning app (slight has no successor shim) and "
            "`containerPort:` to the port the rewrite listens on (Spin: 80; slight listened on 3000)",
        )
    if signals.pinned_pools:
        pools = ", ".join(sorted(signals.pinned_pools))
        finding.notes.append(
            f"pinned to WASI pool {pools} by its agentpool label: the new pods leave that pin out (the "
            "RuntimeClass places them), as the render's translation annotation shows"
        )
    if finding.runtime_class in view.on_wasi and finding.runtime_class not in AKS_WASI_RUNTIME_CLASSES:
        finding.notes.append(
            f"RuntimeClass {finding.runtime_class} is the team's own (handler "
            f"{view.classes.get(finding.runtime_class)}), and its scheduling places pods on WASI nodes "
            "only: a Spin app on the WASI pool, migrated like one on an AKS class"
        )
    template = _serving_template(finding, deployment, view)
    spec = template.get("spec")
    pod: Mapping[str, Any] = spec if isinstance(spec, dict) else {}
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)] or [{}]
    annotations = {**facts.annotations_of(deployment), **facts.annotations_of(template)}
    _container_notes(finding, pod, annotations)
    entry["resources"] = _resources(finding, containers[0])
    probe = _probe(finding, containers[0])
    if probe:
        entry["probe"] = probe
    _scaling(finding, deployment, view, related)
    _channels(finding, template, view)
    for reason in facts.single_copy_reasons(deployment):
        finding.notes.append(
            f"must not run two copies at once: {reason}. `sideBySide: true` tells the planner two copies may "
            "run (the plan section says how this config moves it)"
        )
    gateway = _route_notes(finding, related)
    if gateway:
        finding.proposed["gateway"] = entry["gateway"] = gateway
    for obj in related:
        controller = facts.controller_of(obj)
        if obj.get("kind") != "ReplicaSet" and controller == ("Deployment", finding.name):
            finding.notes.append(
                f"{obj.get('kind')} {facts.name_of(obj)} is controlled by the legacy Deployment: the garbage "
                "collector deletes it with the Deployment at decommission"
            )
    finding.entry = entry


def _serving_template(
    finding: WorkloadFinding, deployment: Mapping[str, Any], view: ClusterView
) -> Mapping[str, Any]:
    """The template the running pods were made from: a paused Deployment's serving ReplicaSet's."""
    template = facts.pod_template(deployment)
    if (deployment.get("spec") or {}).get("paused") is not True:
        return template
    serving = facts.serving_replica_set(view.index, deployment)
    if serving is None:
        finding.decide(
            "servingTemplate",
            "paused (spec.paused: true) and the export holds no ReplicaSet of its revision: what its pods "
            "run is unknown, and spec.template may be a release that never served; export its ReplicaSets "
            "again, or set `servingTemplate: deployment` to run spec.template",
        )
        return template
    revision = facts.annotations_of(serving).get(facts.REVISION_ANNOTATION)
    finding.notes.append(
        f"paused (spec.paused: true): its pods run ReplicaSet {facts.name_of(serving)} (revision "
        f"{revision}), {_images(facts.pod_template(serving))}, not spec.template ({_images(template)}); the "
        "new pods run the serving ReplicaSet's template unless `servingTemplate: deployment`. Resources and "
        "probe are read from it"
    )
    return facts.pod_template(serving)


def _images(template: Mapping[str, Any]) -> str:
    containers = (template.get("spec") or {}).get("containers") or []
    return "image " + ", ".join(str(c.get("image")) for c in containers if isinstance(c, dict))


def _scaling(
    finding: WorkloadFinding, deployment: dict[str, Any], view: ClusterView, related: list[Any]
) -> None:
    spec = deployment.get("spec") or {}
    replicas = spec.get("replicas", 1)
    replicas = (
        replicas if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0 else 1
    )
    finding.peak_replicas = replicas
    autoscaler = facts.autoscaler_of(view.index, deployment)
    controlled = facts.controlled_autoscalers(view.index, deployment)
    scaled = facts.scaled_object_of(view.index, deployment)
    if autoscaler is not None:
        hpa = autoscaler.get("spec") or {}
        maximum = hpa.get("maxReplicas")
        finding.peak_replicas = max(replicas, maximum if isinstance(maximum, int) else 1)
        finding.notes.append(
            f"HPA {facts.name_of(autoscaler)} scales the legacy Deployment ({hpa.get('minReplicas', 1)}.."
            f"{maximum}); the target pool is sized for its maximum"
        )
    if scaled is not None:
        maximum = (scaled.get("spec") or {}).get("maxReplicaCount", KEDA_DEFAULT_MAX_REPLICAS)
        finding.peak_replicas = max(finding.peak_replicas, maximum if isinstance(maximum, int) else 1)
        finding.notes.append(_keda_note(scaled, controlled))
    for hpa in controlled:
        owner = facts.controller_of(hpa)
        assert owner is not None
        finding.notes.append(
            f"HPA {facts.name_of(hpa)} is controlled by {owner[0]} {owner[1]}: that controller rewrites and "
            "deletes it, so the migration never patches or copies it"
        )
    if replicas == 0 and autoscaler is None and scaled is None:
        finding.notes.append(
            "scaled to zero (spec.replicas: 0): it migrates at zero (no new pods and no traffic in any "
            "phase) unless `replicas:` is set"
        )
    if autoscaler is None and scaled is None and not controlled:
        exported = [_with_managed_fields(deployment), *related[1:]]
        unseen = unexported_autoscaler(exported, deployment)
        if unseen:
            finding.decide(
                "manifest",
                f"its replicas are managed by {unseen}, which is not in the export: export the autoscaler's "
                "HorizontalPodAutoscaler (or ScaledObject) with it, or remove the autoscaler",
            )


def _channels(finding: WorkloadFinding, template: Mapping[str, Any], view: ClusterView) -> None:
    """What pods of this template do besides serving through Services: Dapr and mesh sidecars."""
    app_id = facts.dapr_app_id(template)
    if app_id:
        finding.decide("daprBeforeServing", _dapr_decision(app_id))
    elif facts.dapr_enabled(template):
        finding.notes.append(
            "dapr.io/enabled without dapr.io/app-id: Dapr's injector then takes the Pod's name, which a "
            "Deployment's Pods do not have yet when it sees them, and refuses them (dapr/dapr "
            "pkg/injector/patcher/sidecar_container.go GetAppID); set dapr.io/app-id"
        )
    namespace = view.namespace(finding.namespace)
    for sidecar in facts.mesh_sidecars(template, facts.labels_of(namespace), facts.annotations_of(namespace)):
        finding.notes.append(
            f"{sidecar}: the new pods get it too, as their template is this one; the sidecar runs under the "
            "Spin RuntimeClass with them, as it does on the WASI pool"
        )


def _route_notes(finding: WorkloadFinding, related: list[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Ingress and HTTPRoute notes; returns the proposed `gateway:` from an HTTPRoute to the Service."""
    gateway = None
    for obj in related:
        if obj.get("kind") == "Ingress" and finding.service in facts.ingress_backends(obj):
            finding.notes.append(
                f"Ingress {facts.name_of(obj)} routes to Service {finding.service}: the Service keeps its "
                "name and address, so the Ingress needs no change"
            )
        if obj.get("kind") != "HTTPRoute" or finding.service is None:
            continue
        proposal = _gateway_from_route(obj, finding.service, finding.namespace)
        if proposal is None:
            continue
        finding.notes.append(
            f"HTTPRoute {facts.name_of(obj)} routes to Service {finding.service}: proposed `gateway:` from "
            "its parentRefs, hostnames and path, for an exact weighted split. The migration adds its own "
            f"HTTPRoute {finding.name}-migration for the same hostnames and path; Gateway API gives a "
            f"conflicting match to the oldest route, so narrow or remove {facts.name_of(obj)} before "
            "`parallel`"
        )
        if gateway is None:
            gateway = proposal
    return gateway


# ---------------------------------------------------------------------------------------------------
# Deciding what this stack migrates


def _valid_names(finding: WorkloadFinding) -> bool:
    try:
        _WORKLOAD_NAME.validate_python(finding.name)
        _NAMESPACE.validate_python(finding.namespace)
    except ValidationError:
        return False
    return True


def _pools_by_workload(view: ClusterView, pods: Sequence[facts.PodOnNode]) -> dict[tuple, Counter[str]]:
    """(namespace, kind, name) of each pod's top controller (the pod itself when it has none) -> how
    many of its pods run on each WASI pool."""
    found: dict[tuple, Counter[str]] = {}
    for pod in pods:
        top = pod.chain[-1] if pod.chain else ("Pod", facts.name_of(pod.pod))
        key = (facts.namespace_of(pod.pod) or "default", *top)
        found.setdefault(key, Counter())[view.wasi_nodes[pod.node]] += 1
    return found


def _decide(
    finding: WorkloadFinding,
    obj: dict[str, Any],
    pod: Mapping[str, Any],
    signals: Signals,
    view: ClusterView,
    on_wasi_pods: bool,
) -> None:
    """Whether this stack migrates the workload, and if not, why."""
    runtime_class = finding.runtime_class
    target_class = SHIM_DEFAULTS.runtime_class_name
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
    on_wasi = runtime_class in AKS_WASI_RUNTIME_CLASSES or runtime_class in view.on_wasi
    handler = view.classes.get(runtime_class or "", "")
    spin_elsewhere = handler.split("-")[0] == "spin" and not on_wasi
    if spin_elsewhere and (signals.pinned_pools or on_wasi_pods):
        on_wasi = True  # a Spin class that may land anywhere, but this app is pinned to or runs on WASI nodes
    elif spin_elsewhere:
        finding.reason = (
            "not migrated: already on a Spin shim outside the WASI pools (RuntimeClass "
            f"{runtime_class}, handler {handler}, whose scheduling places it on other nodes): nothing to do"
        )
        return
    if not on_wasi:
        if runtime_class and (runtime_class in view.classes or runtime_class.startswith("wasmtime-")):
            shown = f" (handler {handler})" if handler else ""
            finding.reason = (
                f"not migrated: RuntimeClass {runtime_class}{shown} is not one of the AKS WASI classes and "
                "does not run Spin on a WASI pool, and the target runs containerd-shim-spin only: rebuild "
                "the app for Spin, or run it on its own shim"
            )
        else:
            finding.reason = (
                "not migrated: pinned to WASI nodes without a Wasm RuntimeClass, so it runs as an ordinary "
                "container there; move it off the WASI pool by removing the pin (no Wasm migration needed)"
            )
        return
    analyse_deployment(finding, obj, signals, view)


# ---------------------------------------------------------------------------------------------------
# The whole inventory


@dataclass(frozen=True)
class Inventory:
    """The stack's config, the files init writes (relative path -> kubectl List of exported objects)
    and the report's facts (before the planner is asked: migrate/init_plan.py)."""

    config: dict[str, Any]
    exports: dict[str, dict[str, Any]]
    report: dict[str, Any]


def _legacy_pool_config(pool: WasiPool, index: int) -> dict[str, Any]:
    """A WASI pool as the config knows it: adopted read-only, so its name identifies it, and its labels
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
            f"WASI pool {pool.name}: the config model cannot describe legacyPools[{index}].{where} "
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


def _free_name(base: str, taken: set[str]) -> str:
    return next(c for c in [base, *(f"{base}{i}" for i in range(2, 1000))] if c not in taken)


def _target_pools(
    view: ClusterView,
    all_pools: list[dict[str, Any]],
    migrated: list[WorkloadFinding],
    requests: dict[str, dict[str, float]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One OCIContainer pool per architecture of the WASI pools the migrated workloads run on: the VM
    size of the largest such WASI pool (an Arm64 pool keeps its Arm64 size), its zones and maxPods,
    enough nodes for the workloads' requests at their peak replicas and never less capacity (vCPUs)
    than those WASI pools have."""
    by_name = {pool.name: pool for pool in view.pools}
    groups: dict[str, list[WasiPool]] = {}
    for pool in view.pools:
        groups.setdefault(view.arch(pool), []).append(pool)
    used = {view.arch(by_name[f.wasi_pool]) for f in migrated if f.wasi_pool in by_name}
    archs = [arch for arch in sorted(groups) if arch in used] or [view.arch(view.pools[0])]
    taken = {str(pool.get("name")) for pool in all_pools}
    proposals, sizings = [], []
    for arch in archs:
        group = groups[arch]
        source = max(group, key=lambda p: (*(vm_capacity(p.vm_size) or (0, 0.0)), p.name))
        workloads = [f for f in migrated if f.wasi_pool in {p.name for p in group}]
        cpu = sum(requests[f.key]["cpu"] * f.peak_replicas for f in workloads)
        memory_gib = sum(requests[f.key]["memory"] * f.peak_replicas for f in workloads) / 2**30
        capacity = vm_capacity(source.vm_size)
        legacy_nodes = sum(p.count for p in group)
        sizing: dict[str, Any] = {
            "arch": arch,
            "vmSize": source.vm_size,
            "legacyPools": [p.name for p in group],
            "workloads": [f.key for f in workloads],
            "requestedCpu": round(cpu, 3),
            "requestedMemoryGiB": round(memory_gib, 3),
            "legacyNodes": legacy_nodes,
            "allocatableShare": ALLOCATABLE_SHARE,
        }
        if capacity:
            vcpus, gib = capacity
            needed = math.ceil(max(cpu / (vcpus * ALLOCATABLE_SHARE), memory_gib / (gib * ALLOCATABLE_SHARE)))
            legacy_vcpus = sum(p.count * (vm_capacity(p.vm_size) or (vcpus, gib))[0] for p in group)
            equivalent = math.ceil(legacy_vcpus / vcpus)
            sizing.update(
                nodeVcpus=vcpus, nodeMemoryGiB=gib, nodesForRequests=needed, legacyVcpus=legacy_vcpus
            )
        else:
            needed, equivalent = 0, legacy_nodes
            sizing["nodesForRequests"] = None
        count = max(MIN_TARGET_NODES, needed, equivalent)
        legacy_max = sum(int(p.pool.get("maxCount") or 0) for p in group if p.pool.get("enableAutoScaling"))
        name = _free_name(TARGET_POOL_NAMES.get(arch, "spinpool"), taken)
        taken.add(name)
        proposal: dict[str, Any] = {
            "name": name,
            "vmSize": source.vm_size,
            "osSku": "AzureLinux",
            "count": count,
            "autoscaling": {"minCount": count, "maxCount": max(2 * count, legacy_max)},
        }
        if source.pool.get("availabilityZones"):
            proposal["zones"] = [str(zone) for zone in source.pool["availabilityZones"]]
        if source.pool.get("maxPods"):
            proposal["maxPods"] = source.pool["maxPods"]
        proposal["maxSurge"] = "33%"
        sizing["count"] = count
        proposals.append(proposal)
        sizings.append({"name": name, **sizing})
    return proposals, sizings


def _runtime_class_proposal(view: ClusterView) -> tuple[str | None, str | None]:
    """A RuntimeClass already named like the shim's default (KWasm and runtime-class-manager install
    `wasm-spin`) with another definition: a free name for the migration's, and the note saying so."""
    name = SHIM_DEFAULTS.runtime_class_name
    existing = view.index.named("RuntimeClass", None, name)
    if existing is None:
        return None, None
    ours = {
        "handler": SHIM_DEFAULTS.handler,
        "nodeSelector": {SHIM_DEFAULTS.node_label.key: SHIM_DEFAULTS.node_label.value},
    }
    theirs = {
        "handler": existing.get("handler"),
        "nodeSelector": dict((existing.get("scheduling") or {}).get("nodeSelector") or {}),
    }
    taken = {facts.name_of(o) for o in view.index.of("RuntimeClass", None)}
    if theirs == ours:
        return None, (
            f"RuntimeClass {name} exists with the definition the migration gives it (handler "
            f"{ours['handler']}, the shim label's node selector): set "
            "`shim.adoptExisting.runtimeClass: true` to import it"
        )
    free = _free_name(FREE_RUNTIME_CLASS_BASE, taken)
    return free, (
        f"RuntimeClass {name} already exists with another definition (handler {theirs['handler']}, "
        f"nodeSelector {json.dumps(theirs['nodeSelector'], sort_keys=True)}), as KWasm or "
        f"runtime-class-manager install it; the stack names the migration's class {free} "
        "(`shim.runtimeClassName`) so both coexist: the existing class and what runs on it are left as they "
        "are"
    )


def _other_pods(
    view: ClusterView, pods: Sequence[facts.PodOnNode], migrated: set[tuple[str, str]]
) -> list[dict]:
    """Pods on WASI nodes that are neither a migrated workload's nor a DaemonSet's: deleting the pools
    deletes them. Each with its controller chain and the name `decommission.acknowledgeOtherPods` takes
    (the top controller's, else the Pod's)."""
    found = []
    for pod in pods:
        namespace = facts.namespace_of(pod.pod) or "default"
        top = pod.chain[-1] if pod.chain else None
        if pod.daemon_set or (top and top[0] == "Deployment" and (namespace, top[1]) in migrated):
            continue
        found.append(
            {
                "pod": pod.key,
                "node": pod.node,
                "pool": view.wasi_nodes.get(pod.node),
                "chain": [f"{kind} {name}" for kind, name in pod.chain],
                "acknowledge": f"{namespace}/{top[1] if top else facts.name_of(pod.pod)}",
            }
        )
    return found


def build_inventory(
    objects: list[dict[str, Any]],
    node_pools: list[dict[str, Any]],
    cluster: ClusterRef,
    stack: str,
    sources: dict[str, str] | None = None,
) -> Inventory:
    """Every Wasm workload of the export, the config of the one stack that migrates every WASI pool,
    its files and the report's facts. Raises InventoryError when there is nothing to migrate."""
    pools = wasi_pools(node_pools, (sources or {}).get("nodePools", "node pools"))
    view = ClusterView.of(objects, node_pools, pools)
    legacy_config = [_legacy_pool_config(pool, index) for index, pool in enumerate(pools)]
    pods = facts.pods_on_nodes(view.index, view.wasi_nodes)
    pools_of = _pools_by_workload(view, pods)

    findings: list[WorkloadFinding] = []
    for obj in objects:
        kind = obj.get("kind")
        if kind not in WORKLOAD_KINDS or (kind in ("Pod", "Job") and obj["metadata"].get("ownerReferences")):
            continue
        template = facts.pod_template(obj)
        spec = template.get("spec")
        pod: dict[str, Any] = spec if isinstance(spec, dict) else {}
        signals = wasm_signals(pod, pools, view.classes)
        if not signals.reasons:
            continue
        namespace, name = _meta(obj)
        pinned = sorted(signals.pinned_pools)
        counts = pools_of.get((namespace, str(kind), name))
        running = counts.most_common(1)[0][0] if counts else None
        finding = WorkloadFinding(
            str(kind),
            namespace,
            name,
            running or (pinned[0] if pinned else pools[0].name),
            signals.reasons,
            pod.get("runtimeClassName"),
        )
        findings.append(finding)
        classify(finding, view.classes, view.on_wasi)
        _decide(finding, obj, pod, signals, view, running is not None)

    if not findings:
        raise InventoryError(
            "the export holds no Wasm workload (no wasmtime-*/Wasm RuntimeClass, WASI node selector or "
            f"affinity, or Krustlet arch); WASI pools: {', '.join(pool.name for pool in pools)}"
        )
    migrated = [f for f in findings if f.migrated]
    requests = {
        f.key: {
            "cpu": float(identifiers.quantity_value(f.entry["resources"]["requests"]["cpu"])),
            "memory": float(identifiers.quantity_value(f.entry["resources"]["requests"]["memory"])),
        }
        for f in migrated
    }
    targets, sizing = _target_pools(view, node_pools, migrated, requests)
    cluster_config: dict[str, Any] = {
        "subscriptionId": cluster.subscription_id,
        "resourceGroup": cluster.resource_group,
        "name": cluster.name,
    }
    version = _kubernetes_version(node_pools)
    if version:
        cluster_config["kubernetesVersion"] = version
    cluster_file = f"{CLUSTER_EXPORT_DIR}/{stack}.yaml"
    cluster_config["export"] = cluster_file
    config: dict[str, Any] = {
        "phase": Phase.BASELINE.value,
        "cluster": cluster_config,
        "legacyPools": legacy_config,
        "targetPools": targets,
    }
    class_name, class_note = _runtime_class_proposal(view)
    if class_name:
        config["shim"] = {"runtimeClassName": class_name}
    config["workloads"] = [f.entry for f in migrated]
    # Where alerts go is the cluster owner's choice (an Azure Monitor workspace and action group, or
    # prometheus-operator); the report asks for it. Off until then, and said so.
    config["alerts"] = {"mode": "off"}
    try:
        parse_config(config)
    except ConfigError as error:  # inputs that passed every per-field check but not the whole model
        raise InventoryError(f"the generated config is invalid: {error.problems[0]}") from None

    others = _other_pods(view, pods, {(f.namespace, f.name) for f in migrated})
    decisions: list[dict[str, str]] = []
    for position, finding in enumerate(migrated):
        decisions += [
            {"key": f"workloads[{position}].{d.key}", "workload": finding.key, "text": d.text}
            for d in finding.decisions
        ]
    if others:
        names = sorted({pod["acknowledge"] for pod in others})
        decisions.append(
            {
                "key": "decommission.acknowledgeOtherPods",
                "workload": "",
                "text": f"{len(others)} pod(s) that are not migrated Wasm workloads run on WASI nodes "
                "(listed below): decommission deletes them with the pools. Move them off the WASI pools, "
                f"or list {', '.join(names)} in `decommission.acknowledgeOtherPods` before decommission",
            }
        )
    if version and version not in KUBERNETES_VERSIONS:
        decisions.append(
            {
                "key": "cluster.kubernetesVersion",
                "workload": "",
                "text": f"the node pools run Kubernetes {version}, and `check` validates against the schemas "
                f"of {', '.join(KUBERNETES_VERSIONS)} only: set `cluster.kubernetesVersion` to the control "
                "plane's version if it is newer (`az aks show --query kubernetesVersion`), or upgrade the "
                "control plane first (`az aks upgrade --control-plane-only` leaves every node pool, the WASI "
                "pools included, as it is)",
            }
        )
    cluster_notes = [class_note] if class_note else []
    if len(targets) > 1:
        cluster_notes.append(
            f"the WASI pools have {len(targets)} architectures, so {len(targets)} target pools are proposed "
            f"({', '.join(p['name'] + ' ' + s['arch'] for p, s in zip(targets, sizing, strict=True))}); "
            "the new pods are not pinned to an architecture, so each image must run on every target pool "
            "(a Spin app's Wasm artifact is architecture-neutral; check images that also carry a container)"
        )
    exports = {str(f.manifest): _export_list(f.objects) for f in migrated}
    listed = {pod["pod"] for pod in others}
    cluster_objects = _cluster_objects(view, [pod for pod in pods if pod.key in listed])
    exports[cluster_file] = _export_list(cluster_objects)
    report = {
        "stack": stack,
        "stackFile": f"stacks/Pulumi.{stack}.yaml",
        "clusterFile": cluster_file,
        "cluster": cluster_config,
        "sources": sources or {},
        "wasiPools": [
            {
                "name": pool.name,
                "vmSize": pool.vm_size,
                "arch": view.arch(pool),
                "count": pool.count,
                "nodeTaints": [str(t) for t in pool.pool.get("nodeTaints") or []],
                "workloads": sorted(f"{f.kind} {f.key}" for f in findings if f.wasi_pool == pool.name),
            }
            for pool in pools
        ],
        "targetPools": [{**pool, "sizing": size} for pool, size in zip(targets, sizing, strict=True)],
        "workloads": [f.as_dict() for f in findings],
        "otherPods": others,
        "decisions": decisions,
        "notes": cluster_notes,
        "summary": {
            "wasmWorkloads": len(findings),
            "migrated": len(migrated),
            "notMigrated": len(findings) - len(migrated),
            **{
                c: sum(f.classification == c for f in migrated)
                for c in ("ready", "rebuild recommended", "rewrite required")
            },
        },
    }
    return Inventory(config, exports, report)


def _cluster_objects(view: ClusterView, others: Sequence[facts.PodOnNode]) -> list[Mapping[str, Any]]:
    """What `cluster.export` holds: every RuntimeClass, the WASI pools' Nodes, the other pods on them and
    the controllers above those pods (so `check` names each as the report does: by the top of its
    chain, the name `decommission.acknowledgeOtherPods` takes)."""
    pods = {pod.key for pod in others}
    controllers = {(facts.namespace_of(pod.pod), *link) for pod in others for link in pod.chain}
    return [
        obj
        for obj in view.index.objects
        if obj.get("kind") == "RuntimeClass"
        or (obj.get("kind") == "Node" and facts.name_of(obj) in view.wasi_nodes)
        or (
            obj.get("kind") == "Pod"
            and f"{facts.namespace_of(obj) or 'default'}/{facts.name_of(obj)}" in pods
        )
        or (facts.namespace_of(obj), obj.get("kind"), facts.name_of(obj)) in controllers
    ]


def _export_list(objects: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": list(objects)}


# ---------------------------------------------------------------------------------------------------
# Output


class NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Objects that share a dict (one selector used twice) are written out in full, as kubectl does."""

    def ignore_aliases(self, data: object) -> bool:
        return True


STACK_HEADER = """\
# Generated by `python -m migrate init` from a read-only export of {cluster}.
# Phase baseline adopts the WASI pools and the legacy Deployments unchanged. Read migration-report.md
# first: it lists what a person must decide before `python -m migrate check` passes.
"""


def stack_file_text(config: dict[str, Any], cluster_name: str) -> str:
    document = {"config": {f"{PROJECT}:{key}": value for key, value in config.items()}}
    return STACK_HEADER.format(cluster=cluster_name) + yaml.dump(
        document, Dumper=NoAliasDumper, sort_keys=False, default_flow_style=False, width=110
    )


EXPORT_HEADERS = {
    "legacy": "the Deployment and everything in its namespace that selects, scales, routes to or is owned "
    "by it (components/export/facts.py related_objects)",
    "cluster": "every RuntimeClass, the WASI pools' Nodes and the pods on them that are neither a migrated "
    "workload's nor a DaemonSet's",
}


def export_text(listing: dict[str, Any], source: str, what: str = "legacy") -> str:
    """The objects as kubectl printed them: its own text where the export was read in kubectl's layout
    (server fields included: the loader strips them), else dumped from the objects."""
    header = f"# Exported by `python -m migrate init` from {source}: {EXPORT_HEADERS[what]}.\n"
    texts = [text for item in listing["items"] if (text := getattr(item, "source_text", None))]
    if len(texts) == len(listing["items"]):
        return (
            f'{header}apiVersion: v1\nitems:\n{"".join(texts)}kind: List\nmetadata:\n  resourceVersion: ""\n'
        )
    return header + yaml.dump(
        listing, Dumper=NoAliasDumper, sort_keys=False, default_flow_style=False, width=100_000
    )
