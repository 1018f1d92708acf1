"""Every Kubernetes object of every phase passes strict schema validation on Kubernetes 1.31-1.34."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from components.core.config import Phase
from components.core.identifiers import HTTPROUTE_CRD
from components.desired import build_desired_state
from components.export.schemas import KUBERNETES_VERSIONS, schema_problems, strict, supported_version
from components.loading import load_migration
from tests.conftest import load_raw, phase_path


def _specs(path):
    return [s for s in build_desired_state(load_migration(load_raw(path))).resources if s.is_kubernetes]


def _objects(path):
    return [s.inputs for s in _specs(path) if not s.is_patch]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_of_every_phase_is_valid(phase_file, version):
    specs = _specs(phase_file)
    assert specs
    for spec in specs:
        manifest = spec.inputs
        assert schema_problems(manifest, version, partial=spec.is_patch) == [], spec.name
        # HTTPRoute is a CRD: kubernetes-validate has no schema for it; a patch is partial on purpose.
        if manifest["kind"] != "HTTPRoute" and not spec.is_patch:
            kubernetes_validate.validate(manifest, version, strict=True)


def test_patches_are_checked_for_unknown_fields_but_not_for_completeness():
    patch = next(s for s in _specs(phase_path(Phase.CUTOVER)) if s.type.endswith("DeploymentPatch"))
    assert schema_problems(patch.inputs, "1.33", partial=True) == []
    assert schema_problems(patch.inputs, "1.33")  # as a whole Deployment it lacks selector and template
    broken = copy.deepcopy(patch.inputs)
    broken["spec"]["replica"] = 0
    assert schema_problems(broken, "1.33", partial=True) == [
        "Deployment web/hello-spin (Kubernetes 1.33): spec: Additional properties are not allowed "
        "('replica' was unexpected)"
    ]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_cached_validation_agrees_with_kubernetes_validate(version):
    for manifest in _objects(phase_path(Phase.CUTOVER)):
        if manifest["kind"] == "HTTPRoute":
            continue
        kubernetes_validate.validate(manifest, version, strict=True)
    broken = copy.deepcopy(
        next(m for m in _objects(phase_path(Phase.PARALLEL, 50)) if m["kind"] == "DaemonSet")
    )
    broken["spec"]["template"]["spec"]["hostPid"] = True
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)
    problems = schema_problems(broken, version)
    assert problems == [
        f"DaemonSet wasm-shim-system/containerd-shim-spin-installer (Kubernetes {version}): "
        "spec.template.spec: Additional properties are not allowed ('hostPid' was unexpected)"
    ]


def test_httproute_is_checked_strictly_against_the_crd_schema():
    route = copy.deepcopy(
        next(m for m in _objects(phase_path(Phase.PARALLEL, 50)) if m["kind"] == "HTTPRoute")
    )
    assert schema_problems(route, "1.33") == []
    route["spec"]["rules"][0]["backendRefs"][0]["weight"] = -1
    route["spec"]["rules"][0]["backendRefs"][1]["weigth"] = 1
    route["spec"]["parentRef"] = []
    route["spec"]["hostnames"] = ["*.contoso.com", "shop.*.com", "shop.contoso.com\n"]
    route["metadata"]["name"] = "Orders"
    route["metadata"]["label"] = {}
    route["apiVersion"] = "gateway.networking.k8s.io/v1beta1"
    where = "HTTPRoute shop/Orders (Kubernetes 1.33)"
    hostname = r"'^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"
    assert schema_problems(route, "1.33") == [
        f"{where}: apiVersion: 'gateway.networking.k8s.io/v1' was expected",
        f"{where}: metadata: Additional properties are not allowed ('label' was unexpected)",
        f"{where}: metadata.name: 'Orders' does not match "
        r"'^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'",
        f"{where}: spec: Additional properties are not allowed ('parentRef' was unexpected)",
        f"{where}: spec.hostnames[1]: 'shop.*.com' does not match {hostname}",
        f"{where}: spec.hostnames[2]: 'shop.contoso.com\\n' does not match {hostname}",
        f"{where}: spec.rules[0].backendRefs[0].weight: -1 is less than the minimum of 0",
        f"{where}: spec.rules[0].backendRefs[1]: "
        "Additional properties are not allowed ('weigth' was unexpected)",
    ]


def test_strictness_is_added_only_where_the_crd_lists_properties():
    schema = {
        "type": "object",
        "properties": {
            "open": {"type": "object", "additionalProperties": {"type": "string"}},
            "free": {"type": "object"},
            "kept": {"type": "object", "properties": {}, "x-kubernetes-preserve-unknown-fields": True},
            "items": {"type": "array", "items": {"type": "object", "properties": {"a": {"type": "string"}}}},
        },
    }
    made = strict(schema)
    assert made["additionalProperties"] is False
    assert made["properties"]["open"]["additionalProperties"] == {"type": "string"}
    assert "additionalProperties" not in made["properties"]["free"]
    assert "additionalProperties" not in made["properties"]["kept"]
    assert made["properties"]["items"]["items"]["additionalProperties"] is False
    assert "additionalProperties" not in schema  # the cached CRD schema stays as published


def test_the_crd_is_the_published_gateway_api_file():
    text = HTTPROUTE_CRD.read_text()
    assert "tag:        v1.3.0" in text and "Apache License 2.0" in text
    assert "gateway.networking.k8s.io/bundle-version: v1.3.0" in text
    assert "gateway.networking.k8s.io/channel: standard" in text


def test_unknown_kinds_are_reported_not_skipped():
    assert schema_problems({"apiVersion": "v9", "kind": "Gizmo", "metadata": {"name": "x"}}, "1.33") == [
        "Gizmo x (Kubernetes 1.33): no schema for apiVersion 'v9' kind 'Gizmo'"
    ]


@pytest.mark.parametrize(
    ("cluster", "schema"), [("1.28", "1.31"), ("1.31", "1.31"), ("1.33", "1.33"), ("1.36", "1.34")]
)
def test_cluster_versions_map_to_the_closest_supported_schema(cluster, schema):
    assert supported_version(cluster) == schema
