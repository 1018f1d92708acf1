"""The component package other Pulumi languages consume: its schema, built offline by the same
analyzer `pulumi package add` runs, names every component with its inputs and outputs."""

from __future__ import annotations

import json
import runpy

import pytest
from pulumi.provider.experimental.component import ComponentProvider

from components.package import PACKAGE, PUBLIC_COMPONENTS, VERSION
from tests.conftest import ROOT

EXPECTED = {
    "WasmNodePool": (
        {"resourceGroupName", "clusterName", "poolName", "vmSize"},
        {"poolName", "nodeSelector", "nodeLabels", "nodeTaints"},
    ),
    "SpinShim": ({"nodeSelector"}, {"runtimeClassName", "nodeSelector", "tolerations", "namespace"}),
    "WasmWorkload": (
        {"namespace", "appName", "resources", "probe"},
        {"deploymentName", "serviceName", "selector"},
    ),
    "AciWorkload": (
        {
            "namespace",
            "appName",
            "copies",
            "image",
            "app",
            "listenPort",
            "resources",
            "probePath",
            "resourceGroupName",
            "location",
            "subnetId",
            "serviceName",
            "servicePort",
        },
        {"serviceName", "addresses"},
    ),
    "TrafficSplit": (
        {"namespace", "appName", "gatewayName", "gatewayNamespace", "backends"},
        {"routeName"},
    ),
}


@pytest.fixture(scope="module")
def schema() -> dict:
    return json.loads(ComponentProvider(PUBLIC_COMPONENTS, PACKAGE, version=VERSION).schema)


def test_schema_names_the_package_and_every_public_component(schema):
    assert schema["name"] == "aks-wasm-migration" and schema["version"] == VERSION
    assert set(schema["resources"]) == {f"aks-wasm-migration:index:{name}" for name in EXPECTED}


@pytest.mark.parametrize("component", list(EXPECTED))
def test_each_component_has_its_inputs_and_outputs(schema, component):
    resource = schema["resources"][f"aks-wasm-migration:index:{component}"]
    required_inputs, outputs = EXPECTED[component]
    assert resource["isComponent"] is True
    assert set(resource["requiredInputs"]) == required_inputs
    assert set(resource["properties"]) == outputs


def test_inputs_that_flow_into_the_cloud_accept_outputs(schema):
    pool = schema["resources"]["aks-wasm-migration:index:WasmNodePool"]["inputProperties"]
    assert not pool["resourceGroupName"].get("plain") and not pool["vmSize"].get("plain")
    assert pool["poolName"]["plain"] is True  # names the pool and its resources
    workload = schema["resources"]["aks-wasm-migration:index:WasmWorkload"]["inputProperties"]
    assert not workload["runtimeClassName"].get("plain")  # so it can wait for SpinShim's output
    resources = schema["types"]["aks-wasm-migration:index:ResourcesArgs"]["properties"]
    assert set(resources) == {"requests", "limits"}


def test_plugin_manifest_runs_the_python_host():
    import yaml

    manifest = yaml.safe_load((ROOT / "package/PulumiPlugin.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    # Its entry point imports the components from the repository it sits in (run here without hosting).
    namespace = runpy.run_path(str(ROOT / "package/__main__.py"), run_name="package_check")
    assert namespace["PUBLIC_COMPONENTS"] == PUBLIC_COMPONENTS


def test_the_package_version_is_the_project_version():
    import tomllib

    from tests.conftest import ROOT

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == VERSION
