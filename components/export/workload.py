"""The legacy side as it runs today: exported `kubectl get -o yaml` manifests, cleaned of what the
API server writes, so the stack can adopt them without touching the pod template."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import marshal
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from components.core import identifiers, kubernetes
from components.core.config import SPIN_HEALTH_PATH, LegacyPool, Workload, problem
from components.core.copying import copy_tree
from components.core.inputs import (
    ECHO_CHARS,
    Project,
    UnsafeInput,
    echo,
    escape,
    load_yaml_documents,
    read_project_file,
)
from components.core.kubernetes import (
    AKS_WASI_RUNTIME_CLASSES,
    ExportSelector,
    export_selectors,
    operator_problems,
)
from components.export import facts
from components.export.facts import (
    autoscaler_of,
    dapr_app_id,
    owned_by,
    scaled_object_of,
    selecting_services,
    serving_replica_set,
    single_copy_reasons,
)
from components.export.rules import export_problems
from components.export.schemas import object_label, schema_problems, supported_version

SPIDERLIGHTNING_CLASS = "wasmtime-slight-v1"
# RuntimeClass handlers are versioned ("spin-v0-15-1"): the part before the first '-' names the shim.
SPIN, SLIGHT = "spin", "slight"

_SERVER_METADATA = ("managedFields", "uid", "resourceVersion", "creationTimestamp", "generation", "selfLink")
_SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
)


WORKLOAD_IDENTITY_LABEL = "azure.workload.identity/use"


@dataclass(frozen=True)
class ExportedWorkload:
    """One workload as found on the WASI pool: its Deployment, the Service the new side follows, the
    autoscaler that scales it (if any) and every object of its export (server fields stripped: the
    selectors new pods must respect, every entry point, existing HTTPRoutes, what other controllers own).

    `template` is the pod template the pods really run: a paused Deployment's serving ReplicaSet's, not
    its staged one (unless the config says otherwise)."""

    config: Workload
    deployment: dict[str, Any]
    service: dict[str, Any]
    exported: tuple[dict[str, Any], ...] = ()
    autoscaler: dict[str, Any] | None = None
    ready: int | None = None  # the Deployment's Ready pods as exported (status.readyReplicas)
    services: tuple[dict[str, Any], ...] = ()  # every Service selecting its pods, the followed one first
    scaled_object: dict[str, Any] | None = None  # a KEDA ScaledObject scaling it
    template: dict[str, Any] | None = None
    single_copy: tuple[str, ...] = ()  # why it must never run two copies (when the config agrees)
    dapr_app: str | None = None
    controlled: tuple[dict[str, Any], ...] = ()  # what the legacy Deployment controls (not ReplicaSets)
    runtime: str | None = SPIN  # SPIN, SLIGHT, or None: no Wasm runtime on a WASI pool

    @property
    def runs_slight(self) -> bool:
        return self.runtime == SLIGHT

    @property
    def stop_then_start(self) -> bool:
        """Never two copies at once: its export says so (Recreate, a writable volume holding state) and
        the config does not allow it, or the config asks for it."""
        side_by_side = self.config.side_by_side
        return side_by_side is False or (side_by_side is None and bool(self.single_copy))

    @property
    def pod_template(self) -> dict[str, Any]:
        return self.template if self.template is not None else self.deployment["spec"]["template"]

    @property
    def workload_identity(self) -> bool:
        """Its pods take Entra tokens through AKS workload identity: the webhook mounts a projected
        service account token into pods labelled `azure.workload.identity/use: "true"`."""
        labels = (self.pod_template.get("metadata") or {}).get("labels") or {}
        return labels.get(WORKLOAD_IDENTITY_LABEL) == "true"

    @property
    def source(self) -> dict[str, Any]:
        """The Deployment the new one is translated from, with the template its pods run."""
        if self.template is None:
            return self.deployment
        return {**self.deployment, "spec": {**self.deployment["spec"], "template": self.template}}

    @property
    def pod_spec(self) -> dict[str, Any]:
        return self.pod_template["spec"]

    @property
    def runtime_class(self) -> str | None:
        return self.pod_spec.get("runtimeClassName")

    @property
    def replicas(self) -> int:
        return int(self.deployment["spec"].get("replicas", 1))

    @property
    def service_selector(self) -> dict[str, str]:
        return dict(self.service["spec"].get("selector") or {})

    @property
    def serving_port(self) -> dict[str, Any]:
        """The Service port that serves the app (checked at load: exactly one)."""
        return serving_ports(self.service, self.config.service_port)[0]

    @property
    def serving_target(self) -> int | str:
        """What the serving port targets in the exported pods: a container port number or name."""
        return self.serving_port.get("targetPort", self.serving_port["port"])

    @cached_property
    def selectors(self) -> list[ExportSelector]:
        """Every selector the export holds (read once: each phase's plan and proof use them)."""
        return export_selectors(self.exported)

    @property
    def export_probe(self) -> dict[str, Any] | None:
        """The exported container's HTTP readiness (else liveness) probe."""
        container = self.pod_spec["containers"][0]
        for kind in ("readinessProbe", "livenessProbe"):
            probe = container.get(kind) or {}
            if isinstance(probe.get("httpGet"), dict) and probe["httpGet"].get("path"):
                return dict(probe["httpGet"])
        return None

    @property
    def listen_port(self) -> int | str:
        """Where the new container listens: the configured port of a rebuild, else the exported
        container port the serving Service port targets (a name stays a name)."""
        return self.config.container_port or self.serving_target

    @property
    def listen_port_number(self) -> int:
        """The listen port as a number, a named container port resolved (load refuses a name the
        container does not declare): what Spin is told to listen on outside a pod."""
        port = self.listen_port
        if isinstance(port, int):
            return port
        declared = [p for p in self.pod_spec["containers"][0].get("ports") or [] if p.get("name") == port]
        return int(declared[0]["containerPort"])

    @property
    def probe_path(self) -> str:
        """Configured, else the export's; a Spin container answers its own health path whatever the
        app's routes, so only that target has a default."""
        exported = (self.export_probe or {}).get("path")
        return self.config.probe.path or exported or SPIN_HEALTH_PATH

    @property
    def probe_port(self) -> int | str:
        """Configured, else the export's probe port unless a rebuild moved the app, else the listen port."""
        if self.config.probe.port:
            return self.config.probe.port
        exported = self.export_probe
        if exported and "port" in exported and not self.config.container_port:
            return exported["port"]
        return self.listen_port


# Service port names that mean "the app's HTTP port" when a Service has several ports.
_SERVING_PORT_NAMES = ("http", "web", "app")


def serving_ports(service: dict[str, Any], configured: int | str | None) -> list[dict[str, Any]]:
    """The candidates for the serving port: the configured one (by number or name), else the only
    port, else the ports named http/web/app or with appProtocol http. Exactly one is usable."""
    ports = [p for p in (service.get("spec") or {}).get("ports") or [] if isinstance(p, dict)]
    if configured is not None:
        return [p for p in ports if configured in (p.get("port"), p.get("name"))]
    if len(ports) == 1:
        return ports
    return [p for p in ports if p.get("name") in _SERVING_PORT_NAMES or p.get("appProtocol") == "http"]


def strip_server_fields(manifest: dict[str, Any]) -> dict[str, Any]:
    """Drop what the API server sets, so the manifest reads as what a person declared. Tolerates any
    shape: the schema check that follows reports malformed objects."""
    clean = copy_tree(manifest)
    clean.pop("status", None)
    metadata = clean.get("metadata")
    if isinstance(metadata, dict):
        for key in _SERVER_METADATA:
            metadata.pop(key, None)
        annotations = metadata.get("annotations")
        if isinstance(annotations, dict):
            for key in _SERVER_ANNOTATIONS:
                annotations.pop(key, None)
            if not annotations:
                metadata.pop("annotations")
    template = (clean.get("spec") or {}).get("template") if isinstance(clean.get("spec"), dict) else None
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        template["metadata"].pop("creationTimestamp", None)
    return clean


def _documents(text: str) -> list[dict[str, Any]]:
    documents = []
    for document in load_yaml_documents(text):
        if document is None:
            continue
        if not isinstance(document, dict):
            raise ValueError("each YAML document must be a Kubernetes object")
        items = document.get("items") if document.get("kind") == "List" else [document]
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValueError("each YAML document must be a Kubernetes object")
        documents.extend(items)
    return documents


MAX_SCHEMA_LINES = 20


def _resource_lists(path: str, resources: Any) -> list[tuple[str, Any]]:
    """(path, value) of each quantity in a `resources` block's requests and limits."""
    found: list[tuple[str, Any]] = []
    if isinstance(resources, dict):
        for kind in ("requests", "limits"):
            if isinstance(resources.get(kind), dict):
                found.extend((f"{path}.{kind}.{name}", v) for name, v in resources[kind].items())
    return found


def _quantities(pod: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, value) of every resource quantity a pod template sets: container requests and limits,
    pod-level resources, overhead and emptyDir size limits."""
    found = [
        quantity
        for field in ("initContainers", "containers", "ephemeralContainers")
        for index, container in enumerate(pod.get(field) or [])
        if isinstance(container, dict)
        for quantity in _resource_lists(
            f"spec.template.spec.{field}[{index}].resources", container.get("resources")
        )
    ]
    found += _resource_lists("spec.template.spec.resources", pod.get("resources"))
    if isinstance(pod.get("overhead"), dict):
        found.extend((f"spec.template.spec.overhead.{name}", v) for name, v in pod["overhead"].items())
    for index, volume in enumerate(pod.get("volumes") or []):
        empty_dir = volume.get("emptyDir") if isinstance(volume, dict) else None
        if isinstance(empty_dir, dict) and "sizeLimit" in empty_dir:
            found.append((f"spec.template.spec.volumes[{index}].emptyDir.sizeLimit", empty_dir["sizeLimit"]))
    return found


def quantity_problems(deployment: dict[str, Any]) -> list[str]:
    """Quantities the API server would reject (identifiers.resource_quantity: Kubernetes' grammar, not
    negative), which the strict JSON schema lets through: it only says "string or number"."""
    template = (deployment.get("spec") or {}).get("template") or {}
    problems = []
    for path, value in _quantities(template.get("spec") or {}):
        if value is None:  # the schema allows null: no quantity set
            continue
        try:
            identifiers.resource_quantity(str(value))
        except ValueError as error:
            problems.append(f"{object_label(deployment)}: {escape(path)}: {error} (got {echo(value)})")
    return problems


def _named(obj: dict[str, Any]) -> Any:
    metadata = obj.get("metadata")
    return metadata.get("name") if isinstance(metadata, dict) else None


def unexported_autoscaler(exported: list[dict[str, Any]], deployment: dict[str, Any]) -> str | None:
    """A manager that wrote `spec.replicas` through the scale subresource (an autoscaler such as an
    HPA's kube-controller-manager or KEDA), as the Deployment's managedFields record, when the export
    holds no HPA for it: the migration cannot translate or set aside what it cannot see, and patching
    replicas under it would fight it (pulumi-kubernetes#2491)."""
    original = next(
        (o for o in exported if o.get("kind") == "Deployment" and _named(o) == _named(deployment)), {}
    )
    managed = (original.get("metadata") or {}).get("managedFields")
    for entry in managed if isinstance(managed, list) else []:
        if not isinstance(entry, dict) or entry.get("subresource") != "scale":
            continue
        if str(entry.get("manager", "")).startswith("kubectl"):
            continue  # `kubectl scale`: a person, not a controller
        fields = entry.get("fieldsV1")
        spec = fields.get("f:spec") if isinstance(fields, dict) else None
        if isinstance(spec, dict) and "f:replicas" in spec:
            return f"field manager {echo(entry.get('manager'))} through the scale subresource (an autoscaler)"
    return None


def exported_ready(exported: list[dict[str, Any]], deployment: dict[str, Any]) -> int | None:
    """`status.readyReplicas` of the exported Deployment (absent when 0); None without a status."""
    original = next(
        (o for o in exported if o.get("kind") == "Deployment" and _named(o) == _named(deployment)), {}
    )
    status = original.get("status")
    if not isinstance(status, dict):
        return None
    ready = status.get("readyReplicas", 0)
    return ready if isinstance(ready, int) and not isinstance(ready, bool) and ready >= 0 else None


def wasi_node_labels(pool: LegacyPool) -> dict[str, str]:
    """Labels every node of a WASI pool of the config carries: AKS's (components.export.facts) and
    those the config says the pool has."""
    return {
        **{key: pool.name for key in kubernetes.AGENTPOOL_LABELS},
        **facts.wasi_node_labels(),
        **pool.node_labels,
    }


def wasm_runtime(
    pod_spec: dict[str, Any], runtime_class: dict[str, Any] | None, pools: tuple[LegacyPool, ...]
) -> str | None:
    """Which Wasm runtime the pods have on a WASI pool, judged by what their RuntimeClass does rather than
    by its name: an AKS-managed WASI class; a class of its own that runs Spin (or SpiderLightning) on
    the config's WASI pools (`workload_facts.runs_spin_on_wasi`: the deislabs samples install
    `wasmtime-spin`, handler `spin`); a Krustlet-era pod. None for anything else."""
    name = pod_spec.get("runtimeClassName")
    if name in AKS_WASI_RUNTIME_CLASSES:
        return SLIGHT if name == SPIDERLIGHTNING_CLASS else SPIN
    if (pod_spec.get("nodeSelector") or {}).get(kubernetes.ARCH_LABEL) in kubernetes.KRUSTLET_ARCHES:
        return SPIN
    if runtime_class is None or runtime_class.get("metadata", {}).get("name") != name:
        return None
    return facts.runs_spin_on_wasi(runtime_class, {pool.name: wasi_node_labels(pool) for pool in pools})


# What the loader reads from a workload's manifest, each checked against its strict schema first (a
# PodMonitor only for the operators of its selector: no CRD of it is kept). Anything else is not read.
READ_KINDS = frozenset(
    {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "NetworkPolicy",
        "Ingress",
        "ReplicaSet",
        "RuntimeClass",
        "HTTPRoute",
        "ScaledObject",
        "ServiceMonitor",
    }
)


def _read(text: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The manifest's objects as exported, and the same with the server's fields stripped."""
    try:
        exported = _documents(text)
    except UnsafeInput as error:
        raise ValueError(str(error).removeprefix("is not valid YAML: ")) from None
    return exported, [strip_server_fields(obj) for obj in exported]


def _schema_problems(objects: list[dict[str, Any]], deployment: dict[str, Any], version: str) -> list[str]:
    read = [obj for obj in objects if obj.get("kind") in READ_KINDS]
    invalid = [line for obj in read for line in schema_problems(obj, version)]
    if invalid:
        return invalid
    # Schema-valid, so every quantity and name sits where the schema puts it.
    return quantity_problems(deployment) + export_problems(objects) + operator_problems(objects)


def _primary_service(workload: Workload, services: list[dict[str, Any]]) -> dict[str, Any] | str:
    """The Service the new side's Service and route follow: `workloads[].service`, else the one named
    like the workload, else the only one; why, when none can be told."""
    names = [str(_named(service)) for service in services]
    wanted = workload.service or (workload.name if workload.name in names else None)
    if wanted is not None:
        chosen = next((service for service in services if _named(service) == wanted), None)
        if chosen is not None:
            return chosen
        return f"selects none of the Deployment's pods (Services that do: {', '.join(names)})"
    if len(services) == 1:
        return services[0]
    return (
        f"several Services select the Deployment's pods ({', '.join(names)}); set workloads[].service to "
        "the one the new side's Service and route follow (every one reaches the new pods once they serve)"
    )


def _serving_template(
    workload: Workload,
    exported: list[dict[str, Any]],
    raw_deployment: dict[str, Any],
    deployment: dict[str, Any],
) -> tuple[dict[str, Any] | None, str | None]:
    """A paused Deployment's pods run the ReplicaSet of its current revision, not the template it holds
    (kubernetes pkg/controller/deployment sync.go: a paused Deployment is not rolled out): the new pods
    run that ReplicaSet's template unless `servingTemplate: deployment` asks for the staged one."""
    if not deployment["spec"].get("paused") or workload.serving_template == "deployment":
        return None, None
    replica_set = serving_replica_set(exported, raw_deployment)
    if replica_set is None:
        return None, (
            "the Deployment is paused, so its pods run an earlier ReplicaSet than its template says, and the "
            "export holds no ReplicaSet of its current revision: export its ReplicaSets (init does), or set "
            "servingTemplate: deployment to run the staged template"
        )
    template = copy.deepcopy(strip_server_fields(dict(replica_set))["spec"]["template"])
    labels = (template.get("metadata") or {}).get("labels") or {}
    labels.pop("pod-template-hash", None)  # the ReplicaSet controller's, never the new Deployment's
    return template, None


_MANIFEST = object()  # a refusal about `workloads[].manifest`: the value shown is the manifest's path


class _Refused(Exception):
    """A workload the loader refuses: problem lines about one of its keys (and the value it has)."""

    def __init__(self, lines: list[str], at: str = "manifest", value: Any = _MANIFEST) -> None:
        super().__init__(*lines)
        self.lines, self.at, self.value = lines, at, value


def _objects(
    workload: Workload, text: str, kubernetes_version: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """The export as read, its objects (server fields stripped, the workload's namespace where none is
    set) and its one Deployment, all past the strict schema."""
    try:
        exported, objects = _read(text)
    except ValueError as error:
        raise _Refused([f"not valid Kubernetes YAML: {error}"]) from None
    deployments = [o for o in objects if o.get("kind") == "Deployment"]
    if len(deployments) != 1:
        raise _Refused([f"must hold exactly one Deployment (found {len(deployments)})"])
    invalid = _schema_problems(objects, deployments[0], supported_version(kubernetes_version))
    if invalid:
        raise _Refused(invalid)
    for obj in objects:
        if obj.get("kind") != "RuntimeClass":  # the one cluster-scoped kind read
            obj["metadata"] = obj.get("metadata") or {}
            obj["metadata"].setdefault("namespace", workload.namespace)
    return exported, objects, deployments[0]


def _services(
    workload: Workload, objects: list[dict[str, Any]], deployment: dict[str, Any], serving: dict[str, Any]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The Service the new side follows, and every Service selecting the pods."""
    labels = (serving.get("metadata") or {}).get("labels") or {}
    namespace = deployment["metadata"]["namespace"]
    services = [dict(s) for s in selecting_services(objects, namespace, labels)]
    if not services:
        raise _Refused(
            [
                "no Service in it selects the Deployment's pods: the migration keeps a Service's address "
                "and moves its endpoints, so export the Service users reach with the Deployment"
            ]
        )
    primary = _primary_service(workload, services)
    if isinstance(primary, str):
        raise _Refused([primary], "service", workload.service)
    if not (primary.get("spec") or {}).get("ports"):
        raise _Refused([f"Service {_named(primary)} has no port"])
    return primary, services


def _scalers(
    exported: list[dict[str, Any]], objects: list[dict[str, Any]], deployment: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The exported HPA and KEDA ScaledObject of the Deployment; refused when another manager scales it."""
    autoscaler = autoscaler_of(objects, deployment)
    scaled_object = scaled_object_of(objects, deployment)
    unseen = None if autoscaler or scaled_object else unexported_autoscaler(exported, deployment)
    if unseen:
        raise _Refused(
            [
                f"the Deployment's replicas are managed by {unseen}, which the export does not hold; export "
                "its HorizontalPodAutoscaler (or KEDA ScaledObject) with the Deployment (the new side gets a "
                "translation of it), or remove the autoscaler before migrating this workload"
            ]
        )
    return (
        dict(autoscaler) if autoscaler is not None else None,
        dict(scaled_object) if scaled_object is not None else None,
    )


def _legacy(
    workload: Workload, text: str, kubernetes_version: str, pools: tuple[LegacyPool, ...]
) -> ExportedWorkload:
    """The workload as its export says, or _Refused at the first thing that stops the loader."""
    exported, objects, deployment = _objects(workload, text, kubernetes_version)
    raw_deployment = next(o for o in exported if o.get("kind") == "Deployment")
    template, why = _serving_template(workload, exported, raw_deployment, deployment)
    if why:
        raise _Refused([why], "servingTemplate", workload.serving_template)
    serving = template or deployment["spec"]["template"]
    primary, services = _services(workload, objects, deployment, serving)
    autoscaler, scaled_object = _scalers(exported, objects, deployment)
    runtime_class = next(
        (
            o
            for o in objects
            if o.get("kind") == "RuntimeClass"
            and _named(o) == (serving.get("spec") or {}).get("runtimeClassName")
        ),
        None,
    )
    return ExportedWorkload(
        workload,
        deployment,
        primary,
        tuple(objects),
        autoscaler,
        exported_ready(exported, deployment),
        services=(primary, *(s for s in services if s is not primary)),
        scaled_object=scaled_object,
        template=template,
        single_copy=tuple(single_copy_reasons(deployment)),
        dapr_app=dapr_app_id(serving),
        controlled=tuple(
            dict(o) for o in owned_by(exported, raw_deployment) if o.get("kind") != "ReplicaSet"
        ),
        runtime=wasm_runtime(serving.get("spec") or {}, runtime_class, pools),
    )


def load_legacy_workload(
    workload: Workload,
    index: int,
    base_dir: Project,
    kubernetes_version: str,
    pools: tuple[LegacyPool, ...] = (),
) -> tuple[ExportedWorkload | None, list[str]]:
    """Read and check one workload's exported manifest (everything that selects, targets, scales,
    routes to or is owned by the Deployment); problems name `workloads[index]` keys. Every object the
    loader reads must pass the strict schema of the cluster's Kubernetes version before anything else
    looks at it, so a hand-edited export fails here with a message, not later.

    Both sides of a `check --from` or a `diff` name the same manifests: what the loader makes of one
    (parsed, schema-checked, its facts found) depends on its text, the workload's config, its index,
    the Kubernetes version and the pools alone, so it is worked out once per process and each later
    caller gets its own copy of the result (nothing one side does to its objects reaches the other)."""
    return _load(workload, index, base_dir, kubernetes_version, pools)[1]


Load = tuple[ExportedWorkload | None, list[str]]


def _load(
    workload: Workload, index: int, base_dir: Project, kubernetes_version: str, pools: tuple[LegacyPool, ...]
) -> tuple[tuple[Any, ...] | None, Load]:
    """load_legacy_workload's answer, and the key it is kept under (None: the manifest was not read)."""
    try:
        text = read_project_file(base_dir, workload.manifest)
    except UnsafeInput as error:
        return None, (None, _refusal(workload, index, _Refused([str(error)])))
    key = _key(text, workload, index, kubernetes_version, pools)
    kept = _KEPT.get(key)
    if kept is not None:
        return key, kept.copy(workload)
    legacy, problems = _checked_workload(workload, index, text, kubernetes_version, pools)
    _keep(key, _Kept.of(legacy, problems, marshalled=not _NAN.search(text)))
    return key, (legacy, problems)


def _keep(key: tuple[Any, ...], kept: _Kept) -> None:
    if len(_KEPT) >= _KEPT_RESULTS:
        del _KEPT[next(iter(_KEPT))]  # the oldest
    _KEPT[key] = kept


@dataclass(frozen=True)
class HandedOver:
    """Workloads' loads worked out in another process (a forked child), each with the key it is kept
    under and its result marshalled, so it crosses a pipe as bytes. None where the receiver works the
    load out itself: a manifest that could not be read, or a load kept deep-copied (a NaN or a value
    marshal does not know, whose objects' identities would not survive the crossing)."""

    loads: tuple[tuple[tuple[Any, ...], _Kept] | None, ...]


def hand_over(
    workloads: Sequence[tuple[int, Workload]],
    base_dir: Project,
    kubernetes_version: str,
    pools: tuple[LegacyPool, ...] = (),
) -> HandedOver:
    """Load each `(index, workload)`, for another process to take over (take_over)."""
    loads: list[tuple[tuple[Any, ...], _Kept] | None] = []
    for index, workload in workloads:
        key, _ = _load(workload, index, base_dir, kubernetes_version, pools)
        kept = _KEPT.get(key) if key is not None else None
        marshalled = kept is not None and not isinstance(kept.fields, tuple)
        loads.append((key, kept) if key is not None and kept is not None and marshalled else None)
    return HandedOver(tuple(loads))


def take_over(
    handed: HandedOver,
    workloads: Sequence[tuple[int, Workload]],
    base_dir: Project,
    kubernetes_version: str,
    pools: tuple[LegacyPool, ...] = (),
) -> list[Load]:
    """The loads of `workloads` (those hand_over was given), each kept here as if worked out here; one
    handed over as None is worked out now."""
    loads = []
    for (index, workload), load in zip(workloads, handed.loads, strict=True):
        if load is None:
            loads.append(load_legacy_workload(workload, index, base_dir, kubernetes_version, pools))
            continue
        key, kept = load
        _keep(key, kept)
        loads.append(kept.copy(workload))
    return loads


def is_kept(
    workload: Workload, index: int, base_dir: Project, kubernetes_version: str, pools: tuple[LegacyPool, ...]
) -> bool:
    """Whether this process has worked out the workload's load for its manifest's text as it is now."""
    try:
        text = read_project_file(base_dir, workload.manifest)
    except UnsafeInput:
        return False
    return _key(text, workload, index, kubernetes_version, pools) in _KEPT


# The results kept per process, at most this many (each a few kilobytes: the marshalled objects).
_KEPT_RESULTS = 4096
_FIELDS = tuple(field.name for field in dataclasses.fields(ExportedWorkload) if field.name != "config")


@dataclass(frozen=True)
class _Kept:
    """One load's result, kept where no caller can change it: the workload's objects marshalled (a
    copy made in C, preserving which object is shared where), or deep-copied when they hold a value
    marshal does not know (a date an unquoted YAML timestamp made), or may hold a NaN: PyYAML makes
    every NaN the same object, which a deep copy keeps and marshal would not, and NaN, unequal to
    itself, compares equal inside a container only as the same object."""

    fields: bytes | tuple[Any, ...] | None  # None: refused
    problems: tuple[str, ...]

    @classmethod
    def of(cls, legacy: ExportedWorkload | None, problems: list[str], *, marshalled: bool) -> _Kept:
        if legacy is None:
            return cls(None, tuple(problems))
        values = tuple(getattr(legacy, name) for name in _FIELDS)
        if marshalled:
            try:
                return cls(marshal.dumps(values), tuple(problems))
            except ValueError:  # a value marshal does not know
                pass
        return cls(copy_tree(values), tuple(problems))

    def copy(self, workload: Workload) -> tuple[ExportedWorkload | None, list[str]]:
        """A new copy of the result, for `workload` (equal to the one it was worked out for)."""
        if self.fields is None:
            return None, list(self.problems)
        values = marshal.loads(self.fields) if isinstance(self.fields, bytes) else copy_tree(self.fields)
        return ExportedWorkload(workload, **dict(zip(_FIELDS, values, strict=True))), list(self.problems)


_KEPT: dict[tuple[Any, ...], _Kept] = {}
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")  # how YAML spells NaN (yaml/resolver.py)


def _key(
    text: str, workload: Workload, index: int, kubernetes_version: str, pools: tuple[LegacyPool, ...]
) -> tuple[Any, ...]:
    """Everything a load depends on. Config models are frozen, so equal ones hash equal; one holding a
    mapping (a pool's nodeLabels) is not hashable and stands as its repr, which names every field."""
    config: Any = workload
    try:
        hash(workload)
    except TypeError:
        config = repr(workload)
    return (hashlib.sha256(text.encode()).digest(), index, kubernetes_version, config, _pools_repr(pools))


_POOLS_REPR: list[tuple[tuple[LegacyPool, ...], str]] = []


def _pools_repr(pools: tuple[LegacyPool, ...]) -> str:
    """repr(pools), remembered for the last tuple: every workload of a config passes the same one."""
    if not _POOLS_REPR or _POOLS_REPR[0][0] is not pools:
        _POOLS_REPR[:] = [(pools, repr(pools))]
    return _POOLS_REPR[0][1]


def _refusal(workload: Workload, index: int, refusal: _Refused) -> list[str]:
    shown = [escape(line) for line in refusal.lines[:MAX_SCHEMA_LINES]]
    if len(refusal.lines) > MAX_SCHEMA_LINES:
        shown.append(f"and {len(refusal.lines) - MAX_SCHEMA_LINES} more problems")
    value = workload.manifest if refusal.value is _MANIFEST else refusal.value
    return [problem(f"workloads[{index}].{refusal.at}", value, line) for line in shown]


def _checked_workload(
    workload: Workload, index: int, text: str, kubernetes_version: str, pools: tuple[LegacyPool, ...]
) -> tuple[ExportedWorkload | None, list[str]]:
    """The workload from its manifest's text, and every problem the loader finds in it."""
    key = f"workloads[{index}]"
    try:
        legacy = _legacy(workload, text, kubernetes_version, pools)
    except _Refused as refusal:
        return None, _refusal(workload, index, refusal)
    problems = [
        *_identity_problems(legacy, key),
        *_wasm_problems(legacy, key),
        *_decision_problems(legacy, key),
        *_port_and_probe_problems(legacy, key),
    ]
    return (None if problems else legacy), problems


def _identity_problems(legacy: ExportedWorkload, key: str) -> list[str]:
    workload, problems = legacy.config, []
    for obj in (legacy.deployment, legacy.service):
        namespace = obj["metadata"].get("namespace")
        if namespace != workload.namespace:
            problems.append(
                problem(
                    f"{key}.namespace",
                    workload.namespace,
                    f"{obj['kind']} {escape(str(_named(obj)), ECHO_CHARS)} is in {echo(namespace)}",
                )
            )
    if _named(legacy.deployment) != workload.name:
        problems.append(
            problem(
                f"{key}.name",
                workload.name,
                f"the Deployment in {escape(workload.manifest, ECHO_CHARS)} is named "
                f"{echo(_named(legacy.deployment))}; use that name",
            )
        )
    scaler = legacy.autoscaler or legacy.scaled_object
    if scaler is not None and workload.replicas is not None:
        problems.append(
            problem(
                f"{key}.replicas",
                workload.replicas,
                f"{scaler['kind']} {escape(str(_named(scaler)), ECHO_CHARS)} scales this workload: the new "
                "side gets its bounds (minReplicas..maxReplicas), so leave replicas out",
            )
        )
    return problems


def _wasm_problems(legacy: ExportedWorkload, key: str) -> list[str]:
    workload, pod, problems = legacy.config, legacy.pod_spec, []
    if legacy.runtime is None:
        problems.append(
            problem(
                f"{key}.manifest",
                pod.get("runtimeClassName"),
                "the Deployment does not run Wasm on a WASI pool: its RuntimeClass must be one of "
                f"{', '.join(sorted(AKS_WASI_RUNTIME_CLASSES))}, or one exported with it whose handler is a "
                "Spin or SpiderLightning shim and whose scheduling lands on a pool of legacyPools (or the "
                "Krustlet wasm32-wagi selector)",
            )
        )
    if len(pod.get("containers") or []) != 1:
        problems.append(
            problem(
                f"{key}.manifest",
                len(pod.get("containers") or []),
                f"{workload.key}: a Spin pod runs exactly one Wasm container",
            )
        )
    if legacy.runs_slight and not workload.image:
        problems.append(
            problem(
                f"{key}.image",
                workload.image,
                f"{workload.key} runs on {escape(str(pod.get('runtimeClassName')), ECHO_CHARS)} "
                "(SpiderLightning), which has no successor shim; set the image of a Spin rebuild of this app",
            )
        )
    return problems


def _decision_problems(legacy: ExportedWorkload, key: str) -> list[str]:
    """What a person must decide before the new pods run: a Dapr app's sidecar before they serve; an
    autoscaled workload that also says it must never run two copies."""
    problems = []
    if legacy.stop_then_start and (legacy.autoscaler or legacy.scaled_object):
        reasons = "; ".join(legacy.single_copy) or "sideBySide: false"
        problems.append(
            problem(
                f"{key}.sideBySide",
                legacy.config.side_by_side,
                f"it must never run two copies ({escape(reasons, ECHO_CHARS * 2)}), yet an autoscaler "
                "scales it beyond one: set sideBySide: true if two copies are safe (it may then run side by "
                "side), or remove the autoscaler first",
            )
        )
    if legacy.dapr_app is None or legacy.config.dapr_before_serving is not None:
        return problems
    return [
        *problems,
        problem(
            f"{key}.daprBeforeServing",
            None,
            f"is required: the pods run a Dapr sidecar as app {escape(legacy.dapr_app, ECHO_CHARS)}; "
            "before the new pods serve (the canary, parallel at 0 %), withoutSidecar keeps them out of its "
            "pub/sub consumer groups, input bindings and actor placement (their calls to Dapr fail), "
            "withSidecar lets them take a share of production messages unverified",
        ),
    ]


def _port_and_probe_problems(legacy: ExportedWorkload, key: str) -> list[str]:
    """The serving port must be unambiguous, a named target must exist, a rebuilt SpiderLightning app
    must say where Spin listens now, and the new pods need a probe path that the app serves."""
    workload = legacy.config
    ports = legacy.service["spec"]["ports"]
    listed = ", ".join(escape(f"{p.get('name', '(unnamed)')}:{p.get('port')}", ECHO_CHARS) for p in ports)
    candidates = serving_ports(legacy.service, workload.service_port)
    service = escape(legacy.service["metadata"].get("name", ""), ECHO_CHARS)
    if len(candidates) != 1:
        why = (
            f"is not a port of Service {service} ({listed})"
            if workload.service_port is not None
            else f"must name the port that serves the app: the Service has {len(ports)} ports ({listed}) and "
            "none or several named http/web/app; the route, the probes and the verification use it"
        )
        return [problem(f"{key}.servicePort", workload.service_port, why)]
    problems = []
    target = legacy.serving_target
    container = legacy.pod_spec["containers"][0]
    if isinstance(target, str) and target not in {p.get("name") for p in container.get("ports") or []}:
        problems.append(
            problem(f"{key}.manifest", target, "the serving port's targetPort names no port of the container")
        )
    if legacy.runs_slight and workload.image and not workload.container_port:
        problems.append(
            problem(
                f"{key}.containerPort",
                None,
                f"a Spin rebuild of a SpiderLightning app listens where Spin does (80 by default), not on "
                f"slight's port ({echo(target)}); set the port the rebuilt app listens on",
            )
        )
    if workload.probe.path is None and legacy.export_probe is None and workload.target == "shim":
        problems.append(
            problem(
                f"{key}.probe.path",
                None,
                "is required: the export has no HTTP readiness or liveness probe, and a Spin app only "
                "answers the routes in its spin.toml (a guessed / may be 404, and the pods never get Ready)",
            )
        )
    return problems
