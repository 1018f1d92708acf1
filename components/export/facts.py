"""What a cluster export says about one workload, as pure functions: who owns, selects, scales, routes to
and runs it; the one place these facts are computed. See docs/design/export-facts.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from components.core.kubernetes import (
    AGENTPOOL_LABELS,
    AKS_WASI_RUNTIME_CLASSES,
    WASI_NODE_LABEL_PREFIX,
    matches,
    service_selects,
)

Obj = Mapping[str, Any]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"
KEDA_API_GROUP = "keda.sh"
SECRETS_STORE_CSI_DRIVER = "secrets-store.csi.k8s.io"
# Volume sources that hold data beyond the pod's life and that a second copy of the pod would share
# (k8s.io/api core/v1 VolumeSource); each has a `readOnly` field of its own.
STATE_VOLUME_SOURCES = (
    "persistentVolumeClaim",
    "azureDisk",
    "azureFile",
    "nfs",
    "iscsi",
    "cephfs",
    "rbd",
    "glusterfs",
    "csi",
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _metadata(obj: Obj) -> Mapping[str, Any]:
    return _mapping(obj.get("metadata"))


def name_of(obj: Obj) -> str:
    return str(_metadata(obj).get("name") or "")


def namespace_of(obj: Obj) -> str | None:
    """The object's namespace; None for a cluster-scoped object (Node, RuntimeClass, Namespace)."""
    namespace = _metadata(obj).get("namespace")
    return str(namespace) if namespace else None


def labels_of(obj: Obj) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(_metadata(obj).get("labels")).items()}


def annotations_of(obj: Obj) -> dict[str, str]:
    return {str(k): str(v) for k, v in _mapping(_metadata(obj).get("annotations")).items()}


def pod_template(obj: Obj) -> Mapping[str, Any]:
    """The pod template (metadata and spec) of a Deployment, ReplicaSet, StatefulSet, DaemonSet or Job,
    of a CronJob's job template, or a bare Pod itself."""
    if obj.get("kind") == "Pod":
        return obj
    spec = _mapping(obj.get("spec"))
    if obj.get("kind") == "CronJob":
        spec = _mapping(_mapping(spec.get("jobTemplate")).get("spec"))
    return _mapping(spec.get("template"))


def template_labels(obj: Obj) -> dict[str, str]:
    return labels_of(pod_template(obj))


def _key(obj: Obj) -> tuple[str, str | None, str]:
    return (str(obj.get("kind")), namespace_of(obj), name_of(obj))


class ObjectIndex:
    """An export's objects by kind and namespace, by name, and by the owners their ownerReferences
    name, built once (linear), so each workload's questions look at its neighbours only. Every
    function here takes either the objects or an index of them."""

    def __init__(self, objects: Iterable[Obj]):
        self.objects: list[Obj] = list(objects)
        self.position = {id(obj): index for index, obj in enumerate(self.objects)}
        self._grouped: dict[tuple[str, str | None], list[Obj]] = {}
        self._named: dict[tuple[str, str | None, str], Obj] = {}
        self._by_owner: dict[str, list[Obj]] = {}
        self._services: dict[tuple[str | None, str, str], list[Obj]] = {}
        for obj in self.objects:
            kind, namespace = str(obj.get("kind")), namespace_of(obj)
            self._grouped.setdefault((kind, namespace), []).append(obj)
            self._named.setdefault((kind, namespace, name_of(obj)), obj)
            for reference in _list(_metadata(obj).get("ownerReferences")):
                if isinstance(reference, Mapping):
                    for token in (reference.get("uid"), f"{reference.get('kind')}/{reference.get('name')}"):
                        if token:
                            self._by_owner.setdefault(str(token), []).append(obj)
            if kind == "Service":
                selector = _mapping(_mapping(obj.get("spec")).get("selector"))
                if selector:  # every pod it selects carries all of its labels, so one is enough
                    key, value = min((str(k), str(v)) for k, v in selector.items())
                    self._services.setdefault((namespace, key, value), []).append(obj)

    def of(self, kind: str, namespace: str | None) -> list[Obj]:
        """The objects of one kind in one namespace (None: cluster-scoped), in export order."""
        return self._grouped.get((kind, namespace), [])

    def named(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        return self._named.get((kind, namespace, name)) or self._named.get((kind, None, name))

    def referencing(self, owner: Obj) -> list[Obj]:
        """Objects with an ownerReference that may name `owner` (by its uid, or its kind and name)."""
        tokens = [_metadata(owner).get("uid"), f"{owner.get('kind')}/{name_of(owner)}"]
        found = {id(obj): obj for token in tokens if token for obj in self._by_owner.get(str(token), [])}
        return sorted(found.values(), key=lambda obj: self.position[id(obj)])

    def service_candidates(self, namespace: str | None, labels: Mapping[str, str]) -> list[Obj]:
        """Services of the namespace that may select `labels` (one of their selector's labels is
        among them), in export order."""
        found = {
            id(service): service
            for key, value in labels.items()
            for service in self._services.get((namespace, str(key), str(value)), [])
        }
        return sorted(found.values(), key=lambda obj: self.position[id(obj)])


Objects = Sequence[Obj] | ObjectIndex


def index_of(objects: Objects) -> ObjectIndex:
    return objects if isinstance(objects, ObjectIndex) else ObjectIndex(objects)


# ---------------------------------------------------------------------------------------------------
# Ownership


def controller_of(obj: Obj) -> tuple[str, str] | None:
    """Kind and name of the object's controller: the ownerReference with `controller: true`, of which
    the API server allows at most one (k8s.io/apimachinery pkg/apis/meta/v1/validation
    ValidateOwnerReferences: "Only one reference can have Controller set to true")."""
    for reference in _list(_metadata(obj).get("ownerReferences")):
        if isinstance(reference, Mapping) and reference.get("controller") is True:
            return str(reference.get("kind")), str(reference.get("name"))
    return None


def _references(dependent: Obj, owner: Obj) -> bool:
    """Whether one of `dependent`'s ownerReferences names `owner`: by uid when both carry one (the
    garbage collector's identity of an owner, k8s.io/kubernetes pkg/controller/garbagecollector), else
    by kind and name, the owner in the dependent's namespace or cluster-scoped (a namespaced object
    can only be owned from its own namespace or by a cluster-scoped owner)."""
    owner_uid = _metadata(owner).get("uid")
    owner_namespace = namespace_of(owner)
    for reference in _list(_metadata(dependent).get("ownerReferences")):
        if not isinstance(reference, Mapping):
            continue
        if owner_uid and reference.get("uid"):
            if reference.get("uid") == owner_uid:
                return True
            continue
        if (
            reference.get("kind") == owner.get("kind")
            and reference.get("name") == name_of(owner)
            and (owner_namespace is None or namespace_of(dependent) == owner_namespace)
        ):
            return True
    return False


def owned_by(objects: Objects, owner: Obj) -> list[Obj]:
    """The objects whose ownerReferences name `owner` (see `_references`), in export order."""
    return [
        obj for obj in index_of(objects).referencing(owner) if obj is not owner and _references(obj, owner)
    ]


def controller_chain(objects: Objects, obj: Obj) -> tuple[tuple[str, str], ...]:
    """The controllers above `obj`, nearest first (a Pod's ReplicaSet, then its Deployment), as far as
    the export holds them: the last is named by its reference even when it is not exported."""
    index = index_of(objects)
    chain: list[tuple[str, str]] = []
    current: Obj | None = obj
    while current is not None:
        controller = controller_of(current)
        if controller is None or controller in chain:
            break
        chain.append(controller)
        current = index.named(controller[0], namespace_of(current), controller[1])
    return tuple(chain)


# ---------------------------------------------------------------------------------------------------
# Selection


def selecting_services(objects: Objects, namespace: str | None, labels: Mapping[str, str]) -> list[Obj]:
    """Services of the namespace whose non-empty `spec.selector` selects `labels`, in export order. A
    Service without a selector has endpoints managed by hand and selects no pod (ServiceSpec.selector
    in the API reference; components.core.kubernetes.service_selects)."""
    return [
        service
        for service in index_of(objects).service_candidates(namespace, labels)
        if service_selects(_mapping(_mapping(service.get("spec")).get("selector")) or None, labels)
    ]


def _selects_pods(obj: Obj, labels: Mapping[str, str]) -> bool:
    """A PodDisruptionBudget's `spec.selector`, a NetworkPolicy's `spec.podSelector` or a PodMonitor's
    `spec.selector`: LabelSelectors, of which an empty one selects every pod of the namespace and an
    absent one none (components.core.kubernetes.matches)."""
    spec = _mapping(obj.get("spec"))
    selector = spec.get("podSelector" if obj.get("kind") == "NetworkPolicy" else "selector")
    return isinstance(selector, Mapping) and matches(selector, labels)


def monitor_namespaces(monitor: Obj) -> tuple[str, ...] | None:
    """The namespaces a ServiceMonitor or PodMonitor discovers targets in; None for every namespace.
    prometheus-operator pkg/prometheus/promcfg.go `getNamespacesFromNamespaceSelector`: `any: true`
    selects all, `matchNames` those, and without either the monitor's own namespace."""
    selector = _mapping(_mapping(monitor.get("spec")).get("namespaceSelector"))
    if selector.get("any") is True:
        return None
    names = [str(name) for name in _list(selector.get("matchNames"))]
    return tuple(names) if names else (namespace_of(monitor) or "default",)


def _monitor_covers(monitor: Obj, namespace: str | None) -> bool:
    covered = monitor_namespaces(monitor)
    return covered is None or namespace in covered


def _targets_deployment(reference: Any, deployment: Obj, default_kind: str | None) -> bool:
    """A scaleTargetRef naming the Deployment (group apps; KEDA defaults the kind to Deployment)."""
    ref = _mapping(reference)
    kind = ref.get("kind") or default_kind
    api_version = str(ref.get("apiVersion") or "apps/v1")
    return kind == "Deployment" and api_version.startswith("apps/") and ref.get("name") == name_of(deployment)


def _targeting_autoscalers(objects: Objects, deployment: Obj) -> list[Obj]:
    return [
        hpa
        for hpa in index_of(objects).of("HorizontalPodAutoscaler", namespace_of(deployment))
        if _targets_deployment(_mapping(hpa.get("spec")).get("scaleTargetRef"), deployment, None)
    ]


def autoscaler_of(objects: Objects, deployment: Obj) -> Obj | None:
    """The HorizontalPodAutoscaler whose scaleTargetRef is the Deployment and that no other controller
    owns (the first in export order): the one a person manages, which the migration may translate."""
    return next((h for h in _targeting_autoscalers(objects, deployment) if controller_of(h) is None), None)


def controlled_autoscalers(objects: Objects, deployment: Obj) -> list[Obj]:
    """HPAs targeting the Deployment that another controller owns, such as the `keda-hpa-<name>` KEDA
    writes for a ScaledObject (kedacore/keda v2.16.1 controllers/keda/hpa.go `newHPAForScaledObject`,
    `SetControllerReference`; `updateHPAIfNeeded` rewrites it): never patched, copied or retargeted."""
    return [h for h in _targeting_autoscalers(objects, deployment) if controller_of(h) is not None]


def scaled_object_of(objects: Objects, deployment: Obj) -> Obj | None:
    """The KEDA ScaledObject (keda.sh/v1alpha1) whose `spec.scaleTargetRef` names the Deployment; KEDA
    defaults the target's kind to Deployment and its apiVersion to apps/v1 (kedacore/keda
    apis/keda/v1alpha1/scaledobject_types.go ScaleTarget)."""
    for scaled in index_of(objects).of("ScaledObject", namespace_of(deployment)):
        if not str(scaled.get("apiVersion", "")).startswith(f"{KEDA_API_GROUP}/"):
            continue
        if _targets_deployment(_mapping(scaled.get("spec")).get("scaleTargetRef"), deployment, "Deployment"):
            return scaled
    return None


def ingress_backends(ingress: Obj) -> set[str]:
    """Service names an Ingress sends requests to (its defaultBackend and every rule's paths)."""
    spec = _mapping(ingress.get("spec"))
    backends = [_mapping(spec.get("defaultBackend"))]
    for rule in _list(spec.get("rules")):
        paths = _list(_mapping(_mapping(rule).get("http")).get("paths"))
        backends += [_mapping(_mapping(path).get("backend")) for path in paths]
    return {str(_mapping(b.get("service")).get("name")) for b in backends if b.get("service")}


def route_backends(route: Obj) -> set[str]:
    """Service names in the HTTPRoute's own namespace its rules send requests to (a backendRef's group
    "" and kind Service are the Gateway API defaults, its namespace the route's)."""
    namespace = namespace_of(route)
    names = set()
    for rule in _list(_mapping(route.get("spec")).get("rules")):
        for ref in map(_mapping, _list(_mapping(rule).get("backendRefs"))):
            if (
                ref.get("group", "") == ""
                and ref.get("kind", "Service") == "Service"
                and ref.get("namespace", namespace) == namespace
            ):
                names.add(str(ref.get("name")))
    return names


def related_objects(objects: Objects, deployment: Obj) -> list[Obj]:
    """Everything in the Deployment's namespace that selects, targets, scales, routes to or is owned by
    it, in this order: the Deployment; the Services selecting its pods (its template's labels); the
    HPAs targeting it (controller-owned ones too); the ScaledObjects targeting it; the
    PodDisruptionBudgets, NetworkPolicies and PodMonitors selecting its pods; the ServiceMonitors
    selecting those Services (by the Services' own labels, within their namespaceSelector); the
    Ingresses and HTTPRoutes with one of those Services as a backend; the ReplicaSets it owns; any
    other object it owns; and the RuntimeClass its pod template names, when exported. No duplicates."""
    index = index_of(objects)
    namespace = namespace_of(deployment)
    labels = template_labels(deployment)
    services = selecting_services(index, namespace, labels)
    service_names = {name_of(s) for s in services}
    found: list[Obj] = [deployment, *services, *_targeting_autoscalers(index, deployment)]
    found += [o for o in [scaled_object_of(index, deployment)] if o is not None]
    found += [o for o in index.of("PodDisruptionBudget", namespace) if _selects_pods(o, labels)]
    found += [o for o in index.of("NetworkPolicy", namespace) if _selects_pods(o, labels)]
    found += [
        o
        for o in index.of("PodMonitor", namespace)
        if _selects_pods(o, labels) and _monitor_covers(o, namespace)
    ]
    for monitor in index.of("ServiceMonitor", namespace):
        selector = _mapping(monitor.get("spec")).get("selector")
        if (
            _monitor_covers(monitor, namespace)
            and isinstance(selector, Mapping)
            and any(matches(selector, labels_of(s)) for s in services)
        ):
            found.append(monitor)
    found += [i for i in index.of("Ingress", namespace) if ingress_backends(i) & service_names]
    found += [r for r in index.of("HTTPRoute", namespace) if route_backends(r) & service_names]
    owned = owned_by(index, deployment)
    found += [o for o in owned if o.get("kind") == "ReplicaSet"]
    found += [o for o in owned if o.get("kind") != "ReplicaSet"]
    runtime_class = _mapping(pod_template(deployment).get("spec")).get("runtimeClassName")
    if isinstance(runtime_class, str):
        found += [o for o in [index.named("RuntimeClass", None, runtime_class)] if o is not None]
    unique: dict[tuple[str, str | None, str], Obj] = {}
    for obj in found:
        unique.setdefault(_key(obj), obj)
    return list(unique.values())


# ---------------------------------------------------------------------------------------------------
# What the workload is


def _mounts(pod_spec: Mapping[str, Any], volume: str) -> list[tuple[str, bool]]:
    """(container, read-only) for each mount of the volume, init containers included."""
    found = []
    for field in ("initContainers", "containers"):
        for container in _list(pod_spec.get(field)):
            container = _mapping(container)
            for mount in _list(container.get("volumeMounts")):
                mount = _mapping(mount)
                if mount.get("name") == volume:
                    found.append((str(container.get("name")), mount.get("readOnly") is True))
    return found


def _state_source(volume: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    for source in STATE_VOLUME_SOURCES:
        if isinstance(volume.get(source), Mapping):
            details = volume[source]
            if source == "csi" and details.get("driver") == SECRETS_STORE_CSI_DRIVER:
                return None  # mounts secrets from a vault: read-only by the driver, no state
            return source, details
    return None


def _describe_source(source: str, details: Mapping[str, Any]) -> str:
    named = {
        "persistentVolumeClaim": details.get("claimName"),
        "azureDisk": details.get("diskName"),
        "azureFile": details.get("shareName"),
        "nfs": f"{details.get('server')}:{details.get('path')}" if details.get("server") else None,
        "csi": details.get("driver"),
    }.get(source)
    return f"{source} {named}" if named else source


def single_copy_reasons(workload: Obj) -> list[str]:
    """Why the workload must never run two copies at once, one phrase per reason: `strategy: Recreate`,
    or a state volume mounted writable. See docs/design/export-facts.md."""
    reasons = []
    strategy = _mapping(_mapping(workload.get("spec")).get("strategy"))
    if strategy.get("type") == "Recreate":
        reasons.append("strategy Recreate: its pods must not overlap")
    pod_spec = _mapping(pod_template(workload).get("spec"))
    for volume in _list(pod_spec.get("volumes")):
        volume = _mapping(volume)
        state = _state_source(volume)
        if state is None:
            continue
        source, details = state
        writers = [
            container for container, read_only in _mounts(pod_spec, str(volume.get("name"))) if not read_only
        ]
        if details.get("readOnly") is True or not writers:
            continue
        reasons.append(
            f"volume {volume.get('name')} ({_describe_source(source, details)}) is mounted writable by "
            f"{', '.join(dict.fromkeys(writers))}"
        )
    return reasons


def is_truthy(value: str | None) -> bool:
    """dapr/kit utils.IsTruthy, which Dapr uses for every boolean annotation."""
    return str(value or "").strip().lower() in ("y", "yes", "true", "t", "on", "1")


def dapr_enabled(template: Obj) -> bool:
    """`dapr.io/enabled` truthy on the pod template: Dapr's sidecar injector adds `daprd` to its pods
    (dapr/dapr pkg/injector/patcher/sidecar.go: the `Enabled` field of `dapr.io/enabled`) and Dapr's
    operator creates the `<app-id>-dapr` Service (pkg/operator/meta/meta.go IsAnnotatedForDapr)."""
    return is_truthy(annotations_of(template).get("dapr.io/enabled"))


def dapr_app_id(template: Obj) -> str | None:
    """The Dapr app-id (`dapr.io/app-id`) of the pods when Dapr is enabled on the template, else None; also
    None without the annotation, as Dapr then runs no Pod of a Deployment. See docs/design/export-facts.md."""
    if not dapr_enabled(template):
        return None
    return annotations_of(template).get("dapr.io/app-id") or None


def serving_replica_set(objects: Objects, deployment: Obj) -> Obj | None:
    """The ReplicaSet the Deployment last rolled out: the one it owns whose
    `deployment.kubernetes.io/revision` equals the Deployment's own. See docs/design/export-facts.md."""
    revision = annotations_of(deployment).get(REVISION_ANNOTATION)
    if not revision:
        return None
    return next(
        (
            rs
            for rs in owned_by(objects, deployment)
            if rs.get("kind") == "ReplicaSet" and annotations_of(rs).get(REVISION_ANNOTATION) == revision
        ),
        None,
    )


# Istio 1.23.2 (commit da0b3f29e9f9eef387691bdf5870a6d665c704c9)
# manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml: the injector's webhooks
# are called for pods matching one of these (namespace selector, pod selector) pairs; `{rev}` is a
# revision label value (the default revision is "default").
_ISTIO_WEBHOOKS = (
    (
        "namespace label istio-injection=enabled",
        {"matchLabels": {"istio-injection": "enabled"}},
        {"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]},
    ),
    (
        "namespace label istio.io/rev",
        {
            "matchExpressions": [
                {"key": "istio.io/rev", "operator": "Exists"},
                {"key": "istio-injection", "operator": "DoesNotExist"},
            ]
        },
        {"matchExpressions": [{"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]}]},
    ),
    (
        "pod label istio.io/rev",
        {
            "matchExpressions": [
                {"key": "istio.io/rev", "operator": "DoesNotExist"},
                {"key": "istio-injection", "operator": "DoesNotExist"},
            ]
        },
        {
            "matchExpressions": [
                {"key": "sidecar.istio.io/inject", "operator": "NotIn", "values": ["false"]},
                {"key": "istio.io/rev", "operator": "Exists"},
            ]
        },
    ),
    (
        "pod label sidecar.istio.io/inject=true",
        {
            "matchExpressions": [
                {"key": "istio-injection", "operator": "DoesNotExist"},
                {"key": "istio.io/rev", "operator": "DoesNotExist"},
            ]
        },
        {
            "matchExpressions": [
                {"key": "sidecar.istio.io/inject", "operator": "In", "values": ["true"]},
                {"key": "istio.io/rev", "operator": "DoesNotExist"},
            ]
        },
    ),
)
_LINKERD_INJECT = "linkerd.io/inject"
_LINKERD_VALUES = ("enabled", "ingress", "disabled")


def _istio_injects(template: Obj, namespace_labels: Mapping[str, str]) -> str | None:
    """Istio's webhook selection (above), then its `injectRequired` (pkg/kube/inject/inject.go): no
    sidecar on hostNetwork pods; the pod's `sidecar.istio.io/inject` label (else annotation), when
    set, must be y/yes/true/on."""
    labels, spec = labels_of(template), _mapping(template.get("spec"))
    reason = next(
        (why for why, ns, pod in _ISTIO_WEBHOOKS if matches(ns, namespace_labels) and matches(pod, labels)),
        None,
    )
    if reason is None or spec.get("hostNetwork") is True:
        return None
    choice = labels.get(
        "sidecar.istio.io/inject", annotations_of(template).get("sidecar.istio.io/inject", "")
    )
    if choice and choice.lower() not in ("y", "yes", "true", "on"):
        return None
    return f"Istio sidecar (istio-proxy) from the {reason}"


def _linkerd_injects(template: Obj, namespace_annotations: Mapping[str, str]) -> str | None:
    """Linkerd's proxy injector (linkerd/linkerd2 pkg/inject/report.go `disableByAnnotation` and
    `Injectable`): the pod's `linkerd.io/inject` annotation, else the namespace's, must be enabled or
    ingress (any other value disables); hostNetwork and automountServiceAccountToken false pods are
    not injected."""
    spec = _mapping(template.get("spec"))
    pod_value = annotations_of(template).get(_LINKERD_INJECT, "")
    namespace_value = str(namespace_annotations.get(_LINKERD_INJECT, ""))
    if any(value and value not in _LINKERD_VALUES for value in (pod_value, namespace_value)):
        return None
    if spec.get("hostNetwork") is True or spec.get("automountServiceAccountToken") is False:
        return None
    if namespace_value in ("enabled", "ingress") and pod_value != "disabled":
        return f"Linkerd proxy from the namespace annotation {_LINKERD_INJECT}={namespace_value}"
    if pod_value in ("enabled", "ingress"):
        return f"Linkerd proxy from the pod annotation {_LINKERD_INJECT}={pod_value}"
    return None


def mesh_sidecars(
    template: Obj,
    namespace_labels: Mapping[str, str],
    namespace_annotations: Mapping[str, str] | None = None,
) -> list[str]:
    """The service-mesh sidecars an injector adds to pods of this template in its namespace, as the
    injectors decide (Istio by labels, Linkerd by annotations): one phrase each, naming the signal."""
    found = [
        _istio_injects(template, namespace_labels),
        _linkerd_injects(template, namespace_annotations or {}),
    ]
    return [signal for signal in found if signal]


# ---------------------------------------------------------------------------------------------------
# RuntimeClasses and nodes


def wasi_node_labels() -> dict[str, str]:
    """The labels AKS puts on every WASI node, one per WASI RuntimeClass (their `scheduling.nodeSelector`
    selects them): `kubernetes.azure.com/<class>: "true"` (tests/fixtures/clusters/README.md, from the
    AKS WASI documentation's class list)."""
    return {f"kubernetes.azure.com/{name}": "true" for name in sorted(AKS_WASI_RUNTIME_CLASSES)}


def pool_labels(node_pools: Iterable[Obj], nodes: Iterable[Obj] = ()) -> dict[str, dict[str, str]]:
    """Pool name -> the labels every node of the pool carries: AKS's `agentpool` and
    `kubernetes.azure.com/agentpool` (Azure/AgentBaker pkg/agent/datamodel/types.go
    GetKubernetesLabels), the pool's own `nodeLabels`, the WASI labels on WasmWasi pools, and every
    label all of the pool's exported Nodes share (architecture, OS, ...)."""
    labels: dict[str, dict[str, str]] = {}
    for pool in node_pools:
        name = str(pool.get("name"))
        found = {key: name for key in AGENTPOOL_LABELS}
        found.update({str(k): str(v) for k, v in _mapping(pool.get("nodeLabels")).items()})
        if pool.get("workloadRuntime") == "WasmWasi":
            found.update(wasi_node_labels())
        labels[name] = found
    shared: dict[str, dict[str, str]] = {}
    for node in nodes:
        node_labels = labels_of(node)
        member = node_pool(node) or ""
        if member not in labels:
            continue
        common = shared.get(member, node_labels)
        shared[member] = {k: v for k, v in common.items() if node_labels.get(k) == v}
    for member, common in shared.items():
        labels[member] = {**common, **labels[member]}
    return labels


def node_pool(node: Obj) -> str | None:
    """The AKS pool a Node belongs to, by the agentpool labels AKS puts on it (`pool_labels`)."""
    labels = labels_of(node)
    return labels.get("kubernetes.azure.com/agentpool") or labels.get("agentpool")


def is_wasi_pool(labels: Mapping[str, str]) -> bool:
    return any(key.startswith(WASI_NODE_LABEL_PREFIX) for key in labels)


def runtime_class_shim(runtime_class: Obj) -> str:
    """The shim a RuntimeClass's handler names: containerd runs `containerd-shim-<handler base>-v*`,
    versioned handlers such as `spin-v0-15-1` included, so the part before the first '-' counts."""
    return str(runtime_class.get("handler") or "").split("-", 1)[0]


def runs_spin_on_wasi(
    runtime_class: Obj, pool_labels: Mapping[str, Mapping[str, str]]
) -> Literal["spin", "slight"] | None:
    """Which shim (`spin`, `slight`) a RuntimeClass runs on a WASI pool, decided by its handler and its
    `scheduling.nodeSelector` (`pool_labels`: each pool's node labels), never by its name; else None.
    See docs/design/export-facts.md."""
    shim = runtime_class_shim(runtime_class)
    if shim not in ("spin", "slight"):
        return None
    selector = _mapping(_mapping(runtime_class.get("scheduling")).get("nodeSelector"))
    if not selector:
        return None
    selected = [labels for labels in pool_labels.values() if matches({"matchLabels": dict(selector)}, labels)]
    if not selected or not all(is_wasi_pool(labels) for labels in selected):
        return None
    return "spin" if shim == "spin" else "slight"


@dataclass(frozen=True)
class PodOnNode:
    """A Pod bound to one of the nodes asked about, with the controllers above it, nearest first
    (`controller_chain`); `daemon_set` when a DaemonSet controls it (it follows the nodes)."""

    pod: Obj
    node: str
    chain: tuple[tuple[str, str], ...]

    @property
    def daemon_set(self) -> bool:
        return bool(self.chain) and self.chain[0][0] == "DaemonSet"

    @property
    def key(self) -> str:
        return f"{namespace_of(self.pod) or 'default'}/{name_of(self.pod)}"


def pods_on_nodes(objects: Objects, node_names: Iterable[str]) -> list[PodOnNode]:
    """The Pods whose `spec.nodeName` is one of `node_names` (the scheduler's binding, or set directly
    by whoever created the Pod), in export order, each with its controller chain."""
    index = index_of(objects)
    nodes = set(node_names)
    found = []
    for obj in index.objects:
        node = _mapping(obj.get("spec")).get("nodeName") if obj.get("kind") == "Pod" else None
        if node in nodes:
            found.append(PodOnNode(obj, str(node), controller_chain(index, obj)))
    return found
