"""Agent pools as azure-native AgentPool inputs, and what the engine does with them on import."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pulumi_azure_native import containerservice

from components.core.config import Phase
from components.desired import legacy_pool_components, target_pool_components
from components.desired.pools import POOL_FORCE_NEW, legacy_pool_specs, wasm_node_pool_specs
from components.loading import load_migration
from components.registration import RegistrationError, sdk_args, wire_inputs
from tests.conftest import load_raw, phase_path
from tests.engine import azure_agent_pool_read, update_after_import

FIXTURES = Path(__file__).parent / "fixtures"
CONFIG = load_migration(load_raw(phase_path(Phase.PREPARE))).config
WASI_POOL = json.loads((FIXTURES / "az-aks-nodepool-show-wasipool.json").read_text())


def _target_spec():
    (plan,) = target_pool_components(CONFIG)
    (spec,) = wasm_node_pool_specs(plan.name, plan.args)
    return spec


def test_target_pool_is_a_standard_user_pool_labelled_for_the_shim():
    spec = _target_spec()
    assert spec.inputs == {
        "resourceGroupName": "rg-contoso-prod",
        "resourceName": "aks-contoso-prod",
        "agentPoolName": "spinpool",
        "mode": "User",
        "osType": "Linux",
        "osSKU": "AzureLinux",
        "vmSize": "Standard_D4s_v5",
        "count": 3,
        "workloadRuntime": "OCIContainer",
        "enableAutoScaling": True,
        "minCount": 2,
        "maxCount": 6,
        "availabilityZones": ["1", "2", "3"],
        "orchestratorVersion": "1.33",
        "nodeLabels": {
            "contoso.com/workload-class": "wasm",
            "wasm-migration.io/shim": "containerd-shim-spin",
        },
        "nodeTaints": ["contoso.com/wasm=true:NoSchedule"],
        "upgradeSettings": {"maxSurge": "33%"},
    }
    assert spec.ignore_changes == ("count",)  # the autoscaler owns it
    # Replacing a pool that runs Wasm pods in place is an outage: never planned, refused by check.
    assert spec.replace_on_changes == () and not spec.delete_before_replace
    assert not spec.protect and spec.import_id is None


def test_pool_inputs_are_the_sdks_typed_args_in_wire_form():
    spec = _target_spec()
    args = sdk_args(containerservice.AgentPoolArgs, spec.inputs)
    assert isinstance(args.upgrade_settings, containerservice.AgentPoolUpgradeSettingsArgs)
    assert wire_inputs(args) == spec.inputs
    with pytest.raises(RegistrationError, match="'vmSise'"):
        sdk_args(containerservice.AgentPoolArgs, {**spec.inputs, "vmSise": "x"})
    with pytest.raises(RegistrationError, match="'maxSurje'"):
        sdk_args(containerservice.AgentPoolArgs, {**spec.inputs, "upgradeSettings": {"maxSurje": "33%"}})


def test_force_new_fields_are_the_ones_the_provider_replaces_on():
    facts = (FIXTURES / "azure-native-agentpool-replacement.txt").read_text().splitlines()
    provider = {line.split(": ", 1)[1] for line in facts if line.startswith(("path: ", "force-new: "))}
    assert set(POOL_FORCE_NEW) == provider
    # Every one of them is a real AgentPool input of the installed SDK (a typo would never match).
    wire = {name for _, name, _ in __import__("pulumi")._types._py_properties(containerservice.AgentPoolArgs)}
    assert set(POOL_FORCE_NEW) - {"nodePublicIPTags"} <= wire


def test_legacy_pool_is_adopted_read_only_by_its_identity():
    (plan,) = legacy_pool_components(CONFIG)
    (spec,) = legacy_pool_specs(plan.name, plan.args)
    assert spec.inputs == {
        "resourceGroupName": "rg-contoso-prod",
        "resourceName": "aks-contoso-prod",
        "agentPoolName": "wasipool",
    }
    assert spec.protect and spec.ignore_changes == ("*",)
    assert spec.import_id == (
        "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/providers/"
        "Microsoft.ContainerService/managedClusters/aks-contoso-prod/agentPools/wasipool"
    )


def test_importing_the_live_wasi_pool_issues_no_update():
    """The engine imports, then diffs the program's inputs (after ignore_changes) against what
    azure-native read: that update must be empty, or baseline would PUT on a retired WASI pool."""
    imported = azure_agent_pool_read(WASI_POOL, cluster="aks-contoso-prod")
    assert {"osDiskSizeGB", "kubeletDiskType", "enableFIPS", "maxPods", "powerState", "tags"} <= set(imported)
    (spec,) = legacy_pool_specs("legacy", legacy_pool_components(CONFIG)[0].args)
    assert update_after_import(spec.inputs, imported, list(spec.ignore_changes)) == set()
    # Without the wildcard, every property AKS returned but the program does not repeat would be sent.
    assert {"osDiskSizeGB", "tags", "workloadRuntime"} <= update_after_import(spec.inputs, imported, [])
