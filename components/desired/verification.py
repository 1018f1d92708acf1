"""The verification Job per workload, from `parallel` on: the same requests to legacy and new pods,
compared against `verification.thresholds`, gating cutover. See docs/design/verification.md."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

from components.core import naming
from components.core.config import MigrationConfig
from components.core.kubernetes import architecture_requirement, require_on_nodes
from components.desired.phase_table import CHECKED_PHASES
from components.desired.spec import ResourceSpec, kubernetes_spec, managed_labels
from components.desired.workloads import NEW_POD_LABEL, new_selector
from components.export.workload import ExportedWorkload

SCRIPT = Path(__file__).resolve().parent.parent / "assets" / "verification" / "verify.py"
SCRIPT_KEY = "verify.py"
# The stop gate's script (components/desired/gates.py), shipped beside verify.py, whose API client it uses.
STOP_GATE_SCRIPT = SCRIPT.parent / "stop_gate.py"
STOP_GATE_KEY = "stop_gate.py"
SETTINGS_ENV = "VERIFY_SETTINGS"
SCRIPT_CONFIGMAP = "wasm-migration-verify"
COMPONENT_LABEL = "verification"
# Owns the per-namespace script ConfigMaps; registered before the workloads whose Jobs mount them.
VERIFICATION_COMPONENT = "verification"


@cache
def verification_script() -> str:
    return SCRIPT.read_text()


@cache
def stop_gate_script() -> str:
    return STOP_GATE_SCRIPT.read_text()


@cache
def scripts_digest() -> str:
    """Both scripts' sha256: in a Job's template, a changed script runs a fresh Job."""
    return hashlib.sha256((verification_script() + stop_gate_script()).encode()).hexdigest()


def verifies(config: MigrationConfig) -> bool:
    """The phase table's checked phases: both sides run in `parallel` and, until the legacy scale-down,
    in `cutover`."""
    return config.verification.enabled and config.phase in CHECKED_PHASES


class VerificationArgs(TypedDict):
    """What one workload's check needs: the migration's config and the workload as exported."""

    config: MigrationConfig
    legacy: ExportedWorkload


class VerificationScriptsArgs(TypedDict):
    config: MigrationConfig
    workloads: tuple[ExportedWorkload, ...]
    """The workloads checked or gated in this phase: their namespaces get the scripts."""


def verification_component_name(legacy: ExportedWorkload) -> str:
    return naming.logical_name(legacy.config.namespace, legacy.config.name, naming.VERIFY)


def _names(legacy: ExportedWorkload) -> dict[str, str]:
    component = verification_component_name(legacy)
    return {
        "service_account": f"{component}-service-account",
        "role": f"{component}-role",
        "role_binding": f"{component}-role-binding",
        "result": f"{component}-result",
        "job": f"{component}-job",
    }


def verification_gate(config: MigrationConfig, legacy: ExportedWorkload) -> tuple[str, ...]:
    """Logical names the legacy scale-down (and every legacy or traffic change of `cutover`) must
    depend on: the verification Job, when this phase verifies."""
    return (_names(legacy)["job"],) if verifies(config) else ()


def label_selector(selector: dict[str, Any]) -> str:
    """A LabelSelector (matchLabels, matchExpressions) as the API's `labelSelector` query string."""
    parts = [f"{key}={value}" for key, value in (selector.get("matchLabels") or {}).items()]
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif operator == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif operator == "Exists":
            parts.append(key)
        else:
            parts.append(f"!{key}")
    return ",".join(parts)


def script_settings(config: MigrationConfig, legacy: ExportedWorkload) -> dict[str, Any]:
    """What verify.py reads: both sides, the requests and the thresholds (camelCase, as in config)."""
    verification = config.verification
    workload = legacy.config
    new_labels = new_selector(legacy.config.name)
    legacy_selector = label_selector(legacy.deployment["spec"]["selector"])
    legacy_selector += f",{NEW_POD_LABEL}!={new_labels[NEW_POD_LABEL]}"
    return {
        "workload": workload.key,
        "namespace": workload.namespace,
        # Each side on the port its pods serve (a rebuild may listen elsewhere); a name is resolved per pod.
        "legacy": {
            "selector": legacy_selector,
            "runtimeClassNot": config.shim.runtime_class_name,
            "port": legacy.serving_target,
        },
        "new": _new_side(config, legacy, label_selector({"matchLabels": new_labels})),
        "paths": list(verification.paths or (legacy.probe_path,)),
        "compareBodies": verification.compare_bodies,
        "requestsPerPath": verification.requests_per_path,
        "requestsPerSecond": verification.requests_per_second,
        "requestTimeoutSeconds": verification.request_timeout_seconds,
        "thresholds": verification.thresholds.model_dump(by_alias=True),
        "resultConfigMap": result_configmap_name(legacy),
    }


def _new_side(config: MigrationConfig, legacy: ExportedWorkload, selector: str) -> dict[str, Any]:
    """The new pods: on the shim's RuntimeClass, or (target container) in the Spin image, whose own
    runtime counts in their memory and cold start; the report says so."""
    side: dict[str, Any] = {"selector": selector, "port": legacy.listen_port}
    if legacy.config.target == "aci":  # no pods: the Service's slices list the groups' addresses
        side["port"] = legacy.listen_port_number
        side["endpointsOf"] = naming.new_service_name(legacy.service["metadata"]["name"])
        side["container"] = config.container.spin_image.reference
    elif legacy.config.target == "container":
        side["container"] = config.container.spin_image.reference
    else:
        side["runtimeClass"] = config.shim.runtime_class_name
    return side


def result_configmap_name(legacy: ExportedWorkload) -> str:
    return naming.verification_result_name(legacy.config.name)


def _metadata(legacy: ExportedWorkload, name: str) -> dict[str, Any]:
    workload = legacy.config
    return {
        "name": name,
        "namespace": workload.namespace,
        "labels": managed_labels(naming.verify_name(workload.name), COMPONENT_LABEL),
    }


def script_spec_name(namespace: str) -> str:
    return f"verify-script-{namespace}"


def verification_scripts_specs(name: str, args: VerificationScriptsArgs) -> list[ResourceSpec]:
    """The scripts, once per namespace whose workloads are checked or gated (ConfigMaps cannot be
    mounted across namespaces; one copy per workload would repeat them in every render and diff)."""
    namespaces = sorted({legacy.config.namespace for legacy in args["workloads"]})
    return [
        kubernetes_spec(
            script_spec_name(namespace),
            name,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": SCRIPT_CONFIGMAP,
                    "namespace": namespace,
                    "labels": managed_labels(SCRIPT_CONFIGMAP, COMPONENT_LABEL),
                },
                "data": {SCRIPT_KEY: verification_script(), STOP_GATE_KEY: stop_gate_script()},
            },
        )
        for namespace in namespaces
    ]


def script_pod_spec(
    service_account: str,
    *,
    container: str,
    image: str,
    script: str,
    settings: tuple[str, str],
    resources: dict[str, Any],
    architectures: Sequence[str],
) -> dict[str, Any]:
    """The pod of a Job that runs one of the scripts in the namespace's ConfigMap (the verification, a
    stop gate): unprivileged, read-only, its settings in one environment variable."""
    name, value = settings
    pod = {
        "serviceAccountName": service_account,
        "restartPolicy": "Never",
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 65534,
            "runAsGroup": 65534,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": container,
                "image": image,
                "imagePullPolicy": "IfNotPresent",
                "command": ["python3", f"/verification/{script}"],
                "env": [{"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}, {"name": name, "value": value}],
                "terminationMessagePolicy": "FallbackToLogsOnError",
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
                "resources": resources,
                "volumeMounts": [{"name": "verification", "mountPath": "/verification", "readOnly": True}],
            }
        ],
        "volumes": [{"name": "verification", "configMap": {"name": SCRIPT_CONFIGMAP}}],
    }
    require_on_nodes(pod, architecture_requirement(architectures))  # the image's platforms only
    return pod


def job_manifest(config: MigrationConfig, legacy: ExportedWorkload, settings: str) -> dict[str, Any]:
    verification = config.verification
    name = naming.verify_name(legacy.config.name)
    digest = scripts_digest()
    metadata = _metadata(legacy, name)
    metadata["annotations"] = {
        "pulumi.com/timeoutSeconds": str(verification.timeout_seconds + 60),
        "pulumi.com/replaceUnready": "true",
        "kubernetes.io/description": f"Compares legacy and new pods of {legacy.config.key}; the cutover's "
        "legacy scale-down waits for it to pass.",
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": {
            "backoffLimit": 0,  # a failed comparison is an answer, not a flake to retry
            "activeDeadlineSeconds": verification.timeout_seconds,
            "template": {
                "metadata": {
                    "labels": managed_labels(name, COMPONENT_LABEL),
                    "annotations": {
                        "wasm-migration.io/phase": config.phase.value,
                        "wasm-migration.io/verification-sha256": digest,
                    },
                },
                "spec": script_pod_spec(
                    name,
                    container="verify",
                    image=verification.image.reference,
                    architectures=verification.image.architectures,
                    script=SCRIPT_KEY,
                    settings=(SETTINGS_ENV, settings),
                    resources={
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"cpu": "500m", "memory": "128Mi"},
                    },
                ),
            },
        },
    }


def _role(legacy: ExportedWorkload, name: str) -> dict[str, Any]:
    """What the Job reads: pods and their metrics, the container groups' EndpointSlices (target aci
    only), and the one ConfigMap it writes."""
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": _metadata(legacy, name),
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
            {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
            {
                "apiGroups": [""],
                "resources": ["configmaps"],
                "resourceNames": [result_configmap_name(legacy)],
                "verbs": ["get", "patch"],
            },
        ],
    }
    if legacy.config.target == "aci":
        rule = {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": ["list"]}
        role["rules"].insert(2, rule)  # type: ignore[attr-defined]
    return role


def verification_specs(name: str, args: VerificationArgs) -> list[ResourceSpec]:
    """The Job and what it needs. What it waits for outside itself (the script ConfigMap, the new side
    and, in `parallel`, the legacy side) is the component's `depends_on` (components.desired plans it);
    in `cutover` the legacy and traffic changes wait for it instead."""
    config, legacy = args["config"], args["legacy"]
    if not verifies(config):
        return []
    names = _names(legacy)
    account_name = naming.verify_name(legacy.config.name)
    settings = json.dumps(script_settings(config, legacy), sort_keys=True)
    account = _metadata(legacy, account_name)
    return [
        kubernetes_spec(
            names["service_account"],
            name,
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account},
        ),
        kubernetes_spec(names["role"], name, _role(legacy, account_name)),
        kubernetes_spec(
            names["role_binding"],
            name,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": _metadata(legacy, account_name),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": account_name},
                "subjects": [
                    {"kind": "ServiceAccount", "name": account_name, "namespace": legacy.config.namespace}
                ],
            },
            depends_on=(names["role"], names["service_account"]),
        ),
        # Written by the Job (merge patch of `data`); Pulumi owns only its metadata.
        kubernetes_spec(
            names["result"],
            name,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": _metadata(legacy, result_configmap_name(legacy)),
            },
            ignore_changes=("data",),
        ),
        kubernetes_spec(
            names["job"],
            name,
            job_manifest(config, legacy, settings),
            depends_on=(names["role_binding"], names["result"]),
            # The provider replaces a Job on any spec.template change (diff.go); said here so that
            # render and diff show it as the replace it is.
            replace_on_changes=("spec.template",),
            delete_before_replace=True,  # fixed name: the old Job must go before the next check runs
        ),
    ]
