"""Each workload's walk from the WASI pool to the shim pool as three kinds of component (WasmWorkload,
LegacyWorkload, TrafficSplit), built by pure builders from what the phase table asks
(components.desired.phase_table). See docs/design/workloads.md."""

from collections.abc import Mapping, Sequence
from typing import Any, NotRequired, TypedDict

import yaml

from components.core import naming
from components.core.config import PROJECT
from components.core.copying import copy_tree
from components.core.kubernetes import (
    AGENTPOOL_LABELS,
    ARCH_LABEL,
    KRUSTLET_ARCHES,
    WASI_NODE_LABEL_PREFIX,
    ExportSelector,
    architecture_requirement,
    isolate,
    matches,
    parse_aks_taint,
    require_on_nodes,
)
from components.desired.awaits import PATCH_FORCE, ROUTE_WAIT_FOR, ready_at_least, rolled_out_with_ready
from components.desired.spec import Input, ResourceSpec, kubernetes_spec, managed_labels

# Annotations that only meant something to the WASI pool or to the legacy rollout.
_DROPPED_ANNOTATION_PREFIXES = ("kubernetes.azure.com/", "module.wasm.image/", "kubectl.kubernetes.io/")
# The label only the migration's pods carry, under a key the migration owns: no selector a user wrote
# reads it, so selecting the new pods by it never gives a key a user's Service, PDB or autoscaler selects
# on (Helm's app.kubernetes.io/instance, for one) a value of its own. Every exported label is kept.
NEW_POD_LABEL = f"{PROJECT}/instance"
# Selectors that only restrict what a pod may do, never send it work: new pods stay in them in every
# phase, so the canary is held to the same network policy as the pods it may replace (a pod no policy
# selects accepts any traffic).
NEVER_ISOLATED = frozenset({"NetworkPolicy"})
# On a new Deployment whose replicas an autoscaler owns: the Ready pods its rollout must reach. Changing
# the autoscaler's minimum changes it, so the Deployment is applied again and awaited (awaits.py).
READY_AT_LEAST_ANNOTATION = f"{PROJECT}/ready-at-least"
# On a Dapr app's new Deployment in decommission: makes Dapr's operator give the `<app-id>-dapr` Service
# to the new Deployment before the legacy one is deleted. See docs/design/workloads.md.
DAPR_RECONCILE_ANNOTATION = f"{PROJECT}/dapr-service-owner"


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
    """A selector found in the legacy export (components.core.kubernetes.ExportSelector as a dict)."""

    kind: str
    name: str
    selects: str
    """"pods" or "services"."""
    selector: Mapping[str, Any]
    """LabelSelector form (matchLabels / matchExpressions); a Service's map goes in matchLabels."""


class WasiPinningArgs(TypedDict):
    """What pinned the exported pods to one WASI pool (its name, labels, taints): pinning to it is dropped
    from the new pods."""

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


class ScaledObjectArgs(TypedDict):
    """A KEDA ScaledObject for the new Deployment, translated from the legacy one's: same triggers and
    settings, its own bounds; KEDA then creates and owns its HPA (kedacore/keda controllers/keda/hpa.go)."""

    min_replicas: int
    max_replicas: int
    spec: Mapping[str, Any]
    """The exported ScaledObject's spec (its scaleTargetRef and bounds are replaced)."""


class SpinContainerArgs(TypedDict):
    """Spin in an ordinary Linux container instead of the shim: the Spin image runs `spin up --from
    <the app's OCI reference>` (the spintainer executor of spinframework/spin-operator,
    internal/controller/spinapp_controller.go), nothing privileged and no RuntimeClass."""

    image: str
    """The Spin runtime image, pinned by its multi-arch index digest (entrypoint `spin`)."""
    architectures: NotRequired[Sequence[str]]
    """The node architectures that image holds (default: every AKS one); the pods run only there."""
    pull_secret: NotRequired[str]
    """A kubernetes.io/dockerconfigjson Secret Spin logs in to the app's registry with: Spin's OCI
    client reads a Docker config ($DOCKER_CONFIG/config.json, docker_credential crate), not the
    kubelet's Entra ID pull identity."""
    avoid_pools: NotRequired[Sequence[str]]
    """Node pools the pods must not land on (the WASI pools, which decommission deletes)."""


class WasmWorkloadArgs(TypedDict):
    """A Spin app on the shim's RuntimeClass (or in a Spin container): a Deployment, its ClusterIP
    Service, a PDB and an HPA."""

    namespace: str
    app_name: str
    """The app's name; the Deployment (and by default the Service) is `<app_name>-spin`, shortened
    with a hash to 63 characters when longer (components.core.naming)."""
    runtime_class_name: NotRequired[Input[str]]
    """The shim's RuntimeClass (SpinShim.runtime_class_name); required unless `spin_container`."""
    spin_container: NotRequired[SpinContainerArgs]
    """Run the app in the Spin container instead of on the shim (the `container` target)."""
    resources: ResourcesArgs
    """Requests and limits of the Wasm container (required: the scheduler and the PDB need them)."""
    probe: ProbeArgs
    """HTTP readiness and liveness: a path the app serves (Spin answers only its routes)."""
    replicas: NotRequired[Input[int]]
    """Fixed replicas; required unless `autoscaler` scales the Deployment."""
    autoscaler: NotRequired[AutoscalerArgs]
    """An HPA owns the replicas instead: the Deployment never sends `spec.replicas`, so Pulumi's apply
    never owns it. Under server-side apply a field the sole owner stops sending is removed
    (kubernetes.io/docs/reference/using-api/server-side-apply, "Field management"), so a Deployment
    that once sent replicas and then dropped them would fall back to the default of 1."""
    scaled_object: NotRequired[ScaledObjectArgs]
    """A KEDA ScaledObject owns the replicas instead (like `autoscaler`)."""
    image: NotRequired[Input[str]]
    """The image to run; from scratch required, else it replaces the exported one."""
    legacy_deployment: NotRequired[Mapping[str, Any]]
    """An exported legacy Deployment whose pod template is translated (WASI pinning dropped)."""
    legacy_pools: NotRequired[Sequence[WasiPinningArgs]]
    """The WASI pools the exported pods ran on: pinning to any of them is dropped."""
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
    pod_annotations: NotRequired[Mapping[str, str]]
    """Pod annotations set over the exported ones (e.g. `dapr.io/enabled: "false"` before the pods
    serve); the translation annotation lists each change."""
    deployment_annotations: NotRequired[Mapping[str, str]]
    """Annotations on the Deployment object itself (not its pods: no rollout), e.g.
    DAPR_RECONCILE_ANNOTATION."""
    strategy: NotRequired[Mapping[str, Any]]
    """The Deployment's update strategy (default: one pod at a time, none unavailable); a workload
    that must never run two copies keeps its exported `Recreate`."""
    legacy_selectors: NotRequired[Sequence[SelectorArgs]]
    """Every selector of the legacy export: no new pod is ever selected by two PodDisruptionBudgets
    (the eviction API refuses such a pod), and the new objects stay out of `isolate_from`."""
    isolate_from: NotRequired[Sequence[str]]
    """Which of `legacy_selectors` ("Kind name") the new pods and Service must not match in this
    phase: the labels they need are left off, and the translation annotation says which and why."""


_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# Where the new Deployment says what the translation changed, so `render`, the diff and `kubectl
# describe` show it.
TRANSLATION_ANNOTATION = f"{PROJECT}/translation"
_TRANSLATIONS: dict[str, str] = {}  # repr of a translation -> its YAML
_TRANSLATIONS_KEPT = 10_000


def translation_text(translation: dict[str, Any]) -> str:
    """The translation annotation's YAML. Most workloads' are alike, and each state (a phase, its
    baseline, the other side of a diff) writes every one again: each distinct one is dumped once. Plain
    data with equal reprs dumps alike (a repr tells 1, 1.0 and True apart, as the dump does)."""
    key = repr(translation)
    text = _TRANSLATIONS.get(key)
    if text is None:
        if len(_TRANSLATIONS) >= _TRANSLATIONS_KEPT:
            _TRANSLATIONS.clear()
        text = yaml.dump(translation, Dumper=_DUMPER, sort_keys=False, width=1000, allow_unicode=True)
        _TRANSLATIONS[key] = text
    return text


def new_selector(app_name: str) -> dict[str, str]:
    """The new Deployment's selector: the label only the new pods have, so it never claims legacy pods
    and no legacy selector needs it."""
    return {NEW_POD_LABEL: naming.new_app_name(app_name)}


def _is_wasi_scheduling(key: str | None, values: Sequence[str] | None) -> bool:
    """A node requirement only WASI (or Krustlet) nodes meet: an AKS WASI runtime label, or a Krustlet
    architecture (`values` None: any value, as `Exists` or a toleration without a value). A pin to a CPU
    architecture (arm64) stays."""
    if key is None:
        return False
    if key.startswith(WASI_NODE_LABEL_PREFIX):
        return True
    return key == ARCH_LABEL and (values is None or (bool(values) and set(values) <= KRUSTLET_ARCHES))


_POOL_KEYS = ("kubernetes.azure.com/agentpool", "agentpool")


class _Pinning:
    """What tied the exported pods to the WASI pools: their AKS-managed runtime labels, the Krustlet
    arch, their names (agentpool labels), their own labels and their taints."""

    def __init__(self, pools: Sequence[WasiPinningArgs]):
        # label key -> the values only WASI pools' nodes carry for it
        self.labels: dict[str, set[str]] = {}
        self.taints: set[str] = set()
        for pool in pools:
            for key, value in {
                **{key: pool["name"] for key in _POOL_KEYS},
                **(pool.get("node_labels") or {}),
            }.items():
                self.labels.setdefault(key, set()).add(value)
            self.taints |= {parse_aks_taint(taint)["key"] for taint in pool.get("node_taints") or []}
        self.dropped: list[str] = []

    def selects(self, key: str | None, values: Sequence[str] | None) -> bool:
        """A node requirement that only WASI pools meet (never NotIn/DoesNotExist: they exclude)."""
        if _is_wasi_scheduling(key, values):
            return True
        return key in self.labels and values is not None and set(values) <= self.labels[key]  # type: ignore[index]

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
        value = toleration.get("value")
        if _is_wasi_scheduling(key, [value] if value else None) or (key and key in self.taints):
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
        result = copy_tree(affinity)
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
    """Every label of the exported pods with its value (workload identity, team, Helm's labels, what
    Services and policies select on), or the managed labels for pods built from scratch; then the new
    pods' own; less what would put them in a legacy selector they must stay out of in this phase."""
    name = args["app_name"]
    base = dict(template_labels) if "legacy_deployment" in args else managed_labels(name, "wasm-workload")
    labels = {**base, **(args.get("pod_labels") or {})}
    kept, dropped = isolate(labels, isolated_selectors(args, "pods"))
    return {**kept, **new_selector(name)}, dropped


def _pod_template(args: WasmWorkloadArgs, translation: dict[str, Any]) -> dict[str, Any]:
    """The legacy pod template translated (new RuntimeClass, no WASI pinning, explicit resources and
    probes, labels kept but isolated), or a template from scratch with the same shape."""
    legacy = args.get("legacy_deployment")
    if legacy is not None:
        template = copy_tree(legacy["spec"]["template"])
    else:
        template = {"spec": {"containers": [{"name": args["app_name"]}]}}
    pod = template["spec"]
    pinning = _Pinning(args.get("legacy_pools") or [])
    _unpin(pod, pinning)
    _wasm_container(pod["containers"][0], args)
    if "spin_container" in args:
        _in_spin_container(pod, args, args["spin_container"], translation)
    else:
        pod["runtimeClassName"] = args["runtime_class_name"]
    changes = _pod_metadata(template.setdefault("metadata", {}), args)
    translation["probe"] = f"GET {args['probe']['path']} on port {probe_port(args['probe'])}"
    if pinning.dropped:
        translation["pinning to the WASI pool dropped"] = pinning.dropped
    translation.update(changes)
    return template


def _unpin(pod: dict[str, Any], pinning: _Pinning) -> None:
    """Drop what tied the pod to the WASI pools: node selector, node affinity, tolerations, host network."""
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


# Where the Spin container keeps its registry cache and temporary files (an emptyDir, so a read-only
# root file system still works), and where the pull Secret's Docker config is mounted.
SPIN_HOME = "/spin"
SPIN_REGISTRY_CONFIG = "/spin-registry"


def _in_spin_container(
    pod: dict[str, Any], args: WasmWorkloadArgs, spin: SpinContainerArgs, translation: dict[str, Any]
) -> None:
    """The app's container as the Spin runtime image that pulls and serves the app: no RuntimeClass,
    no command of the shim's, Spin listening on every address at the port the Service targets (it
    listens on 127.0.0.1:3000 by default), only on the image's architectures and off the WASI pools."""
    pod.pop("runtimeClassName", None)
    container = pod["containers"][0]
    app = container["image"]
    port = _container_port_number(container, args)
    dropped = {key: container.pop(key) for key in ("command", "args") if key in container}
    container["image"] = spin["image"]
    container["args"] = ["up", "--listen", f"0.0.0.0:{port}", "--from", app]
    env = [e for e in container.get("env") or [] if e.get("name") not in _SPIN_ENV]
    env += [{"name": name, "value": value} for name, value in _spin_env(spin).items()]
    container["env"] = env
    mounts: list[dict[str, Any]] = [{"name": "spin-home", "mountPath": SPIN_HOME}]
    volumes: list[dict[str, Any]] = [{"name": "spin-home", "emptyDir": {}}]
    if "pull_secret" in spin:
        mounts.append({"name": "spin-registry", "mountPath": SPIN_REGISTRY_CONFIG, "readOnly": True})
        items = [{"key": ".dockerconfigjson", "path": "config.json"}]
        volumes.append(
            {"name": "spin-registry", "secret": {"secretName": spin["pull_secret"], "items": items}}
        )
    container["volumeMounts"] = [*(container.get("volumeMounts") or []), *mounts]
    pod["volumes"] = [*(pod.get("volumes") or []), *volumes]
    avoid = sorted(spin.get("avoid_pools") or [])
    requirements = architecture_requirement(spin.get("architectures") or ())
    if avoid:
        requirements.append({"key": AGENTPOOL_LABELS[1], "operator": "NotIn", "values": avoid})
    require_on_nodes(pod, requirements)
    translation["runtime"] = (
        f"Spin in a container ({spin['image']}) serving {app} on port {port}, no RuntimeClass"
    )
    if dropped:
        translation["dropped for the Spin container"] = {key: list(value) for key, value in dropped.items()}


_SPIN_ENV = ("HOME", "XDG_CACHE_HOME", "TMPDIR", "DOCKER_CONFIG")


def _spin_env(spin: SpinContainerArgs) -> dict[str, str]:
    env = {"HOME": SPIN_HOME, "XDG_CACHE_HOME": f"{SPIN_HOME}/cache", "TMPDIR": SPIN_HOME}
    if "pull_secret" in spin:
        env["DOCKER_CONFIG"] = SPIN_REGISTRY_CONFIG
    return env


def _container_port_number(container: dict[str, Any], args: WasmWorkloadArgs) -> int:
    """The number Spin must listen on: the rebuilt app's port, else what the serving Service port
    targets, a named port read from the container's ports."""
    if "listen_port" in args:
        return args["listen_port"]
    serving = _serving_port(args)
    target = next((port_target(p) for p in args.get("ports") or [] if p["port"] == serving), None)
    if isinstance(target, int):
        return target
    named = [p["containerPort"] for p in container.get("ports") or [] if p.get("name") == target]
    if target is None or not named:
        raise ValueError(f"the Spin container needs a port number: the serving port targets {target!r}")
    return int(named[0])


def _wasm_container(container: dict[str, Any], args: WasmWorkloadArgs) -> None:
    """The Wasm container: its image and port when they changed, explicit resources and probes."""
    if "image" in args:
        container["image"] = args["image"]
    if "listen_port" in args:
        _listen_on(container, args)
    resources = args["resources"]
    container["resources"] = {"requests": dict(resources["requests"]), "limits": dict(resources["limits"])}
    probe = {"httpGet": {"path": args["probe"]["path"], "port": probe_port(args["probe"])}}
    container["readinessProbe"] = {**probe, "periodSeconds": 5, "failureThreshold": 3}
    container["livenessProbe"] = {**probe, "periodSeconds": 10, "failureThreshold": 3}


def _pod_metadata(metadata: dict[str, Any], args: WasmWorkloadArgs) -> dict[str, Any]:
    """The pods' labels (isolated) and annotations (the WASI ones dropped, `pod_annotations` over
    them), set on `metadata`; what changed, for the translation annotation."""
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
    overridden = {
        key: f"{annotations.get(key, '(none)')} -> {value}"
        for key, value in (args.get("pod_annotations") or {}).items()
        if annotations.get(key) != value
    }
    annotations.update(args.get("pod_annotations") or {})
    if annotations:
        metadata["annotations"] = annotations
    changes: dict[str, Any] = {}
    if changed:
        changes["labels changed (pod_labels)"] = changed
    if overridden:
        changes["annotations changed in this phase"] = overridden
    if dropped_labels:
        changes["labels left off in this phase"] = {
            label: f"would put the new pods in {', '.join(who)}" for label, who in dropped_labels.items()
        }
    return changes


def wasm_resource_names(name: str) -> dict[str, str]:
    return {
        "deployment": f"{name}-deployment",
        "service": f"{name}-service",
        "pdb": f"{name}-pdb",
        "autoscaler": f"{name}-hpa",
        "scaled_object": f"{name}-scaled-object",
    }


def wasm_object_names(args: WasmWorkloadArgs) -> dict[str, str]:
    """The Kubernetes names of the new objects (components.core.naming keeps them within the limits)."""
    app = naming.new_app_name(args["app_name"])
    return {"deployment": app, "service": args.get("service_name", app)}


def _metadata(args: WasmWorkloadArgs, name: str, labels: Mapping[str, str] | None = None) -> dict[str, Any]:
    labels = dict(labels) if labels is not None else managed_labels(args["app_name"], "wasm-workload")
    return {"name": name, "namespace": args["namespace"], "labels": labels}


def _negation(selector: Mapping[str, Any], key: str) -> dict[str, Any] | None:
    """A requirement that holds exactly where `selector`'s requirement on `key` does not."""
    labels = selector.get("matchLabels") or {}
    if key in labels:
        return {"key": key, "operator": "NotIn", "values": [labels[key]]}
    for expression in selector.get("matchExpressions") or []:
        if expression.get("key") == key and expression.get("operator") == "In":
            return {"key": key, "operator": "NotIn", "values": list(expression.get("values") or [])}
        if expression.get("key") == key and expression.get("operator") == "Exists":
            return {"key": key, "operator": "DoesNotExist"}
    return None


def disruption_budget_selector(
    args: WasmWorkloadArgs, template_labels: Mapping[str, str]
) -> tuple[dict[str, Any] | None, list[str]]:
    """The new PodDisruptionBudget's selector: the new pods, less every pod a legacy budget selects
    (the eviction API refuses a pod two budgets select: kubernetes pkg/registry/core/pod/storage
    eviction.go). For each legacy budget, the label the new pods leave off before they serve is
    negated, so the new budget covers them exactly until they carry it and the legacy budget takes them
    over: one object whose selector never changes between phases, never a moment with two. None when
    a legacy budget selects the new pods whatever they carry (it needs no label they could leave off)."""
    budgets = [
        ExportSelector(s["kind"], s["name"], s["selects"], s["selector"])
        for s in args.get("legacy_selectors") or []
        if s["kind"] == "PodDisruptionBudget"
    ]
    pod_selectors = [
        ExportSelector(s["kind"], s["name"], s["selects"], s["selector"])
        for s in args.get("legacy_selectors") or []
        if s["selects"] == "pods" and s["kind"] not in NEVER_ISOLATED
    ]
    labels = {**template_labels, **(args.get("pod_labels") or {})}
    _, dropped = isolate(labels, pod_selectors)
    expressions, notes = [], []
    for budget in budgets:
        left_off = next((label for label, who in dropped.items() if budget.label in who), None)
        negated = _negation(budget.selector, left_off.split("=", 1)[0]) if left_off else None
        if negated is None:
            if not budget.is_empty and not matches(
                budget.selector, {**labels, **new_selector(args["app_name"])}
            ):
                continue  # selects none of the new pods in any phase
            return None, [f"{budget.label} selects the new pods whatever they carry: it covers them"]
        expressions.append(negated)
        notes.append(f"{budget.label} covers the new pods once they carry {left_off}")
    selector: dict[str, Any] = {"matchLabels": new_selector(args["app_name"])}
    if expressions:
        selector["matchExpressions"] = expressions
    return selector, notes


def _scaled_object(args: WasmWorkloadArgs, deployment: str, scaler: ScaledObjectArgs) -> dict[str, Any]:
    spec = copy_tree(dict(scaler["spec"]))
    target = dict(spec.get("scaleTargetRef") or {})
    target["name"] = deployment
    spec.update(
        scaleTargetRef=target, minReplicaCount=scaler["min_replicas"], maxReplicaCount=scaler["max_replicas"]
    )
    config = (spec.get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}
    if config.get("name"):  # a named HPA would be the legacy ScaledObject's: KEDA names its own
        spec["advanced"] = {
            **spec["advanced"],
            "horizontalPodAutoscalerConfig": {**config, "name": deployment},
        }
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": _metadata(args, deployment),
        "spec": spec,
    }


def _autoscaler(args: WasmWorkloadArgs, deployment: str, spec: AutoscalerArgs) -> dict[str, Any]:
    hpa_spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicas": spec["min_replicas"],
        "maxReplicas": spec["max_replicas"],
    }
    if spec.get("metrics"):
        hpa_spec["metrics"] = copy_tree(list(spec["metrics"]))
    if spec.get("behavior"):
        hpa_spec["behavior"] = copy_tree(dict(spec["behavior"]))
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(args, deployment),
        "spec": hpa_spec,
    }


# One new pod at a time and none unavailable: capacity never dips while the template rolls (the pods
# join a Service, or leave one, as their labels change between phases).
ROLLING_ONE_AT_A_TIME = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}


def wasm_workload_specs(name: str, args: WasmWorkloadArgs) -> list[ResourceSpec]:
    """With an autoscaler, the HPA comes first and the Deployment (which never sends replicas) waits
    for the HPA's minimum of Ready pods: HPAs have no awaiter, so their minimum is awaited here."""
    names = wasm_resource_names(name)
    objects = wasm_object_names(args)
    selector = new_selector(args["app_name"])
    translation: dict[str, Any] = {}
    exported_labels = dict(
        (((args.get("legacy_deployment") or {}).get("spec") or {}).get("template") or {})
        .get("metadata", {})
        .get("labels")
        or {}
    )
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
    budget, budget_notes = disruption_budget_selector(args, exported_labels)
    if budget_notes:
        translation["disruption budget"] = budget_notes
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector},
        "strategy": dict(args.get("strategy") or ROLLING_ONE_AT_A_TIME),
        "template": template,
    }
    metadata = _metadata(
        args, objects["deployment"], {**managed_labels(args["app_name"], "wasm-workload"), **selector}
    )
    annotations = {}
    scaler = args.get("autoscaler") or args.get("scaled_object")
    if scaler is not None:
        minimum = scaler["min_replicas"]
        annotations = {READY_AT_LEAST_ANNOTATION: str(minimum), **rolled_out_with_ready(minimum)}
    else:
        spec = {"replicas": args["replicas"], **spec}
    text = translation_text(translation)
    metadata["annotations"] = {
        TRANSLATION_ANNOTATION: text,
        **annotations,
        **dict(args.get("deployment_annotations") or {}),
    }
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata, "spec": spec}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(args, objects["service"], service_labels),
        "spec": {"type": "ClusterIP", "selector": selector, "ports": ports},
    }
    specs = []
    first: tuple[str, ...] = ()
    if "autoscaler" in args:
        hpa = _autoscaler(args, objects["deployment"], args["autoscaler"])
        specs.append(kubernetes_spec(names["autoscaler"], name, hpa))
        first = (names["autoscaler"],)
    elif "scaled_object" in args:
        scaled = _scaled_object(args, objects["deployment"], args["scaled_object"])
        specs.append(kubernetes_spec(names["scaled_object"], name, scaled))
        first = (names["scaled_object"],)
    specs += [
        kubernetes_spec(
            names["deployment"],
            name,
            deployment,
            depends_on=first,
            replace_on_changes=("spec.selector",),
            delete_before_replace=True,
        ),
        kubernetes_spec(names["service"], name, service),
    ]
    if budget is not None:
        pdb = {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _metadata(args, objects["deployment"]),
            # maxUnavailable, not minAvailable: a one-replica app must not block node upgrades forever.
            "spec": {"maxUnavailable": 1, "selector": budget},
        }
        specs.append(kubernetes_spec(names["pdb"], name, pdb))
    return specs


# ---------------------------------------------------------------------------------------------------
# LegacyWorkload: read-only adoption plus field-level patches


class CapacityPatchArgs(TypedDict):
    """The one field-level patch on the legacy Deployment (server-side apply, forced): it owns
    `spec.replicas` only while `replicas` is given. An autoscaled legacy Deployment gets `replicas: 0`
    in cutover, which turns its HPA off (kubernetes pkg/controller/podautoscaler/horizontal.go: a target
    at zero replicas with minReplicas > 0 is not scaled, ScalingActive False "ScalingDisabled"); the
    way back sends the patch without it, so the field, owned by this patch alone, is removed, defaults
    to 1 and the HPA takes over again."""

    replicas: NotRequired[int]
    ready_at_least: NotRequired[int]
    """The patch waits until this many legacy pods are Ready (the way back from cutover lands in a
    phase that relies on them); without it the patch never waits on the legacy Deployment's health."""


class LegacyWorkloadArgs(TypedDict):
    """A Deployment and Service that run today, adopted without Pulumi ever applying them."""

    deployment: Mapping[str, Any]
    """The exported Deployment, server-set fields stripped."""
    service: Mapping[str, Any]
    """The exported Service users reach."""
    keep_deployment: NotRequired[bool]
    """False deletes the Deployment (decommission; protected, so `pulumi state unprotect` first)."""
    capacity: NotRequired[CapacityPatchArgs]
    """The capacity patch, registered from prepare on (see CapacityPatchArgs)."""
    autoscaler: NotRequired[Mapping[str, Any]]
    """The exported HPA that scales the Deployment: adopted read-only like it, deleted with it; never
    patched (its controller owns the replicas while the Deployment runs)."""
    scaled_object: NotRequired[Mapping[str, Any]]
    """The exported KEDA ScaledObject that scales it: adopted read-only, deleted with it; KEDA's own HPA
    is never touched (KEDA rewrites it from the ScaledObject: controllers/keda/hpa.go)."""
    paused_at_zero: NotRequired[bool]
    """The ScaledObject is paused at zero replicas (`autoscaling.keda.sh/paused-replicas: "0"`, KEDA
    2.7+: it stops scaling, deletes its HPA and scales the Deployment to 0); without it the pause
    patch sends nothing, so server-side apply removes the annotation it owned and KEDA resumes."""


def legacy_resource_names(name: str) -> dict[str, str]:
    return {
        "deployment": f"{name}-deployment",
        "service": f"{name}-service",
        "autoscaler": f"{name}-hpa",
        "scaled_object": f"{name}-scaled-object",
        "replicas": f"{name}-replicas",
        "pause": f"{name}-pause",
    }


# KEDA's annotation that pauses a ScaledObject at a replica count (keda.sh docs "Pausing autoscaling";
# apis/keda/v1alpha1/scaledobject_types.go).
KEDA_PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"


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
        copy_tree(dict(manifest)),
        protect=True,
        import_id="{namespace}/{name}".format(**_identity(manifest)),
        ignore_changes=("*",),
    )


def _capacity_patch(
    name: str, component: str, deployment: Mapping[str, Any], args: CapacityPatchArgs
) -> ResourceSpec:
    """A server-side apply patch owning only what it sends. Removing it from the program must not
    relinquish its fields (pulumi-kubernetes await.go Deletion → ssa.Relinquish: an unowned `replicas`
    falls back to 1), so it is retained on delete: the engine then skips the provider's Delete
    (pulumi/pulumi pkg/resource/deploy/step.go DeleteStep.Apply, RetainOnDelete). It is also
    deleted_with its Deployment, which step.go skips the same way when that goes in the same update."""
    annotations = {**PATCH_FORCE, **ready_at_least(args.get("ready_at_least", 0))}
    inputs: dict[str, Any] = {
        "apiVersion": deployment["apiVersion"],
        "kind": deployment["kind"],
        "metadata": {**_identity(deployment), "annotations": annotations},
    }
    if "replicas" in args:
        inputs["spec"] = {"replicas": args["replicas"]}
    return kubernetes_spec(
        name,
        component,
        inputs,
        patch=True,
        depends_on=(f"{component}-deployment",),
        retain_on_delete=True,
        deleted_with=f"{component}-deployment",
    )


def legacy_workload_specs(name: str, args: LegacyWorkloadArgs) -> list[ResourceSpec]:
    names = legacy_resource_names(name)
    keep = args.get("keep_deployment", True)
    specs = []
    if keep:
        specs.append(_adoption(names["deployment"], name, args["deployment"]))
        if args.get("autoscaler") is not None:
            specs.append(_adoption(names["autoscaler"], name, args["autoscaler"]))  # type: ignore[arg-type]
        if args.get("scaled_object") is not None:
            specs.append(_adoption(names["scaled_object"], name, args["scaled_object"]))  # type: ignore[arg-type]
    specs.append(_adoption(names["service"], name, args["service"]))
    if keep and "capacity" in args:
        specs.append(_capacity_patch(names["replicas"], name, args["deployment"], args["capacity"]))
        if args.get("scaled_object") is not None:
            specs.append(
                _pause_patch(names["pause"], name, args["scaled_object"], args.get("paused_at_zero", False))
            )  # type: ignore[arg-type]
    return specs


def _pause_patch(name: str, component: str, scaled_object: Mapping[str, Any], paused: bool) -> ResourceSpec:
    """Owns only the pause annotation of the legacy ScaledObject (retained and deleted_with it, as the
    capacity patch is with its Deployment). Custom resources are not awaited (awaiters.go)."""
    annotations = {**PATCH_FORCE, **({KEDA_PAUSED_REPLICAS: "0"} if paused else {})}
    inputs = {
        "apiVersion": scaled_object["apiVersion"],
        "kind": scaled_object["kind"],
        "metadata": {**_identity(scaled_object), "annotations": annotations},
    }
    owner = f"{component}-scaled-object"
    return kubernetes_spec(
        name, component, inputs, patch=True, depends_on=(owner,), retain_on_delete=True, deleted_with=owner
    )


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
