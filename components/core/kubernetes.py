"""Kubernetes' own semantics, written once: label selectors, taints, tolerations and node affinity, and
what AKS and its WASI pools put on nodes. See docs/design/kubernetes-semantics.md."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# The Kubernetes minor versions whose schemas `check` validates against (components/export/schemas.py);
# here, with the other facts of Kubernetes, so the command line's parser reads them without the schemas.
KUBERNETES_VERSIONS = ("1.31", "1.32", "1.33", "1.34")

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
AKS_WASI_CLASS_PATTERN = re.compile(r"^wasmtime-(spin|slight)-v[0-9-]+$")


# Every Wasm RuntimeClass of the wasmtime shims (AKS's wasmtime-spin-v2, deislabs' and KWasm's
# wasmtime-spin) is named wasmtime-*: a pod naming one is a Wasm pod, whatever created the class.
WASMTIME_CLASS_PREFIX = "wasmtime-"


def names_a_wasmtime_class(name: str) -> bool:
    """A RuntimeClass name of the wasmtime shims' family (AKS's or another tool's): the sign `init`
    looks for; `is_aks_wasi_runtime_class` is the narrower set AKS itself owns."""
    return name.startswith(WASMTIME_CLASS_PREFIX)


def is_aks_wasi_runtime_class(name: str) -> bool:
    """A RuntimeClass name AKS gave (or would give) a WASI pool's runtime: a known one, or one of its
    pattern (`wasmtime-spin-v…`, `wasmtime-slight-v…`)."""
    return name in AKS_WASI_RUNTIME_CLASSES or bool(AKS_WASI_CLASS_PATTERN.match(name))


WASI_NODE_LABEL_PREFIX = "kubernetes.azure.com/wasmtime-"
AGENTPOOL_LABELS = ("agentpool", "kubernetes.azure.com/agentpool")
# Krustlet, the WASI pools' predecessor, registered its nodes with these architectures under
# `kubernetes.io/arch` (krustlet docs: "kubernetes.io/arch=wasm32-wagi" / "wasm32-wasi"); pods pinned
# to them are Wasm pods, and a pin or toleration on them means a Wasm node, never a CPU architecture.
ARCH_LABEL = "kubernetes.io/arch"
KRUSTLET_ARCHES = frozenset({"wasm32-wagi", "wasm32-wasi"})
# The CPU architectures AKS node pools have (`kubernetes.io/arch` of amd64 and Arm64 VM sizes).
AKS_ARCHITECTURES = frozenset({"amd64", "arm64"})

# What a selector of each kind selects, and where its selector sits. ServiceMonitors select Services
# (by the Service's labels); everything else here selects pods.
POD_SELECTORS = {
    "Service": ("spec", "selector"),
    "Deployment": ("spec", "selector"),
    "PodDisruptionBudget": ("spec", "selector"),
    "NetworkPolicy": ("spec", "podSelector"),
    "PodMonitor": ("spec", "selector"),
}
SERVICE_SELECTORS = {"ServiceMonitor": ("spec", "selector")}


@dataclass(frozen=True)
class ExportSelector:
    """One selector found in an export: who holds it, and whether it selects pods or Services."""

    kind: str
    name: str
    selects: str  # "pods" | "services"
    selector: Mapping[str, Any]  # LabelSelector form: matchLabels / matchExpressions

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    @property
    def is_empty(self) -> bool:
        return not self.selector.get("matchLabels") and not self.selector.get("matchExpressions")


def as_label_selector(kind: str, selector: Any) -> dict[str, Any]:
    """A Service's map selector in LabelSelector form, so one evaluator serves every kind."""
    if not isinstance(selector, Mapping):
        return {}
    if kind == "Service":
        return {"matchLabels": dict(selector)}
    return dict(selector)


def _requirement_holds(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, operator = str(expression.get("key")), expression.get("operator")
    values = expression.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise ValueError(f"unknown label selector operator {operator!r}")  # the loader refuses these first


OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector selects an object with `labels`: "an empty label selector matches all
    objects, a null label selector matches no objects" (the API reference of LabelSelector)."""
    if selector is None:
        return False
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and all(
        _requirement_holds(e, labels) for e in selector.get("matchExpressions") or []
    )


def service_selects(service_selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """A Service's `spec.selector`: empty or absent selects no pod, its endpoints are then managed by
    hand (the API reference of ServiceSpec.selector)."""
    return bool(service_selector) and matches({"matchLabels": dict(service_selector or {})}, labels)


def required_labels(selector: Mapping[str, Any]) -> set[tuple[str, str | None]]:
    """The labels a selector needs an object to carry: (key, value) from matchLabels and single-value
    In, (key, None) for Exists and multi-value In. Without any one of them the selector cannot match;
    a selector with none (only NotIn / DoesNotExist) cannot be escaped by dropping labels."""
    needed: set[tuple[str, str | None]] = {(k, v) for k, v in (selector.get("matchLabels") or {}).items()}
    for expression in selector.get("matchExpressions") or []:
        values = expression.get("values") or []
        if expression.get("operator") == "In":
            needed |= {(expression["key"], values[0])} if len(values) == 1 else {(expression["key"], None)}
        elif expression.get("operator") == "Exists":
            needed.add((expression["key"], None))
    return needed


def _at(obj: Mapping[str, Any], path: tuple[str, str]) -> Any:
    spec = obj.get(path[0])
    return spec.get(path[1]) if isinstance(spec, Mapping) else None


def operator_problems(objects: Iterable[Mapping[str, Any]]) -> list[str]:
    """Selectors whose operator the API server would refuse (the OpenAPI schema only says "string")."""
    return [
        f"{found.label}: label selector operator {expression.get('operator')!r} "
        f"(allowed: {', '.join(OPERATORS)})"
        for found in export_selectors(objects)
        for expression in found.selector.get("matchExpressions") or []
        if expression.get("operator") not in OPERATORS
    ]


def export_selectors(objects: Iterable[Mapping[str, Any]]) -> list[ExportSelector]:
    """Every selector the exported objects hold (Services, Deployments, PDBs, NetworkPolicies, Pod and
    ServiceMonitors). HPAs select through their target's scale selector, i.e. its Deployment's."""
    found = []
    for obj in objects:
        kind = obj.get("kind")
        name = str((obj.get("metadata") or {}).get("name"))
        if kind in POD_SELECTORS:
            selector = as_label_selector(kind, _at(obj, POD_SELECTORS[kind]))
            if kind == "Service" and not selector.get("matchLabels"):
                continue  # no selector: manually managed endpoints, never new pods
            found.append(ExportSelector(kind, name, "pods", selector))
        elif kind in SERVICE_SELECTORS:
            found.append(
                ExportSelector(kind, name, "services", dict(_at(obj, SERVICE_SELECTORS[kind]) or {}))
            )
    return found


def isolate(
    labels: Mapping[str, str], selectors: Iterable[ExportSelector]
) -> tuple[dict[str, str], dict[str, list[str]]]:
    """`labels` without enough labels that none of `selectors` selects the object, and which selectors
    each dropped label answered. Dropping one label a selector needs is enough, so as few as possible
    go (greedy: the label most of the still-matching selectors need, then by key), and labels that
    other tools rely on (`team`, workload identity) stay wherever no selector forces them out. A
    selector that needs no label (only NotIn / DoesNotExist, or empty) cannot be escaped this way;
    it is left to the caller's proof with `matches`."""
    kept = dict(labels)
    dropped: dict[str, list[str]] = {}
    while True:
        matching = [s for s in selectors if not s.is_empty and matches(s.selector, kept)]
        needs = {
            s.label: {
                (k, kept[k]) for k, v in required_labels(s.selector) if k in kept and v in (None, kept[k])
            }
            for s in matching
        }
        candidates = sorted({label for labels_needed in needs.values() for label in labels_needed})
        if not candidates:
            return kept, dropped
        key, value = max(candidates, key=lambda label: (sum(label in n for n in needs.values()), label[0]))
        dropped[f"{key}={value}"] = sorted(name for name, needed in needs.items() if (key, value) in needed)
        del kept[key]


# --- taints, tolerations and node affinity -------------------------------------------------------


def parse_aks_taint(taint: str) -> dict[str, str]:
    """AKS's `key=value:Effect` (value optional), the inverse of Taint.as_aks."""
    key_value, _, effect = taint.rpartition(":")
    key, _, value = key_value.partition("=")
    return {"key": key, "value": value, "effect": effect}


def tolerates(tolerations: Iterable[Mapping[str, Any]], taint: Mapping[str, str]) -> bool:
    """Whether any toleration admits the taint (k8s.io/api core/v1 toleration.go ToleratesTaint): an
    empty effect matches every effect, Exists with no key every taint."""
    for toleration in tolerations:
        if toleration.get("effect") not in (None, "", taint["effect"]):
            continue
        if toleration.get("operator") == "Exists":
            if not toleration.get("key") or toleration["key"] == taint["key"]:
                return True
        elif toleration.get("key") == taint["key"] and toleration.get("value", "") == taint["value"]:
            return True
    return False


def node_requirement_holds(
    expression: Mapping[str, Any], labels: Mapping[str, str], unknowable: frozenset[str] = frozenset()
) -> bool:
    """A NodeSelectorRequirement (In, NotIn, Exists, DoesNotExist, Gt, Lt) on a node's labels; one on
    a label in `unknowable` (its value differs node by node) counts as met."""
    key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
    if key in unknowable:
        return True
    value = labels.get(key)
    if operator == "In":
        return value in values
    if operator == "NotIn":
        return value not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    if value is None or not value.lstrip("-").isdigit():
        return False
    return int(value) > int(values[0]) if operator == "Gt" else int(value) < int(values[0])


def node_affinity_allows(
    pod: Mapping[str, Any], unknowable: frozenset[str], labels: Mapping[str, str]
) -> bool:
    """Required node affinity: any term whose expressions all hold. matchFields name single nodes,
    which a pool-level proof cannot see, so such a term counts as allowing the pool."""
    required = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if not required:
        return True
    return any(
        all(node_requirement_holds(e, labels, unknowable) for e in term.get("matchExpressions") or [])
        for term in required.get("nodeSelectorTerms") or []
    )


def architecture_requirement(architectures: Iterable[str]) -> list[dict[str, Any]]:
    """The node requirement that keeps a pod on nodes of `architectures` (an image index's platforms):
    none when they cover every architecture an AKS pool can have."""
    wanted = sorted(set(architectures))
    if set(wanted) >= AKS_ARCHITECTURES:
        return []
    return [{"key": ARCH_LABEL, "operator": "In", "values": wanted}]


def require_on_nodes(pod: dict[str, Any], expressions: Sequence[Mapping[str, Any]]) -> None:
    """Add `expressions` to every required node affinity term of `pod` (terms are ORed, expressions
    ANDed, so each term must carry them), or a term of their own when it has none."""
    if not expressions:
        return
    node = pod.setdefault("affinity", {}).setdefault("nodeAffinity", {})
    required = node.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
    terms = required.get("nodeSelectorTerms") or [{}]
    required["nodeSelectorTerms"] = [
        {**term, "matchExpressions": [*(term.get("matchExpressions") or []), *map(dict, expressions)]}
        for term in terms
    ]


# EndpointSlices (discovery.k8s.io/v1): a slice belongs to the Service its label names; kube-proxy
# serves every ready endpoint of every slice of a Service, whoever manages the slice (the
# EndpointSlice controller rewrites only its own, managed-by endpointslice-controller.k8s.io).
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by"


def slice_service(endpoint_slice: Mapping[str, Any]) -> str | None:
    """The Service an EndpointSlice adds endpoints to."""
    return ((endpoint_slice.get("metadata") or {}).get("labels") or {}).get(SERVICE_NAME_LABEL)


def ready_endpoints(endpoint_slice: Mapping[str, Any]) -> int:
    """Endpoints kube-proxy sends requests to: `conditions.ready` true or unset (unknown counts as
    ready, discovery.k8s.io/v1 EndpointConditions)."""
    return sum(
        1
        for endpoint in endpoint_slice.get("endpoints") or []
        if (endpoint.get("conditions") or {}).get("ready") is not False
    )
