"""The environments under tests/fixtures/environments are what other tests walk through the phases, so
they must stay what they claim to be: `kubectl get -o yaml` exports a real API server would have
returned (strict schemas, server-written fields present) and stack configs the config model accepts."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate.utils as kv
import pytest
import yaml
from referencing import Registry, Resource

from components.core.config import key_path, parse_config
from components.core.identifiers import CRD_DIR, go_pattern_validator
from components.core.inputs import load_yaml_documents
from components.export.schemas import KUBERNETES_VERSIONS, schema_problems, strict
from components.loading import raw_config_from_stack_file

FIXTURES = Path(__file__).resolve().parent / "fixtures"
ROOT = FIXTURES / "environments"
ENVIRONMENTS = sorted(path.name for path in ROOT.iterdir() if path.is_dir())
SERVICEMONITOR_CRD = CRD_DIR / "monitoring.coreos.com_servicemonitors.yaml"
_OBJECT_META = (
    "https://kubernetes.io/api/_definitions.json#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
)
SERVER_WRITTEN = ("creationTimestamp", "managedFields", "resourceVersion", "uid")


@cache
def _servicemonitor_validator(version: str) -> jsonschema.protocols.Validator:
    """prometheus-operator's own v1 schema, made strict as components.export.schemas makes the HTTPRoute's;
    the CRD leaves metadata open, so it is checked as the API server does: as ObjectMeta."""
    crd = yaml.safe_load(SERVICEMONITOR_CRD.read_text())
    schema = strict(
        next(v for v in crd["spec"]["versions"] if v["name"] == "v1")["schema"]["openAPIV3Schema"]
    )
    schema["properties"].update(
        apiVersion={"const": "monitoring.coreos.com/v1"},
        kind={"const": "ServiceMonitor"},
        metadata={"$ref": _OBJECT_META},
    )
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    definitions = kv.schema_contents(
        f"kubernetes-json-schema/v{version}.0-local-strict/_definitions.json", version
    )
    return go_pattern_validator(schema, registry=Resource.from_contents(definitions) @ Registry())


def problems_of(obj: dict[str, Any], version: str) -> list[str]:
    if obj.get("kind") != "ServiceMonitor":
        return schema_problems(obj, version)
    errors = sorted(_servicemonitor_validator(version).iter_errors(obj), key=lambda e: list(map(str, e.path)))
    return [f"ServiceMonitor: {key_path(tuple(e.absolute_path)) or '(object)'}: {e.message}" for e in errors]


def exports(env: str) -> dict[Path, dict[str, Any]]:
    """Each export file of an environment and its single List document."""
    found = {}
    for path in sorted((ROOT / env / "manifests").rglob("*.yaml")):
        (document,) = load_yaml_documents(path.read_text())
        found[path] = document
    return found


def lb50_objects() -> list[dict[str, Any]]:
    (document,) = exports("lb50").values()
    return list(document["items"])


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_exports_are_kubectl_lists_of_schema_valid_objects(env: str) -> None:
    files = exports(env)
    assert files, f"{env} has no exports"
    for path, document in files.items():
        assert document["apiVersion"] == "v1" and document["kind"] == "List", path
        assert document["metadata"] == {"resourceVersion": ""}, path
        for obj in document["items"]:
            assert all(key in obj["metadata"] for key in SERVER_WRITTEN), (path, obj["kind"])
            for version in KUBERNETES_VERSIONS:
                assert problems_of(obj, version) == [], (path, version)


def test_servicemonitor_check_is_strict() -> None:
    (monitor,) = [obj for obj in lb50_objects() if obj["kind"] == "ServiceMonitor"]
    assert problems_of(monitor, "1.33") == []
    misspelt = copy.deepcopy(monitor)
    misspelt["spec"]["endpoints"][0]["intervall"] = "30s"
    misspelt["metadata"]["label"] = {}
    assert problems_of(misspelt, "1.33") == [
        "ServiceMonitor: metadata: Additional properties are not allowed ('label' was unexpected)",
        "ServiceMonitor: spec.endpoints[0]: Additional properties are not allowed "
        "('intervall' was unexpected)",
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_config_parses_and_points_at_its_exports(env: str) -> None:
    config = parse_config(raw_config_from_stack_file(ROOT / env / f"Pulumi.{env}.yaml"))
    assert config.workloads, env
    for workload in config.workloads:
        (document,) = load_yaml_documents((ROOT / env / workload.manifest).read_text())
        kinds = [(o["kind"], o["metadata"]["namespace"]) for o in document["items"]]
        assert kinds.count(("Deployment", workload.namespace)) == 1, workload.key
        assert kinds.count(("Service", workload.namespace)) == 1, workload.key
        (deployment,) = [o for o in document["items"] if o["kind"] == "Deployment"]
        assert deployment["metadata"]["name"] == workload.name


def test_lb50_keeps_the_traps_issue_14_describes() -> None:
    """The shapes the issue's items 1, 6, 7 and 8 are about; an edit that tidies one away fails here."""
    by_kind = {obj["kind"]: obj for obj in lb50_objects()}
    service, deployment = by_kind["Service"], by_kind["Deployment"]
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "storefront"}
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert [p["name"] for p in service["spec"]["ports"]] == ["metrics", "http"]
    assert deployment["spec"]["replicas"] == 50
    assert any(e.get("subresource") == "scale" for e in deployment["metadata"]["managedFields"])
    assert by_kind["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]["name"] == "storefront"
    assert by_kind["NetworkPolicy"]["spec"]["podSelector"] == {"matchLabels": {"team": "checkout"}}
    assert by_kind["HTTPRoute"]["spec"]["hostnames"] == ["shop.contoso.com"]


def test_readme_names_the_source_of_every_file() -> None:
    readme = (ROOT / "README.md").read_text()
    files = [p.relative_to(ROOT).as_posix() for p in sorted(ROOT.rglob("*.yaml"))]
    assert files
    assert [f for f in files if f"`{f}`" not in readme] == []
