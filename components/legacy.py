"""The legacy side as it runs today: exported `kubectl get -o yaml` manifests, cleaned of what the
API server writes, so the stack can adopt them without touching the pod template."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from components import identifiers
from components.config import AKS_WASI_RUNTIME_CLASSES, Workload, problem
from components.export_rules import export_problems
from components.inputs import (
    ECHO_CHARS,
    UnsafeInput,
    echo,
    escape,
    load_yaml_documents,
    project_file,
    read_text,
)
from components.schemas import object_label, schema_problems, supported_version
from components.selectors import ExportSelector, export_selectors, operator_problems

SPIDERLIGHTNING_CLASS = "wasmtime-slight-v1"
KRUSTLET_ARCH = ("kubernetes.io/arch", "wasm32-wagi")
WASI_NODE_LABEL_PREFIX = "kubernetes.azure.com/wasmtime-"

_SERVER_METADATA = ("managedFields", "uid", "resourceVersion", "creationTimestamp", "generation", "selfLink")
_SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
)


@dataclass(frozen=True)
class LegacyWorkload:
    """One workload as found on the WASI pool: its Deployment, the Service users reach, the HPA that
    scales it (if any) and every object of its export (server fields stripped: the selectors new pods
    must respect, other Services and existing HTTPRoutes for components/desired/traffic.py)."""

    config: Workload
    deployment: dict[str, Any]
    service: dict[str, Any]
    exported: tuple[dict[str, Any], ...] = ()
    autoscaler: dict[str, Any] | None = None
    ready: int | None = None  # the Deployment's Ready pods as exported (status.readyReplicas)

    @property
    def pod_spec(self) -> dict[str, Any]:
        return self.deployment["spec"]["template"]["spec"]

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
    def probe_path(self) -> str:
        return self.config.probe.path or (self.export_probe or {})["path"]

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
    clean = copy.deepcopy(manifest)
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


def _quantities(pod: dict[str, Any]) -> list[tuple[str, Any]]:
    """(path, value) of every resource quantity a pod template sets: container requests and limits,
    pod-level resources, overhead and emptyDir size limits."""
    found: list[tuple[str, Any]] = []

    def resource_lists(path: str, resources: Any) -> None:
        if isinstance(resources, dict):
            for kind in ("requests", "limits"):
                if isinstance(resources.get(kind), dict):
                    found.extend((f"{path}.{kind}.{name}", v) for name, v in resources[kind].items())

    for field in ("initContainers", "containers", "ephemeralContainers"):
        for index, container in enumerate(pod.get(field) or []):
            if isinstance(container, dict):
                resource_lists(f"spec.template.spec.{field}[{index}].resources", container.get("resources"))
    resource_lists("spec.template.spec.resources", pod.get("resources"))
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


def export_autoscaler(objects: list[dict[str, Any]], deployment: dict[str, Any]) -> dict[str, Any] | None:
    """The HPA in the export that scales the Deployment: the new side gets its translation, the legacy
    one is set aside in cutover and deleted with the Deployment in decommission."""
    for obj in objects:
        spec = obj.get("spec")
        target = spec.get("scaleTargetRef") if isinstance(spec, dict) else None
        if (
            obj.get("kind") == "HorizontalPodAutoscaler"
            and isinstance(target, dict)
            and target.get("kind") == "Deployment"
            and target.get("name") == _named(deployment)
        ):
            return obj
    return None


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


def is_wasi_pod(pod_spec: dict[str, Any]) -> bool:
    if pod_spec.get("runtimeClassName") in AKS_WASI_RUNTIME_CLASSES:
        return True
    return (pod_spec.get("nodeSelector") or {}).get(KRUSTLET_ARCH[0]) == KRUSTLET_ARCH[1]


def load_legacy_workload(
    workload: Workload, index: int, base_dir: Path, kubernetes_version: str
) -> tuple[LegacyWorkload | None, list[str]]:
    """Read and check one workload's exported manifests; problems name `workloads[index]` keys.
    The objects must pass the strict schema of the cluster's Kubernetes version before anything
    else looks at them, so a hand-edited export fails here with a message, not later."""
    key = f"workloads[{index}]"
    try:
        text = read_text(project_file(base_dir, workload.manifest))
    except UnsafeInput as error:
        return None, [problem(f"{key}.manifest", workload.manifest, str(error))]
    try:
        exported = _documents(text)
        objects = [strip_server_fields(obj) for obj in exported]
    except UnsafeInput as error:
        detail = str(error).removeprefix("is not valid YAML: ")
        return None, [problem(f"{key}.manifest", workload.manifest, f"not valid Kubernetes YAML: {detail}")]
    except ValueError as error:
        return None, [problem(f"{key}.manifest", workload.manifest, f"not valid Kubernetes YAML: {error}")]

    deployments = [o for o in objects if o.get("kind") == "Deployment"]
    services = [o for o in objects if o.get("kind") == "Service"]
    if len(deployments) != 1 or len(services) != 1:
        return None, [
            problem(
                f"{key}.manifest",
                workload.manifest,
                f"must hold exactly one Deployment and one Service (found {len(deployments)} and "
                f"{len(services)})",
            )
        ]
    deployment, service = deployments[0], services[0]
    version = supported_version(kubernetes_version)
    invalid = [line for obj in (deployment, service) for line in schema_problems(obj, version)]
    if not invalid:  # schema-valid, so every quantity sits where the schema puts it
        invalid = quantity_problems(deployment) + export_problems(objects)
    if invalid:
        shown = [escape(line) for line in invalid[:MAX_SCHEMA_LINES]]
        if len(invalid) > MAX_SCHEMA_LINES:
            shown.append(f"and {len(invalid) - MAX_SCHEMA_LINES} more schema problems")
        return None, [problem(f"{key}.manifest", workload.manifest, line) for line in shown]
    template = (deployment.get("spec") or {}).get("template") or {}
    if not isinstance(template.get("spec"), dict) or not (service.get("spec") or {}).get("ports"):
        return None, [
            problem(
                f"{key}.manifest",
                workload.manifest,
                "the Deployment needs spec.template.spec and the Service at least one port",
            )
        ]
    operators = operator_problems(objects)
    if operators:
        return None, [problem(f"{key}.manifest", workload.manifest, escape(line)) for line in operators]
    autoscaler = export_autoscaler(objects, deployment)
    unseen = None if autoscaler else unexported_autoscaler(exported, deployment)
    if unseen:
        return None, [
            problem(
                f"{key}.manifest",
                workload.manifest,
                f"the Deployment's replicas are managed by {unseen}, which the export does not hold; "
                "export its HorizontalPodAutoscaler with the Deployment (the new side gets a translation "
                "of it), or remove the autoscaler before migrating this workload",
            )
        ]
    problems = []
    for obj in (deployment, service):
        metadata = obj["metadata"] = obj.get("metadata") or {}
        name = metadata.get("name")
        namespace = metadata.setdefault("namespace", workload.namespace)
        if namespace != workload.namespace:
            problems.append(
                problem(
                    f"{key}.namespace",
                    workload.namespace,
                    f"{obj['kind']} {escape(str(name), ECHO_CHARS)} is in {echo(namespace)}",
                )
            )
    if deployment["metadata"].get("name") != workload.name:
        problems.append(
            problem(
                f"{key}.name",
                workload.name,
                f"the Deployment in {escape(workload.manifest, ECHO_CHARS)} is named "
                f"{echo(deployment['metadata'].get('name'))}; use that name",
            )
        )
    legacy = LegacyWorkload(
        workload, deployment, service, tuple(objects), autoscaler, exported_ready(exported, deployment)
    )
    if autoscaler is not None and workload.replicas is not None:
        problems.append(
            problem(
                f"{key}.replicas",
                workload.replicas,
                f"HorizontalPodAutoscaler {escape(str(_named(autoscaler)), ECHO_CHARS)} scales this "
                "workload: the new side gets its bounds (minReplicas..maxReplicas), so leave replicas out",
            )
        )
    pod = legacy.pod_spec
    if not is_wasi_pod(pod):
        problems.append(
            problem(
                f"{key}.manifest",
                pod.get("runtimeClassName"),
                "the Deployment does not run on the WASI pool (runtimeClassName must be one of "
                f"{', '.join(sorted(AKS_WASI_RUNTIME_CLASSES))}, or the Krustlet wasm32-wagi selector)",
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
    if legacy.runtime_class == SPIDERLIGHTNING_CLASS and not workload.image:
        problems.append(
            problem(
                f"{key}.image",
                workload.image,
                f"{workload.key} runs on wasmtime-slight-v1 (SpiderLightning), which has no successor "
                "shim; set the image of a Spin rebuild of this app",
            )
        )
    labels = (template.get("metadata") or {}).get("labels") or {}
    selector = legacy.service_selector
    if not selector or any(labels.get(k) != v for k, v in selector.items()):
        problems.append(
            problem(
                f"{key}.manifest", selector, "the Service selector must match the Deployment's pod labels"
            )
        )
    problems.extend(_port_and_probe_problems(legacy, key))
    return (None if problems else legacy), problems


def _port_and_probe_problems(legacy: LegacyWorkload, key: str) -> list[str]:
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
    if legacy.runtime_class == SPIDERLIGHTNING_CLASS and workload.image and not workload.container_port:
        problems.append(
            problem(
                f"{key}.containerPort",
                None,
                f"a Spin rebuild of a SpiderLightning app listens where Spin does (80 by default), not on "
                f"slight's port ({echo(target)}); set the port the rebuilt app listens on",
            )
        )
    if workload.probe.path is None and legacy.export_probe is None:
        problems.append(
            problem(
                f"{key}.probe.path",
                None,
                "is required: the export has no HTTP readiness or liveness probe, and a Spin app only "
                "answers the routes in its spin.toml (a guessed / may be 404, and the pods never get Ready)",
            )
        )
    return problems
