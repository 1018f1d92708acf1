"""The shim installer and RuntimeClass: which nodes get the shim, and why, is visible in the objects."""

from __future__ import annotations

import copy
import hashlib

import pytest

from components.core.config import ConfigError, Phase
from components.desired import build_desired_state, shim_component
from components.desired.shim import INSTALLER_SCRIPT, shim_specs
from components.loading import load_migration
from tests.conftest import PHASE_FILES, ROOT, WALK, load_raw, phase_path

SHIM_LABEL = {"wasm-migration.io/shim": "containerd-shim-spin"}
DEDICATED = {"key": "contoso.com/wasm", "operator": "Equal", "value": "true", "effect": "NoSchedule"}


def _state(phase: Phase = Phase.PREPARE, weight: int | None = None, change=None):
    raw = copy.deepcopy(load_raw(phase_path(phase, weight)))
    if change:
        change(raw)
    return build_desired_state(load_migration(raw))


def _manifest(state, kind: str) -> dict:
    return next(s.inputs for s in state.resources if s.is_kubernetes and s.inputs["kind"] == kind)


def test_shim_exists_from_prepare_on():
    kinds = {"Namespace", "ServiceAccount", "ConfigMap", "DaemonSet", "RuntimeClass"}
    for step in WALK:
        state = build_desired_state(load_migration(load_raw(step.path)))
        present = {s.inputs["kind"] for s in state.resources if s.component == "shim"}
        assert present == (kinds if step.phase.at_least(Phase.PREPARE) else set()), step.path.name


def test_installer_namespace_is_the_only_privileged_one():
    state = _state(Phase.PARALLEL, 50)
    namespace = _manifest(state, "Namespace")
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    namespaces = [s for s in state.resources if s.is_kubernetes and s.inputs["kind"] == "Namespace"]
    assert len(namespaces) == 1
    for spec in state.resources:
        if spec.is_kubernetes and not spec.is_patch and spec.inputs["kind"] in ("Deployment", "DaemonSet"):
            pod = spec.inputs["spec"]["template"]["spec"]
            privileged = any(
                (c.get("securityContext") or {}).get("privileged")
                for c in pod.get("containers", []) + pod.get("initContainers", [])
            )
            assert privileged == (spec.inputs["kind"] == "DaemonSet"), spec.label
            assert bool(pod.get("hostPID")) == privileged, spec.label


def test_daemonset_targets_exactly_the_shim_pool_nodes():
    daemonset = _manifest(_state(), "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == SHIM_LABEL
    assert pod["tolerations"] == [DEDICATED]
    assert pod["priorityClassName"] == "system-node-critical"
    assert daemonset["spec"]["updateStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxUnavailable": 1},
    }
    assert pod["serviceAccountName"] == "containerd-shim-spin-installer"
    assert pod["automountServiceAccountToken"] is False


def test_installer_containers_run_the_shipped_script_from_the_upstream_image():
    daemonset = _manifest(_state(), "DaemonSet")
    pod = daemonset["spec"]["template"]["spec"]
    (init,) = pod["initContainers"]
    (watch,) = pod["containers"]
    image = "ghcr.io/spinframework/containerd-shim-spin/node-installer:v0.24.0"
    assert init["image"] == watch["image"] == image
    assert init["command"] == ["sh", "/scripts/shim-installer.sh", "install"]
    assert init["securityContext"] == {"privileged": True}
    env = {e["name"]: e["value"] for e in init["env"]}
    assert env == {
        "HOST_ROOT": "/host",
        "SHIM_SRC": "/assets/containerd-shim-spin-v2",
        "SHIM_DEST": "/usr/local/bin/containerd-shim-spin-v2",
        "RUNTIME_HANDLER": "spin",
    }
    assert watch["livenessProbe"]["exec"]["command"] == ["sh", "/scripts/shim-installer.sh", "check"]
    # A failed install ends the container (and restarts it); only a good install keeps it running.
    assert watch["command"][-1].startswith("sh /scripts/shim-installer.sh install || exit 1; trap")
    for container in (init, watch):
        assert set(container["resources"]) == {"requests", "limits"}
    assert {"name": "host-root", "hostPath": {"path": "/", "type": "Directory"}} in pod["volumes"]
    digest = daemonset["spec"]["template"]["metadata"]["annotations"]["wasm-migration.io/installer-sha256"]
    assert digest == hashlib.sha256(INSTALLER_SCRIPT.read_bytes()).hexdigest()


def test_script_configmap_holds_the_project_script():
    configmap = _manifest(_state(), "ConfigMap")
    assert configmap["data"] == {"shim-installer.sh": INSTALLER_SCRIPT.read_text()}


def test_registry_tag_and_digest_are_configurable_for_a_mirror():
    def mirror(raw):
        raw["shim"]["installerImage"] = {
            "registry": "contosoacr.azurecr.io",
            "repository": "mirror/node-installer",
            "tag": "v0.24.0",
            "digest": "sha256:" + "a" * 64,
        }

    pod = _manifest(_state(change=mirror), "DaemonSet")["spec"]["template"]["spec"]
    expected = "contosoacr.azurecr.io/mirror/node-installer:v0.24.0@sha256:" + "a" * 64
    assert {c["image"] for c in pod["initContainers"] + pod["containers"]} == {expected}


def test_no_image_comes_from_the_frozen_registry():
    for path in PHASE_FILES:
        for spec in build_desired_state(load_migration(load_raw(path))).resources:
            assert "k8s.gcr.io" not in str(spec.inputs), spec.label


def test_runtime_class_points_at_the_handler_and_schedules_onto_shim_nodes():
    state = _state()
    runtime_class = _manifest(state, "RuntimeClass")
    assert runtime_class["metadata"]["name"] == "wasm-spin"
    assert runtime_class["handler"] == "spin"
    assert runtime_class["scheduling"] == {"nodeSelector": SHIM_LABEL, "tolerations": [DEDICATED]}
    spec = state.by_name()["shim-runtime-class"]
    assert spec.replace_on_changes == ("handler",) and spec.delete_before_replace
    # After the installer, and like everything of the shim, after the pools its nodes come from.
    assert spec.depends_on == ("shim-installer", "target-pool-spinpool")


def test_handler_is_shared_by_runtime_class_and_installer():
    def change(raw):
        raw["shim"]["handler"] = "spin-v2"

    state = _state(change=change)
    env = _manifest(state, "DaemonSet")["spec"]["template"]["spec"]["initContainers"][0]["env"]
    assert {"name": "RUNTIME_HANDLER", "value": "spin-v2"} in env
    assert _manifest(state, "RuntimeClass")["handler"] == "spin-v2"


def test_taints_of_every_target_pool_are_tolerated_once():
    def two_pools(raw):
        second = copy.deepcopy(raw["targetPools"][0])
        second["name"] = "spinpool2"
        second["nodeTaints"] = [{"key": "contoso.com/zone", "value": "edge", "effect": "NoExecute"}]
        raw["targetPools"].append(second)

    plan = shim_component(load_migration(_with(two_pools)).config)
    specs = shim_specs(plan.name, plan.args)
    pod = next(s for s in specs if s.inputs["kind"] == "DaemonSet").inputs["spec"]["template"]["spec"]
    assert pod["tolerations"] == [
        DEDICATED,
        {"key": "contoso.com/zone", "operator": "Equal", "value": "edge", "effect": "NoExecute"},
    ]


def _with(change):
    raw = copy.deepcopy(load_raw(phase_path(Phase.PREPARE)))
    change(raw)
    return raw


def test_daemonset_and_runtime_class_say_which_nodes_and_why():
    state = _state()
    nodes = (
        "nodes of node pool(s) spinpool, which AKS labels wasm-migration.io/shim=containerd-shim-spin "
        "(set on the pool)"
    )
    daemonset = _manifest(state, "DaemonSet")["metadata"]["annotations"]["kubernetes.io/description"]
    assert daemonset == (
        f"Installs containerd-shim-spin as containerd runtime 'spin' on {nodes}, "
        "and reinstalls it after a reimage."
    )
    runtime_class = _manifest(state, "RuntimeClass")["metadata"]["annotations"]["kubernetes.io/description"]
    assert (
        runtime_class == f"Wasm pods run with containerd runtime 'spin' and are scheduled only onto {nodes}."
    )


def test_rollout_await_is_sized_from_the_most_nodes_the_pools_can_have():
    """pulumi-kubernetes awaits DaemonSet rollouts (10 min by default); one node at a time over up to
    6 autoscaled nodes of spinpool needs longer than a default that fits about 3."""
    annotations = _manifest(_state(), "DaemonSet")["metadata"]["annotations"]
    assert annotations["pulumi.com/timeoutSeconds"] == str(6 * 180)

    def many(raw):
        raw["targetPools"][0]["autoscaling"] = {"minCount": 2, "maxCount": 40}

    annotations = _manifest(_state(change=many), "DaemonSet")["metadata"]["annotations"]
    assert annotations["pulumi.com/timeoutSeconds"] == str(40 * 180)


def test_existing_objects_are_adopted_only_when_asked_read_only_and_never_deleted():
    state = _state()
    assert state.by_name()["shim-namespace"].import_id is None
    assert state.by_name()["shim-runtime-class"].import_id is None
    assert "shim-namespace-labels" not in state.by_name()

    def adopt(raw):
        raw["shim"]["adoptExisting"] = {"namespace": True}

    specs = _state(change=adopt).by_name()
    namespace = specs["shim-namespace"]
    # Imported and never applied (kubectl's labels and annotations stay), protected and retained: no
    # phase or rollback deletes what existed before the migration.
    assert (namespace.import_id, namespace.ignore_changes) == ("wasm-shim-system", ("*",))
    assert namespace.protect and namespace.retain_on_delete
    labels = specs["shim-namespace-labels"]
    assert labels.type == "kubernetes:core/v1:NamespacePatch" and labels.retain_on_delete
    assert labels.inputs["metadata"]["labels"] == {
        "pod-security.kubernetes.io/enforce": "privileged",
        "pod-security.kubernetes.io/warn": "privileged",
    }


KWASM_CLASS = {
    "apiVersion": "node.k8s.io/v1",
    "kind": "RuntimeClass",
    "metadata": {"name": "wasm-spin"},
    "handler": "spin",
    "scheduling": {"nodeSelector": {"kwasm.sh/kwasm-provisioned": "aks-kwasmpool-31209433-vmss000000"}},
}


def _with_cluster_export(project_dir, runtime_class, adopt: bool):
    import yaml

    path = project_dir / "cluster.yaml"
    path.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [runtime_class]}))

    def change(raw):
        raw["cluster"]["export"] = str(path.relative_to(ROOT))
        if adopt:
            raw["shim"]["adoptExisting"] = {"runtimeClass": True}

    return change


def test_a_runtime_class_another_tool_owns_is_refused_and_a_free_name_proposed(project_dir):
    """KWasm and runtime-class-manager ship `wasm-spin` with handler `spin`, scheduled onto their own
    nodes: creating it fails with AlreadyExists, and adopting it would run the new pods on KWasm's
    nodes (or, changed, strand the apps already on it)."""
    for adopt in (False, True):
        with pytest.raises(ConfigError) as refused:
            _state(change=_with_cluster_export(project_dir, KWASM_CLASS, adopt))
        (line,) = refused.value.problems
        assert line.startswith("shim.runtimeClassName: ")
        assert "choose another name such as wasm-spin-migration (both can run side by side)" in line


def test_a_runtime_class_that_is_exactly_the_migrations_is_adopted_read_only(project_dir):
    ours = _manifest(_state(), "RuntimeClass")
    existing = {**ours, "metadata": {"name": "wasm-spin"}}
    specs = _state(change=_with_cluster_export(project_dir, existing, True)).by_name()
    adopted = specs["shim-runtime-class"]
    assert (adopted.import_id, adopted.ignore_changes) == ("wasm-spin", ("*",))
    assert adopted.protect and adopted.retain_on_delete
    with pytest.raises(ConfigError) as refused:
        _state(change=lambda raw: raw["shim"].update(adoptExisting={"runtimeClass": True}))
    assert refused.value.problems[0].startswith(
        "shim.adoptExisting.runtimeClass: adopting RuntimeClass wasm-spin"
    )
