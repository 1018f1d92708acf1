"""The verification Job and its least-privilege access, per phase, as pure desired state."""

from __future__ import annotations

import copy
import hashlib
import json

import pytest

from components.core.config import Phase
from components.desired import build_desired_state
from components.desired.verification import SCRIPT, STOP_GATE_SCRIPT, label_selector, verification_gate
from components.export.schemas import KUBERNETES_VERSIONS, schema_problems
from components.loading import load_migration
from tests.conftest import load_raw, phase_path

WORKLOADS = ("web/hello-spin", "shop/orders-api", "shop/inventory")
KINDS = {
    "service-account": "ServiceAccount",
    "role": "Role",
    "role-binding": "RoleBinding",
    "result": "ConfigMap",
    "job": "Job",
}

# The walk's phases in order, parallel at its 50 % step.
PHASES = [
    phase_path(Phase.BASELINE),
    phase_path(Phase.PREPARE),
    phase_path(Phase.PARALLEL, 50),
    phase_path(Phase.CUTOVER),
    phase_path(Phase.DECOMMISSION),
]


def _state(index: int, change=None):
    raw = copy.deepcopy(load_raw(PHASES[index]))
    if change:
        change(raw)
    migration = load_migration(raw)
    return migration, build_desired_state(migration)


def _settings(state, workload: str = "web/hello-spin") -> dict:
    container = state.by_name()[f"{workload}/verify-job"].inputs["spec"]["template"]["spec"]["containers"][0]
    return json.loads(next(e["value"] for e in container["env"] if e["name"] == "VERIFY_SETTINGS"))


@pytest.mark.parametrize(("index", "present"), [(0, False), (1, False), (2, True), (3, True), (4, False)])
def test_verification_runs_while_both_sides_exist(index, present):
    migration, state = _state(index)
    names = {spec.name for spec in state.resources}
    for workload in WORKLOADS:
        for suffix, kind in KINDS.items():
            name = f"{workload}/verify-{suffix}"
            assert (name in names) is present, name
            if present:
                assert state.by_name()[name].inputs["kind"] == kind
        assert verification_gate(migration.config, migration.workloads[0]) == (
            ("web/hello-spin/verify-job",) if present else ()
        )
    # The script once per namespace, mounted by every Job there.
    for namespace in ("web", "shop"):
        assert (f"verify-script-{namespace}" in names) is present
        if present:
            script = state.by_name()[f"verify-script-{namespace}"]
            assert script.inputs["metadata"] == {
                "name": "wasm-migration-verify",
                "namespace": namespace,
                "labels": script.inputs["metadata"]["labels"],
            }
            assert script.inputs["data"]["verify.py"] == SCRIPT.read_text()


def test_disabled_only_when_the_config_says_so():
    migration, state = _state(3, lambda raw: raw["verification"].update(enabled=False))
    assert not [spec for spec in state.resources if "-verify-" in spec.name]
    assert verification_gate(migration.config, migration.workloads[0]) == ()
    assert "web/hello-spin/verify-job" not in state.by_name()["web/hello-spin/legacy-deployment"].depends_on


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_verification_object_passes_the_strict_schema(version):
    _, state = _state(3)
    objects = [spec.inputs for spec in state.resources if "verify-" in spec.name]
    assert len(objects) == 5 * len(WORKLOADS) + 2  # and one script per namespace
    for manifest in objects:
        assert schema_problems(manifest, version) == [], manifest["metadata"]["name"]
    broken = copy.deepcopy(state.by_name()["web/hello-spin/verify-job"].inputs)
    broken["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    assert schema_problems(broken, version) == [
        f"Job web/hello-spin-verify (Kubernetes {version}): spec.template.spec.containers[0]: Additional "
        "properties are not allowed ('imagePullPolcy' was unexpected)"
    ]


def test_job_runs_the_pinned_image_without_privileges_and_fails_fast():
    _, state = _state(2)
    job = state.by_name()["web/hello-spin/verify-job"].inputs
    assert job["metadata"]["namespace"] == "web"
    assert job["metadata"]["annotations"]["pulumi.com/replaceUnready"] == "true"
    assert job["metadata"]["annotations"]["pulumi.com/timeoutSeconds"] == "660"
    spec = job["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] == 600
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert container["image"] == (
        "docker.io/library/python:3.12-alpine@sha256:6d43704baacd1bfbe7c295d7f13079d5d8104ed33568873133f8fc69980419df"
    )
    assert container["command"] == ["python3", "/verification/verify.py"]
    assert container["env"][0] == {"name": "PYTHONDONTWRITEBYTECODE", "value": "1"}
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["serviceAccountName"] == "hello-spin-verify"
    assert pod["volumes"] == [{"name": "verification", "configMap": {"name": "wasm-migration-verify"}}]
    assert "runtimeClassName" not in pod  # plain runc: the checker must not depend on the shim
    # Not selected by the workload's Services: none of the app's labels.
    assert "app" not in spec["template"]["metadata"]["labels"]


def test_the_image_is_configurable_and_always_by_digest():
    digest = "sha256:" + "ab" * 32
    image = {
        "registry": "contosoacr.azurecr.io",
        "repository": "mirror/python",
        "tag": "3.12",
        "digest": digest,
    }
    _, state = _state(2, lambda raw: raw["verification"].update(image=image))
    container = state.by_name()["shop/inventory/verify-job"].inputs["spec"]["template"]["spec"]["containers"][
        0
    ]
    assert container["image"] == f"contosoacr.azurecr.io/mirror/python:3.12@{digest}"


def test_role_is_least_privilege():
    _, state = _state(2)
    role = state.by_name()["shop/orders-api/verify-role"].inputs
    assert role["metadata"]["namespace"] == "shop"
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
        {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["orders-api-verification"],
            "verbs": ["get", "patch"],
        },
    ]
    binding = state.by_name()["shop/orders-api/verify-role-binding"].inputs
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "orders-api-verify",
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "orders-api-verify", "namespace": "shop"}
    ]
    assert not [s for s in state.resources if s.inputs.get("kind", "").startswith("Cluster")]


def test_the_result_configmap_belongs_to_the_job():
    _, state = _state(2)
    result = state.by_name()["web/hello-spin/verify-result"]
    assert "data" not in result.inputs and result.ignore_changes == ("data",)
    assert result.inputs["metadata"]["name"] == "hello-spin-verification"


def test_sides_are_told_apart_by_labels_and_runtime_class():
    _, state = _state(2)
    settings = _settings(state)
    # The legacy Service selects app=hello-spin, which new pods also carry in parallel: exclude them.
    assert settings["legacy"] == {
        "selector": "app=hello-spin,aks-wasm-migration/instance!=hello-spin-spin",
        "runtimeClassNot": "wasm-spin",
        "port": 80,
    }
    assert settings["new"] == {
        "selector": "aks-wasm-migration/instance=hello-spin-spin",
        "runtimeClass": "wasm-spin",
        "port": 80,
    }
    new_labels = state.by_name()["web/hello-spin/wasm-deployment"].inputs["spec"]["template"]["metadata"][
        "labels"
    ]
    assert (
        new_labels["app"] == "hello-spin" and new_labels["aks-wasm-migration/instance"] == "hello-spin-spin"
    )
    assert settings["paths"] == ["/hello"]  # the probe path by default
    orders = _settings(state, "shop/orders-api")
    assert orders["legacy"]["port"] == orders["new"]["port"] == "http"  # a named targetPort, resolved per pod
    # The SpiderLightning app listened on slight's 3000; its Spin rebuild listens on 80.
    inventory = _settings(state, "shop/inventory")
    assert (inventory["legacy"]["port"], inventory["new"]["port"]) == (3000, 80)


def test_configured_paths_thresholds_and_rate_reach_the_script():
    def change(raw):
        raw["verification"].update(paths=["/", "/api/items"], requestsPerSecond=2)
        raw["verification"]["thresholds"]["maxP95Ratio"] = 1.2

    _, state = _state(2, change)
    settings = _settings(state, "shop/inventory")
    assert settings["paths"] == ["/", "/api/items"]
    assert settings["requestsPerSecond"] == 2
    assert settings["thresholds"] == {
        "maxErrorRate": 0.0,
        "maxP95Ratio": 1.2,
        "maxColdStartRatio": 2.0,
        "maxMemoryRatio": 1.5,
    }


def test_each_phase_and_each_settings_change_runs_a_fresh_check():
    """pulumi-kubernetes replaces a Job whose spec.template changes: the template carries the phase,
    the settings and the script's digest."""

    def template(state):
        return state.by_name()["web/hello-spin/verify-job"].inputs["spec"]["template"]

    parallel, cutover = template(_state(2)[1]), template(_state(3)[1])
    phases = (
        parallel["metadata"]["annotations"]["wasm-migration.io/phase"],
        cutover["metadata"]["annotations"]["wasm-migration.io/phase"],
    )
    assert phases == ("parallel", "cutover")
    stricter = template(_state(2, lambda raw: raw["verification"]["thresholds"].update(maxP95Ratio=1.1))[1])
    assert stricter != parallel
    assert (
        _settings(_state(2, lambda raw: raw["verification"]["thresholds"].update(maxP95Ratio=1.1))[1])[
            "thresholds"
        ]["maxP95Ratio"]
        == 1.1
    )
    digest = hashlib.sha256(SCRIPT.read_bytes() + STOP_GATE_SCRIPT.read_bytes()).hexdigest()
    assert parallel["metadata"]["annotations"]["wasm-migration.io/verification-sha256"] == digest


def test_jobs_wait_for_the_script_of_their_namespace():
    _, state = _state(2)
    assert "verify-script-shop" in state.by_name()["shop/orders-api/verify-job"].depends_on
    assert "verify-script-web" in state.by_name()["web/hello-spin/verify-job"].depends_on
    order = [spec.name for spec in state.resources]
    assert order.index("verify-script-web") < order.index("web/hello-spin/verify-job")


def test_label_selectors_render_as_the_api_expects():
    selector = {
        "matchLabels": {"app": "orders"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["api", "web"]},
            {"key": "track", "operator": "NotIn", "values": ["canary"]},
            {"key": "team", "operator": "Exists"},
            {"key": "legacy", "operator": "DoesNotExist"},
        ],
    }
    assert label_selector(selector) == "app=orders,tier in (api,web),track notin (canary),team,!legacy"
