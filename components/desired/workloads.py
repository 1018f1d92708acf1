"""Each workload's walk from the WASI pool to the shim pool, as three kinds of component:

- WasmWorkload: the new Deployment, Service and PodDisruptionBudget on the shim's RuntimeClass, built
  from an exported legacy Deployment (translated) or from scratch;
- LegacyWorkload: the exported legacy Deployment and Service adopted read-only, plus field-level
  patches for the only fields the migration changes on them (replicas, the Service selector);
- TrafficSplit: a Gateway API HTTPRoute that splits requests exactly between legacy and new.

`plan_workload` decides per phase what each of them holds; the builders below are pure."""

import copy
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, NotRequired, TypedDict

import pulumi

from components import naming
from components.config import Phase
from components.desired.spec import ResourceSpec, in_dependency_order, kubernetes_spec, managed_labels
from components.legacy import KRUSTLET_ARCH, WASI_NODE_LABEL_PREFIX, LegacyWorkload

# Annotations that only meant something to the WASI pool or to the legacy rollout.
_DROPPED_ANNOTATION_PREFIXES = ("kubernetes.azure.com/", "module.wasm.image/", "kubectl.kubernetes.io/")
# Server-side apply conflicts with the managers that own a legacy field today (kubectl, an HPA through
# the scale subresource) are resolved in the patch's favour; without it even `preview` fails on a field
# kubectl-client-side-apply owns (pulumi-kubernetes provider/pkg/await/await.go patchForce).
PATCH_FORCE = {"pulumi.com/patchForce": "true"}


# ---------------------------------------------------------------------------------------------------
# WasmWorkload: the new side


class ResourceListArgs(TypedDict):
    cpu: str
    memory: str


class ResourcesArgs(TypedDict):
    requests: ResourceListArgs
    limits: ResourceListArgs


class ServicePortArgs(TypedDict):
    port: int
    target_port: NotRequired[int]
    name: NotRequired[str]
    protocol: NotRequired[str]
    app_protocol: NotRequired[str]


class WasmWorkloadArgs(TypedDict):
    """A Spin app on the shim's RuntimeClass: a Deployment, its ClusterIP Service and a PDB."""

    namespace: str
    app_name: str
    """The app's name; the Deployment (and by default the Service) is `<app_name>-spin`, shortened
    with a hash to 63 characters when longer (components.naming)."""
    runtime_class_name: pulumi.Input[str]
    """The shim's RuntimeClass (SpinShim.runtime_class_name)."""
    resources: ResourcesArgs
    """Requests and limits of the Wasm container (required: the scheduler and the PDB need them)."""
    replicas: pulumi.Input[int]
    image: NotRequired[pulumi.Input[str]]
    """The image to run; from scratch required, else it replaces the exported one."""
    legacy_deployment: NotRequired[Mapping[str, Any]]
    """An exported legacy Deployment whose pod template is translated (WASI pinning dropped)."""
    service_name: NotRequired[str]
    """Name of the new ClusterIP Service (default: the Deployment's)."""
    ports: NotRequired[Sequence[ServicePortArgs]]
    """The Service's ports (the first one is probed); from a legacy Service or given."""
    probe_path: NotRequired[str]
    """HTTP path for readiness and liveness (default /)."""
    probe_port: NotRequired[int]
    """Port to probe (default: the first Service port's target)."""
    pod_labels: NotRequired[Mapping[str, str]]
    """Extra pod labels, e.g. a legacy Service's selector so it also reaches the new pods."""


def new_selector(app_name: str) -> dict[str, str]:
    """Labels only the new pods have, so the new Deployment never claims legacy pods."""
    return {"app.kubernetes.io/name": app_name, "app.kubernetes.io/instance": naming.new_app_name(app_name)}


def _is_wasi_scheduling_key(key: str | None) -> bool:
    return key is not None and (key.startswith(WASI_NODE_LABEL_PREFIX) or key == KRUSTLET_ARCH[0])


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


def _service_ports(args: WasmWorkloadArgs) -> list[dict[str, Any]]:
    ports = []
    for port in args.get("ports") or []:
        entry: dict[str, Any] = {"port": port["port"], "targetPort": port.get("target_port", port["port"])}
        for arg, key in (("name", "name"), ("protocol", "protocol"), ("app_protocol", "appProtocol")):
            if arg in port:
                entry[key] = port[arg]  # type: ignore[literal-required]
        ports.append(entry)
    return ports


def _probe_port(args: WasmWorkloadArgs) -> int:
    if "probe_port" in args:
        return args["probe_port"]
    ports = args.get("ports") or []
    return ports[0].get("target_port", ports[0]["port"]) if ports else 80


def _pod_template(args: WasmWorkloadArgs) -> dict[str, Any]:
    """The legacy pod template translated (new RuntimeClass, no WASI pinning, explicit resources and
    probes), or a template from scratch with the same shape."""
    legacy = args.get("legacy_deployment")
    if legacy is not None:
        template = copy.deepcopy(legacy["spec"]["template"])
    else:
        template = {"spec": {"containers": [{"name": args["app_name"]}]}}
    pod = template["spec"]
    pod["runtimeClassName"] = args["runtime_class_name"]
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
    if "image" in args:
        container["image"] = args["image"]
    resources = args["resources"]
    container["resources"] = {"requests": dict(resources["requests"]), "limits": dict(resources["limits"])}
    probe = {"httpGet": {"path": args.get("probe_path", "/"), "port": _probe_port(args)}}
    container["readinessProbe"] = {**probe, "periodSeconds": 5, "failureThreshold": 3}
    container["livenessProbe"] = {**probe, "periodSeconds": 10, "failureThreshold": 3}

    metadata = template.setdefault("metadata", {})
    name = args["app_name"]
    metadata["labels"] = {
        **managed_labels(name, "wasm-workload"),
        **new_selector(name),
        **(args.get("pod_labels") or {}),
    }
    annotations = {
        k: v
        for k, v in (metadata.pop("annotations", None) or {}).items()
        if not k.startswith(_DROPPED_ANNOTATION_PREFIXES)
    }
    if annotations:
        metadata["annotations"] = annotations
    return template


def wasm_resource_names(name: str) -> dict[str, str]:
    return {"deployment": f"{name}-deployment", "service": f"{name}-service", "pdb": f"{name}-pdb"}


def wasm_object_names(args: WasmWorkloadArgs) -> dict[str, str]:
    """The Kubernetes names of the new objects (components.naming keeps them within the limits)."""
    app = naming.new_app_name(args["app_name"])
    return {"deployment": app, "service": args.get("service_name", app)}


def _metadata(args: WasmWorkloadArgs, name: str, **extra_labels: str) -> dict[str, Any]:
    labels = {**managed_labels(args["app_name"], "wasm-workload"), **extra_labels}
    return {"name": name, "namespace": args["namespace"], "labels": labels}


def wasm_workload_specs(name: str, args: WasmWorkloadArgs) -> list[ResourceSpec]:
    names = wasm_resource_names(name)
    objects = wasm_object_names(args)
    selector = new_selector(args["app_name"])
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _metadata(args, objects["deployment"], **selector),
        "spec": {
            "replicas": args["replicas"],
            "selector": {"matchLabels": selector},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": _pod_template(args),
        },
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(args, objects["service"]),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": _service_ports(args)},
    }
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(args, objects["deployment"]),
        # maxUnavailable, not minAvailable: a one-replica app must not block node upgrades forever.
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
    }
    return [
        kubernetes_spec(
            names["deployment"],
            name,
            deployment,
            replace_on_changes=("spec.selector",),
            delete_before_replace=True,
        ),
        kubernetes_spec(names["service"], name, service),
        kubernetes_spec(names["pdb"], name, pdb),
    ]


# ---------------------------------------------------------------------------------------------------
# LegacyWorkload: read-only adoption plus field-level patches


class LegacyWorkloadArgs(TypedDict):
    """A Deployment and Service that run today, adopted without Pulumi ever applying them."""

    deployment: Mapping[str, Any]
    """The exported Deployment, server-set fields stripped."""
    service: Mapping[str, Any]
    """The exported Service users reach."""
    keep_deployment: NotRequired[bool]
    """False deletes the Deployment (decommission; protected, so `pulumi state unprotect` first)."""
    replicas: NotRequired[int]
    """Sets the Deployment's replicas through a DeploymentPatch that owns only that field."""
    service_selector: NotRequired[Mapping[str, str]]
    """Sets the Service's selector through a ServicePatch that owns only that field."""


def legacy_resource_names(name: str) -> dict[str, str]:
    return {
        "deployment": f"{name}-deployment",
        "service": f"{name}-service",
        "replicas": f"{name}-replicas",
        "selector": f"{name}-selector",
    }


def _identity(manifest: Mapping[str, Any]) -> dict[str, Any]:
    metadata = manifest["metadata"]
    return {"name": metadata["name"], "namespace": metadata["namespace"]}


def _adoption(name: str, component: str, manifest: Mapping[str, Any]) -> ResourceSpec:
    """Adopted read-only: the exported object is the program's input, but `ignore_changes=["*"]` makes
    the engine keep what the import read (see legacy_pool_specs), so Pulumi never applies it and takes
    ownership of no field. Server-side apply would otherwise own every field sent, remove kubectl-managed
    fields missing from the export and revert a drifted pod template (pulumi-kubernetes SSA, #2491)."""
    return kubernetes_spec(
        name,
        component,
        copy.deepcopy(dict(manifest)),
        protect=True,
        import_id="{namespace}/{name}".format(**_identity(manifest)),
        ignore_changes=("*",),
    )


def _patch(
    name: str,
    component: str,
    manifest: Mapping[str, Any],
    spec: dict[str, Any],
    owner: str,
    after: str | None,
) -> ResourceSpec:
    """A server-side apply patch owning only `spec`'s fields. Removing it from the program must not
    relinquish them (pulumi-kubernetes await.go Deletion → ssa.Relinquish: an unowned `replicas` falls
    back to 1, an unowned selector disappears), so it is retained on delete: the engine then skips the
    provider's Delete (pulumi/pulumi pkg/resource/deploy/step.go DeleteStep.Apply, RetainOnDelete). The
    last value stays and the phase applied next sets its own. It is also deleted_with its object, which
    step.go skips the same way when that object goes in the same update."""
    inputs = {
        "apiVersion": manifest["apiVersion"],
        "kind": manifest["kind"],
        "metadata": {**_identity(manifest), "annotations": dict(PATCH_FORCE)},
        "spec": spec,
    }
    return kubernetes_spec(
        name,
        component,
        inputs,
        patch=True,
        depends_on=(owner, *((after,) if after else ())),
        retain_on_delete=True,
        deleted_with=owner,
    )


def legacy_workload_specs(name: str, args: LegacyWorkloadArgs) -> list[ResourceSpec]:
    """Scaling down waits for the selector to move off the legacy pods; scaling back up (a rollback)
    comes before the selector moves back."""
    names = legacy_resource_names(name)
    keep = args.get("keep_deployment", True)
    specs = [_adoption(names["service"], name, args["service"])]
    if keep:
        specs.insert(0, _adoption(names["deployment"], name, args["deployment"]))
    replicas = args.get("replicas")
    selector = args.get("service_selector")
    scale_down_last = replicas == 0
    if keep and replicas is not None:
        after = names["selector"] if scale_down_last and selector is not None else None
        specs.append(
            _patch(
                names["replicas"],
                name,
                args["deployment"],
                {"replicas": replicas},
                names["deployment"],
                after,
            )
        )
    if selector is not None:
        after = names["replicas"] if keep and replicas is not None and not scale_down_last else None
        specs.append(
            _patch(
                names["selector"],
                name,
                args["service"],
                {"selector": dict(selector)},
                names["service"],
                after,
            )
        )
    return in_dependency_order(specs)


# ---------------------------------------------------------------------------------------------------
# TrafficSplit: an exact split through a Gateway


class BackendArgs(TypedDict):
    service_name: str
    port: int
    weight: int


class TrafficSplitArgs(TypedDict):
    """An HTTPRoute on an existing Gateway that splits a host and path between Services by weight."""

    namespace: str
    app_name: str
    gateway_name: str
    gateway_namespace: str
    backends: Sequence[BackendArgs]
    section_name: NotRequired[str]
    hostnames: NotRequired[Sequence[str]]
    path_prefix: NotRequired[str]


# HTTPRoutes are custom resources, which pulumi-kubernetes does not await unless told what to wait for
# (`pulumi.com/waitFor`, 4.24+, provider/pkg/metadata/overrides.go ReadyCondition): a JSON list of
# expressions that must all hold. A jsonpath compares only the first match, which is this route's one
# parent. The await checks staleness only through a top-level status.observedGeneration, which
# HTTPRoutes do not have, so it can pass on the previous generation's conditions: the weights may not be
# in force yet when a dependent (the legacy scale-down) starts; the Deployment awaits keep capacity up.
ROUTE_WAIT_FOR = (
    '["jsonpath={.status.parents[*].conditions[?(@.type==\\"Accepted\\")].status}=True", '
    '"jsonpath={.status.parents[*].conditions[?(@.type==\\"ResolvedRefs\\")].status}=True"]'
)


def traffic_split_specs(name: str, args: TrafficSplitArgs) -> list[ResourceSpec]:
    parent: dict[str, Any] = {
        "group": "gateway.networking.k8s.io",
        "kind": "Gateway",
        "name": args["gateway_name"],
        "namespace": args["gateway_namespace"],
    }
    if "section_name" in args:
        parent["sectionName"] = args["section_name"]
    spec: dict[str, Any] = {
        "parentRefs": [parent],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": args.get("path_prefix", "/")}}],
                "backendRefs": [
                    {"name": b["service_name"], "port": b["port"], "weight": b["weight"]}
                    for b in args["backends"]
                ],
            }
        ],
    }
    if args.get("hostnames"):
        spec["hostnames"] = list(args.get("hostnames") or [])
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {
            "name": naming.route_name(args["app_name"]),
            "namespace": args["namespace"],
            "labels": managed_labels(args["app_name"], "wasm-workload"),
            "annotations": {"pulumi.com/waitFor": ROUTE_WAIT_FOR},
        },
        "spec": spec,
    }
    return [kubernetes_spec(name, name, route)]


# ---------------------------------------------------------------------------------------------------
# The phase plan of one workload


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
