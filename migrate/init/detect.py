"""Which workloads of the export run Wasm on the WASI pools, and how ready each is for the target shim:
the Wasm RuntimeClasses, the cluster as init sees it (`ClusterView`), a pod spec's Wasm signals and the
readiness classification. What a workload is (who selects, scales, owns and runs it) comes from
components/export/facts.py, the one place it is computed."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components.core import kubernetes
from components.core.kubernetes import AKS_WASI_RUNTIME_CLASSES
from components.export import facts
from components.export.workload import SPIDERLIGHTNING_CLASS
from migrate.init.findings import WorkloadFinding
from migrate.init.node_pools import WasiPool

# Handlers of containerd Wasm shims (containerd-shim-<handler>-v1/v2); RuntimeClass handlers are often
# versioned ("spin-v2", "spin-v0-8-0"), so the part before the first '-' or '_' is compared.
WASM_SHIM_HANDLERS = frozenset({"spin", "slight", "wasmtime", "wasmedge", "wws", "lunatic", "wasmer", "wamr"})
KRUSTLET_ARCHES = kubernetes.KRUSTLET_ARCHES
ARCH_LABEL = kubernetes.ARCH_LABEL
WASI_LABEL_PREFIX = kubernetes.WASI_NODE_LABEL_PREFIX
AGENTPOOL_LABELS = kubernetes.AGENTPOOL_LABELS
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "Pod")
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

    def namespace(self, name: str) -> Mapping[str, Any]:
        return self.index.named("Namespace", None, name) or {}

    def is_own_class_on_wasi(self, runtime_class: str | None) -> bool:
        """A RuntimeClass of the team's own (not AKS's) whose scheduling runs Spin on a WASI pool."""
        return runtime_class in self.on_wasi and runtime_class not in AKS_WASI_RUNTIME_CLASSES


# ---------------------------------------------------------------------------------------------------
# A pod spec's Wasm signals


@dataclass(frozen=True)
class Signals:
    """Why a pod counts as Wasm, and which WASI pools it names by pool name."""

    reasons: tuple[str, ...]
    pinned_pools: frozenset[str]
    krustlet: bool


@dataclass
class _Found:
    reasons: list[str] = field(default_factory=list)
    pinned: set[str] = field(default_factory=set)
    krustlet: bool = False


def wasm_signals(pod: Mapping[str, Any], pools: list[WasiPool], classes: dict[str, str]) -> Signals:
    """A pod spec's Wasm signals: a Wasm RuntimeClass, a WASI node label or pool name in its
    nodeSelector or node affinity, a Krustlet arch. Tolerating a WASI pool's taint is no signal: an
    ordinary container may tolerate it too (it is reported among the pods on WASI nodes)."""
    names = {pool.name for pool in pools}
    found = _Found()
    _runtime_class_signal(pod, classes, found)
    for key, value in (pod.get("nodeSelector") or {}).items():
        _node_selector_signal(key, value, names, found)
    for term in _node_terms(pod):
        for expression in term.get("matchExpressions") or []:
            _affinity_signal(expression, names, found)
    for toleration in pod.get("tolerations") or []:
        if toleration.get("key") == ARCH_LABEL and toleration.get("value") in KRUSTLET_ARCHES:
            found.reasons.append(f"toleration {ARCH_LABEL}={toleration.get('value')} (Krustlet)")
            found.krustlet = True
    return Signals(tuple(dict.fromkeys(found.reasons)), frozenset(found.pinned), found.krustlet)


def _runtime_class_signal(pod: Mapping[str, Any], classes: dict[str, str], found: _Found) -> None:
    runtime_class = pod.get("runtimeClassName")
    if isinstance(runtime_class, str) and (
        kubernetes.names_a_wasmtime_class(runtime_class) or runtime_class in classes
    ):
        handler = classes.get(runtime_class)
        found.reasons.append(
            f"runtimeClassName {runtime_class}" + (f" (handler {handler})" if handler else "")
        )


def _node_selector_signal(key: str, value: Any, names: set[str], found: _Found) -> None:
    if key.startswith(WASI_LABEL_PREFIX):
        found.reasons.append(f"nodeSelector {key}={value}")
    elif key in AGENTPOOL_LABELS and value in names:
        found.reasons.append(f"nodeSelector {key}={value} (WASI pool)")
        found.pinned.add(value)
    elif key == ARCH_LABEL and value in KRUSTLET_ARCHES:
        found.reasons.append(f"nodeSelector {key}={value} (Krustlet)")
        found.krustlet = True


def _node_terms(pod: Mapping[str, Any]) -> list[dict[str, Any]]:
    node = (pod.get("affinity") or {}).get("nodeAffinity") or {}
    required = (node.get("requiredDuringSchedulingIgnoredDuringExecution") or {}).get("nodeSelectorTerms")
    preferred = [
        p.get("preference") or {} for p in node.get("preferredDuringSchedulingIgnoredDuringExecution") or []
    ]
    return [t for t in (required or []) + preferred if isinstance(t, dict)]


def _affinity_signal(expression: Mapping[str, Any], names: set[str], found: _Found) -> None:
    key, values = expression.get("key") or "", list(expression.get("values") or [])
    if key.startswith(WASI_LABEL_PREFIX):
        found.reasons.append(f"node affinity on {key}")
    elif key in AGENTPOOL_LABELS and names & set(values) and expression.get("operator") == "In":
        found.reasons.append(f"node affinity {key} in {', '.join(sorted(names & set(values)))} (WASI pool)")
        found.pinned.update(names & set(values))
    elif key == ARCH_LABEL and KRUSTLET_ARCHES & set(values) and expression.get("operator") == "In":
        found.reasons.append(f"node affinity {key} in {', '.join(sorted(KRUSTLET_ARCHES & set(values)))}")
        found.krustlet = True


# ---------------------------------------------------------------------------------------------------
# The Wasm workloads of the export


@dataclass(frozen=True)
class WasmWorkload:
    """A workload of the export with Wasm signals, as the decisions need it: the exported object, its
    signals and whether any of its pods runs on a WASI node."""

    obj: dict[str, Any]
    signals: Signals
    on_wasi_pods: bool


def _is_top_level_workload(obj: Mapping[str, Any]) -> bool:
    """A workload kind, but not a Pod or Job another object owns (its owner is the workload)."""
    kind = obj.get("kind")
    return kind in WORKLOAD_KINDS and not (kind in ("Pod", "Job") and obj["metadata"].get("ownerReferences"))


def _pools_by_workload(view: ClusterView, pods: Sequence[facts.PodOnNode]) -> dict[tuple, Counter[str]]:
    """(namespace, kind, name) of each pod's top controller (the pod itself when it has none) -> how
    many of its pods run on each WASI pool."""
    found: dict[tuple, Counter[str]] = {}
    for pod in pods:
        top = pod.chain[-1] if pod.chain else ("Pod", facts.name_of(pod.pod))
        key = (facts.namespace_of(pod.pod) or "default", *top)
        found.setdefault(key, Counter())[view.wasi_nodes[pod.node]] += 1
    return found


def wasm_workloads(
    objects: Iterable[dict[str, Any]], view: ClusterView, pods: Sequence[facts.PodOnNode]
) -> list[tuple[WorkloadFinding, WasmWorkload]]:
    """Every workload of the export with a Wasm signal, in export order, classified: its finding (on
    the WASI pool most of its pods run on, else the pool it is pinned to, else the first) and what the
    decisions read of it."""
    pools_of = _pools_by_workload(view, pods)
    found = []
    for obj in objects:
        if not _is_top_level_workload(obj):
            continue
        spec = facts.pod_template(obj).get("spec")
        pod: dict[str, Any] = spec if isinstance(spec, dict) else {}
        signals = wasm_signals(pod, view.pools, view.classes)
        if not signals.reasons:
            continue
        namespace, name = facts.namespace_of(obj) or "default", facts.name_of(obj)
        pinned = sorted(signals.pinned_pools)
        counts = pools_of.get((namespace, str(obj.get("kind")), name))
        running = counts.most_common(1)[0][0] if counts else None
        wasi_pool = running or (pinned[0] if pinned else view.pools[0].name)
        finding = WorkloadFinding(
            str(obj.get("kind")), namespace, name, wasi_pool, signals.reasons, pod.get("runtimeClassName")
        )
        classify(finding, view.classes, view.on_wasi)
        found.append((finding, WasmWorkload(obj, signals, running is not None)))
    return found


# ---------------------------------------------------------------------------------------------------
# Readiness for the target shim


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
