"""Every Kubernetes object of every phase passes strict schema validation on Kubernetes 1.31-1.34."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest

from components.config import Phase
from components.desired import build_desired_state
from components.migration import load_migration
from components.schemas import KUBERNETES_VERSIONS, schema_problems, supported_version
from tests.conftest import load_raw, phase_path


def _objects(path):
    return [
        s.inputs for s in build_desired_state(load_migration(load_raw(path))).resources if s.is_kubernetes
    ]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_object_of_every_phase_is_valid(phase_file, version):
    objects = _objects(phase_file)
    assert objects
    for manifest in objects:
        assert schema_problems(manifest, version) == [], manifest["metadata"]["name"]
        if manifest["kind"] != "HTTPRoute":  # a CRD: kubernetes-validate has no schema for it
            kubernetes_validate.validate(manifest, version, strict=True)


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


def test_httproute_is_checked_strictly():
    route = copy.deepcopy(
        next(m for m in _objects(phase_path(Phase.PARALLEL, 50)) if m["kind"] == "HTTPRoute")
    )
    assert schema_problems(route, "1.33") == []
    route["spec"]["rules"][0]["backendRefs"][0]["weight"] = -1
    route["spec"]["parentRef"] = []
    problems = schema_problems(route, "1.33")
    assert len(problems) == 2
    assert "spec.rules[0].backendRefs[0].weight: Input should be greater than or equal to 0" in problems[0]
    assert "spec.parentRef: Extra inputs are not permitted" in problems[1]


def test_unknown_kinds_are_reported_not_skipped():
    assert schema_problems({"apiVersion": "v9", "kind": "Gizmo", "metadata": {"name": "x"}}, "1.33") == [
        "Gizmo x (Kubernetes 1.33): no schema for apiVersion 'v9' kind 'Gizmo'"
    ]


@pytest.mark.parametrize(
    ("cluster", "schema"), [("1.28", "1.31"), ("1.31", "1.31"), ("1.33", "1.33"), ("1.36", "1.34")]
)
def test_cluster_versions_map_to_the_closest_supported_schema(cluster, schema):
    assert supported_version(cluster) == schema
