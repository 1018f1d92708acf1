"""The stop gate of a workload that must never run two copies (strategy Recreate, a writable volume
holding state): a Job that waits until every pod of one side is gone, terminating ones included, before
the other side starts. pulumi-kubernetes awaits a Job until it completes and fails it when it does not
(provider/pkg/await/job.go), and whatever depends on the Job is not registered until then: in cutover
the new Deployment waits for the legacy pods to be gone; on the way back (parallel) the legacy patch
waits for the new pods to be gone. A Deployment's own status cannot say it: `status.replicas` leaves
out terminating pods (components/assets/verification/stop_gate.py)."""

from __future__ import annotations

import json
from typing import Any, TypedDict

from components.core import naming
from components.core.config import MigrationConfig
from components.desired.spec import ResourceSpec, kubernetes_spec, managed_labels
from components.desired.verification import (
    STOP_GATE_KEY,
    label_selector,
    script_pod_spec,
    scripts_digest,
)
from components.desired.workloads import NEW_POD_LABEL, new_selector
from components.export.workload import ExportedWorkload

GATE_LABEL = "stop-gate"
# How long the gate waits for a side's pods to be gone: their grace period and then some.
GATE_SECONDS = 600


class StopGateArgs(TypedDict):
    config: MigrationConfig
    legacy: ExportedWorkload
    side: str
    """"legacy" (cutover: the legacy pods must be gone before the new ones start) or "new" (the way
    back: the new pods must be gone before the legacy ones start)."""


def stop_gate_component_name(legacy: ExportedWorkload) -> str:
    return naming.logical_name(legacy.config.namespace, legacy.config.name, naming.STOP_GATE)


def stop_gate_names(name: str) -> dict[str, str]:
    return {
        "service_account": f"{name}-service-account",
        "role": f"{name}-role",
        "role_binding": f"{name}-role-binding",
        "job": f"{name}-job",
    }


def gone_selector(legacy: ExportedWorkload, side: str) -> str:
    """The pods that must be gone: the new Deployment's, or the legacy Deployment's less the new ones."""
    new = new_selector(legacy.config.name)
    if side == "new":
        return label_selector({"matchLabels": new})
    return label_selector(legacy.deployment["spec"]["selector"]) + f",!{NEW_POD_LABEL}"


def _metadata(legacy: ExportedWorkload, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": legacy.config.namespace,
        "labels": managed_labels(name, GATE_LABEL),
    }


def stop_gate_specs(name: str, args: StopGateArgs) -> list[ResourceSpec]:
    legacy, side = args["legacy"], args["side"]
    names = stop_gate_names(name)
    object_name = naming.stop_gate_name(legacy.config.name)
    settings = {
        "namespace": legacy.config.namespace,
        "selector": gone_selector(legacy, side),
        "timeoutSeconds": GATE_SECONDS,
        "side": side,  # in the template: each direction runs a fresh Job
    }
    image = args["config"].verification.image.reference
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            **_metadata(legacy, object_name),
            "annotations": {
                "pulumi.com/timeoutSeconds": str(GATE_SECONDS + 60),
                "pulumi.com/replaceUnready": "true",
                "kubernetes.io/description": f"Waits until the {side} pods of {legacy.config.key} are gone, "
                "so that it never runs two copies.",
            },
        },
        "spec": {
            "backoffLimit": 2,
            "activeDeadlineSeconds": GATE_SECONDS + 30,
            "template": {
                "metadata": {
                    "labels": managed_labels(object_name, GATE_LABEL),
                    "annotations": {"wasm-migration.io/scripts-sha256": scripts_digest()},
                },
                "spec": script_pod_spec(
                    object_name,
                    container="stop-gate",
                    image=image,
                    architectures=args["config"].verification.image.architectures,
                    script=STOP_GATE_KEY,
                    settings=("STOP_GATE_SETTINGS", json.dumps(settings, sort_keys=True)),
                    resources={
                        "requests": {"cpu": "10m", "memory": "32Mi"},
                        "limits": {"cpu": "100m", "memory": "64Mi"},
                    },
                ),
            },
        },
    }
    return [
        kubernetes_spec(
            names["service_account"],
            name,
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(legacy, object_name)},
        ),
        kubernetes_spec(
            names["role"],
            name,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": _metadata(legacy, object_name),
                "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["list"]}],
            },
        ),
        kubernetes_spec(
            names["role_binding"],
            name,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _metadata(legacy, object_name),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": object_name},
                "subjects": [
                    {"kind": "ServiceAccount", "name": object_name, "namespace": legacy.config.namespace}
                ],
            },
            depends_on=(names["role"], names["service_account"]),
        ),
        kubernetes_spec(
            names["job"],
            name,
            job,
            depends_on=(names["role_binding"],),  # and the scripts' ConfigMap: the component waits for it
            replace_on_changes=("spec.template",),
            delete_before_replace=True,
        ),
    ]
