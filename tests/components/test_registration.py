"""Registration fails loudly: an unknown type or a field a class would drop is an error, never a guess."""

from __future__ import annotations

import pulumi_kubernetes as k8s
import pytest
from google.protobuf import json_format

from components import registration
from components.core.config import Phase
from components.desired.spec import ResourceSpec, kubernetes_spec
from components.registration import RegistrationError, register
from tests.conftest import engine_config, load_raw, phase_path, run_under_mocks


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


def test_an_agent_pool_input_the_sdk_does_not_have_is_refused():
    misspelled = ResourceSpec(
        "azure-native:containerservice:AgentPool",
        "p",
        "c",
        {"resourceGroupName": "rg", "resourceName": "aks", "agentPoolName": "p", "vmSise": "x"},
    )
    with pytest.raises(RegistrationError, match="AgentPoolArgs has no input 'vmSise'"):
        _register(misspelled)


def test_an_agent_pool_without_a_required_input_fails_in_the_sdk_class():
    with pytest.raises(TypeError, match="resource_group_name"):
        _register(ResourceSpec("azure-native:containerservice:AgentPool", "p", "c", {"agentPoolName": "p"}))


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


def _typed_register(spec, parent, local, depends_on=()):
    """Registration as it was before issue 24: every Kubernetes spec through its typed pulumi_kubernetes
    class (custom resources through the generic CustomResource and CustomResourcePatch)."""
    if spec.type in registration.AZURE_CLASSES:
        return register(spec, parent, local, depends_on)  # unchanged: the typed Azure classes
    opts = registration.options_for(spec, parent, local, depends_on)
    manifest = spec.inputs
    if spec.type in registration.CUSTOM_RESOURCE_TYPES | registration.CUSTOM_RESOURCE_PATCH_TYPES:
        generic = (
            k8s.apiextensions.CustomResource
            if spec.type in registration.CUSTOM_RESOURCE_TYPES
            else k8s.apiextensions.CustomResourcePatch
        )
        return generic(
            spec.name,
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            metadata=manifest["metadata"],
            spec=manifest.get("spec"),
            opts=opts,
        )
    typed = registration.KUBERNETES_CLASSES[spec.type]
    kwargs = {
        registration.snake_case(key): registration.with_outputs(v, local) for key, v in manifest.items()
    }
    return typed(spec.name, opts=opts, **kwargs)


# What the engine receives that may differ: the typed classes' aliases (dropped on purpose, see
# components.registration.kubernetes_object) and where in the source the registration was made.
_NOT_COMPARED = ("aliases", "sourcePosition", "stackTrace")


def _requests(phase_file, monkeypatch, typed: bool) -> dict[tuple[str, str, str], dict]:
    from components.migration_phase import program

    with monkeypatch.context() as patch:
        if typed:
            patch.setattr(registration, "register", _typed_register)
        run = run_under_mocks(program, engine_config(load_raw(phase_file)))
    return {
        (r.type, r.name, r.parent): _normalised(json_format.MessageToDict(r)) for r in run.monitor.requests
    }


def _normalised(message: dict) -> dict:
    """Dependencies are sets to the engine; the SDK sends them in a set's iteration order."""
    if "dependencies" in message:
        message["dependencies"] = sorted(message["dependencies"])
    for entry in message.get("propertyDependencies", {}).values():
        if "urns" in entry:
            entry["urns"] = sorted(entry["urns"])
    return message


def test_the_engine_receives_what_the_typed_classes_sent(phase_file, monkeypatch):
    """For every resource of every reference phase: type, name, inputs, parent, provider, version,
    dependencies, protect, import, ignoreChanges, retainOnDelete, deletedWith and every other field of
    the RegisterResourceRequest are those the typed pulumi_kubernetes classes sent, the aliases aside;
    and what the aliases were: the same kind under other apiVersions, never the registered token."""
    fast, typed = (
        _requests(phase_file, monkeypatch, typed=False),
        _requests(phase_file, monkeypatch, typed=True),
    )
    assert fast.keys() == typed.keys()
    for key, message in fast.items():
        before = typed[key]
        assert {k: v for k, v in message.items() if k not in _NOT_COMPARED} == {
            k: v for k, v in before.items() if k not in _NOT_COMPARED
        }, key
        type_ = key[0]
        if type_.startswith("kubernetes:"):
            assert message["version"] == k8s._utilities.get_version()
            assert not message.get("aliases")  # the program adds none of its own
            for alias in before.get("aliases", []):
                assert alias["spec"]["type"] != type_
                assert alias["spec"]["type"].rsplit(":", 1)[1] == type_.rsplit(":", 1)[1]
        else:
            assert message.get("aliases") == before.get("aliases")
    assert any(key[0] == "kubernetes:apps/v1:Deployment" and typed[key].get("aliases") for key in typed)


def test_a_kubernetes_object_records_where_its_component_is_constructed():
    """The SDK turns every frame under the third `__init__` up the stack into the registration's stack
    trace, the first frame being its source position (pulumi/runtime/resource.py `_get_stack_trace`).
    A Kubernetes object is a plain CustomResource made outside any constructor of this package, so that
    `__init__` is its component's: it records its component's source position and none of the frames
    registering goes through (components.registration `kubernetes_object`)."""
    from components.migration_phase import program

    requests = run_under_mocks(
        program, engine_config(load_raw(phase_path(Phase.PARALLEL, 100)))
    ).monitor.requests
    deployments = [r for r in requests if r.type == "kubernetes:apps/v1:Deployment"]
    assert deployments
    for deployment in deployments:
        (component,) = [
            r for r in requests if not r.custom and deployment.parent.endswith(f"{r.type}::{r.name}")
        ]
        frames = [frame.pc.uri for frame in deployment.stackTrace.frames]
        assert frames and not any(uri.endswith("/components/registration.py") for uri in frames)
        assert deployment.sourcePosition == component.sourcePosition
        assert deployment.sourcePosition.uri.endswith("/components/migration_phase.py")
