"""Registration fails loudly: an unknown type or a field a class would drop is an error, never a guess."""

from __future__ import annotations

import pytest

from components.desired.spec import ResourceSpec, kubernetes_spec
from components.registration import RegistrationError, register
from tests.conftest import run_under_mocks


def _register(spec: ResourceSpec) -> None:
    def program():
        import pulumi

        register(spec, pulumi.ComponentResource("test:index:Parent", "parent"), {})

    run_under_mocks(program, {})


def test_an_unknown_kubernetes_type_is_refused():
    gizmo = kubernetes_spec(
        "g", "c", {"apiVersion": "example.com/v1", "kind": "Gizmo", "metadata": {"name": "g"}}
    )
    with pytest.raises(RegistrationError, match=r"no class registers kubernetes:example\.com/v1:Gizmo"):
        _register(gizmo)


def test_a_custom_resource_field_that_would_be_dropped_is_refused():
    route = kubernetes_spec(
        "r",
        "c",
        {
            "apiVersion": "gateway.networking.k8s.io/v1",
            "kind": "HTTPRoute",
            "metadata": {"name": "r", "namespace": "web"},
            "spec": {},
            "status": {"parents": []},
        },
    )
    with pytest.raises(RegistrationError, match=r"cannot carry \['status'\]"):
        _register(route)


def test_an_agent_pool_without_typed_args_is_refused():
    untyped = ResourceSpec("azure-native:containerservice:AgentPool", "p", "c", {"agentPoolName": "p"})
    with pytest.raises(RegistrationError, match="needs its typed AgentPoolArgs"):
        _register(untyped)


def test_a_misspelled_top_level_field_fails_in_the_sdk_class():
    service = kubernetes_spec("s", "c", {"apiVersion": "v1", "kind": "Service", "metadata": {}, "spce": {}})
    with pytest.raises(TypeError, match="spce"):
        _register(service)


def test_a_wasm_workload_takes_exactly_one_owner_of_its_replicas():
    """Fixed replicas, an HPA (`autoscaler`) or a KEDA ScaledObject (`scaled_object`): exactly one. A
    translated KEDA workload's args carry `scaled_object` alone, which the check once took for no owner
    at all, so the program failed for every KEDA workload from parallel on."""
    from components.registration import ArgsError
    from components.wasm_workload import WasmWorkload

    base = {
        "namespace": "orders",
        "app_name": "worker",
        "runtime_class_name": "wasm-spin",
        "image": "ghcr.io/spinframework/containerd-shim-spin/examples/spin-rust-hello:v0.24.0",
        "ports": [{"port": 80}],
        "probe": {"path": "/hello", "port": 80},
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"},
        },
    }
    keda = {"min_replicas": 1, "max_replicas": 30, "spec": {"triggers": [{"type": "cpu", "metadata": {}}]}}
    hpa = {"min_replicas": 1, "max_replicas": 30}
    run = run_under_mocks(lambda: WasmWorkload("w", {**base, "scaled_object": keda}), {})
    assert "w-scaled-object" in run.custom() and "replicas" not in run.custom()["w-deployment"].inputs["spec"]
    for owners in ({}, {"replicas": 1, "scaled_object": keda}, {"autoscaler": hpa, "scaled_object": keda}):
        with pytest.raises(
            ArgsError, match=r"args\.replicas: give one of replicas, autoscaler or scaled_object"
        ):
            run_under_mocks(lambda owners=owners: WasmWorkload("w", {**base, **owners}), {})
