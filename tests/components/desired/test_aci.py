"""The `aci` target: container groups of the Spin image in the cluster's VNet, reached from the cluster
through a selectorless Service and EndpointSlices of the groups' private IPs. Expectations are read off
the registered objects, the SDK's own types and the strict Kubernetes schemas."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from pulumi_azure_native import containerinstance

from components.core.config import ConfigError, Phase
from components.desired import build_desired_state
from components.desired.aci import CONTAINER_GROUP_TYPE
from components.export.schemas import schema_problems
from components.loading import load_migration
from components.migration_phase import program
from components.registration import sdk_args, wire_inputs
from tests.conftest import engine_config, load_raw, phase_path, private_ip, run_under_mocks
from tests.engine import awaited_condition, service_waits_for_pods

SUBNET = (
    "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/providers/"
    "Microsoft.Network/virtualNetworks/vnet-aks-contoso-prod/subnets/aci"
)
IDENTITY = (
    "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/providers/"
    "Microsoft.ManagedIdentity/userAssignedIdentities/id-aci-pull"
)
SPIN = "contosoacr.azurecr.io/spinframework/spin:v3.6.3-distroless@sha256:" + "ab" * 32


def on_aci(phase: Phase, weight: int | None = None, **aci: Any) -> dict[str, Any]:
    raw = copy.deepcopy(load_raw(phase_path(phase, weight)))
    raw["target"] = "aci"
    registry, rest = SPIN.split("/", 1)
    repository, tag_digest = rest.split(":", 1)
    tag, digest = tag_digest.split("@")
    raw["container"] = {
        "spinImage": {"registry": registry, "repository": repository, "tag": tag, "digest": digest}
    }
    raw["aci"] = {"location": "westeurope", "subnetId": SUBNET, **aci}
    return raw


def state(raw: dict[str, Any]):
    return build_desired_state(load_migration(raw))


def groups_of(raw: dict[str, Any], app: str) -> list[Any]:
    return [
        spec
        for spec in state(raw).resources
        if spec.type == CONTAINER_GROUP_TYPE
        and spec.inputs["tags"]["aks-wasm-migration-workload"].endswith(f"/{app}")
    ]


def slices(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        spec.inputs["metadata"]["name"]: spec.inputs
        for spec in state(raw).resources
        if spec.is_kubernetes and spec.inputs.get("kind") == "EndpointSlice"
    }


def test_a_group_runs_the_spin_image_for_the_app_on_its_private_ip_from_the_sdks_types():
    raw = on_aci(Phase.PARALLEL, 50, identityId=IDENTITY, zones=["1", "2", "3"])
    (first, *rest) = groups_of(raw, "hello-spin")
    group = sdk_args(containerinstance.ContainerGroupArgs, first.inputs)
    assert isinstance(group.containers[0], containerinstance.ContainerArgs)
    assert wire_inputs(group) == first.inputs
    inputs = first.inputs
    (container,) = inputs["containers"]
    assert container["image"] == SPIN
    assert container["command"] == [
        "spin",
        "up",
        "--listen",
        "0.0.0.0:80",
        "--from",
        "ghcr.io/spinkube/containerd-shim-spin/examples/spin-rust-hello:v0.15.1",
    ]
    assert container["readinessProbe"]["httpGet"] == {"path": "/hello", "port": 80, "scheme": "http"}
    # 100m / 128Mi: 0.1 core and 0.2 GB (ACI steps, rounded up: never less than the pods asked for)
    assert container["resources"]["requests"] == {"cpu": 0.1, "memoryInGB": 0.2}
    assert inputs["ipAddress"]["type"] == "Private" and inputs["subnetIds"] == [{"id": SUBNET}]
    assert inputs["identity"] == {"type": "UserAssigned", "userAssignedIdentities": [IDENTITY]}
    assert inputs["imageRegistryCredentials"] == [{"server": "contosoacr.azurecr.io", "identity": IDENTITY}]
    # the copies are spread over the zones, one each
    assert [g.inputs["zones"] for g in [first, *rest]] == [["1"], ["2"]][: 1 + len(rest)]


# (phase, weight, groups of web/hello-spin, does it join the exported Service hello-spin)
PHASES = [
    (Phase.BASELINE, None, 0, False),
    (Phase.PREPARE, None, 1, False),  # its canary
    (Phase.PARALLEL, 0, 1, False),
    (Phase.PARALLEL, 50, 2, True),
    (Phase.CUTOVER, None, 2, True),
    (Phase.DECOMMISSION, None, 2, True),
]


@pytest.mark.parametrize(("phase", "weight", "copies", "joins"), PHASES)
def test_the_groups_and_the_slices_follow_the_phase(phase, weight, copies, joins):
    raw = on_aci(phase, weight)
    assert len(groups_of(raw, "hello-spin")) == copies
    found = slices(raw)
    if copies:
        own = found["hello-spin-spin-aci"]
        assert own["metadata"]["labels"]["kubernetes.io/service-name"] == "hello-spin-spin"
        # offline, each address is the group's output as Pulumi YAML writes one
        assert [e["addresses"] for e in own["endpoints"]] == [
            [f"${{web/hello-spin/wasm-group-{index}.ipAddress.ip}}"] for index in range(copies)
        ]
    assert ("hello-spin-aci" in found) is joins
    if joins:
        joined = found["hello-spin-aci"]
        assert joined["metadata"]["labels"]["kubernetes.io/service-name"] == "hello-spin"
        assert joined["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"] != (
            "endpointslice-controller.k8s.io"  # the controller would rewrite it
        )


@pytest.mark.parametrize(("phase", "weight", "copies", "joins"), PHASES)
def test_every_object_passes_the_strict_schemas(phase, weight, copies, joins):
    migration = load_migration(on_aci(phase, weight))
    version = migration.config.cluster.kubernetes_version
    problems = [
        line
        for spec in build_desired_state(migration).resources
        if spec.is_kubernetes
        for line in schema_problems(spec.inputs, version, partial=spec.is_patch)
    ]
    assert problems == []


def test_the_program_lists_each_groups_private_ip_in_the_slices():
    raw = on_aci(Phase.PARALLEL, 50)
    run = run_under_mocks(program, engine_config(raw))
    groups = [r for r in run.registrations if r.type == CONTAINER_GROUP_TYPE and "hello-spin" in r.name]
    wanted = sorted(private_ip(g.name) for g in groups)
    for name in ("web/hello-spin/wasm-endpoints", "web/hello-spin/wasm-joined-0"):
        (registered,) = [r for r in run.registrations if r.name == name]
        assert sorted(a for e in registered.inputs["endpoints"] for a in e["addresses"]) == wanted


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda raw: raw.pop("aci"),
            "aci.location: required for workloads[0], workloads[1], workloads[2] (target aci)",
        ),
        (
            lambda raw: raw["aci"].update(subnetId="/subscriptions/x/resourceGroups/y/subnets/z"),
            "aci.subnetId: String should match pattern",
        ),
    ],
    ids=["no-aci", "not-a-subnet"],
)
def test_bad_aci_config_is_one_line_naming_the_key(change, expected):
    raw = on_aci(Phase.PARALLEL, 50)
    change(raw)
    with pytest.raises(ConfigError) as caught:
        load_migration(raw)
    assert any(line.startswith(expected) for line in caught.value.problems), caught.value.problems


@pytest.mark.parametrize(("phase", "weight", "copies", "joins"), PHASES)
def test_no_await_of_the_groups_objects_waits_for_what_comes_after_it(phase, weight, copies, joins):
    """As the provider awaits them (tests/engine.py): the groups' Service has no selector, so its
    awaiter does not wait for endpoints, which only the slice registered after it brings; the slices
    have no awaiter, and each waits for every group it lists."""
    specs = state(on_aci(phase, weight)).resources
    services = [s for s in specs if s.component.endswith("/wasm") and s.inputs.get("kind") == "Service"]
    for service in services:
        assert not service_waits_for_pods(service.inputs)
        assert awaited_condition(service.inputs, "v1/Service", "create", None).by == "awaiter"
    for endpoint_slice in (s for s in specs if s.inputs.get("kind") == "EndpointSlice"):
        assert (
            awaited_condition(endpoint_slice.inputs, "discovery.k8s.io/v1/EndpointSlice", "create", None).by
            == "nothing"
        )
        groups = {
            g.name
            for g in specs
            if g.type == CONTAINER_GROUP_TYPE and g.component == endpoint_slice.component
        }
        assert groups <= set(endpoint_slice.depends_on)
    # the shim's new Service selects its pods: that one does wait for them
    shim = [
        s
        for s in state(load_raw(phase_path(Phase.PARALLEL, 50))).resources
        if s.inputs.get("kind") == "Service" and s.component.endswith("/wasm")
    ]
    assert shim and all(service_waits_for_pods(s.inputs) for s in shim)
