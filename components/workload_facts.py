"""What an export says about one workload: pure functions over exported objects, shared by `init` and
the loader. (Interim version on the planner's branch; the facts module from the init work replaces it.)"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from components.selectors import service_selects


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def controller_of(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    for reference in _meta(obj).get("ownerReferences") or []:
        if isinstance(reference, Mapping) and reference.get("controller") is True:
            return str(reference.get("kind")), str(reference.get("name"))
    return None


def owned_by(objects: Iterable[Mapping[str, Any]], owner: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    uid, kind, name = _meta(owner).get("uid"), owner.get("kind"), _meta(owner).get("name")
    found = []
    for obj in objects:
        for reference in _meta(obj).get("ownerReferences") or []:
            if not isinstance(reference, Mapping):
                continue
            if (uid and reference.get("uid") == uid) or (
                not uid and reference.get("kind") == kind and reference.get("name") == name
            ):
                found.append(obj)
                break
    return found


def selecting_services(
    objects: Iterable[Mapping[str, Any]], namespace: str, labels: Mapping[str, str]
) -> list[Mapping[str, Any]]:
    return [
        obj
        for obj in objects
        if obj.get("kind") == "Service"
        and (_meta(obj).get("namespace") or namespace) == namespace
        and isinstance((obj.get("spec") or {}).get("selector"), Mapping)
        and service_selects(obj["spec"]["selector"], labels)
    ]


def _targets(obj: Mapping[str, Any], deployment: Mapping[str, Any]) -> bool:
    target = (obj.get("spec") or {}).get("scaleTargetRef")
    return (
        isinstance(target, Mapping)
        and target.get("kind", "Deployment") == "Deployment"
        and target.get("name") == _meta(deployment).get("name")
    )


def autoscaler_of(
    objects: Iterable[Mapping[str, Any]], deployment: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    return next(
        (
            obj
            for obj in objects
            if obj.get("kind") == "HorizontalPodAutoscaler"
            and _targets(obj, deployment)
            and not controller_of(obj)
        ),
        None,
    )


def controlled_autoscalers(
    objects: Iterable[Mapping[str, Any]], deployment: Mapping[str, Any]
) -> list[Mapping[str, Any]]:
    return [
        obj
        for obj in objects
        if obj.get("kind") == "HorizontalPodAutoscaler" and _targets(obj, deployment) and controller_of(obj)
    ]


def scaled_object_of(
    objects: Iterable[Mapping[str, Any]], deployment: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    return next(
        (obj for obj in objects if obj.get("kind") == "ScaledObject" and _targets(obj, deployment)),
        None,
    )


_STATE_VOLUMES = (
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


def single_copy_reasons(deployment: Mapping[str, Any]) -> list[str]:
    spec = deployment.get("spec") or {}
    reasons = []
    if (spec.get("strategy") or {}).get("type") == "Recreate":
        reasons.append("strategy Recreate")
    pod = (spec.get("template") or {}).get("spec") or {}
    mounts: dict[str, list[bool]] = {}
    for container in [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]:
        for mount in container.get("volumeMounts") or []:
            mounts.setdefault(mount.get("name"), []).append(bool(mount.get("readOnly")))
    for volume in pod.get("volumes") or []:
        kind = next((k for k in _STATE_VOLUMES if k in volume), None)
        if kind is None or (kind == "csi" and volume["csi"].get("driver") == "secrets-store.csi.k8s.io"):
            continue
        if (volume.get(kind) or {}).get("readOnly") or all(mounts.get(volume.get("name"), [True])):
            continue
        reasons.append(f"volume {volume.get('name')} ({kind}) mounted writable")
    return reasons


def dapr_app_id(template: Mapping[str, Any], deployment_name: str) -> str | None:
    annotations = _meta(template).get("annotations") or {}
    if str(annotations.get("dapr.io/enabled", "")).lower() != "true":
        return None
    return str(annotations.get("dapr.io/app-id") or deployment_name)


def serving_replica_set(
    objects: Iterable[Mapping[str, Any]], deployment: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    revision = (_meta(deployment).get("annotations") or {}).get("deployment.kubernetes.io/revision")
    for obj in owned_by([o for o in objects if o.get("kind") == "ReplicaSet"], deployment):
        if (_meta(obj).get("annotations") or {}).get("deployment.kubernetes.io/revision") == revision:
            return obj
    return None
