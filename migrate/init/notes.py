"""What a person should know about a migrated Deployment, or must decide, besides its config entry's
values: its pod spec (containers, volumes, securityContext, WASI annotations), the template its pods
really run (a paused Deployment's), what scales it (HPA, KEDA), what else its pods talk through (Dapr,
meshes), the routes to it, and what it controls."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.core.inputs import load_yaml
from components.export import facts
from components.export.workload import unexported_autoscaler
from migrate.init.detect import ClusterView
from migrate.init.findings import WorkloadFinding
from migrate.init.kubectl_list import MANAGED_FIELDS
from migrate.init.proposals import gateway_from_route

WASM_ANNOTATION_PREFIXES = ("module.wasm.image/", "wasm.", "wasi.", "kubernetes.azure.com/wasm")
# KEDA's default maxReplicaCount (kedacore/keda apis/keda/v1alpha1/scaledobject_types.go).
KEDA_DEFAULT_MAX_REPLICAS = 100


# ---------------------------------------------------------------------------------------------------
# The pod spec


def container_notes(finding: WorkloadFinding, pod: Mapping[str, Any], annotations: Mapping[str, Any]) -> None:
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
    _volume_notes(finding, pod.get("volumes") or [])
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


def _volume_notes(finding: WorkloadFinding, volumes: list[Any]) -> None:
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


def _security_assumptions(pod: Mapping[str, Any], containers: list[dict[str, Any]]) -> list[str]:
    found = [f"{key}: true" for key in ("hostNetwork", "hostPID", "hostIPC") if pod.get(key)]
    pod_context = pod.get("securityContext") or {}
    if pod_context.get("runAsUser") == 0:
        found.append("pod runAsUser: 0")
    for container in containers:
        found += _container_security(container)
    return found


def _container_security(container: Mapping[str, Any]) -> list[str]:
    context = container.get("securityContext") or {}
    name = container.get("name")
    found = []
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


def serving_template(
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


# ---------------------------------------------------------------------------------------------------
# What scales it


def _replicas(deployment: Mapping[str, Any]) -> int:
    replicas = (deployment.get("spec") or {}).get("replicas", 1)
    return replicas if isinstance(replicas, int) and not isinstance(replicas, bool) and replicas >= 0 else 1


def scaling_notes(
    finding: WorkloadFinding, deployment: dict[str, Any], view: ClusterView, related: list[Any]
) -> None:
    """The replicas to size for (an autoscaler's maximum where one scales it), and what scales it."""
    replicas = _replicas(deployment)
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
    if autoscaler is None and scaled is None:
        _unscaled_notes(finding, deployment, related, replicas, bool(controlled))


def _unscaled_notes(
    finding: WorkloadFinding, deployment: dict[str, Any], related: list[Any], replicas: int, controlled: bool
) -> None:
    """No autoscaler of its own in the export: at zero it stays at zero, and a manager writing its
    replicas through the scale subresource is an autoscaler the export left out."""
    if replicas == 0:
        finding.notes.append(
            "scaled to zero (spec.replicas: 0): it migrates at zero (no new pods and no traffic in any "
            "phase) unless `replicas:` is set"
        )
    if controlled:
        return
    unseen = unexported_autoscaler([_with_managed_fields(deployment), *related[1:]], deployment)
    if unseen:
        finding.decide(
            "manifest",
            f"its replicas are managed by {unseen}, which is not in the export: export the autoscaler's "
            "HorizontalPodAutoscaler (or ScaledObject) with it, or remove the autoscaler",
        )


def _with_managed_fields(obj: dict[str, Any]) -> dict[str, Any]:
    """The object with its managedFields: the selective read drops them, so where the printed text shows
    a manager writing through the scale subresource (an autoscaler) that section is read again."""
    text = getattr(obj, "source_text", None)
    match = MANAGED_FIELDS.search(text) if text and "subresource: scale" in text else None
    if match is None:
        return obj
    section = load_yaml(match.group(0))
    return {**obj, "metadata": {**obj["metadata"], **section}}


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


# ---------------------------------------------------------------------------------------------------
# Channels besides its Services, and the routes to it


def _dapr_decision(app_id: str) -> str:
    return (
        f"Dapr app-id {app_id}: with the sidecar a pod joins the app-id's pub/sub consumer groups, input "
        "bindings and actor placement, so new pods consume production messages as soon as they start; and "
        f"Dapr's operator re-points the {app_id}-dapr Service at whichever Deployment with that app-id it "
        "reconciled last (dapr/dapr pkg/operator/handlers/dapr_handler.go, patchDaprService). Set "
        "`daprBeforeServing: withoutSidecar` (new pods run without Dapr until they serve) or `withSidecar`"
    )


def channel_notes(finding: WorkloadFinding, template: Mapping[str, Any], view: ClusterView) -> None:
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


def route_notes(finding: WorkloadFinding, related: list[Mapping[str, Any]]) -> dict[str, Any] | None:
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
        proposal = gateway_from_route(obj, finding.service, finding.namespace)
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
# Copies and what it controls


def single_copy_notes(finding: WorkloadFinding, deployment: Mapping[str, Any]) -> None:
    for reason in facts.single_copy_reasons(deployment):
        finding.notes.append(
            f"must not run two copies at once: {reason}. `sideBySide: true` tells the planner two copies may "
            "run (the plan section says how this config moves it)"
        )


def controlled_notes(finding: WorkloadFinding, related: list[Mapping[str, Any]]) -> None:
    for obj in related:
        controller = facts.controller_of(obj)
        if obj.get("kind") != "ReplicaSet" and controller == ("Deployment", finding.name):
            finding.notes.append(
                f"{obj.get('kind')} {facts.name_of(obj)} is controlled by the legacy Deployment: the garbage "
                "collector deletes it with the Deployment at decommission"
            )
