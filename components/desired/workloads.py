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
import yaml

from components import naming
from components.config import PROJECT, Phase, Workload, parse_aks_taint
from components.desired.spec import ResourceSpec, in_dependency_order, kubernetes_spec, managed_labels
from components.legacy import KRUSTLET_ARCH, WASI_NODE_LABEL_PREFIX, LegacyWorkload
from components.selectors import ExportSelector, isolate, matches

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
    target_port_name: NotRequired[str]
    """A named container port as the target (instead of target_port)."""
    name: NotRequired[str]
    protocol: NotRequired[str]
    app_protocol: NotRequired[str]


class ProbeArgs(TypedDict):
    path: str
    port: NotRequired[int]
    port_name: NotRequired[str]
    """A named container port (instead of port); one of them is required."""


def probe_port(probe: ProbeArgs) -> int | str:
    return probe["port"] if "port" in probe else probe["port_name"]


def port_target(port: ServicePortArgs) -> int | str:
    """Where a Service port sends traffic: a named container port, a number, or the port itself."""
    return port.get("target_port_name") or port.get("target_port") or port["port"]


class SelectorArgs(TypedDict):
    """A selector found in the legacy export (components.selectors.ExportSelector as a dict)."""

    kind: str
    name: str
    selects: str
    """"pods" or "services"."""
    selector: Mapping[str, Any]
    """LabelSelector form (matchLabels / matchExpressions); a Service's map goes in matchLabels."""


class LegacyPoolArgs(TypedDict):
    """The WASI pool the exported pods were pinned to: pinning to it is dropped from the new pods."""

    name: str
    node_labels: NotRequired[Mapping[str, str]]
    node_taints: NotRequired[Sequence[str]]
    """AKS taint strings, key=value:Effect."""


class AutoscalerArgs(TypedDict):
    """An autoscaling/v2 HPA spec for the new Deployment (translated from the legacy HPA)."""

    min_replicas: int
    max_replicas: int
    metrics: NotRequired[Sequence[Mapping[str, Any]]]
    behavior: NotRequired[Mapping[str, Any]]


class WasmWorkloadArgs(TypedDict):
    """A Spin app on the shim's RuntimeClass: a Deployment, its ClusterIP Service, a PDB and an HPA."""

    namespace: str
    app_name: str
    """The app's name; the Deployment (and by default the Service) is `<app_name>-spin`, shortened
    with a hash to 63 characters when longer (components.naming)."""
    runtime_class_name: pulumi.Input[str]
    """The shim's RuntimeClass (SpinShim.runtime_class_name)."""
    resources: ResourcesArgs
    """Requests and limits of the Wasm container (required: the scheduler and the PDB need them)."""
    probe: ProbeArgs
    """HTTP readiness and liveness: a path the app serves (Spin answers only its routes)."""
    replicas: NotRequired[pulumi.Input[int]]
    """Fixed replicas; required unless `autoscaler` scales the Deployment."""
    autoscaler: NotRequired[AutoscalerArgs]
    """An HPA owns the replicas instead: the Deployment never sends `spec.replicas`, so Pulumi's apply
    never owns it. Under server-side apply a field the sole owner stops sending is removed
    (kubernetes.io/docs/reference/using-api/server-side-apply, "Field management"), so a Deployment
    that once sent replicas and then dropped them would fall back to the default of 1."""
    image: NotRequired[pulumi.Input[str]]
    """The image to run; from scratch required, else it replaces the exported one."""
    legacy_deployment: NotRequired[Mapping[str, Any]]
    """An exported legacy Deployment whose pod template is translated (WASI pinning dropped)."""
    legacy_pool: NotRequired[LegacyPoolArgs]
    service_name: NotRequired[str]
    """Name of the new ClusterIP Service (default: the Deployment's)."""
    ports: NotRequired[Sequence[ServicePortArgs]]
    """The Service's ports, from a legacy Service or given."""
    serving_port: NotRequired[int]
    """The Service port that serves the app (default: the only one)."""
    listen_port: NotRequired[int]
    """Where a rebuilt app listens when that changed: the serving port targets it, the container
    declares it."""
    pod_labels: NotRequired[Mapping[str, str]]
    """Extra pod labels."""
    legacy_selectors: NotRequired[Sequence[SelectorArgs]]
    """Every selector of the legacy export: a legacy PDB that selects the new pods replaces the new
    PDB (the eviction API refuses a pod with two), and the new objects stay out of `isolate_from`."""
    isolate_from: NotRequired[Sequence[str]]
    """Which of `legacy_selectors` ("Kind name") the new pods and Service must not match in this
    phase: the labels they need are left off, and the translation annotation says which and why."""


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# Where the new Deployment says what the translation changed, so `render`, the diff and `kubectl
# describe` show it.
TRANSLATION_ANNOTATION = f"{PROJECT}/translation"


def new_selector(app_name: str) -> dict[str, str]:
    """The label only the new pods have: `<app>-spin` is no value a legacy selector uses (the proof in
    `migrate check` covers the rest), so the new Deployment never claims legacy pods and a legacy
    selector on the standard `app.kubernetes.io/name` never reaches new ones."""
    return {"app.kubernetes.io/instance": naming.new_app_name(app_name)}


def _is_wasi_scheduling_key(key: str | None) -> bool:
    return key is not None and (key.startswith(WASI_NODE_LABEL_PREFIX) or key == KRUSTLET_ARCH[0])


_POOL_KEYS = ("kubernetes.azure.com/agentpool", "agentpool")


class _Pinning:
    """What tied the exported pods to the WASI pool: its AKS-managed runtime labels, the Krustlet arch,
    its name (agentpool labels), its own labels and its taints."""

    def __init__(self, pool: LegacyPoolArgs | None):
        self.labels: dict[str, str] = {}
        self.taints: set[str] = set()
        if pool:
            self.labels = {key: pool["name"] for key in _POOL_KEYS} | dict(pool.get("node_labels") or {})
            self.taints = {parse_aks_taint(taint)["key"] for taint in pool.get("node_taints") or []}
        self.dropped: list[str] = []

    def selects(self, key: str | None, values: Sequence[str] | None) -> bool:
        """A node requirement that only the WASI pool meets (never NotIn/DoesNotExist: they exclude)."""
        if _is_wasi_scheduling_key(key):
            return True
        return key in self.labels and values is not None and set(values) <= {self.labels[key]}

    def keep_selector(self, key: str, value: str) -> bool:
        if self.selects(key, [value]):
            self.dropped.append(f"nodeSelector {key}={value}")
            return False
        return True

    def keep_expression(self, path: str, expression: dict[str, Any]) -> bool:
        key, operator = expression.get("key"), expression.get("operator")
        values = expression.get("values") if operator == "In" else None
        if operator in ("In", "Exists") and self.selects(key, values):
            self.dropped.append(f"{path} {key} {operator} {','.join(values or [])}".rstrip())
            return False
        return True

    def keep_toleration(self, toleration: dict[str, Any]) -> bool:
        key = toleration.get("key")
        if _is_wasi_scheduling_key(key) or (key and key in self.taints):
            self.dropped.append(f"toleration {key}")
            return False
        return True

    def term(self, path: str, term: dict[str, Any]) -> dict[str, Any] | None:
        """A node selector term without its pinning expressions; None when nothing else is left."""
        kept = {**term}
        expressions = [e for e in term.get("matchExpressions") or [] if self.keep_expression(path, e)]
        kept.pop("matchExpressions", None)
        if expressions:
            kept["matchExpressions"] = expressions
        return kept if kept.get("matchExpressions") or kept.get("matchFields") else None

    def affinity(self, affinity: dict[str, Any]) -> dict[str, Any]:
        """Node affinity that pinned pods to the WASI pool is dropped like the nodeSelector: the
        RuntimeClass schedules now. Pod (anti-)affinity is kept as it is."""
        result = copy.deepcopy(affinity)
        node = result.pop("nodeAffinity", None) or {}
        required_key = "requiredDuringSchedulingIgnoredDuringExecution"
        preferred_key = "preferredDuringSchedulingIgnoredDuringExecution"
        kept: dict[str, Any] = {}
        required = (node.get(required_key) or {}).get("nodeSelectorTerms") or []
        terms = [t for t in (self.term("required nodeAffinity", term) for term in required) if t]
        if terms:
            kept[required_key] = {"nodeSelectorTerms": terms}
        preferred = []
        for item in node.get(preferred_key) or []:
            term = self.term("preferred nodeAffinity", item.get("preference") or {})
            if term:
                preferred.append({**item, "preference": term})
        if preferred:
            kept[preferred_key] = preferred
        if kept:
            result["nodeAffinity"] = kept
        return result


def _service_ports(args: WasmWorkloadArgs) -> list[dict[str, Any]]:
    ports = []
    serving = _serving_port(args)
    for port in args.get("ports") or []:
        entry: dict[str, Any] = {"port": port["port"], "targetPort": port_target(port)}
        if port["port"] == serving and "listen_port" in args:
            entry["targetPort"] = args["listen_port"]
        for arg, key in (("name", "name"), ("protocol", "protocol"), ("app_protocol", "appProtocol")):
            if arg in port:
                entry[key] = port[arg]  # type: ignore[literal-required]
        ports.append(entry)
    return ports


def _serving_port(args: WasmWorkloadArgs) -> int | None:
    if "serving_port" in args:
        return args["serving_port"]
    ports = args.get("ports") or []
    return ports[0]["port"] if len(ports) == 1 else None


def _listen_on(container: dict[str, Any], args: WasmWorkloadArgs) -> None:
    """A rebuilt app's container declares the port it listens on now, in place of the one the
    serving Service port targeted."""
    serving = _serving_port(args)
    old = next((port_target(p) for p in args.get("ports") or [] if p["port"] == serving), None)
    declared = [dict(p) for p in container.get("ports") or []]
    for port in declared:
        if old in (port.get("name"), port.get("containerPort")):
            port["containerPort"] = args["listen_port"]
            break
    else:
        declared.append({"containerPort": args["listen_port"], "protocol": "TCP"})
    container["ports"] = declared


def isolated_selectors(args: WasmWorkloadArgs, selects: str) -> list[ExportSelector]:
    """The selectors of `legacy_selectors` that select `selects` ("pods" or "services") and that the
    new objects must stay out of in this phase (`isolate_from`)."""
    isolated = set(args.get("isolate_from") or ())
    return [
        ExportSelector(s["kind"], s["name"], s["selects"], s["selector"])
        for s in args.get("legacy_selectors") or []
        if s["selects"] == selects and f"{s['kind']} {s['name']}" in isolated
    ]


def _pod_labels(args: WasmWorkloadArgs, template_labels: Mapping[str, str]) -> tuple[dict[str, str], dict]:
    """Every label of the exported pods (workload identity, team, what policies select on) plus the new
    pods' own, less what would put them in a legacy selector they must stay out of in this phase."""
    name = args["app_name"]
    labels = {
        **{
            k: v
            for k, v in managed_labels(name, "wasm-workload").items()
            if k != "app.kubernetes.io/managed-by"
        },
        **template_labels,
        **(args.get("pod_labels") or {}),
        "app.kubernetes.io/managed-by": "pulumi",
    }
    own = new_selector(name)
    kept, dropped = isolate(labels, isolated_selectors(args, "pods"))
    return {**kept, **own}, dropped


def _pod_template(args: WasmWorkloadArgs, translation: dict[str, Any]) -> dict[str, Any]:
    """The legacy pod template translated (new RuntimeClass, no WASI pinning, explicit resources and
    probes, labels kept but isolated), or a template from scratch with the same shape."""
    legacy = args.get("legacy_deployment")
    if legacy is not None:
        template = copy.deepcopy(legacy["spec"]["template"])
    else:
        template = {"spec": {"containers": [{"name": args["app_name"]}]}}
    pod = template["spec"]
    pod["runtimeClassName"] = args["runtime_class_name"]
    pinning = _Pinning(args.get("legacy_pool"))
    node_selector = {
        k: v for k, v in (pod.pop("nodeSelector", None) or {}).items() if pinning.keep_selector(k, v)
    }
    if node_selector:
        pod["nodeSelector"] = node_selector
    affinity = pinning.affinity(pod.pop("affinity", None) or {})
    if affinity:
        pod["affinity"] = affinity
    tolerations = [t for t in pod.pop("tolerations", None) or [] if pinning.keep_toleration(t)]
    if tolerations:
        pod["tolerations"] = tolerations
    if pod.pop("hostNetwork", False):  # Krustlet-era pods; the shim needs no host network
        pod.pop("dnsPolicy", None)
        pinning.dropped.append("hostNetwork")
    container = pod["containers"][0]
    if "image" in args:
        container["image"] = args["image"]
    if "listen_port" in args:
        _listen_on(container, args)
    resources = args["resources"]
    container["resources"] = {"requests": dict(resources["requests"]), "limits": dict(resources["limits"])}
    probe = {"httpGet": {"path": args["probe"]["path"], "port": probe_port(args["probe"])}}
    container["readinessProbe"] = {**probe, "periodSeconds": 5, "failureThreshold": 3}
    container["livenessProbe"] = {**probe, "periodSeconds": 10, "failureThreshold": 3}

    metadata = template.setdefault("metadata", {})
    exported_labels = dict(metadata.get("labels") or {})
    metadata["labels"], dropped_labels = _pod_labels(args, exported_labels)
    changed = {
        key: f"{value} -> {metadata['labels'][key]}"
        for key, value in exported_labels.items()
        if key in metadata["labels"] and metadata["labels"][key] != value
    }
    annotations = {
        k: v
        for k, v in (metadata.pop("annotations", None) or {}).items()
        if not k.startswith(_DROPPED_ANNOTATION_PREFIXES)
    }
    if annotations:
        metadata["annotations"] = annotations
    translation["probe"] = f"GET {args['probe']['path']} on port {probe_port(args['probe'])}"
    if pinning.dropped:
        translation["pinning to the WASI pool dropped"] = pinning.dropped
    if changed:
        translation["labels changed (the new pods' selector and manager)"] = changed
    if dropped_labels:
        translation["labels left off in this phase"] = {
            label: f"would put the new pods in {', '.join(who)}" for label, who in dropped_labels.items()
        }
    return template


def wasm_resource_names(name: str) -> dict[str, str]:
    return {
        "deployment": f"{name}-deployment",
        "service": f"{name}-service",
        "pdb": f"{name}-pdb",
        "autoscaler": f"{name}-hpa",
    }


def wasm_object_names(args: WasmWorkloadArgs) -> dict[str, str]:
    """The Kubernetes names of the new objects (components.naming keeps them within the limits)."""
    app = naming.new_app_name(args["app_name"])
    return {"deployment": app, "service": args.get("service_name", app)}


def _metadata(args: WasmWorkloadArgs, name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    labels = dict(labels) if labels is not None else managed_labels(args["app_name"], "wasm-workload")
    return {"name": name, "namespace": args["namespace"], "labels": labels}


def _covering_pdbs(args: WasmWorkloadArgs, pod_labels: Mapping[str, str]) -> list[str]:
    return [
        f"{s['kind']} {s['name']}"
        for s in args.get("legacy_selectors") or []
        if s["kind"] == "PodDisruptionBudget" and matches(s["selector"], pod_labels)
    ]


def _autoscaler(args: WasmWorkloadArgs, deployment: str, spec: AutoscalerArgs) -> dict[str, Any]:
    hpa_spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": spec["min_replicas"],
        "maxReplicas": spec["max_replicas"],
    }
    if spec.get("metrics"):
        hpa_spec["metrics"] = copy.deepcopy(list(spec["metrics"]))
    if spec.get("behavior"):
        hpa_spec["behavior"] = copy.deepcopy(dict(spec["behavior"]))
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(args, deployment),
        "spec": hpa_spec,
    }


def wasm_workload_specs(name: str, args: WasmWorkloadArgs) -> list[ResourceSpec]:
    names = wasm_resource_names(name)
    objects = wasm_object_names(args)
    selector = new_selector(args["app_name"])
    translation: dict[str, Any] = {}
    template = _pod_template(args, translation)
    ports = _service_ports(args)
    serving = _serving_port(args)
    for port in ports:
        if port["port"] == serving:
            translation["serving port"] = (
                f"Service port {port['port']} -> container port {port['targetPort']}"
            )
    service_labels, dropped = isolate(
        managed_labels(args["app_name"], "wasm-workload"), isolated_selectors(args, "services")
    )
    if dropped:
        translation["Service labels left off in this phase"] = {
            label: f"would put the new Service in {', '.join(who)}" for label, who in dropped.items()
        }
    covering = _covering_pdbs(args, template["metadata"]["labels"])
    if covering:
        translation["disruption budget"] = (
            f"{', '.join(covering)} covers the new pods (a pod may have only one)"
        )
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector},
        "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
        "template": template,
    }
    if "autoscaler" not in args:
        spec = {"replicas": args["replicas"], **spec}
    metadata = _metadata(
        args, objects["deployment"], {**managed_labels(args["app_name"], "wasm-workload"), **selector}
    )
    text = yaml.dump(translation, Dumper=_DUMPER, sort_keys=False, width=1000, allow_unicode=True)
    metadata["annotations"] = {TRANSLATION_ANNOTATION: text}
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(args, objects["service"], service_labels),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": ports},
    }
    specs = [
        kubernetes_spec(
            names["deployment"],
            name,
            deployment,
            replace_on_changes=("spec.selector",),
            delete_before_replace=True,
        ),
        kubernetes_spec(names["service"], name, service),
    ]
    if not covering:
        pdb = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _metadata(args, objects["deployment"]),
            # maxUnavailable, not minAvailable: a one-replica app must not block node upgrades forever.
            "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
        }
        specs.append(kubernetes_spec(names["pdb"], name, pdb))
    if "autoscaler" in args:
        hpa = _autoscaler(args, objects["deployment"], args["autoscaler"])
        specs.append(kubernetes_spec(names["autoscaler"], name, hpa, depends_on=(names["deployment"],)))
    return specs


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
    autoscaler: NotRequired[Mapping[str, Any]]
    """The exported HPA that scales the Deployment: adopted read-only like it, deleted with it. Its
    replicas are then never patched (the HPA owns them); `autoscaler_bounds` shapes it instead."""
    autoscaler_bounds: NotRequired[tuple[int, int]]
    """(minReplicas, maxReplicas) set through a HorizontalPodAutoscalerPatch owning only those."""


def legacy_resource_names(name: str) -> dict[str, str]:
    return {
        "deployment": f"{name}-deployment",
        "service": f"{name}-service",
        "autoscaler": f"{name}-hpa",
        "replicas": f"{name}-replicas",
        "bounds": f"{name}-hpa-bounds",
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
    hpa = args.get("autoscaler") if keep else None
    if hpa is not None:
        specs.insert(1, _adoption(names["autoscaler"], name, hpa))
    # The one patch that holds the legacy capacity: the HPA's bounds when an HPA scales the Deployment
    # (its replicas are the HPA's), else the replicas. (name, object, owner, fields)
    capacity: tuple[str, Mapping[str, Any], str, dict[str, int]] | None = None
    if hpa is not None and "autoscaler_bounds" in args:
        low, high = args["autoscaler_bounds"]
        capacity = (names["bounds"], hpa, names["autoscaler"], {"minReplicas": low, "maxReplicas": high})
    elif keep and hpa is None and "replicas" in args:
        capacity = (
            names["replicas"],
            args["deployment"],
            names["deployment"],
            {"replicas": args["replicas"]},
        )
    selector = args.get("service_selector")
    # Traffic leaving the legacy pods (the selector moves off them) goes before their capacity does;
    # otherwise capacity comes first (a rollback brings pods back before traffic returns to them).
    leaving = selector is not None and dict(selector) != dict(args["service"]["spec"].get("selector") or {})
    if capacity is not None:
        patch_name, manifest, owner, fields = capacity
        specs.append(
            _patch(patch_name, name, manifest, fields, owner, names["selector"] if leaving else None)
        )
    if selector is not None:
        after = capacity[0] if capacity is not None and not leaving else None
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


# Which legacy selectors the new pods stay out of in a phase: every one before they serve; the routed
# Service while a Gateway splits exactly (joining it would add the replica share on top); none once
# they serve through the Service (replica split) or have taken over (cutover on).
ISOLATE_ALL = "all"
ISOLATE_SERVICE = "service"
ISOLATE_NONE = "none"


@dataclass(frozen=True)
class WorkloadPlan:
    """What one phase asks of one workload; None means the object is absent in that phase. Bounds are
    (minReplicas, maxReplicas) of the HPAs when an HPA scales the workload; replicas are then the
    minimums."""

    legacy_replicas: int | None
    new_replicas: int | None
    isolation: str
    route_weight: int | None
    service_selects_new: bool
    new_share_percent: int
    legacy_bounds: tuple[int, int] | None = None
    new_bounds: tuple[int, int] | None = None


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


def _share_of(bounds: tuple[int, int], percent: int) -> tuple[int, int]:
    return max(1, round(bounds[0] * percent / 100)), max(1, round(bounds[1] * percent / 100))


def plan_autoscaled(phase: Phase, workload: Workload, hpa: Mapping[str, Any], weight: int) -> WorkloadPlan:
    """An HPA scales the legacy Deployment: its replicas stay the HPA's (never patched), and the split
    shapes both HPAs' bounds instead. With the same target utilisation both sides see the same load
    per pod, so each keeps its share of the pods within its bounds: the new HPA gets `weight` percent
    of the legacy bounds, the legacy HPA the rest. In cutover the legacy HPA is set aside (1..1: it
    holds a single pod that gets no traffic) and decommission deletes it with its Deployment.
    pulumi-kubernetes does not await HPAs (provider/pkg/await/awaiters.go has no awaiter for them): new
    bounds take effect on the HPA controller's next sync, 15 s by default; the Deployment awaits and
    the route's waitFor keep the ordering of capacity and traffic."""
    exported = (int(hpa["spec"].get("minReplicas", 1)), int(hpa["spec"]["maxReplicas"]))
    gateway = workload.gateway is not None
    if phase is Phase.BASELINE:
        return WorkloadPlan(exported[0], None, ISOLATE_ALL, None, False, 0)
    if phase is Phase.PREPARE:
        canary = (workload.canary_replicas,) * 2 if workload.canary else None
        return WorkloadPlan(
            exported[0], canary and canary[0], ISOLATE_ALL, 0 if gateway else None, False, 0, exported, canary
        )
    if phase is Phase.PARALLEL:
        if weight == 0:
            return WorkloadPlan(
                exported[0], 1, ISOLATE_ALL, 0 if gateway else None, False, 0, exported, (1, 1)
            )
        old, new = _share_of(exported, 100 - weight), _share_of(exported, weight)
        if gateway:
            return WorkloadPlan(old[0], new[0], ISOLATE_SERVICE, weight, False, weight, old, new)
        share = round(100 * new[0] / (new[0] + old[0]))
        return WorkloadPlan(old[0], new[0], ISOLATE_NONE, None, False, share, old, new)
    if phase is Phase.CUTOVER:
        return WorkloadPlan(
            1, exported[0], ISOLATE_NONE, 100 if gateway else None, True, 100, (1, 1), exported
        )
    return WorkloadPlan(None, exported[0], ISOLATE_NONE, 100 if gateway else None, True, 100, None, exported)


def plan_workload(phase: Phase, legacy: LegacyWorkload, weight: int) -> WorkloadPlan:
    if legacy.autoscaler is not None:
        return plan_autoscaled(phase, legacy.config, legacy.autoscaler, weight)
    workload = legacy.config
    replicas = legacy.replicas
    target = workload.replicas or replicas
    gateway = workload.gateway is not None
    if phase is Phase.BASELINE:
        return WorkloadPlan(replicas, None, ISOLATE_ALL, None, False, 0)
    if phase is Phase.PREPARE:
        new = workload.canary_replicas if workload.canary else None
        return WorkloadPlan(replicas, new, ISOLATE_ALL, 0 if gateway else None, False, 0)
    if phase is Phase.PARALLEL:
        if gateway:
            isolation = ISOLATE_SERVICE if weight else ISOLATE_ALL
            return WorkloadPlan(replicas, target, isolation, weight, False, weight)
        split = parallel_split(replicas, target, weight)
        share = split.new_share_percent if weight else 0
        isolation = ISOLATE_NONE if weight else ISOLATE_ALL
        return WorkloadPlan(split.legacy_replicas, split.new_replicas, isolation, None, False, share)
    legacy_replicas = 0 if phase is Phase.CUTOVER else None
    return WorkloadPlan(legacy_replicas, target, ISOLATE_NONE, 100 if gateway else None, True, 100)
