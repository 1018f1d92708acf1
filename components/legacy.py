"""The legacy side as it runs today: exported `kubectl get -o yaml` manifests, cleaned of what the
API server writes, so the stack can adopt them without touching the pod template."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components import identifiers
from components.config import AKS_WASI_RUNTIME_CLASSES, Workload, problem
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
    """One workload as found on the WASI pool: its Deployment and the Service users reach, and every
    object of its export (server fields stripped; other Services, existing HTTPRoutes) for the traffic
    analysis (components/desired/traffic.py)."""

    config: Workload
    deployment: dict[str, Any]
    service: dict[str, Any]
    exported: tuple[dict[str, Any], ...] = ()

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
    def service_port(self) -> dict[str, Any]:
        return self.service["spec"]["ports"][0]


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


def replicas_autoscaler(exported: list[dict[str, Any]], deployment: dict[str, Any]) -> str | None:
    """Who else sets the Deployment's replicas: an HPA in the export that targets it, or a manager that
    wrote `spec.replicas` through the scale subresource (an HPA's kube-controller-manager), as the
    Deployment's managedFields record. Such a field cannot be patched without a fight
    (pulumi-kubernetes#2491), so the workload is refused rather than left to flap."""
    name = (deployment.get("metadata") or {}).get("name")

    def named(obj: dict[str, Any]) -> Any:
        metadata = obj.get("metadata")
        return metadata.get("name") if isinstance(metadata, dict) else None

    for obj in exported:
        spec = obj.get("spec")
        target = spec.get("scaleTargetRef") if isinstance(spec, dict) else None
        if (
            obj.get("kind") == "HorizontalPodAutoscaler"
            and isinstance(target, dict)
            and target.get("kind") == "Deployment"
            and target.get("name") == name
        ):
            return f"HorizontalPodAutoscaler {escape(str(named(obj)), ECHO_CHARS)} (in the export)"
    original = next((o for o in exported if o.get("kind") == "Deployment" and named(o) == name), {})
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
        invalid = quantity_problems(deployment)
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
    autoscaler = replicas_autoscaler(exported, deployment)
    if autoscaler:
        return None, [
            problem(
                f"{key}.manifest",
                workload.manifest,
                f"the Deployment's replicas are managed by {autoscaler}; the migration sets them in prepare, "
                "parallel and cutover and would fight it. Remove the autoscaler (or export and delete it) "
                "before migrating this workload",
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
    legacy = LegacyWorkload(workload, deployment, service, tuple(objects))
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
    return (None if problems else legacy), problems
