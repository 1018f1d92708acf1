"""Targets other than the shim, and Arm64: the `container` target runs Spin in an ordinary Linux container
(nothing privileged, no RuntimeClass, no installer), alone or mixed with the shim; pools, installer and
Jobs know the nodes' CPU architecture. Each expectation is read off the registered objects (or the
config's own words), never off the builders' helpers."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.analysis.scheduling import scheduling_problems
from components.core.config import ConfigError, Phase, parse_config
from components.desired import build_desired_state
from components.export.schemas import schema_problems
from components.loading import load_migration
from tests.conftest import load_raw, phase_path

SPIN_DIGEST = "sha256:" + "ab" * 32
SPIN_IMAGE = f"ghcr.io/spinframework/spin:v3.6.3-distroless@{SPIN_DIGEST}"


def reference(phase: Phase, weight: int | None = None) -> dict[str, Any]:
    return load_raw(phase_path(phase, weight))


def with_targets(raw: dict[str, Any], targets: dict[str, str] | str) -> dict[str, Any]:
    """The reference config with the stack's target (a string) or each named workload's."""
    raw = copy.deepcopy(raw)
    raw["container"] = {"spinImage": {"digest": SPIN_DIGEST}}
    if isinstance(targets, str):
        raw["target"] = targets
    else:
        for workload in raw["workloads"]:
            if workload["name"] in targets:
                workload["target"] = targets[workload["name"]]
    return raw


def objects(raw: dict[str, Any]) -> list[dict[str, Any]]:
    return [spec.inputs for spec in build_desired_state(load_migration(raw)).resources if spec.is_kubernetes]


def new_pods(registered: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The pod specs of the Deployments the migration creates (selected by its own label)."""
    return {
        o["metadata"]["name"]: o["spec"]["template"]["spec"]
        for o in registered
        if o["kind"] == "Deployment"
        and "aks-wasm-migration/instance"
        in ((o.get("spec") or {}).get("selector") or {}).get("matchLabels", {})
    }


def new_deployment(raw: dict[str, Any], app: str) -> dict[str, Any]:
    (found,) = [
        o for o in objects(raw) if o["kind"] == "Deployment" and o["metadata"]["name"] == f"{app}-spin"
    ]
    return found


def privileged(obj: dict[str, Any]) -> bool:
    """Anything that grants privilege: a privileged or hostPath pod, a namespace labelled privileged."""
    if obj["kind"] == "Namespace" or obj["kind"] == "NamespacePatch":
        labels = obj["metadata"].get("labels") or {}
        return "privileged" in labels.values()
    template = (obj.get("spec") or {}).get("template") or {}  # patches carry no template
    pod = template.get("spec") or {}
    containers = [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]
    return (
        any((c.get("securityContext") or {}).get("privileged") for c in containers)
        or any("hostPath" in v for v in pod.get("volumes") or [])
        or bool(pod.get("hostPID"))
    )


PHASES = [
    (Phase.BASELINE, None),
    (Phase.PREPARE, None),
    (Phase.PARALLEL, 0),
    (Phase.PARALLEL, 50),
    (Phase.PARALLEL, 100),
    (Phase.CUTOVER, None),
    (Phase.DECOMMISSION, None),
]


@pytest.mark.parametrize(("phase", "weight"), PHASES)
def test_the_container_target_registers_nothing_privileged_and_no_runtime_class(phase, weight):
    registered = objects(with_targets(reference(phase, weight), "container"))
    kinds = {o["kind"] for o in registered}
    assert not {"DaemonSet", "RuntimeClass"} & kinds
    assert not [o["metadata"]["name"] for o in registered if privileged(o)]
    for pod in new_pods(registered).values():
        assert "runtimeClassName" not in pod
        assert pod["containers"][0]["image"] == SPIN_IMAGE


@pytest.mark.parametrize(("phase", "weight"), [(Phase.PREPARE, None), (Phase.CUTOVER, None)])
def test_the_shim_target_still_installs_the_shim(phase, weight):
    kinds = {o["kind"] for o in objects(reference(phase, weight))}
    assert {"DaemonSet", "RuntimeClass"} <= kinds


# (workload, what its Service's serving port targets in the export, what Spin must listen on)
CONTAINER_PORTS = [
    ("hello-spin", 80),  # targetPort 80
    ("inventory", 80),  # containerPort set in the config
]


@pytest.mark.parametrize(("app", "port"), CONTAINER_PORTS)
def test_the_spin_container_serves_the_same_artifact_on_the_port_the_service_targets(app, port):
    raw = with_targets(reference(Phase.PARALLEL, 50), "container")
    deployment = new_deployment(raw, app)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    legacy = next(w for w in load_migration(raw).workloads if w.config.name == app)
    app_reference = legacy.config.image or legacy.pod_spec["containers"][0]["image"]
    assert container["args"] == ["up", "--listen", f"0.0.0.0:{port}", "--from", app_reference]
    assert "command" not in container
    # Spin writes its registry cache under HOME/XDG_CACHE_HOME: an emptyDir, never the image's root.
    env = {e["name"]: e["value"] for e in container["env"]}
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in deployment["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes[mounts[env["HOME"]]]
    assert env["XDG_CACHE_HOME"].startswith(env["HOME"] + "/")
    assert "DOCKER_CONFIG" not in env


def test_a_pull_secret_is_mounted_as_the_docker_config_spin_reads():
    raw = with_targets(reference(Phase.PARALLEL, 50), "container")
    raw["container"]["pullSecret"] = "acr-spin-pull"
    pod = new_deployment(raw, "orders-api")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = {e["name"]: e["value"] for e in container["env"]}
    (mount,) = [m for m in container["volumeMounts"] if m["mountPath"] == env["DOCKER_CONFIG"]]
    (volume,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert volume["secret"] == {
        "secretName": "acr-spin-pull",
        "items": [{"key": ".dockerconfigjson", "path": "config.json"}],
    }
    assert mount["readOnly"] is True


def test_container_pods_stay_off_the_wasi_pools_and_on_the_spin_images_architectures():
    raw = with_targets(reference(Phase.PARALLEL, 50), "container")
    raw["container"]["spinImage"]["architectures"] = ["arm64"]
    pod = new_deployment(raw, "hello-spin")["spec"]["template"]["spec"]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][
        "nodeSelectorTerms"
    ]
    for term in terms:
        assert {"key": "kubernetes.io/arch", "operator": "In", "values": ["arm64"]} in term[
            "matchExpressions"
        ]
        assert {
            "key": "kubernetes.azure.com/agentpool",
            "operator": "NotIn",
            "values": ["wasipool"],
        } in term["matchExpressions"]


def test_a_mix_runs_each_workload_where_its_target_says():
    raw = with_targets(reference(Phase.PARALLEL, 50), {"orders-api": "container"})
    registered = objects(raw)
    assert {"DaemonSet", "RuntimeClass"} <= {o["kind"] for o in registered}
    pods = new_pods(registered)
    assert pods["orders-api-spin"].get("runtimeClassName") is None
    assert pods["hello-spin-spin"]["runtimeClassName"] == "wasm-spin"
    assert pods["inventory-spin"]["runtimeClassName"] == "wasm-spin"


@pytest.mark.parametrize("targets", ["container", {"orders-api": "container"}], ids=["container", "mixed"])
@pytest.mark.parametrize(("phase", "weight"), PHASES)
def test_every_object_passes_the_strict_schemas_and_the_scheduling_proof(targets, phase, weight):
    migration = load_migration(with_targets(reference(phase, weight), targets))
    state = build_desired_state(migration)
    version = migration.config.cluster.kubernetes_version
    problems = [
        p
        for spec in state.resources
        if spec.is_kubernetes
        for p in schema_problems(spec.inputs, version, partial=spec.is_patch)
    ]
    assert problems == []
    assert scheduling_problems(migration.config, state) == []


# --- config: one line per problem, naming the key ---------------------------------------------------------

CONFIG_PROBLEMS = [
    pytest.param(
        {"target": "container", "container": {}},
        "container.spinImage.digest: required once a workload has target container",
        id="container-without-a-pinned-spin-image",
    ),
    pytest.param(
        {"targetPools": []},
        "targetPools: list at least one OCIContainer pool for workloads[0], workloads[1], workloads[2]",
        id="shim-without-pools",
    ),
    pytest.param(
        {"target": "wasmedge"},
        "target: Input should be 'shim', 'container' or 'aci'",
        id="unknown-target",
    ),
    pytest.param(
        {"container": {"spinImage": {"digest": SPIN_DIGEST, "architectures": []}}},
        "container.spinImage.architectures: Tuple should have at least 1 item",
        id="no-architecture",
    ),
]


@pytest.mark.parametrize(("change", "expected"), CONFIG_PROBLEMS)
def test_bad_target_config_is_one_line_naming_the_key(change, expected):
    raw = {**reference(Phase.PARALLEL, 50), **change}
    with pytest.raises(ConfigError) as caught:
        load_migration(raw)
    assert any(line.startswith(expected) for line in caught.value.problems), caught.value.problems


def test_a_stack_of_containers_needs_no_target_pool():
    raw = with_targets(reference(Phase.CUTOVER), "container")
    raw["targetPools"] = []
    config = parse_config(raw)
    assert [w.target for w in config.workloads] == ["container"] * 3
    state = build_desired_state(load_migration(raw))
    assert not [s for s in state.resources if s.type.endswith(":AgentPool") and not s.import_id]


def test_a_workloads_own_target_wins_over_the_stacks():
    raw = with_targets(reference(Phase.PARALLEL, 50), "container")
    raw["workloads"][0]["target"] = "shim"
    assert [w.target for w in parse_config(raw).workloads] == ["shim", "container", "container"]


# --- Arm64 ----------------------------------------------------------------------------------------------


def arm64_pool(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["targetPools"][0]["vmSize"] = "Standard_D4ps_v5"
    return raw


def test_an_arm64_target_pool_gets_the_shim_when_the_installer_image_holds_arm64():
    raw = arm64_pool(reference(Phase.PARALLEL, 50))
    migration = load_migration(raw)
    assert scheduling_problems(migration.config, build_desired_state(migration)) == []


def test_an_installer_image_without_arm64_is_refused_for_an_arm64_pool():
    raw = arm64_pool(reference(Phase.PARALLEL, 50))
    raw["shim"]["installerImage"]["architectures"] = ["amd64"]
    migration = load_migration(raw)
    problems = scheduling_problems(migration.config, build_desired_state(migration))
    assert any(
        p.startswith("DaemonSet wasm-shim-system/containerd-shim-spin-installer: no node of any pool")
        and "kubernetes.io/arch In amd64 (the pool has arm64)" in p
        for p in problems
    ), problems


def test_jobs_and_the_installer_are_pinned_only_where_an_image_lacks_an_architecture():
    raw = reference(Phase.PARALLEL, 50)
    narrowed = copy.deepcopy(raw)
    narrowed["shim"]["installerImage"]["architectures"] = ["amd64"]
    narrowed["verification"]["image"]["architectures"] = ["amd64"]

    def pods(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        return {
            f"{o['kind']} {o['metadata']['name']}": o["spec"]["template"]["spec"]
            for o in objects(config)
            if o["kind"] in ("DaemonSet", "Job")
        }

    assert pods(raw) and all("affinity" not in pod for pod in pods(raw).values())
    for label, pod in pods(narrowed).items():
        terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
        assert terms == {
            "nodeSelectorTerms": [
                {"matchExpressions": [{"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64"]}]}
            ]
        }, label


def test_the_config_knows_the_architectures_the_scheduling_semantics_know():
    """The config's Literal of architectures and Kubernetes semantics' AKS architectures are one list."""
    from components.core.config import ALL_ARCHITECTURES
    from components.core.kubernetes import AKS_ARCHITECTURES

    assert set(ALL_ARCHITECTURES) == AKS_ARCHITECTURES
