"""Whether this stack migrates a Wasm workload, and if not, why; for a Deployment it migrates, its
config entry and everything a person must decide or know about it (the entry's values from
migrate/init/proposals.py, the notes from migrate/init/notes.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from components.core import kubernetes
from components.core.config import DnsLabel, Shim, WorkloadName
from components.core.kubernetes import AKS_WASI_RUNTIME_CLASSES
from components.export import facts
from components.export.workload import serving_ports
from migrate.init import notes, proposals
from migrate.init.detect import ClusterView, Signals, WasmWorkload
from migrate.init.findings import WorkloadFinding

SHIM_DEFAULTS = Shim()
_NAMESPACE = TypeAdapter(DnsLabel)
_WORKLOAD_NAME = TypeAdapter(WorkloadName)
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


def decide(finding: WorkloadFinding, workload: WasmWorkload, view: ClusterView) -> None:
    """Whether this stack migrates the workload, and if not, why."""
    reason = (
        _kind_reason(finding, workload.signals)
        or _name_reason(finding)
        or _krustlet_reason(workload.signals)
        or _placement_reason(finding, workload, view)
    )
    if reason:
        finding.reason = reason
        return
    analyse_deployment(finding, workload.obj, workload.signals, view)


# ---------------------------------------------------------------------------------------------------
# Why not


def _kind_reason(finding: WorkloadFinding, signals: Signals) -> str | None:
    if finding.kind == "Deployment":
        return None
    reason = (
        f"not migrated: {_NOT_MIGRATED[finding.kind].format(runtime_class=SHIM_DEFAULTS.runtime_class_name)}"
    )
    if signals.krustlet:
        reason += "; it is a Krustlet-era WAGI/WASI module, not a Spin app: rebuild it as one first"
    return reason


def _name_reason(finding: WorkloadFinding) -> str | None:
    try:
        _WORKLOAD_NAME.validate_python(finding.name)
        _NAMESPACE.validate_python(finding.namespace)
    except ValidationError:
        return (
            f"not migrated: {finding.key} is not a name the config accepts (namespace and name must be "
            "DNS-1123 labels: at most 63 lowercase letters, digits and '-')"
        )
    return None


def _krustlet_reason(signals: Signals) -> str | None:
    if not signals.krustlet:
        return None
    return (
        "not migrated: a Krustlet-era WAGI/WASI module (kubernetes.io/arch wasm32-*), not a Spin app: "
        f"rebuild it as a Spin app and deploy that with runtimeClassName {SHIM_DEFAULTS.runtime_class_name}"
    )


def _placement_reason(finding: WorkloadFinding, workload: WasmWorkload, view: ClusterView) -> str | None:
    """None when the workload runs Spin on a WASI pool: an AKS WASI class, a class of the team's own
    that schedules onto a WASI pool, or a Spin class that may land anywhere while this app is pinned to
    or runs on WASI nodes."""
    runtime_class = finding.runtime_class
    if runtime_class in AKS_WASI_RUNTIME_CLASSES or runtime_class in view.on_wasi:
        return None
    handler = view.classes.get(runtime_class or "", "")
    if facts.runtime_class_shim({"handler": handler}) == "spin":
        if workload.signals.pinned_pools or workload.on_wasi_pods:
            return None
        return (
            "not migrated: already on a Spin shim outside the WASI pools (RuntimeClass "
            f"{runtime_class}, handler {handler}, whose scheduling places it on other nodes): nothing to do"
        )
    if runtime_class and (runtime_class in view.classes or kubernetes.names_a_wasmtime_class(runtime_class)):
        shown = f" (handler {handler})" if handler else ""
        return (
            f"not migrated: RuntimeClass {runtime_class}{shown} is not one of the AKS WASI classes and "
            "does not run Spin on a WASI pool, and the target runs containerd-shim-spin only: rebuild "
            "the app for Spin, or run it on its own shim"
        )
    return (
        "not migrated: pinned to WASI nodes without a Wasm RuntimeClass, so it runs as an ordinary "
        "container there; move it off the WASI pool by removing the pin (no Wasm migration needed)"
    )


# ---------------------------------------------------------------------------------------------------
# A Deployment this stack migrates


def analyse_deployment(
    finding: WorkloadFinding,
    deployment: dict[str, Any],
    signals: Signals,
    view: ClusterView,
) -> None:
    """Whether a Wasm Deployment on a WASI pool migrates, its config entry, its related objects and
    everything a person must decide or know about it."""
    services = list(
        facts.selecting_services(view.index, finding.namespace, facts.template_labels(deployment))
    )
    if not services:
        finding.reason = (
            "not migrated: no Service selects its pods; the migration moves traffic through the Service, so "
            "create one (or redeploy it yourself on the shim's RuntimeClass)"
        )
        return
    related = facts.related_objects(view.index, deployment)
    finding.migrated = True
    finding.objects = tuple(related)  # the exported objects themselves: export_text copies their text
    finding.services = [facts.name_of(s) for s in services]
    finding.manifest = f"manifests/legacy/{finding.namespace}/{finding.name}.yaml"
    entry: dict[str, Any] = {
        "name": finding.name,
        "namespace": finding.namespace,
        "manifest": finding.manifest,
    }
    _choose_service(finding, entry, services, related)
    _runtime_notes(finding, signals, view)
    template = _pod_entry(finding, entry, deployment, view)
    notes.scaling_notes(finding, deployment, view, related)
    notes.channel_notes(finding, template, view)
    notes.single_copy_notes(finding, deployment)
    gateway = notes.route_notes(finding, related)
    if gateway:
        finding.proposed["gateway"] = entry["gateway"] = gateway
    notes.controlled_notes(finding, related)
    finding.entry = entry


def _choose_service(
    finding: WorkloadFinding,
    entry: dict[str, Any],
    services: list[Mapping[str, Any]],
    related: list[Mapping[str, Any]],
) -> None:
    """The Service the new side follows (`service:` where several select the pods), or the decision to
    make; and the port it serves on, or the decision to make."""
    primary, why = proposals.primary_service(finding.name, services, related)
    if primary is None:
        finding.decide(
            "service",
            f"{len(services)} Services select its pods ({', '.join(finding.services)}) and none is named "
            "like it or the only one an HTTPRoute or Ingress routes to: set `service:` to the one users "
            "reach (the new side's Service and route follow it)",
        )
        return
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


def _runtime_notes(finding: WorkloadFinding, signals: Signals, view: ClusterView) -> None:
    """What its runtime means for the move: a SpiderLightning app needs its Spin rewrite, a pin to a
    WASI pool is left out, a team's own class on the WASI pool migrates like an AKS one."""
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
    if view.is_own_class_on_wasi(finding.runtime_class):
        finding.notes.append(
            f"RuntimeClass {finding.runtime_class} is the team's own (handler "
            f"{view.classes.get(finding.runtime_class or '')}), and its scheduling places pods on WASI nodes "
            "only: a Spin app on the WASI pool, migrated like one on an AKS class"
        )


def _pod_entry(
    finding: WorkloadFinding, entry: dict[str, Any], deployment: dict[str, Any], view: ClusterView
) -> Mapping[str, Any]:
    """The entry's resources and probe, read from the template its pods run, with the notes on its pod
    spec; returns that template."""
    template = notes.serving_template(finding, deployment, view)
    spec = template.get("spec")
    pod: Mapping[str, Any] = spec if isinstance(spec, dict) else {}
    containers = [c for c in pod.get("containers") or [] if isinstance(c, dict)] or [{}]
    annotations = {**facts.annotations_of(deployment), **facts.annotations_of(template)}
    notes.container_notes(finding, pod, annotations)
    entry["resources"] = proposals.resources(finding, containers[0])
    probe = proposals.probe(finding, containers[0])
    if probe:
        entry["probe"] = probe
    return template
