"""The real program under Pulumi mocks, for every stack file: what the engine is asked to register
(inputs and every option) is exactly the phase's desired state, through the explicit providers."""

from __future__ import annotations

import copy

import pulumi
import pytest

from components.core.config import Phase
from components.desired import BUILDERS, PHASE_TYPE, build_desired_state
from components.loading import load_migration
from components.migration_phase import COMPONENT_CLASSES
from tests.conftest import CREDENTIALS_TOKEN, USER_KUBECONFIG, load_raw, phase_path

SECRET_SIGNATURE = "4dabf18193072939515e22adb298388d"
SUBSCRIPTION = "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f"
CLUSTER_ID = (
    f"/subscriptions/{SUBSCRIPTION}/resourceGroups/rg-contoso-prod/providers/"
    "Microsoft.ContainerService/managedClusters/aks-contoso-prod"
)


def _tail(urn: str) -> str:
    """`type::name` of a URN (or of a provider reference `urn::id`)."""
    parts = urn.split("::")
    return f"{parts[2].rsplit('$', 1)[-1]}::{parts[3]}"


def test_registrations_equal_the_desired_state(pulumi_run, phase_file):
    raw = load_raw(phase_file)
    state = build_desired_state(load_migration(raw))
    run = pulumi_run(raw)
    registered = run.custom()
    assert set(registered) == {spec.name for spec in state.resources}
    urns = {r.name: f"{r.type}::{r.name}" for r in registered.values()}
    providers = {
        "azure-native": "pulumi:providers:azure-native::azure",
        "kubernetes": "pulumi:providers:kubernetes::cluster",
    }
    for spec in state.resources:
        got = registered[spec.name]
        assert got.type == spec.type
        assert got.inputs == spec.inputs, spec.name
        assert got.protect is spec.protect, spec.name
        assert got.import_id == (spec.import_id or ""), spec.name
        assert sorted(map(_tail, got.dependencies)) == sorted(urns[d] for d in set(spec.depends_on)), (
            spec.name
        )
        assert got.replace_on_changes == list(spec.replace_on_changes), spec.name
        assert got.delete_before_replace is spec.delete_before_replace, spec.name
        assert got.ignore_changes == list(spec.ignore_changes), spec.name
        assert got.retain_on_delete is spec.retain_on_delete, spec.name
        assert (_tail(got.deleted_with) if got.deleted_with else None) == (
            urns[spec.deleted_with] if spec.deleted_with else None
        ), spec.name
        assert _tail(got.provider) == providers[spec.provider], spec.name
        parent_chain = got.parent.split("::")[2].split("$")
        assert parent_chain == list(spec.parent_types), spec.name  # the root stack is not in URNs
        assert got.parent.endswith(f"::{spec.component}"), spec.name


def test_components_are_the_planned_ones_in_the_phase(pulumi_run, phase_file):
    raw = load_raw(phase_file)
    state = build_desired_state(load_migration(raw))
    run = pulumi_run(raw)
    for plan in state.components:
        component = run.named(plan.type, plan.name)
        assert component.parent.endswith(f"{PHASE_TYPE}::migration")
        assert sorted(map(_tail, component.dependencies)) == sorted(
            f"{state.by_name()[name].type}::{name}" for name in plan.depends_on
        )


def test_component_dispatch_tables_agree():
    assert set(BUILDERS) == set(COMPONENT_CLASSES)
    assert all(token == cls.TYPE for token, cls in COMPONENT_CLASSES.items())


def test_baseline_adopts_and_protects_and_changes_nothing(pulumi_run):
    registered = pulumi_run(load_raw(phase_path(Phase.BASELINE))).custom()
    assert all(r.protect and r.import_id and r.ignore_changes == ["*"] for r in registered.values())
    pool = registered["legacy-pool-wasipool"]
    assert pool.import_id == f"{CLUSTER_ID}/agentPools/wasipool"
    assert pool.inputs == {
        "resourceGroupName": "rg-contoso-prod",
        "resourceName": "aks-contoso-prod",
        "agentPoolName": "wasipool",
    }
    assert {r.import_id for r in registered.values() if r.type == "kubernetes:apps/v1:Deployment"} == {
        "web/hello-spin",
        "shop/orders-api",
        "shop/inventory",
    }
    assert {r.import_id for r in registered.values() if r.type == "kubernetes:core/v1:Service"} == {
        "web/hello-spin",
        "shop/orders-api",
        "shop/inventory",
    }


@pytest.mark.parametrize("phase", [Phase.BASELINE, Phase.PREPARE, Phase.PARALLEL, Phase.CUTOVER])
def test_legacy_pool_is_the_same_read_only_adoption_until_decommission(pulumi_run, phase):
    pool = pulumi_run(load_raw(phase_path(phase, 50 if phase is Phase.PARALLEL else None))).custom()[
        "legacy-pool-wasipool"
    ]
    assert pool.protect is True and pool.ignore_changes == ["*"]
    assert set(pool.inputs) == {"resourceGroupName", "resourceName", "agentPoolName"}


def test_decommission_removes_the_legacy_pool_and_deployments_only(pulumi_run):
    registered = pulumi_run(load_raw(phase_path(Phase.DECOMMISSION))).custom()
    assert "legacy-pool-wasipool" not in registered
    assert not [n for n in registered if n.endswith(("/legacy-deployment", "/legacy-replicas"))]
    services = [r for n, r in registered.items() if n.endswith("/legacy-service")]
    assert len(services) == 3 and all(s.protect for s in services)


def test_every_azure_resource_and_invoke_uses_the_explicit_provider(pulumi_run):
    run = pulumi_run(load_raw(phase_path(Phase.PREPARE)))
    (azure,) = [r for r in run.registrations if r.type == "pulumi:providers:azure-native"]
    assert azure.inputs["subscriptionId"] == SUBSCRIPTION
    pools = [r for r in run.registrations if r.type.startswith("azure-native:")]
    assert pools and all(_tail(r.provider) == "pulumi:providers:azure-native::azure" for r in pools)
    (call,) = run.mocks.calls
    assert call.token == CREDENTIALS_TOKEN
    assert "pulumi:providers:azure-native::azure" in call.provider


def test_kubernetes_provider_is_identified_by_the_cluster_not_the_kubeconfig(pulumi_run):
    raw = load_raw(phase_path(Phase.PREPARE))
    first = pulumi_run(raw).named("pulumi:providers:kubernetes", "cluster").inputs
    raw["cluster"]["kubeconfig"] = "apiVersion: v1\nkind: Config\n# rotated CA, new API server\n"
    second = pulumi_run(raw).named("pulumi:providers:kubernetes", "cluster").inputs
    assert first["clusterIdentifier"] == second["clusterIdentifier"] == CLUSTER_ID
    assert first["kubeconfig"] != second["kubeconfig"]


def test_stack_outputs_name_the_phase_and_the_traffic_split(pulumi_run):
    outputs = pulumi_run(load_raw(phase_path(Phase.PARALLEL, 50))).monitor.stack_outputs()
    assert outputs["phase"] == "parallel"
    assert outputs["traffic"]["shop/orders-api"] == {
        "legacyReplicas": 3,
        "newReplicas": 3,
        "requestedPercent": 50,
        "entryPoints": {
            "Gateway gateway-system/public shop.contoso.com/orders": {"newSharePercent": 50},
            "ClusterIP shop/orders-api": {
                "newSharePercent": 0,
                "reasons": [
                    "bypasses the split of Gateway gateway-system/public shop.contoso.com/orders, which "
                    "covers only requests through it",
                    "Service shop/orders-api spreads requests over 3 ready pods, 0 of them new, as "
                    "kube-proxy picks a pod",
                ],
            },
        },
    }
    assert set(outputs["traffic"]) == {"web/hello-spin", "shop/orders-api", "shop/inventory"}


def test_cluster_credentials_come_from_the_invoke_and_stay_secret(pulumi_run):
    run = pulumi_run(load_raw(phase_path(Phase.PREPARE)))
    assert [(c.token, dict(c.args)) for c in run.mocks.calls] == [
        (CREDENTIALS_TOKEN, {"resourceGroupName": "rg-contoso-prod", "resourceName": "aks-contoso-prod"})
    ]
    kubeconfig = run.named("pulumi:providers:kubernetes", "cluster").inputs["kubeconfig"]
    assert kubeconfig[SECRET_SIGNATURE] and kubeconfig["value"] == USER_KUBECONFIG


def test_entra_id_clusters_can_ask_for_exec_credentials(pulumi_run):
    raw = load_raw(phase_path(Phase.PREPARE))
    raw["cluster"]["credentialFormat"] = "exec"
    (call,) = pulumi_run(raw).mocks.calls
    assert dict(call.args) == {
        "resourceGroupName": "rg-contoso-prod",
        "resourceName": "aks-contoso-prod",
        "format": "exec",
    }


def test_explicit_kubeconfig_is_used_as_a_secret_without_invokes(pulumi_run):
    raw = load_raw(phase_path(Phase.PREPARE))
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
        (lambda raw: raw["targetPools"][0].update(osSku="Ubuntu2404"), "targetPools[0].osSku"),
        (lambda raw: raw["targetPools"][0].update(orchestratorVersion="1.33.2"), "orchestratorVersion"),
        (lambda raw: raw["legacyPools"][0].update(vmSize="Standard_D2s_v5"), "legacyPools[0]: remove vmSize"),
        (lambda raw: raw.update(phase="decommission"), "decommission.confirm"),
        (lambda raw: raw["workloads"][0].update(manifest="missing.yaml"), "workloads[0].manifest"),
    ],
)
def test_invalid_config_stops_cleanly_before_any_resource(pulumi_run, change, expected):
    raw = copy.deepcopy(load_raw(phase_path(Phase.PARALLEL, 50)))
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
