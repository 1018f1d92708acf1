"""The policy pack through its real pulumi-policy objects: every resource of every phase of the reference
stack passes every policy (the adopted legacy pool and Deployments included), and a realistic change of
one of them makes each policy report."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_ARRAY_VALUE, UNKNOWN_STRING_VALUE, UnknownValueError

from components.core.config import Phase
from tests.components.desired.test_aci import on_aci
from tests.conftest import load_raw, phase_path
from tests.policy.conftest import (
    POLICIES,
    Seen,
    engine_view,
    policy,
    stack_violations,
    validation_args,
    violations,
)

RESOURCE_POLICIES = [p.name for p in POLICIES if hasattr(p, "has_validation")]
STACK_POLICIES = [p.name for p in POLICIES if p.name not in RESOURCE_POLICIES]
DIGEST = "@sha256:" + "0" * 64


def every_violation(resources: list[Seen]) -> dict[str, list[str]]:
    found = {name: [v for r in resources for v in violations(r, name)] for name in RESOURCE_POLICIES}
    found.update({name: stack_violations(resources, name) for name in STACK_POLICIES})
    return {name: messages for name, messages in found.items() if messages}


def of_type(resources: list[Seen], type_: str) -> list[Seen]:
    return [r for r in resources if r.type == type_]


def template(seen: Seen) -> dict[str, Any]:
    return seen.props["spec"]["template"]["spec"]


@pytest.fixture(scope="module")
def parallel(request) -> list[Seen]:
    from components.migration_phase import program
    from tests.conftest import engine_config, run_under_mocks

    return engine_view(run_under_mocks(program, engine_config(load_raw(phase_path(Phase.PARALLEL, 50)))))


# The tags the reference environment runs: the installer's (its digest is optional in the config) and
# the apps' images as the stack names them. The advisory digest policy warns on exactly these.
REFERENCE_TAGS = {
    "ghcr.io/spinframework/containerd-shim-spin/node-installer:v0.24.0",
    "ghcr.io/spinkube/containerd-shim-spin/examples/spin-rust-hello:v0.15.1",
    "contosoacr.azurecr.io/shop/inventory:3.0.0-spin",
    "contosoacr.azurecr.io/shop/orders-api:2.0.0-spin3",
}


def tags_warned(messages: list[str]) -> set[str]:
    return {re.search(r"image '([^']+)'", message)[1] for message in messages}


def test_every_phase_passes_every_policy(pulumi_run, phase_file):
    """No mandatory policy reports anything; the advisory digest policy only the reference tags."""
    resources = engine_view(pulumi_run(load_raw(phase_file)))
    found = every_violation(resources)
    assert set(found) <= {"images-pinned-by-digest"}
    assert policy("images-pinned-by-digest").enforcement_level.value == "advisory"
    assert tags_warned(found.get("images-pinned-by-digest", [])) <= REFERENCE_TAGS
    if "parallel-50" in phase_file.name:
        assert tags_warned(found["images-pinned-by-digest"]) == REFERENCE_TAGS
    # Not vacuous: until decommission the phase holds the adopted WASI pool, as the engine sees it, and the
    # adopted Deployments on wasmtime-spin-v2, whose images are tags.
    pools = [
        r
        for r in of_type(resources, "azure-native:containerservice:AgentPool")
        if r.props.get("workloadRuntime") == "WasmWasi"
    ]
    legacy = [
        r
        for r in of_type(resources, "kubernetes:apps/v1:Deployment")
        if template(r).get("runtimeClassName", "").startswith("wasmtime-")
    ]
    if "decommission" in phase_file.name:
        assert pools == [] and legacy == []
    else:
        assert len(pools) == 1 and len(legacy) == 3
        assert all(r.protect and r.ignore_changes == ("*",) for r in pools + legacy)


@pytest.mark.parametrize("target", ["aci", "container"])
def test_the_other_targets_pass_every_policy(pulumi_run, target):
    raw = on_aci(Phase.PARALLEL, 50)  # with the Spin image both targets need, pinned
    if target == "container":
        raw["target"] = target
        del raw["aci"]
    resources = engine_view(pulumi_run(raw))
    if target == "aci":
        assert of_type(resources, "azure-native:containerinstance:ContainerGroup")
    found = every_violation(resources)
    assert set(found) <= {"images-pinned-by-digest"}
    assert tags_warned(found.get("images-pinned-by-digest", [])) <= REFERENCE_TAGS


def test_a_wasi_pool_not_adopted_read_only_is_refused(parallel):
    legacy = next(r for r in parallel if r.props.get("workloadRuntime") == "WasmWasi")
    for changed in (
        Seen(**{**legacy.__dict__, "ignore_changes": ()}),
        Seen(**{**legacy.__dict__, "protect": False}),
    ):
        (message,) = violations(changed, "no-wasi-node-pools")
        assert "'wasipool' has workloadRuntime WasmWasi" in message and "adopted read-only" in message
    target = next(r for r in parallel if r.props.get("workloadRuntime") == "OCIContainer")
    assert violations(target, "no-wasi-node-pools") == []
    wasi_target = target.with_props({**target.props, "workloadRuntime": "WasmWasi"})
    assert len(violations(wasi_target, "no-wasi-node-pools")) == 1
    cluster = Seen(
        "azure-native:containerservice:ManagedCluster",
        "aks",
        {
            "agentPoolProfiles": [
                {"name": "system", "mode": "System"},
                {"name": "wasi", "workloadRuntime": "WasmWasi"},
            ]
        },
        False,
        (),
        "",
        None,
    )
    (message,) = violations(cluster, "no-wasi-node-pools")
    assert "'wasi'" in message


def test_a_new_deployment_on_an_aks_wasi_class_is_refused(parallel):
    new = next(
        r
        for r in of_type(parallel, "kubernetes:apps/v1:Deployment")
        if template(r).get("runtimeClassName") == "wasm-spin"
    )
    assert violations(new, "no-aks-wasi-runtime-class") == []
    props = copy.deepcopy(new.props)
    props["spec"]["template"]["spec"]["runtimeClassName"] = "wasmtime-spin-v2"
    (message,) = violations(new.with_props(props), "no-aks-wasi-runtime-class")
    assert "'wasmtime-spin-v2'" in message and "'wasm-spin'" in message
    (named_class,) = violations(
        new.with_props(props), "no-aks-wasi-runtime-class", {"runtimeClassName": "spin-v3"}
    )
    assert "'spin-v3'" in named_class
    # Unprotected, it also breaks the protection rule; the patch kind of a Deployment is checked too.
    assert len(violations(new.with_props(props), "legacy-wasi-protected")) == 1
    patch = Seen(**{**new.__dict__, "type": "kubernetes:apps/v1:DeploymentPatch", "props": props})
    assert len(violations(patch, "no-aks-wasi-runtime-class")) == 1


def test_a_tag_only_image_is_refused(parallel, pulumi_run):
    new = next(r for r in of_type(parallel, "kubernetes:apps/v1:Deployment") if not r.protect)
    props = copy.deepcopy(new.props)
    image = props["spec"]["template"]["spec"]["containers"][0]["image"]
    props["spec"]["template"]["spec"]["containers"][0]["image"] = image.split("@")[0]
    (message,) = violations(new.with_props(props), "images-pinned-by-digest")
    assert "is not pinned by digest" in message
    props["spec"]["template"]["spec"]["initContainers"] = [{"name": "init", "image": "busybox:1.36"}]
    assert len(violations(new.with_props(props), "images-pinned-by-digest")) == 2
    group = of_type(
        engine_view(pulumi_run(on_aci(Phase.PARALLEL, 50))), "azure-native:containerinstance:ContainerGroup"
    )[0]
    props = copy.deepcopy(group.props)
    props["containers"][0]["image"] = props["containers"][0]["image"].split("@")[0]
    assert len(violations(group.with_props(props), "images-pinned-by-digest")) == 1


def test_privileged_pods_only_in_the_installer_namespace(parallel):
    installer = of_type(parallel, "kubernetes:apps/v1:DaemonSet")[0]
    assert installer.props["metadata"]["namespace"] == "wasm-shim-system"
    assert template(installer)["containers"][0]["securityContext"]["privileged"] is True
    assert violations(installer, "privileged-only-in-installer-namespace") == []
    moved = copy.deepcopy(installer.props)
    moved["metadata"]["namespace"] = "web"
    found = violations(installer.with_props(moved), "privileged-only-in-installer-namespace")
    assert any("privileged container" in m and "'web'" in m for m in found)
    assert any("hostPath volume" in m for m in found)
    # The config names the installer's namespace: elsewhere the same DaemonSet is refused.
    assert violations(
        installer, "privileged-only-in-installer-namespace", {"installerNamespace": "spin-system"}
    )
    new = next(r for r in of_type(parallel, "kubernetes:apps/v1:Deployment") if not r.protect)
    props = copy.deepcopy(new.props)
    spec = props["spec"]["template"]["spec"]
    spec["hostNetwork"] = True
    spec["containers"][0]["securityContext"] = {"capabilities": {"add": ["NET_BIND_SERVICE", "SYS_ADMIN"]}}
    found = violations(new.with_props(props), "privileged-only-in-installer-namespace")
    assert len(found) == 2 and any("adds SYS_ADMIN" in m for m in found)
    namespace = next(r for r in of_type(parallel, "kubernetes:core/v1:Namespace"))
    assert violations(namespace, "privileged-only-in-installer-namespace") == []
    renamed = copy.deepcopy(namespace.props)
    renamed["metadata"]["name"] = "web"
    (message,) = violations(namespace.with_props(renamed), "privileged-only-in-installer-namespace")
    assert "namespace 'web' is labelled pod-security.kubernetes.io/enforce: privileged" in message


def test_the_legacy_pool_and_deployments_stay_protected(parallel):
    pool = next(r for r in parallel if r.props.get("workloadRuntime") == "WasmWasi")
    deployment = next(r for r in of_type(parallel, "kubernetes:apps/v1:Deployment") if r.protect)
    for legacy in (pool, deployment):
        assert violations(legacy, "legacy-wasi-protected") == []
        (message,) = violations(Seen(**{**legacy.__dict__, "protect": False}), "legacy-wasi-protected")
        assert "is not protected" in message and "pulumi state unprotect" in message


def test_a_second_wasm_runtime_class_is_reported(parallel):
    runtime_class = of_type(parallel, "kubernetes:node.k8s.io/v1:RuntimeClass")[0]
    assert runtime_class.props["handler"] == "spin"
    other = runtime_class.with_props({**runtime_class.props, "metadata": {"name": "spin-too"}})
    new = next(r for r in of_type(parallel, "kubernetes:apps/v1:Deployment") if not r.protect)
    props = copy.deepcopy(new.props)
    props["spec"]["template"]["spec"]["runtimeClassName"] = "spin-too"
    (message,) = stack_violations([*parallel, other, new.with_props(props)], "one-wasm-runtime-class")
    assert "'spin-too'" in message
    assert policy("one-wasm-runtime-class").enforcement_level.value == "advisory"


def test_unknown_values_during_preview_are_skipped_not_fatal(parallel):
    new = next(r for r in of_type(parallel, "kubernetes:apps/v1:Deployment") if not r.protect)
    props = copy.deepcopy(new.props)
    props["metadata"]["namespace"] = UNKNOWN_STRING_VALUE
    spec = props["spec"]["template"]["spec"]
    spec["containers"][0]["image"] = UNKNOWN_STRING_VALUE
    spec["runtimeClassName"] = UNKNOWN_STRING_VALUE
    spec["hostNetwork"] = True
    spec["initContainers"] = UNKNOWN_ARRAY_VALUE
    unknown = new.with_props(props)
    # Read through pulumi-policy's proxy, an unknown raises: the rules must not read it that way.
    with pytest.raises(UnknownValueError):
        validation_args(unknown).props["metadata"]["namespace"]
    assert {name: violations(unknown, name) for name in RESOURCE_POLICIES} == {
        name: [] for name in RESOURCE_POLICIES
    }
