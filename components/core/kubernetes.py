"""Kubernetes label selectors, as the API server evaluates them, and the selectors a legacy workload's
export holds: what new pods must stay out of until they are meant to serve.

Semantics (k8s.io/apimachinery pkg/labels and metav1.LabelSelectorAsSelector): a map selector
(Service.spec.selector, matchLabels) needs every key with exactly that value; matchExpressions add
In / NotIn / Exists / DoesNotExist; all requirements must hold. An empty LabelSelector selects every
object (NetworkPolicy podSelector: {}), an empty or absent Service selector selects no pod (the
Service has manually managed endpoints)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

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
