"""Agent pools as ARM inputs."""

from __future__ import annotations

from components.config import Phase
from components.desired.pools import POOL_REPLACE_FIELDS, legacy_pool_spec, target_pool_spec
from components.migration import load_migration
from tests.conftest import load_raw, phase_path

CONFIG = load_migration(load_raw(phase_path(Phase.PREPARE))).config


def test_target_pool_is_a_standard_user_pool_labelled_for_the_shim():
    spec = target_pool_spec(CONFIG, CONFIG.target_pools[0])
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
        "orchestratorVersion": "1.33.2",
        "nodeLabels": {
            "contoso.com/workload-class": "wasm",
            "wasm-migration.io/shim": "containerd-shim-spin",
        },
        "nodeTaints": ["contoso.com/wasm=true:NoSchedule"],
        "upgradeSettings": {"maxSurge": "33%"},
    }
    assert spec.ignore_changes == ("count",)  # the autoscaler owns it
    assert spec.replace_on_changes == POOL_REPLACE_FIELDS and spec.delete_before_replace
    assert not spec.protect and spec.import_id is None


def test_legacy_pool_matches_what_aks_holds_and_is_adopted():
    spec = legacy_pool_spec(CONFIG)
    assert spec.inputs["workloadRuntime"] == "WasmWasi"
    assert spec.inputs["osSKU"] == "Ubuntu" and spec.inputs["count"] == 3
    assert "nodeLabels" not in spec.inputs and "upgradeSettings" not in spec.inputs
    assert spec.protect
    assert spec.import_id.endswith("/managedClusters/aks-contoso-prod/agentPools/wasipool")
