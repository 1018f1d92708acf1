"""The shim installer and the RuntimeClass. Which nodes get the shim is decided in one place: the
selection label every target pool puts on its nodes, used by both the DaemonSet and the RuntimeClass."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

from components.config import MigrationConfig, Taint
from components.desired.pools import target_pool_name
from components.desired.spec import ResourceSpec, kubernetes_spec, managed_labels

SHIM_COMPONENT = "shim"
INSTALLER_SCRIPT = Path(__file__).resolve().parent.parent / "installer" / "shim-installer.sh"
SCRIPT_KEY = "shim-installer.sh"
INSTALLER_NAME = "containerd-shim-spin-installer"
SHIM_SOURCE = "/assets/containerd-shim-spin-v2"
HOST_ROOT = "/host"

NAMESPACE = "shim-namespace"
SERVICE_ACCOUNT = "shim-service-account"
SCRIPT_CONFIGMAP = "shim-installer-script"
DAEMONSET = "shim-installer"
RUNTIME_CLASS = "shim-runtime-class"


@cache
def installer_script() -> str:
    return INSTALLER_SCRIPT.read_text()


def shim_taints(config: MigrationConfig) -> list[Taint]:
    """Every taint of every target pool, once: shim nodes are the target pools' nodes."""
    taints: dict[str, Taint] = {}
    for pool in config.target_pools:
        for taint in pool.taints:
            taints.setdefault(taint.as_aks(), taint)
    return [taints[key] for key in sorted(taints)]


def shim_node_selector(config: MigrationConfig) -> dict[str, str]:
    label = config.shim.node_label
    return {label.key: label.value}


def _shim_nodes(config: MigrationConfig) -> str:
    label = config.shim.node_label
    pools = ", ".join(pool.name for pool in config.target_pools)
    return f"nodes of node pool(s) {pools}, which AKS labels {label.key}={label.value} (set on the pool)"


def _installer_env(config: MigrationConfig) -> list[dict[str, str]]:
    return [
        {"name": "HOST_ROOT", "value": HOST_ROOT},
        {"name": "SHIM_SRC", "value": SHIM_SOURCE},
        {"name": "SHIM_DEST", "value": config.shim.shim_path},
        {"name": "RUNTIME_HANDLER", "value": config.shim.handler},
    ]


def _container(name: str, config: MigrationConfig, command: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": config.shim.installer_image.reference,
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "env": _installer_env(config),
        # Privileged: it edits the node's containerd config and restarts containerd through nsenter.
        "securityContext": {"privileged": True},
        "volumeMounts": [
            {"name": "host-root", "mountPath": HOST_ROOT},
            {"name": "installer-script", "mountPath": "/scripts", "readOnly": True},
        ],
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "200m", "memory": "64Mi"},
        },
        **extra,
    }


def daemonset_manifest(config: MigrationConfig) -> dict[str, Any]:
    shim = config.shim
    labels = managed_labels(INSTALLER_NAME, "shim-installer")
    selector = {"app.kubernetes.io/name": INSTALLER_NAME}
    script_digest = hashlib.sha256(installer_script().encode()).hexdigest()
    script = f"/scripts/{SCRIPT_KEY}"
    keep_alive = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": INSTALLER_NAME,
            "namespace": shim.namespace,
            "labels": labels,
            "annotations": {
                "kubernetes.io/description": f"Installs containerd-shim-spin as containerd runtime "
                f"'{shim.handler}' on {_shim_nodes(config)}, and reinstalls it after a reimage."
            },
        },
        "spec": {
            "selector": {"matchLabels": selector},
            # Each rollout restarts containerd on the node it reaches: one node at a time.
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {
                    "labels": labels,
                    # A changed script rolls the DaemonSet, so every node runs the new one.
                    "annotations": {"wasm-migration.io/installer-sha256": script_digest},
                },
                "spec": {
                    "nodeSelector": shim_node_selector(config),
                    "tolerations": [taint.as_toleration() for taint in shim_taints(config)],
                    "priorityClassName": "system-node-critical",
                    "serviceAccountName": INSTALLER_NAME,
                    "automountServiceAccountToken": False,
                    "hostPID": True,
                    "terminationGracePeriodSeconds": 5,
                    "initContainers": [_container("install", config, ["sh", script, "install"])],
                    "containers": [
                        # Re-checks the node; a reverted config fails the probe, the container restarts
                        # and its start reinstalls (one containerd restart).
                        _container(
                            "watch",
                            config,
                            ["sh", "-c", f"sh {script} install || exit 1; {keep_alive}"],
                            livenessProbe={
                                "exec": {"command": ["sh", script, "check"]},
                                "initialDelaySeconds": shim.check_interval_seconds,
                                "periodSeconds": shim.check_interval_seconds,
                                "timeoutSeconds": 10,
                                "failureThreshold": 1,
                            },
                        )
                    ],
                    "volumes": [
                        {"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}},
                        {
                            "name": "installer-script",
                            "configMap": {"name": INSTALLER_NAME, "defaultMode": 0o555},
                        },
                    ],
                },
            },
        },
    }


def runtime_class_manifest(config: MigrationConfig) -> dict[str, Any]:
    tolerations = [taint.as_toleration() for taint in shim_taints(config)]
    scheduling: dict[str, Any] = {"nodeSelector": shim_node_selector(config)}
    if tolerations:
        scheduling["tolerations"] = tolerations
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {
            "name": config.shim.runtime_class_name,
            "labels": managed_labels(config.shim.runtime_class_name, "runtime-class"),
            "annotations": {
                "kubernetes.io/description": f"Wasm pods run with containerd runtime "
                f"'{config.shim.handler}' and are scheduled only onto {_shim_nodes(config)}."
            },
        },
        "handler": config.shim.handler,
        "scheduling": scheduling,
    }


def shim_specs(config: MigrationConfig) -> list[ResourceSpec]:
    shim = config.shim
    namespace_labels = {
        **managed_labels(shim.namespace, "shim-installer"),
        # The only privileged namespace of the project: the installer needs hostPID and hostPath.
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
    }
    pools = [target_pool_name(pool) for pool in config.target_pools]
    namespaced = {"name": INSTALLER_NAME, "namespace": shim.namespace}
    return [
        kubernetes_spec(
            NAMESPACE,
            SHIM_COMPONENT,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": shim.namespace, "labels": namespace_labels},
            },
        ),
        kubernetes_spec(
            SERVICE_ACCOUNT,
            SHIM_COMPONENT,
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {**namespaced, "labels": managed_labels(INSTALLER_NAME, "shim-installer")},
                "automountServiceAccountToken": False,
            },
            depends_on=(NAMESPACE,),
        ),
        kubernetes_spec(
            SCRIPT_CONFIGMAP,
            SHIM_COMPONENT,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {**namespaced, "labels": managed_labels(INSTALLER_NAME, "shim-installer")},
                "data": {SCRIPT_KEY: installer_script()},
            },
            depends_on=(NAMESPACE,),
        ),
        kubernetes_spec(
            DAEMONSET,
            SHIM_COMPONENT,
            daemonset_manifest(config),
            depends_on=(NAMESPACE, SERVICE_ACCOUNT, SCRIPT_CONFIGMAP, *pools),
        ),
        kubernetes_spec(
            RUNTIME_CLASS,
            SHIM_COMPONENT,
            runtime_class_manifest(config),
            depends_on=(DAEMONSET,),
            replace_on_changes=("handler",),
            delete_before_replace=True,
        ),
    ]
