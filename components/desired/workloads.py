"""Each workload's walk from the WASI pool to the shim pool: the legacy objects adopted as exported,
the translated Deployment on the new RuntimeClass, and how traffic is shared in each phase."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from components.config import MigrationConfig, Phase
from components.desired.pools import target_pool_name
from components.desired.shim import DAEMONSET, RUNTIME_CLASS
from components.desired.spec import (
    ResourceSpec,
    WorkloadTraffic,
    in_dependency_order,
    kubernetes_spec,
    managed_labels,
)
from components.legacy import KRUSTLET_ARCH, WASI_NODE_LABEL_PREFIX, LegacyWorkload

# Annotations that only meant something to the WASI pool or to the legacy rollout.
_DROPPED_ANNOTATION_PREFIXES = ("kubernetes.azure.com/", "module.wasm.image/", "kubectl.kubernetes.io/")


def _is_wasi_scheduling_key(key: str | None) -> bool:
    return bool(key) and (key.startswith(WASI_NODE_LABEL_PREFIX) or key == KRUSTLET_ARCH[0])


def _term_without_wasi(term: dict[str, Any]) -> dict[str, Any] | None:
    """A node selector term without its WASI-label expressions; None when nothing else is left."""
    kept = {**term}
    expressions = [e for e in term.get("matchExpressions") or [] if not _is_wasi_scheduling_key(e.get("key"))]
    kept.pop("matchExpressions", None)
    if expressions:
        kept["matchExpressions"] = expressions
    return kept if kept.get("matchExpressions") or kept.get("matchFields") else None


def _affinity_without_wasi(affinity: dict[str, Any]) -> dict[str, Any]:
    """Node affinity that pinned pods to WASI nodes is dropped like the nodeSelector: the RuntimeClass
    schedules now. Pod (anti-)affinity is kept as it is."""
    result = copy.deepcopy(affinity)
    node = result.pop("nodeAffinity", None) or {}
    required_key = "requiredDuringSchedulingIgnoredDuringExecution"
    preferred_key = "preferredDuringSchedulingIgnoredDuringExecution"
    kept: dict[str, Any] = {}
    terms = [
        t for t in map(_term_without_wasi, (node.get(required_key) or {}).get("nodeSelectorTerms") or []) if t
    ]
    if terms:
        kept[required_key] = {"nodeSelectorTerms": terms}
    preferred = []
    for item in node.get(preferred_key) or []:
        term = _term_without_wasi(item.get("preference") or {})
        if term:
            preferred.append({**item, "preference": term})
    if preferred:
        kept[preferred_key] = preferred
    if kept:
        result["nodeAffinity"] = kept
    return result


@dataclass(frozen=True)
class WorkloadPlan:
    """What one phase asks of one workload; None means the object is absent in that phase."""

    legacy_replicas: int | None
    new_replicas: int | None
    production_labels: bool
    route_weight: int | None
    service_selects_new: bool
    new_share_percent: int


# Default split without a traffic router, bounded the way Argo Rollouts bounds a replica-based canary
# (stable + canary stay at the desired count): new <= target, legacy + new <= target + surge, and never
# more legacy pods than run today (a new legacy pod lands on a WASI node whose image may lack the shims).
SURGE_PERCENT = 25
# `migrate check` warns when the replica split misses the weight by more than this (percentage points).
SHARE_TOLERANCE_PERCENT = 10


def surge(target: int) -> int:
    """Extra pods the default split may run beside `target`: 25 % of it, at least one (so a one-replica
    workload can run one legacy and one new pod)."""
    return max(1, math.ceil(target * SURGE_PERCENT / 100))


@dataclass(frozen=True)
class Split:
    legacy_replicas: int
    new_replicas: int

    @property
    def new_share_percent(self) -> int:
        return round(100 * self.new_replicas / (self.new_replicas + self.legacy_replicas))


def parallel_split(legacy: int, target: int, weight: int) -> Split:
    """The (legacy, new) replica pair whose share of ready pods is closest to `weight` percent, with
    target <= legacy + new <= target + surge (capacity kept, bounded), new <= target, legacy never above
    today's count, and at least one pod on each side (the parallel run compares both). Ties go to fewer
    pods in total, then to fewer new pods. Weight 0 runs one new pod outside production traffic
    (for verification only); its share is 0 because those pods do not carry the Service's labels."""
    if weight == 0:
        return Split(legacy, 1)
    if legacy == 0:  # nothing left to compare with: the new side serves alone
        return Split(0, target)
    ceiling = target + surge(target)
    candidates = []
    for new in range(1, target + 1):
        fewest, most = max(1, target - new), min(legacy, ceiling - new)
        if fewest > most:
            continue
        ideal = Fraction(new * (100 - weight), weight)  # legacy pods that would make the share exact
        for kept in {min(max(math.floor(ideal), fewest), most), min(max(math.ceil(ideal), fewest), most)}:
            error = abs(Fraction(100 * new, new + kept) - weight)
            candidates.append((error, new + kept, new, kept))
    _, _, new, kept = min(candidates)
    return Split(kept, new)


def requested_share(phase: Phase, weight: int) -> int:
    """The share of requests a phase asks the new pods to serve."""
    if phase is Phase.PARALLEL:
        return weight
    return 100 if phase.at_least(Phase.CUTOVER) else 0


def plan_workload(phase: Phase, legacy: LegacyWorkload, weight: int) -> WorkloadPlan:
    workload = legacy.config
    replicas = legacy.replicas
    target = workload.replicas or replicas
    gateway = workload.gateway is not None
    if phase is Phase.BASELINE:
        return WorkloadPlan(replicas, None, False, None, False, 0)
    if phase is Phase.PREPARE:
        new = workload.canary_replicas if workload.canary else None
        return WorkloadPlan(replicas, new, False, 0 if gateway else None, False, 0)
    if phase is Phase.PARALLEL:
        if gateway:
            return WorkloadPlan(replicas, target, False, weight, False, weight)
        split = parallel_split(replicas, target, weight)
        share = split.new_share_percent if weight else 0
        return WorkloadPlan(split.legacy_replicas, split.new_replicas, weight > 0, None, False, share)
    legacy_replicas = 0 if phase is Phase.CUTOVER else None
    return WorkloadPlan(legacy_replicas, target, not gateway, 100 if gateway else None, True, 100)


def workload_component(legacy: LegacyWorkload) -> str:
    return f"workload-{legacy.config.namespace}-{legacy.config.name}"


def new_selector(legacy: LegacyWorkload) -> dict[str, str]:
    """Labels only the new pods have, so the new Deployment never claims legacy pods."""
    name = legacy.config.name
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/instance": f"{name}-spin"}


def _names(legacy: LegacyWorkload) -> dict[str, str]:
    base = workload_component(legacy).removeprefix("workload-")
    return {
        "legacy_deployment": f"{base}-legacy-deployment",
        "legacy_service": f"{base}-legacy-service",
        "deployment": f"{base}-deployment",
        "service": f"{base}-service",
        "pdb": f"{base}-pdb",
        "route": f"{base}-route",
    }


def _probe_port(legacy: LegacyWorkload) -> int | str:
    configured = legacy.config.probe.port
    if configured:
        return configured
    port = legacy.service_port
    return port.get("targetPort", port["port"])


def new_pod_template(config: MigrationConfig, legacy: LegacyWorkload, production: bool) -> dict[str, Any]:
    """The legacy pod template, translated: new RuntimeClass, no WASI pinning, explicit resources/probes."""
    workload = legacy.config
    template = copy.deepcopy(legacy.deployment["spec"]["template"])
    pod = template["spec"]
    pod["runtimeClassName"] = config.shim.runtime_class_name
    node_selector = {
        k: v for k, v in (pod.pop("nodeSelector", None) or {}).items() if not _is_wasi_scheduling_key(k)
    }
    if node_selector:
        pod["nodeSelector"] = node_selector
    tolerations = [t for t in pod.pop("tolerations", None) or [] if not _is_wasi_scheduling_key(t.get("key"))]
    affinity = _affinity_without_wasi(pod.pop("affinity", None) or {})
    if affinity:
        pod["affinity"] = affinity
    if tolerations:
        pod["tolerations"] = tolerations
    if pod.pop("hostNetwork", False):  # Krustlet-era pods; the shim needs no host network
        pod.pop("dnsPolicy", None)
    container = pod["containers"][0]
    if workload.image:
        container["image"] = workload.image
    container["resources"] = workload.resources.model_dump(by_alias=True)
    probe = {"httpGet": {"path": workload.probe.path, "port": _probe_port(legacy)}}
    container["readinessProbe"] = {**probe, "periodSeconds": 5, "failureThreshold": 3}
    container["livenessProbe"] = {**probe, "periodSeconds": 10, "failureThreshold": 3}

    metadata = template.setdefault("metadata", {})
    labels = {**managed_labels(workload.name, "wasm-workload"), **new_selector(legacy)}
    if production:
        labels.update(legacy.service_selector)
    metadata["labels"] = labels
    annotations = {
        k: v
        for k, v in (metadata.pop("annotations", None) or {}).items()
        if not k.startswith(_DROPPED_ANNOTATION_PREFIXES)
    }
    if annotations:
        metadata["annotations"] = annotations
    return template


def _new_metadata(legacy: LegacyWorkload, name: str, **extra_labels: str) -> dict[str, Any]:
    workload = legacy.config
    labels = {**managed_labels(workload.name, "wasm-workload"), **extra_labels}
    return {"name": name, "namespace": workload.namespace, "labels": labels}


def _new_deployment(config: MigrationConfig, legacy: LegacyWorkload, plan: WorkloadPlan) -> dict[str, Any]:
    workload = legacy.config
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _new_metadata(legacy, f"{workload.name}-spin", **new_selector(legacy)),
        "spec": {
            "replicas": plan.new_replicas,
            "selector": {"matchLabels": new_selector(legacy)},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": new_pod_template(config, legacy, plan.production_labels),
        },
    }


def _service_ports(legacy: LegacyWorkload) -> list[dict[str, Any]]:
    keep = ("name", "port", "targetPort", "protocol", "appProtocol")
    return [{k: v for k, v in port.items() if k in keep} for port in legacy.service["spec"]["ports"]]


def _new_service(legacy: LegacyWorkload) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _new_metadata(legacy, f"{legacy.service['metadata']['name']}-spin"),
        "spec": {"type": "ClusterIP", "selector": new_selector(legacy), "ports": _service_ports(legacy)},
    }


def _pdb(legacy: LegacyWorkload) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _new_metadata(legacy, f"{legacy.config.name}-spin"),
        # maxUnavailable, not minAvailable: a one-replica app must not block node upgrades forever.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": new_selector(legacy)}},
    }


def _route(legacy: LegacyWorkload, plan: WorkloadPlan, new_service: str | None) -> dict[str, Any]:
    workload = legacy.config
    gateway = workload.gateway
    assert gateway is not None and plan.route_weight is not None
    parent: dict[str, Any] = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": gateway.name,
        "namespace": gateway.namespace,
    }
    if gateway.section_name:
        parent["sectionName"] = gateway.section_name
    port = legacy.service_port["port"]
    backends = []
    if plan.legacy_replicas is not None:
        backends.append(
            {"name": legacy.service["metadata"]["name"], "port": port, "weight": 100 - plan.route_weight}
        )
    if new_service:
        backends.append({"name": new_service, "port": port, "weight": plan.route_weight})
    spec: dict[str, Any] = {
        "parentRefs": [parent],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": gateway.path_prefix}}],
                "backendRefs": backends,
            }
        ],
    }
    if gateway.hostnames:
        spec["hostnames"] = list(gateway.hostnames)
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": _new_metadata(legacy, f"{workload.name}-migration"),
        "spec": spec,
    }


def _legacy_deployment(legacy: LegacyWorkload, replicas: int) -> dict[str, Any]:
    """Exactly as exported; only `replicas` may differ. The pod template is never touched: restarting
    legacy pods on WASI nodes whose images lost the shims would break them."""
    manifest = copy.deepcopy(legacy.deployment)
    if replicas != legacy.replicas:
        manifest["spec"]["replicas"] = replicas
    return manifest


def _legacy_service(legacy: LegacyWorkload, selects_new: bool) -> dict[str, Any]:
    manifest = copy.deepcopy(legacy.service)
    if selects_new:
        manifest["spec"]["selector"] = new_selector(legacy)
    return manifest


def workload_specs(
    config: MigrationConfig, legacy: LegacyWorkload
) -> tuple[list[ResourceSpec], WorkloadTraffic]:
    phase = config.phase
    plan = plan_workload(phase, legacy, config.traffic.weight)
    names = _names(legacy)
    component = workload_component(legacy)
    workload = legacy.config
    adopt = f"{workload.namespace}/"
    rollback_order = phase in (Phase.PREPARE, Phase.PARALLEL) and plan.legacy_replicas is not None
    after_legacy = (names["legacy_deployment"],) if rollback_order else ()
    specs: list[ResourceSpec] = []

    new_service = None
    if plan.new_replicas is not None:
        platform = (
            *(target_pool_name(p) for p in config.target_pools),
            DAEMONSET,
            RUNTIME_CLASS,
        )
        specs.append(
            kubernetes_spec(
                names["deployment"],
                component,
                _new_deployment(config, legacy, plan),
                depends_on=(*platform, *after_legacy),
                replace_on_changes=("spec.selector",),
                delete_before_replace=True,
            )
        )
        service = _new_service(legacy)
        new_service = service["metadata"]["name"]
        specs.append(kubernetes_spec(names["service"], component, service))
        specs.append(kubernetes_spec(names["pdb"], component, _pdb(legacy)))

    if plan.route_weight is not None:
        route_after = tuple(names[k] for k in ("deployment", "service") if plan.new_replicas is not None)
        specs.append(
            kubernetes_spec(
                names["route"],
                component,
                _route(legacy, plan, new_service),
                depends_on=(*route_after, *after_legacy),
            )
        )

    service_after = (names["deployment"],) if plan.service_selects_new else after_legacy
    specs.append(
        kubernetes_spec(
            names["legacy_service"],
            component,
            _legacy_service(legacy, plan.service_selects_new),
            protect=True,
            import_id=adopt + legacy.service["metadata"]["name"],
            depends_on=service_after,
        )
    )

    if plan.legacy_replicas is not None:
        drained_after: tuple[str, ...] = ()
        if plan.legacy_replicas == 0:  # scale down only once new pods serve and traffic has moved
            drained_after = tuple(
                n
                for n in (names["deployment"], names["legacy_service"], names["route"])
                if any(s.name == n for s in specs)
            )
        specs.append(
            kubernetes_spec(
                names["legacy_deployment"],
                component,
                _legacy_deployment(legacy, plan.legacy_replicas),
                protect=True,
                import_id=adopt + workload.name,
                depends_on=drained_after,
            )
        )

    traffic = WorkloadTraffic(
        workload=workload.key,
        legacy_replicas=plan.legacy_replicas or 0,
        new_replicas=plan.new_replicas or 0,
        new_share_percent=plan.new_share_percent,
        exact=workload.gateway is not None,
        requested_percent=requested_share(phase, config.traffic.weight),
    )
    return in_dependency_order(specs), traffic
