"""The real program under Pulumi mocks, for every stack file: what the engine is asked to register
(inputs and options) is exactly the phase's desired state, and nothing else."""

from __future__ import annotations

import copy

import pulumi
import pytest

from components.desired import PHASE_TYPE, build_desired_state, component_type
from components.migration import load_migration
from tests.conftest import CREDENTIALS_TOKEN, PHASE_FILES, USER_KUBECONFIG, load_raw

SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"


def test_registrations_equal_the_desired_state(pulumi_run, phase_file):
    raw = load_raw(phase_file)
    state = build_desired_state(load_migration(raw))
    run = pulumi_run(raw)
    registered = run.custom()
    assert set(registered) == {spec.name for spec in state.resources}
    urns = {r.name: f"{r.type}::{r.name}" for r in registered.values()}
    for spec in state.resources:
        got = registered[spec.name]
        assert got.type == spec.type
        assert got.inputs == spec.inputs, spec.name
        assert got.protect is spec.protect, spec.name
        assert got.import_id == (spec.import_id or ""), spec.name
        assert sorted(d.rsplit("$", 1)[-1] for d in got.dependencies) == sorted(
            urns[d] for d in spec.depends_on
        )
        assert got.replace_on_changes == list(spec.replace_on_changes)
        assert got.delete_before_replace is spec.delete_before_replace
        assert got.ignore_changes == list(spec.ignore_changes)
        if spec.is_kubernetes:
            assert "pulumi:providers:kubernetes::cluster" in got.provider, spec.name


def test_every_resource_is_a_child_of_the_component_its_urn_names(pulumi_run, phase_file):
    """`migrate diff` prints URNs from component_type(); the program must parent resources the same way."""
    raw = load_raw(phase_file)
    state = build_desired_state(load_migration(raw))
    run = pulumi_run(raw)
    registered = run.custom()
    for spec in state.resources:
        parent = registered[spec.name].parent
        assert parent.split("::")[-2].rsplit("$", 1)[-1] == component_type(spec.component), spec.name
        assert parent.endswith(f"::{spec.component}"), spec.name
    for component in state.components():
        registration = run.named(component_type(component), component)
        assert registration.parent.endswith(f"{PHASE_TYPE}::migration")


def test_baseline_adopts_and_protects_and_creates_nothing(pulumi_run):
    registered = pulumi_run(load_raw(PHASE_FILES[0])).custom()
    assert all(r.protect and r.import_id for r in registered.values())
    pool = registered["legacy-pool-wasipool"]
    assert pool.import_id == (
        "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/providers/"
        "Microsoft.ContainerService/managedClusters/aks-contoso-prod/agentPools/wasipool"
    )
    assert pool.inputs["workloadRuntime"] == "WasmWasi"
    assert pool.ignore_changes == ["count", "orchestratorVersion"]
    assert {r.import_id for r in registered.values() if r.type == "kubernetes:apps/v1:Deployment"} == {
        "web/hello-spin",
        "shop/orders-api",
        "shop/inventory",
    }


@pytest.mark.parametrize("index", [0, 1, 2, 3])
def test_legacy_pool_is_protected_before_decommission(pulumi_run, index):
    assert pulumi_run(load_raw(PHASE_FILES[index])).custom()["legacy-pool-wasipool"].protect is True


def test_decommission_removes_the_legacy_pool_and_deployments_only(pulumi_run):
    registered = pulumi_run(load_raw(PHASE_FILES[4])).custom()
    assert "legacy-pool-wasipool" not in registered
    assert not [n for n in registered if n.endswith("-legacy-deployment")]
    services = [r for n, r in registered.items() if n.endswith("-legacy-service")]
    assert len(services) == 3 and all(s.protect for s in services)


def test_stack_outputs_name_the_phase_and_the_traffic_split(pulumi_run):
    outputs = pulumi_run(load_raw(PHASE_FILES[2])).monitor.stack_outputs()
    assert outputs["phase"] == "parallel"
    assert outputs["traffic"]["shop/orders-api"] == {
        "legacyReplicas": 3,
        "newReplicas": 3,
        "newSharePercent": 50,
    }
    assert set(outputs["traffic"]) == {"web/hello-spin", "shop/orders-api", "shop/inventory"}


def test_cluster_credentials_come_from_the_invoke_and_stay_secret(pulumi_run):
    run = pulumi_run(load_raw(PHASE_FILES[1]))
    assert [(c.token, dict(c.args)) for c in run.mocks.calls] == [
        (CREDENTIALS_TOKEN, {"resourceGroupName": "rg-contoso-prod", "resourceName": "aks-contoso-prod"})
    ]
    kubeconfig = run.named("pulumi:providers:kubernetes", "cluster").inputs["kubeconfig"]
    assert kubeconfig[SECRET_SIGNATURE] and kubeconfig["value"] == USER_KUBECONFIG


def test_entra_id_clusters_can_ask_for_exec_credentials(pulumi_run):
    raw = load_raw(PHASE_FILES[1])
    raw["cluster"]["credentialFormat"] = "exec"
    (call,) = pulumi_run(raw).mocks.calls
    assert dict(call.args) == {
        "resourceGroupName": "rg-contoso-prod",
        "resourceName": "aks-contoso-prod",
        "format": "exec",
    }


def test_explicit_kubeconfig_is_used_as_a_secret_without_invokes(pulumi_run):
    raw = load_raw(PHASE_FILES[1])
    raw["cluster"]["kubeconfig"] = "apiVersion: v1\nkind: Config\n# explicit\n"
    run = pulumi_run(raw)
    assert run.mocks.calls == []
    kubeconfig = run.named("pulumi:providers:kubernetes", "cluster").inputs["kubeconfig"]
    assert kubeconfig[SECRET_SIGNATURE] and kubeconfig["value"].endswith("# explicit\n")


def test_unmocked_invokes_fail_loudly(pulumi_run):
    from tests.conftest import RecordingMocks

    call = pulumi.runtime.MockCallArgs("azure-native:containerservice:getManagedCluster", {}, "")
    with pytest.raises(NotImplementedError, match="getManagedCluster is not mocked"):
        RecordingMocks().call(call)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda raw: raw.update(phase="sideways"), "phase: Input should be"),
        (
            lambda raw: raw["targetPools"][0].update(workloadRuntime="WasmWasi"),
            "targetPools[0].workloadRuntime",
        ),
        (lambda raw: raw.update(phase="decommission"), "decommission.confirm"),
        (lambda raw: raw["workloads"][0].update(manifest="missing.yaml"), "workloads[0].manifest"),
    ],
)
def test_invalid_config_stops_cleanly_before_any_resource(pulumi_run, change, expected):
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    change(raw)
    with pytest.raises(pulumi.RunError) as caught:
        pulumi_run(raw)
    message = str(caught.value)
    assert message.startswith("invalid stack configuration, nothing was changed:\n  - ")
    assert expected in message
    assert "Traceback" not in message
    # No component, provider or resource reached the engine.
    assert [r.type for r in pulumi_run.last.registrations if r.type != "pulumi:pulumi:Stack"] == []
    assert pulumi_run.last.mocks.resources == []


def test_prometheus_operator_alerts_register_as_a_prometheus_rule_on_the_cluster(pulumi_run):
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    raw["alerts"] = {"mode": "prometheusOperator", "prometheusOperator": {"labels": {"release": "kps"}}}
    state = build_desired_state(load_migration(raw))
    run = pulumi_run(raw)
    rule = run.custom()["alerts-prometheus-rule"]
    assert rule.type == "kubernetes:monitoring.coreos.com/v1:PrometheusRule"
    assert rule.inputs["spec"] == state.by_name()["alerts-prometheus-rule"].inputs["spec"]
    assert "pulumi:providers:kubernetes::cluster" in rule.provider
    assert rule.parent.endswith("aks-wasm-migration:index:Alerts::alerts")
    assert "alerts-rule-group" not in run.custom()


def test_alerts_off_registers_no_rules(pulumi_run):
    raw = copy.deepcopy(load_raw(PHASE_FILES[2]))
    raw["alerts"] = {"mode": "off"}
    registered = pulumi_run(raw).custom()
    assert not [name for name in registered if name.startswith("alerts-")]
    assert registered["web-hello-spin-verify-job"].type == "kubernetes:batch/v1:Job"
