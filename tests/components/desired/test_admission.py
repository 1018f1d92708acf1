"""The admission policy of cutover and decommission, evaluated as the API server would (tests/admission.py,
cel-python) against real pods: the exported Pods of tests/fixtures/clusters/mixed-wasi-pool (a Wasm app,
an ordinary Deployment and a bare Pod on the WASI pool, DaemonSet pods on every node) and the pods the
registered templates create."""

from __future__ import annotations

import copy
import itertools
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from components.core.config import ConfigError, Phase, parse_config
from components.desired import build_desired_state
from components.desired.admission import (
    admission_policy_args,
    binding_manifest,
    policy_manifest,
    selector_expression,
)
from components.desired.spec import DesiredState
from components.export.cluster import ClusterExport
from components.export.migration import Migration
from components.export.schemas import KUBERNETES_VERSIONS
from components.export.workload import ExportedWorkload
from components.loading import load_migration
from tests.admission import (
    AdmissionEvaluationError,
    admit,
    as_created,
    evaluate,
    from_template,
    policy_of,
)
from tests.conftest import load_raw, phase_path
from tests.engine import awaited_condition

MIXED = Path(__file__).resolve().parents[2] / "fixtures" / "clusters" / "mixed-wasi-pool" / "export.yaml"
REFUSED_CLASSES = ("wasmtime-spin-v2", "wasmtime-spin-v1", "wasmtime-slight-v1", "wasmtime-spin-v0-99-0")


@cache
def _objects() -> tuple[dict[str, Any], ...]:
    return tuple(yaml.safe_load(MIXED.read_text())["items"])


def _exported(kind: str, namespace: str, prefix: str) -> dict[str, Any]:
    return copy.deepcopy(
        next(
            o
            for o in _objects()
            if o["kind"] == kind
            and o["metadata"].get("namespace") == namespace
            and o["metadata"]["name"].startswith(prefix)
        )
    )


def _pod(namespace: str, prefix: str) -> dict[str, Any]:
    return as_created(_exported("Pod", namespace, prefix))


def _mixed_migration(phase: str, acknowledged: tuple[str, ...] = ()) -> Migration:
    """The reference config pointed at the mixed cluster's WASI pool, migrating its web/hello-wasi."""
    raw = load_raw(phase_path(Phase.CUTOVER))
    raw["phase"] = phase
    raw["legacyPools"] = [{"name": "wasipool"}]
    workload = {**raw["workloads"][0], "name": "hello-wasi", "namespace": "web"}
    raw["workloads"] = [workload]
    raw["decommission"] = {"confirm": "aks-contoso-prod/wasipool", "acknowledgeOtherPods": list(acknowledged)}
    config = parse_config(raw)
    legacy = ExportedWorkload(
        config=config.workloads[0],
        deployment=_exported("Deployment", "web", "hello-wasi"),
        service=_exported("Service", "web", "hello-wasi"),
    )
    return Migration(config, (legacy,), ClusterExport(_objects()))


def _policy(phase: str = "cutover", acknowledged: tuple[str, ...] = ()) -> tuple[dict, dict]:
    args = admission_policy_args(_mixed_migration(phase, acknowledged))
    assert args is not None
    return policy_manifest(args), binding_manifest()


def _state(phase: Phase, weight: int | None = None) -> DesiredState:
    return build_desired_state(load_migration(load_raw(phase_path(phase, weight))))


def _registered(state: DesiredState) -> tuple[dict, dict] | None:
    return policy_of([s.inputs for s in state.resources if s.is_kubernetes])


# --- what it refuses ---------------------------------------------------------------------------------


@pytest.mark.parametrize("runtime_class", REFUSED_CLASSES)
def test_a_new_pod_on_a_wasi_runtime_class_is_refused_and_told_where_to_go(runtime_class):
    policy, binding = _policy()
    pod = _pod("web", "hello-wasi")  # the Wasm app's own pod, as someone else would create it
    pod["metadata"]["namespace"] = "team-b"
    pod["spec"]["runtimeClassName"] = runtime_class
    pod["spec"].pop("nodeSelector")  # the pool checks below refuse that on their own
    verdict = admit(policy, binding, pod)
    assert not verdict.allowed
    assert verdict.message.startswith(f"RuntimeClass {runtime_class} runs on the retired AKS WASI node pools")
    assert "RuntimeClass wasm-spin (containerd-shim-spin)" in verdict.message
    assert "docs/admission-policy.md" in verdict.message


def test_the_apps_own_pod_outside_its_selector_is_refused():
    policy, binding = _policy()
    pod = _pod("web", "hello-wasi")
    pod["metadata"]["labels"] = {"app": "hello-wasi-2"}  # same namespace, not the legacy Deployment's
    assert not admit(policy, binding, pod).allowed


def _required(*terms: dict[str, Any]) -> dict[str, Any]:
    """Required node affinity with `terms` (ORed)."""
    return {
        "affinity": {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": list(terms)}
            }
        }
    }


def _term(key: str, operator: str, *values: str) -> dict[str, Any]:
    requirement: dict[str, Any] = {"key": key, "operator": operator}
    if values:
        requirement["values"] = list(values)
    return {"matchExpressions": [requirement]}


@pytest.mark.parametrize(
    "pin",
    [
        {"nodeSelector": {"agentpool": "wasipool"}},
        {"nodeSelector": {"kubernetes.azure.com/agentpool": "wasipool", "kubernetes.io/os": "linux"}},
        {"nodeSelector": {"kubernetes.azure.com/wasmtime-spin-v2": "true"}},
        _required(_term("agentpool", "In", "nodepool1", "wasipool")),
        _required(
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["x"]}]},
            _term("kubernetes.azure.com/wasmtime-slight-v1", "Exists"),
        ),
    ],
    ids=["agentpool", "aks-agentpool", "wasi-label", "affinity-in", "affinity-exists"],
)
def test_an_ordinary_pod_that_asks_for_the_wasi_pool_is_refused(pin):
    policy, binding = _policy()
    pod = _pod("default", "netshoot")
    pod["metadata"]["name"] = "netshoot-2"  # not the acknowledged bare pod
    pod["spec"].update(copy.deepcopy(pin))
    verdict = admit(policy, binding, pod)
    assert not verdict.allowed
    assert "retired AKS WASI node pool (wasipool)" in verdict.message


@pytest.mark.parametrize(
    "pin",
    [
        {"nodeSelector": {"agentpool": "nodepool1"}},
        _required(
            _term("kubernetes.azure.com/agentpool", "NotIn", "wasipool"),
            _term("kubernetes.azure.com/wasmtime-spin-v2", "DoesNotExist"),
        ),
        {
            "affinity": {
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {"weight": 1, "preference": _term("agentpool", "In", "wasipool")}
                    ]
                }
            }
        },
        {"runtimeClassName": "wasmtime-spin"},  # KWasm's and deislabs' class: not AKS's
    ],
    ids=["other-pool", "avoids-wasi", "preferred-only", "kwasm-class"],
)
def test_a_pod_that_does_not_ask_for_the_wasi_pool_is_admitted(pin):
    policy, binding = _policy()
    pod = _pod("default", "netshoot")
    pod["metadata"]["name"] = "netshoot-2"
    pod["spec"].update(copy.deepcopy(pin))
    assert admit(policy, binding, pod).allowed


# --- what it exempts ---------------------------------------------------------------------------------


def test_the_legacy_pods_a_rollback_recreates_are_admitted_in_cutover_and_refused_after():
    policy, binding = _policy("cutover")
    for exported in [o for o in _objects() if o["kind"] == "Pod" and o["metadata"]["namespace"] == "web"]:
        pod = as_created(exported)
        assert pod["spec"]["runtimeClassName"] == "wasmtime-spin-v2"  # what the policy refuses elsewhere
        assert admit(policy, binding, pod).why == "matchCondition not-exempt"
    # Decommission deletes the legacy Deployment: nothing recreates its pods, nothing exempts them.
    policy, binding = _policy("decommission", ("edge/edge-proxy", "default/netshoot"))
    assert not admit(policy, binding, _pod("web", "hello-wasi")).allowed


@pytest.mark.parametrize("phase", ["cutover", "decommission"])
def test_daemonset_pods_are_never_refused(phase):
    policy, binding = _policy(phase, ("edge/edge-proxy", "default/netshoot"))
    pods = [as_created(o) for o in _objects() if o["kind"] == "Pod"]
    daemon = [p for p in pods if (p["metadata"].get("ownerReferences") or [{}])[0].get("kind") == "DaemonSet"]
    assert {p["metadata"]["generateName"] for p in daemon} == {"kube-proxy-", "cloud-node-manager-"}
    # ama-logs and the Azure Disk CSI node, shaped as kube-proxy is, and an agent of one's own that
    # runs only on the WASI nodes, outside kube-system (the namespaceSelector does not cover it).
    kube_proxy = _pod("kube-system", "kube-proxy-bw")
    for name, namespace, selector in (
        ("ama-logs", "kube-system", {"kubernetes.io/os": "linux"}),
        ("csi-azuredisk-node", "kube-system", {"kubernetes.io/os": "linux"}),
        ("wasm-metrics", "monitoring", {"kubernetes.azure.com/wasmtime-spin-v2": "true"}),
    ):
        pod = copy.deepcopy(kube_proxy)
        pod["metadata"].update(namespace=namespace, generateName=f"{name}-", labels={"component": name})
        pod["metadata"]["ownerReferences"][0]["name"] = name
        pod["spec"]["nodeSelector"] = selector
        daemon.append(pod)
    for pod in daemon:
        verdict = admit(policy, binding, pod)
        assert verdict.allowed, pod["metadata"]
        if pod["metadata"]["namespace"] != "kube-system":
            assert verdict.why == "matchCondition not-daemonset-or-mirror-pod"


@pytest.mark.parametrize("acknowledged", [(), ("edge/edge-proxy", "default/netshoot")])
def test_the_other_pods_on_the_wasi_pool_stay_recreatable(acknowledged):
    """edge-proxy (a Deployment) and netshoot (a bare Pod) run on the WASI nodes: cluster.export finds
    them before they are acknowledged, and pinned to the pool they are still admitted; a Deployment
    whose name only starts like theirs is not."""
    policy, binding = _policy("cutover", acknowledged)
    for pod in (_pod("edge", "edge-proxy"), _pod("default", "netshoot")):
        pod["spec"]["nodeSelector"] = {"agentpool": "wasipool"}
        assert admit(policy, binding, pod).why == "matchCondition not-exempt"
    other = _pod("edge", "edge-proxy")
    other["metadata"]["ownerReferences"][0]["name"] = "edge-proxy-canary-7d9f8b6c5d"
    other["spec"]["nodeSelector"] = {"agentpool": "wasipool"}
    assert not admit(policy, binding, other).allowed


def test_an_acknowledged_name_the_export_does_not_hold_covers_every_controller_it_may_be():
    hostile = ("jobs/a'b", "jobs/x\n", "nightly", "jobs/")  # exempt nothing, break nothing
    migration = _mixed_migration(
        "decommission", ("edge/edge-proxy", "default/netshoot", "jobs/nightly", *hostile)
    )
    args = admission_policy_args(Migration(migration.config, migration.workloads, None))
    assert args is not None
    policy, binding = policy_manifest(args), binding_manifest()
    pod = _pod("default", "netshoot")
    pod["metadata"]["namespace"] = "jobs"
    pod["spec"]["nodeSelector"] = {"agentpool": "wasipool"}
    for owner in ("Job", "nightly-29170560"), ("StatefulSet", "nightly"), ("ReplicaSet", "nightly-b5d9c4f7"):
        pod["metadata"]["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "uid": "1"}
        ]
        assert admit(policy, binding, pod).allowed, owner
    pod["metadata"]["ownerReferences"][0]["name"] = "nightly-report-b5d9c4f7"
    assert not admit(policy, binding, pod).allowed


# --- no pod shape makes an expression fail ------------------------------------------------------------


def _shapes() -> list[dict[str, Any]]:
    minimal = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"generateName": "x-"},
        "spec": {"containers": []},
    }
    affinities = [
        {},
        {"nodeAffinity": {}},
        {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {}}},
        {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}}},
        {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{}]}}},
        {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["aks-wasipool-0"]}]}]}}},
        {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
            {"matchExpressions": []}, {"matchExpressions": [{"key": "agentpool", "operator": "In"}]},
            {"matchExpressions": [{"key": "agentpool", "operator": "Exists"}]}]}}},
        {"podAntiAffinity": {}},
    ]  # fmt: skip
    metadata = [
        {},
        {"labels": {}},
        {"ownerReferences": []},
        {"ownerReferences": [{"apiVersion": "v1", "kind": "Node", "name": "aks-wasipool-0", "uid": "2"}]},
        {"name": "netshoot", "labels": {"app": "hello-wasi"}},
        {"generateName": "hello-wasi-q6gk28jvpp-", "labels": {"app": "other"}},
    ]
    specs = [{}, {"nodeSelector": {}}, {"runtimeClassName": ""}, {"runtimeClassName": "wasm-spin"}]
    shapes = []
    for affinity, meta, spec in itertools.product([None, *affinities], metadata, specs):
        pod = copy.deepcopy(minimal)
        pod["metadata"].update(copy.deepcopy(meta))
        pod["spec"].update(copy.deepcopy(spec))
        if affinity is not None:
            pod["spec"]["affinity"] = copy.deepcopy(affinity)
        shapes.append(pod)
    real = [as_created(o) for o in _objects() if o["kind"] == "Pod"]
    return shapes + real


@pytest.mark.parametrize("phase", ["cutover", "decommission"])
@pytest.mark.parametrize("namespace", ["web", "edge", "default", "kube-system"])
def test_no_expression_fails_on_any_pod_shape(phase, namespace):
    """Every expression on its own (admit stops at the first decisive one), on each shape in each
    namespace: no error, and a bool (a string for messages)."""
    policy, binding = _policy(phase, ("edge/edge-proxy", "default/netshoot"))
    spec = policy["spec"]
    for pod in _shapes():
        pod["metadata"]["namespace"] = namespace
        activation: dict[str, Any] = {
            "object": pod,
            "request": {"namespace": namespace, "operation": "CREATE"},
        }
        for condition in spec["matchConditions"]:
            assert isinstance(bool(evaluate(condition["expression"], activation)), bool)
        admit(policy, binding, pod)  # variables and validations in order, raising on any failure
        variables = {}
        for variable in spec["variables"]:
            variables[variable["name"]] = evaluate(
                variable["expression"], {**activation, "variables": variables}
            )
        for validation in spec["validations"]:
            result = evaluate(validation["expression"], {**activation, "variables": variables})
            assert result in (True, False)
            if "messageExpression" in validation:
                assert isinstance(
                    str(evaluate(validation["messageExpression"], {**activation, "variables": variables})),
                    str,
                )


def test_the_evaluator_reports_a_failing_expression_rather_than_admitting():
    with pytest.raises(AdmissionEvaluationError):
        evaluate("object.metadata.labels['app'] == 'x'", {"object": {"metadata": {"labels": {}}}})


def test_a_selector_in_cel_agrees_with_the_api_servers_semantics():
    selector = {
        "matchLabels": {"app": "hello"},
        "matchExpressions": [
            {"key": "tier", "operator": "In", "values": ["web", "api"]},
            {"key": "canary", "operator": "DoesNotExist"},
            {"key": "track", "operator": "NotIn", "values": ["beta"]},
            {"key": "team", "operator": "Exists"},
        ],
    }
    expression = selector_expression(selector)
    cases = [
        ({"app": "hello", "tier": "web", "team": "a"}, True),
        ({"app": "hello", "tier": "api", "team": "a", "track": "stable"}, True),
        ({"app": "hello", "tier": "web", "team": "a", "track": "beta"}, False),
        ({"app": "hello", "tier": "web", "team": "a", "canary": "1"}, False),
        ({"app": "hello", "tier": "db", "team": "a"}, False),
        ({"app": "hello", "tier": "web"}, False),
        (None, False),
    ]
    for labels, expected in cases:
        metadata = {} if labels is None else {"labels": labels}
        assert bool(evaluate(expression, {"object": {"metadata": metadata}})) is expected, labels


# --- which phases register it, and the objects themselves ---------------------------------------------


@pytest.mark.parametrize(
    ("phase", "weight", "registered"),
    [
        (Phase.BASELINE, None, False),
        (Phase.PREPARE, None, False),
        *((Phase.PARALLEL, weight, False) for weight in (0, 10, 50, 90, 100)),
        (Phase.CUTOVER, None, True),
        (Phase.DECOMMISSION, None, True),
    ],
)
def test_registered_from_cutover_on_only(phase, weight, registered):
    state = _state(phase, weight)
    assert (_registered(state) is not None) is registered
    kinds = {s.inputs["kind"] for s in state.resources if s.is_kubernetes}
    assert ("ValidatingAdmissionPolicy" in kinds) is registered
    assert ("ValidatingAdmissionPolicyBinding" in kinds) is registered


def test_turned_off_by_its_key():
    raw = load_raw(phase_path(Phase.CUTOVER))
    raw["admissionPolicy"] = {"enabled": False}
    assert _registered(build_desired_state(load_migration(raw))) is None


@pytest.mark.parametrize("url", ["http://example.com/runbook", "https://x.example/a'+b", "https://a b"])
def test_the_docs_url_is_an_https_address_without_quotes(url):
    raw = load_raw(phase_path(Phase.CUTOVER))
    raw["admissionPolicy"] = {"docsUrl": url}
    with pytest.raises(ConfigError):
        load_migration(raw)


def test_the_docs_url_is_in_the_message():
    raw = load_raw(phase_path(Phase.CUTOVER))
    raw["admissionPolicy"] = {"docsUrl": "https://wiki.contoso.com/aks/wasm-migration#admission"}
    registered = _registered(build_desired_state(load_migration(raw)))
    assert registered is not None
    policy, binding = registered
    pod = as_created(_exported("Pod", "web", "hello-wasi"))
    pod["metadata"]["namespace"] = "team-b"
    assert admit(policy, binding, pod).message.endswith(
        "see https://wiki.contoso.com/aks/wasm-migration#admission"
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("phase", [Phase.CUTOVER, Phase.DECOMMISSION])
def test_both_objects_pass_the_strict_schemas(phase, version):
    registered = _registered(_state(phase))
    assert registered is not None
    for manifest in registered:
        kubernetes_validate.validate(manifest, version, strict=True)
    broken = copy.deepcopy(registered[0])
    broken["spec"]["validation"] = broken["spec"].pop("validations")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, version, strict=True)


def test_created_and_owned_by_the_program_binding_after_policy_and_neither_awaited():
    """Created (no import, no patch, not protected, nothing retained), the binding after the policy
    (so deleted before it); pulumi-kubernetes has no awaiter for admissionregistration.k8s.io
    (provider/pkg/await/awaiters.go `awaiters`), so neither holds up the step."""
    state = _state(Phase.CUTOVER)
    specs = [s for s in state.resources if s.type.startswith("kubernetes:admissionregistration.k8s.io/v1:")]
    policy, binding = specs
    assert policy.type.endswith(":ValidatingAdmissionPolicy") and binding.depends_on == (policy.name,)
    for spec in specs:
        assert not (spec.is_patch or spec.protect or spec.import_id or spec.retain_on_delete)
        kind = f"admissionregistration.k8s.io/v1/{spec.inputs['kind']}"
        assert awaited_condition(spec.inputs, kind, "create", None).by == "nothing"
        assert awaited_condition(spec.inputs, kind, "update", spec.inputs).by == "nothing"


# --- the reference environment: its new pods, and the way back ---------------------------------------


def _template_pods(state: DesiredState) -> list[dict[str, Any]]:
    """The pod each registered Deployment, Job and DaemonSet creates from its template."""
    owners = {"Deployment": "ReplicaSet", "Job": "Job", "DaemonSet": "DaemonSet"}
    pods = []
    for spec in state.resources:
        kind = spec.inputs.get("kind")
        if spec.is_kubernetes and not spec.is_patch and kind in owners:
            metadata = spec.inputs["metadata"]
            owner = f"{metadata['name']}-5d9c4f7b8" if kind == "Deployment" else metadata["name"]
            pods.append(
                from_template(
                    spec.inputs["spec"]["template"], metadata.get("namespace", "default"), owners[kind], owner
                )
            )
    return pods


@pytest.mark.parametrize("phase", [Phase.CUTOVER, Phase.DECOMMISSION])
def test_every_pod_the_migration_itself_creates_is_admitted(phase):
    state = _state(phase)
    registered = _registered(state)
    assert registered is not None
    pods = _template_pods(state)
    assert {p["spec"].get("runtimeClassName") for p in pods} >= {"wasm-spin"}
    for pod in pods:
        assert admit(*registered, pod).allowed, pod["metadata"]


def test_the_way_back_to_parallel_recreates_legacy_pods_the_cutover_policy_admits():
    """Cutover → parallel 100 %: the policy is no longer registered, but the engine deletes it only
    after every create and update (pulumi/pulumi deployment_executor.go performPostSteps), while the
    legacy patch awaits its Ready pods. So the pods the legacy ReplicaSets create meanwhile, which
    ask for wasmtime-spin-v2 (and, once the RuntimeClass plugin merged its scheduling, a WASI node
    label), must pass the cutover policy."""
    cutover, parallel = _state(Phase.CUTOVER), _state(Phase.PARALLEL, 100)
    assert _registered(parallel) is None
    registered = _registered(cutover)
    assert registered is not None
    awaited = [
        s
        for s in parallel.resources
        if s.type.endswith("DeploymentPatch")
        and "pulumi.com/waitFor" in s.inputs["metadata"].get("annotations", {})
    ]
    assert awaited  # the legacy side is awaited Ready on the way back
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 100)))
    for legacy in migration.workloads:
        pod = from_template(
            legacy.pod_template, legacy.config.namespace, "ReplicaSet", f"{legacy.config.name}-5d9c4f7b8"
        )
        pod["spec"]["nodeSelector"] = {
            **pod["spec"].get("nodeSelector", {}),
            "kubernetes.azure.com/wasmtime-spin-v2": "true",
        }
        verdict = admit(*registered, pod)
        assert verdict.allowed and verdict.why == "matchCondition not-exempt", legacy.config.key
        stranger = copy.deepcopy(pod)
        stranger["metadata"]["labels"] = {"app": "someone-else"}
        assert not admit(*registered, stranger).allowed
