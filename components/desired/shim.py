"""The shim installer and the RuntimeClass. Which nodes get the shim is decided in one place: the
selection label every Wasm pool puts on its nodes, used by both the DaemonSet and the RuntimeClass."""

import hashlib
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from components.core.config import Shim
from components.core.kubernetes import architecture_requirement, require_on_nodes
from components.desired.awaits import PATCH_FORCE
from components.desired.spec import ResourceSpec, kubernetes_spec, managed_labels

INSTALLER_SCRIPT = Path(__file__).resolve().parent.parent / "assets" / "installer" / "shim-installer.sh"
SCRIPT_KEY = "shim-installer.sh"
INSTALLER_NAME = "containerd-shim-spin-installer"
SHIM_SOURCE = "/assets/containerd-shim-spin-v2"
HOST_ROOT = "/host"
# A library user may leave any of these out: the config model's defaults apply (defined there only).
DEFAULTS = Shim()
SCRIPT_DIGEST_ANNOTATION = "wasm-migration.io/installer-sha256"

# Seconds one node may take in a rollout (maxUnavailable 1): old pod stops, the image is pulled, the
# script installs and restarts containerd, then waits up to 60 s for it to answer.
SECONDS_PER_NODE = 180
# pulumi-kubernetes awaits DaemonSet rollouts (since 4.12) for 10 minutes unless told otherwise.
MIN_ROLLOUT_SECONDS = 600


class TolerationArgs(TypedDict):
    key: NotRequired[str]
    operator: NotRequired[str]
    value: NotRequired[str]
    effect: NotRequired[str]


class SpinShimArgs(TypedDict):
    """containerd-shim-spin on every node with the selection label, and the RuntimeClass for it."""

    node_selector: Mapping[str, str]
    """The label the Wasm pools put on all their nodes (WasmNodePool.node_selector)."""
    tolerations: NotRequired[Sequence[TolerationArgs]]
    """Tolerations for the Wasm pools' taints; used by the installer and by the RuntimeClass."""
    namespace: NotRequired[str]
    """The installer's namespace, the only privileged one (default wasm-shim-system)."""
    runtime_class_name: NotRequired[str]
    """Default wasm-spin; never an AKS-managed wasmtime-* name."""
    handler: NotRequired[str]
    """containerd runtime handler (default spin)."""
    installer_image: NotRequired[str]
    """Node-installer image carrying /assets/containerd-shim-spin-v2; pin it by its multi-arch index
    digest."""
    architectures: NotRequired[Sequence[str]]
    """The node architectures the installer image holds (default amd64 and arm64): the installer is
    scheduled only there, so no node gets a shim binary built for another CPU."""
    shim_path: NotRequired[str]
    check_interval_seconds: NotRequired[int]
    max_nodes: NotRequired[int]
    """The most nodes the selected pools can have; sizes the rollout await (default 10)."""
    pool_names: NotRequired[Sequence[str]]
    """Names of the pools, for the descriptions reviewers read."""
    adopt_existing_namespace: NotRequired[bool]
    """Import a namespace of this name that already exists instead of failing with AlreadyExists."""
    adopt_existing_runtime_class: NotRequired[bool]
    """Import a RuntimeClass of this name that already exists (its handler must match)."""


@cache
def installer_script() -> str:
    return INSTALLER_SCRIPT.read_text()


def installer_script_digest() -> str:
    return hashlib.sha256(installer_script().encode()).hexdigest()


def namespace_of(args: SpinShimArgs) -> str:
    return args.get("namespace", DEFAULTS.namespace)


def runtime_class_of(args: SpinShimArgs) -> str:
    return args.get("runtime_class_name", DEFAULTS.runtime_class_name)


def handler_of(args: SpinShimArgs) -> str:
    return args.get("handler", DEFAULTS.handler)


def rollout_timeout_seconds(args: SpinShimArgs) -> int:
    return max(MIN_ROLLOUT_SECONDS, args.get("max_nodes", 10) * SECONDS_PER_NODE)


def _shim_nodes(args: SpinShimArgs) -> str:
    selector = ", ".join(f"{key}={value}" for key, value in sorted(args["node_selector"].items()))
    pools = args.get("pool_names")
    where = f"nodes of node pool(s) {', '.join(pools)}, which AKS labels" if pools else "nodes labelled"
    return f"{where} {selector} (set on the pool)"


def _installer_env(args: SpinShimArgs) -> list[dict[str, str]]:
    return [
        {"name": "HOST_ROOT", "value": HOST_ROOT},
        {"name": "SHIM_SRC", "value": SHIM_SOURCE},
        {"name": "SHIM_DEST", "value": args.get("shim_path", DEFAULTS.shim_path)},
        {"name": "RUNTIME_HANDLER", "value": handler_of(args)},
    ]


def _container(name: str, args: SpinShimArgs, command: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": args.get("installer_image", DEFAULTS.installer_image.reference),
        "imagePullPolicy": "IfNotPresent",
        "command": command,
        "env": _installer_env(args),
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


def _installer_pod(args: SpinShimArgs, pod: dict[str, Any]) -> dict[str, Any]:
    architectures = args.get("architectures", DEFAULTS.installer_image.architectures)
    require_on_nodes(pod, architecture_requirement(architectures))
    return pod


def daemonset_manifest(args: SpinShimArgs) -> dict[str, Any]:
    labels = managed_labels(INSTALLER_NAME, "shim-installer")
    selector = {"app.kubernetes.io/name": INSTALLER_NAME}
    script = f"/scripts/{SCRIPT_KEY}"
    keep_alive = "trap 'exit 0' TERM; while :; do sleep 3600 & wait $!; done"
    interval = args.get("check_interval_seconds", DEFAULTS.check_interval_seconds)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {
            "name": INSTALLER_NAME,
            "namespace": namespace_of(args),
            "labels": labels,
            "annotations": {
                "kubernetes.io/description": f"Installs containerd-shim-spin as containerd runtime "
                f"'{handler_of(args)}' on {_shim_nodes(args)}, and reinstalls it after a reimage.",
                # pulumi-kubernetes awaits the rollout (await/daemonset.go, 10 min by default); one node
                # at a time over every node the pools can have takes longer.
                "pulumi.com/timeoutSeconds": str(rollout_timeout_seconds(args)),
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
                    "annotations": {SCRIPT_DIGEST_ANNOTATION: installer_script_digest()},
                },
                "spec": _installer_pod(
                    args,
                    {
                        "nodeSelector": dict(args["node_selector"]),
                        "tolerations": [dict(t) for t in args.get("tolerations") or []],
                        "priorityClassName": "system-node-critical",
                        "serviceAccountName": INSTALLER_NAME,
                        "automountServiceAccountToken": False,
                        "hostPID": True,
                        "terminationGracePeriodSeconds": 5,
                        "initContainers": [_container("install", args, ["sh", script, "install"])],
                        "containers": [
                            # Re-checks the node; a reverted config fails the probe, the container restarts
                            # and its start reinstalls (one containerd restart).
                            _container(
                                "watch",
                                args,
                                ["sh", "-c", f"sh {script} install || exit 1; {keep_alive}"],
                                livenessProbe={
                                    "exec": {"command": ["sh", script, "check"]},
                                    "initialDelaySeconds": interval,
                                    "periodSeconds": interval,
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
                ),
            },
        },
    }


def runtime_class_manifest(args: SpinShimArgs) -> dict[str, Any]:
    scheduling: dict[str, Any] = {"nodeSelector": dict(args["node_selector"])}
    if args.get("tolerations"):
        scheduling["tolerations"] = [dict(t) for t in args.get("tolerations") or []]
    name = runtime_class_of(args)
    return {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "metadata": {
            "name": name,
            "labels": managed_labels(name, "runtime-class"),
            "annotations": {
                "kubernetes.io/description": f"Wasm pods run with containerd runtime "
                f"'{handler_of(args)}' and are scheduled only onto {_shim_nodes(args)}."
            },
        },
        "handler": handler_of(args),
        "scheduling": scheduling,
    }


def shim_resource_names(name: str) -> dict[str, str]:
    """Logical names of the shim's resources, from the component's name."""
    return {
        "namespace": f"{name}-namespace",
        "service_account": f"{name}-service-account",
        "script": f"{name}-installer-script",
        "daemonset": f"{name}-installer",
        "runtime_class": f"{name}-runtime-class",
        "namespace_labels": f"{name}-namespace-labels",
    }


# Pod Security for the installer: the only privileged namespace of the project (hostPID, hostPath).
PRIVILEGED = {
    "pod-security.kubernetes.io/enforce": "privileged",
    "pod-security.kubernetes.io/warn": "privileged",
}


def _namespace_specs(name: str, args: SpinShimArgs) -> list[ResourceSpec]:
    """The installer's namespace. Since pulumi-kubernetes 4.29 a create is not an upsert: one that
    already exists fails with AlreadyExists unless it is imported. An existing one is adopted read-only
    (import, `ignore_changes: ["*"]`: importing and then applying the program's inputs would remove every
    label and annotation kubectl manages, pulumi-kubernetes fixCSAFieldManagers), protected and retained
    (no phase or rollback deletes what existed before), and a NamespacePatch owns only the Pod Security
    labels the installer needs (retained too: deleting it would relinquish them, ssa.Relinquish)."""
    namespace = namespace_of(args)
    names = shim_resource_names(name)
    labels = {**managed_labels(namespace, "shim-installer"), **PRIVILEGED}
    manifest = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace, "labels": labels}}
    if not args.get("adopt_existing_namespace"):
        return [kubernetes_spec(names["namespace"], name, manifest)]
    adopted = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    patch = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": dict(PRIVILEGED), "annotations": dict(PATCH_FORCE)},
    }
    return [
        kubernetes_spec(
            names["namespace"],
            name,
            adopted,
            import_id=namespace,
            ignore_changes=("*",),
            protect=True,
            retain_on_delete=True,
        ),
        kubernetes_spec(
            names["namespace_labels"],
            name,
            patch,
            patch=True,
            depends_on=(names["namespace"],),
            retain_on_delete=True,
        ),
    ]


def _runtime_class_spec(name: str, args: SpinShimArgs) -> ResourceSpec:
    """Created and owned, or (adopt_existing_runtime_class) an existing one adopted read-only, protected
    and retained: never changed, so its other users (KWasm, runtime-class-manager) keep it as it is; the
    config check holds its handler and scheduling equal to what the migration needs."""
    names = shim_resource_names(name)
    if args.get("adopt_existing_runtime_class"):
        return kubernetes_spec(
            names["runtime_class"],
            name,
            runtime_class_manifest(args),
            depends_on=(names["daemonset"],),
            import_id=runtime_class_of(args),
            ignore_changes=("*",),
            protect=True,
            retain_on_delete=True,
        )
    return kubernetes_spec(
        names["runtime_class"],
        name,
        runtime_class_manifest(args),
        depends_on=(names["daemonset"],),
        replace_on_changes=("handler",),
        delete_before_replace=True,
    )


def shim_specs(name: str, args: SpinShimArgs) -> list[ResourceSpec]:
    namespace = namespace_of(args)
    names = shim_resource_names(name)
    namespaced = {"name": INSTALLER_NAME, "namespace": namespace}
    return [
        *_namespace_specs(name, args),
        kubernetes_spec(
            names["service_account"],
            name,
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {**namespaced, "labels": managed_labels(INSTALLER_NAME, "shim-installer")},
                "automountServiceAccountToken": False,
            },
            depends_on=(names["namespace"],),
        ),
        kubernetes_spec(
            names["script"],
            name,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {**namespaced, "labels": managed_labels(INSTALLER_NAME, "shim-installer")},
                "data": {SCRIPT_KEY: installer_script()},
            },
            depends_on=(names["namespace"],),
        ),
        kubernetes_spec(
            names["daemonset"],
            name,
            daemonset_manifest(args),
            depends_on=(names["namespace"], names["service_account"], names["script"]),
        ),
        _runtime_class_spec(name, args),
    ]
