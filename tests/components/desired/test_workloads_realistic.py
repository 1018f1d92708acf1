"""The new side built from realistic exports (tests/fixtures/environments): deislabs' containerd-wasm-shims
workloads, the AKS WASI documentation samples, and a 50-replica LoadBalancer app with an HPA, a PDB, a
NetworkPolicy, a ServiceMonitor, workload identity, a metrics port first and pinning to the WASI pool.
Each is walked through every phase; the assertions read what the program would register."""

from __future__ import annotations

import copy
import shutil
import tempfile
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.analysis.isolation import isolation_problems
from components.analysis.scheduling import scheduling_problems
from components.core.config import ConfigError, Phase
from components.core.inputs import load_yaml_documents
from components.core.kubernetes import export_selectors, matches, service_selects
from components.desired import build_desired_state
from components.desired.spec import DesiredState
from components.desired.workloads import TRANSLATION_ANNOTATION
from components.export.workload import strip_server_fields
from components.loading import load_migration, raw_config_from_stack_file
from tests.engine import (
    apply_conflicts,
    kubernetes_read,
    patch_force,
    provider_deletes,
    update_after_import,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "environments"
# lb50's own HTTPRoute for the same host and path is refused from parallel on (test_traffic.py); these
# walks start where its owner has deleted it, as the refusal asks, and re-exported.
_WORKDIR = tempfile.TemporaryDirectory(prefix="environments-")
ENVIRONMENTS = Path(_WORKDIR.name)
shutil.copytree(FIXTURES, ENVIRONMENTS, dirs_exist_ok=True)
_LB50 = ENVIRONMENTS / "lb50" / "manifests" / "checkout" / "storefront.yaml"
_listing = yaml.safe_load(_LB50.read_text())
_listing["items"] = [o for o in _listing["items"] if o["kind"] != "HTTPRoute"]
_LB50.write_text(yaml.safe_dump(_listing))
WALK = [
    (Phase.BASELINE, 0),
    (Phase.PREPARE, 0),
    (Phase.PARALLEL, 0),
    (Phase.PARALLEL, 10),
    (Phase.PARALLEL, 50),
    (Phase.PARALLEL, 90),
    (Phase.PARALLEL, 100),
    (Phase.CUTOVER, 100),
    (Phase.DECOMMISSION, 100),
]
# The probe path deislabs' wasm-spin serves (images/spin/spin.toml routes /hello and /go-hello only).
DEISLABS_PROBE = {"path": "/hello"}


def raw_config(env: str) -> dict[str, Any]:
    raw = raw_config_from_stack_file(ENVIRONMENTS / env / f"Pulumi.{env}.yaml")
    if env == "deislabs":
        raw["workloads"][0]["probe"] = dict(DEISLABS_PROBE)
    return raw


def state_at(env: str, phase: Phase, weight: int, raw: dict[str, Any] | None = None) -> DesiredState:
    raw = copy.deepcopy(raw or raw_config(env))
    raw["phase"] = phase.value
    raw["traffic"]["weight"] = weight
    if phase is Phase.DECOMMISSION:
        raw["decommission"] = {"confirm": f"{raw['cluster']['name']}/{raw['legacyPools'][0]['name']}"}
    return build_desired_state(load_migration(raw, ENVIRONMENTS / env))


def exported(env: str, manifest: str) -> list[dict[str, Any]]:
    text = (ENVIRONMENTS / env / manifest).read_text()
    objects = []
    for document in load_yaml_documents(text):
        objects.extend(document["items"] if document.get("kind") == "List" else [document])
    return [strip_server_fields(o) for o in objects]


def new_objects(state: DesiredState, kind: str) -> list[dict[str, Any]]:
    """The objects of `kind` this project creates (not adopted, not patches)."""
    return [
        s.inputs
        for s in state.resources
        if s.is_kubernetes and not s.is_patch and not s.import_id and s.inputs.get("kind") == kind
    ]


def workload_deployments(state: DesiredState) -> list[dict[str, Any]]:
    return [d for d in new_objects(state, "Deployment") if d["metadata"]["namespace"] != "wasm-shim-system"]


ENVS = {
    "deislabs": ["manifests/default/wasm-spin.yaml", "manifests/default/wasm-slight.yaml"],
    "aks-samples": ["manifests/default/wasm-spin.yaml", "manifests/default/wasm-slight.yaml"],
    "lb50": ["manifests/checkout/storefront.yaml"],
}


@pytest.mark.parametrize("env", list(ENVS))
def test_before_parallel_no_legacy_selector_reaches_a_new_object(env):
    """Item 1: in prepare (a canary) and at weight 0 the new pods carry no label any selector of the
    export that sends pods work needs (Services, Deployments, PDBs, HPAs through their Deployment,
    PodMonitors), and the new Service none a ServiceMonitor needs. NetworkPolicies keep selecting them:
    a policy only restricts, and a pod no policy selects accepts any traffic."""
    raw = raw_config(env)
    for workload in raw["workloads"]:
        workload["canary"] = True
    selectors = [s for manifest in ENVS[env] for s in export_selectors(exported(env, manifest))]
    assert any(s.kind == "Service" for s in selectors)
    for phase, weight in ((Phase.PREPARE, 0), (Phase.PARALLEL, 0)):
        state = state_at(env, phase, weight, raw)
        deployments = workload_deployments(state)
        assert deployments, (env, phase)
        for deployment in deployments:
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            reached = [
                s.label
                for s in selectors
                if s.selects == "pods"
                and s.kind != "NetworkPolicy"
                and not s.is_empty
                and matches(s.selector, labels)
            ]
            assert reached == [], (env, phase, deployment["metadata"]["name"])
        for service in new_objects(state, "Service"):
            labels = service["metadata"]["labels"]
            reached = [s.label for s in selectors if s.selects == "services" and matches(s.selector, labels)]
            assert reached == [], (env, phase, service["metadata"]["name"])


def test_the_new_pods_are_selected_by_a_label_the_migration_owns_and_keep_every_exported_one():
    """A legacy Service selecting only `app.kubernetes.io/name: <workload>` must not reach the canary in
    prepare, and once the new pods serve they must carry every label a Service selects with its
    exported value (Helm's app.kubernetes.io/instance among them), so the new Deployment's own selector
    is a key no user selector reads."""
    state = state_at("lb50", Phase.PREPARE, 0)
    (deployment,) = workload_deployments(state)
    service = next(o for o in exported("lb50", ENVS["lb50"][0]) if o["kind"] == "Service")
    assert service["spec"]["selector"] == {"app.kubernetes.io/name": "storefront"}
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert not service_selects(service["spec"]["selector"], labels)
    assert deployment["spec"]["selector"] == {
        "matchLabels": {"aks-wasm-migration/instance": "storefront-spin"}
    }
    note = deployment["metadata"]["annotations"][TRANSLATION_ANNOTATION]
    assert "app.kubernetes.io/name=storefront: would put the new pods in" in note
    assert "labels changed" not in note


def test_a_gateway_split_keeps_the_new_pods_out_of_the_legacy_service_but_in_its_policies():
    """Item 1 in parallel: joining the legacy Service would add a replica share on top of the route's
    exact weight (10 % became 55 %). Everything else the pods belong to (the NetworkPolicy on `team`,
    workload identity) they carry; they join the Service at 100 %."""
    state = state_at("lb50", Phase.PARALLEL, 10)
    (deployment,) = workload_deployments(state)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = next(o for o in exported("lb50", ENVS["lb50"][0]) if o["kind"] == "Service")
    assert not service_selects(service["spec"]["selector"], labels)
    assert labels["team"] == "checkout" and labels["azure.workload.identity/use"] == "true"
    for phase, weight in ((Phase.PARALLEL, 100), (Phase.CUTOVER, 100)):
        (joined,) = workload_deployments(state_at("lb50", phase, weight))
        assert service_selects(service["spec"]["selector"], joined["spec"]["template"]["metadata"]["labels"])


def test_new_pods_keep_every_label_and_annotation_that_still_means_something():
    """Item 4: nothing of the exported pod template is lost once the new pods serve; only the new
    selector label is added, and the WASI-only annotations go."""
    legacy = next(o for o in exported("lb50", ENVS["lb50"][0]) if o["kind"] == "Deployment")
    template = legacy["spec"]["template"]["metadata"]
    (deployment,) = workload_deployments(state_at("lb50", Phase.CUTOVER, 100))
    new = deployment["spec"]["template"]["metadata"]
    assert new["labels"] == {**template["labels"], "aks-wasm-migration/instance": "storefront-spin"}
    kept = {k for k in template.get("annotations", {}) if not k.startswith("kubectl.kubernetes.io/")}
    assert kept and kept <= set(new.get("annotations", {}))
    assert (
        deployment["spec"]["template"]["spec"]["serviceAccountName"]
        == legacy["spec"]["template"]["spec"]["serviceAccountName"]
    )


def test_in_prepare_only_the_labels_a_selector_forces_out_are_left_off_and_render_says_why():
    (deployment,) = workload_deployments(state_at("lb50", Phase.PREPARE, 0))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"  # no selector needs it: kept even now
    assert labels["team"] == "checkout"  # the NetworkPolicy on it keeps holding the canary
    note = deployment["metadata"]["annotations"][TRANSLATION_ANNOTATION]
    assert "app.kubernetes.io/name=storefront: would put the new pods in" in note
    assert "NetworkPolicy" not in note


def test_pinning_to_the_wasi_pool_is_dropped_and_every_phase_schedules():
    """Item 5: nodeSelector agentpool=wasipool, the toleration of the pool's taint and the required
    affinity on its WASI label are left off; the scheduling proof passes in every phase."""
    legacy = next(o for o in exported("lb50", ENVS["lb50"][0]) if o["kind"] == "Deployment")
    pod = legacy["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["kubernetes.azure.com/agentpool"] == "wasipool"
    assert any(t.get("key") == "sku" for t in pod["tolerations"])
    for env in ENVS:
        migration_raw = raw_config(env)
        for phase, weight in WALK:
            state = state_at(env, phase, weight, migration_raw)
            config = load_migration({**migration_raw, "phase": "baseline"}, ENVIRONMENTS / env).config
            assert scheduling_problems(config, state) == [], (env, phase, weight)
    (deployment,) = workload_deployments(state_at("lb50", Phase.PARALLEL, 50))
    new_pod = deployment["spec"]["template"]["spec"]
    assert "nodeSelector" not in new_pod
    assert all(t.get("key") != "sku" for t in new_pod.get("tolerations", []))
    note = deployment["metadata"]["annotations"][TRANSLATION_ANNOTATION]
    assert "nodeSelector kubernetes.azure.com/agentpool=wasipool" in note and "toleration sku" in note


def test_a_pin_to_another_pool_is_kept_and_the_proof_names_it():
    """Only pinning to the WASI pool is translated; a pin to a pool that is not a target stays and the
    scheduling proof refuses the phase."""
    raw = raw_config("lb50")
    state = state_at("lb50", Phase.PARALLEL, 10, raw)
    (deployment,) = workload_deployments(state)
    pod = deployment["spec"]["template"]["spec"]
    pod["nodeSelector"] = {"kubernetes.azure.com/agentpool": "systempool"}
    config = load_migration(raw, ENVIRONMENTS / "lb50").config
    assert scheduling_problems(config, state) == [
        "Deployment checkout/storefront-spin: no node of any pool can run it in phase parallel (spinpool: "
        "nodeSelector kubernetes.azure.com/agentpool=systempool (the pool has spinpool))"
    ]


def test_the_probe_and_the_route_use_the_port_the_service_targets_not_ports_0():
    """Item 8: the lb50 Service lists metrics (9090) first; the serving port is `http` (80)."""
    state = state_at("lb50", Phase.PARALLEL, 10)
    (deployment,) = workload_deployments(state)
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    route = next(s.inputs for s in state.resources if s.inputs.get("kind") == "HTTPRoute")
    assert {b["port"] for b in route["spec"]["rules"][0]["backendRefs"]} == {80}
    note = deployment["metadata"]["annotations"][TRANSLATION_ANNOTATION]
    assert "serving port: Service port 80 -> container port http" in note


def test_a_missing_probe_path_is_a_config_error_unless_the_export_has_a_probe():
    raw = raw_config_from_stack_file(FIXTURES / "deislabs" / "Pulumi.deislabs.yaml")
    with pytest.raises(ConfigError) as caught:
        load_migration(raw, ENVIRONMENTS / "deislabs")
    assert caught.value.problems == [
        "workloads[0].probe.path: is required: the export has no HTTP readiness or liveness probe, and a "
        "Spin app only answers the routes in its spin.toml (a guessed / may be 404, and the pods never get "
        "Ready) (got (not set))"
    ]


def test_a_slight_rebuild_must_say_where_spin_listens_and_then_everything_follows_it():
    raw = raw_config("deislabs")
    slight = raw["workloads"][1]
    slight.pop("containerPort")
    with pytest.raises(ConfigError) as caught:
        load_migration(raw, ENVIRONMENTS / "deislabs")
    assert [p.split(":")[0] for p in caught.value.problems] == ["workloads[1].containerPort"]
    assert "not on slight's port (3000)" in caught.value.problems[0]
    state = state_at("deislabs", Phase.PARALLEL, 50)
    deployment = next(d for d in workload_deployments(state) if d["metadata"]["name"] == "wasm-slight-spin")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["port"] == 80
    service = next(s for s in new_objects(state, "Service") if s["metadata"]["name"] == "wasm-slight-spin")
    assert [p["targetPort"] for p in service["spec"]["ports"]] == [80]


def test_an_ambiguous_serving_port_is_a_config_error_naming_the_ports():
    raw = raw_config("lb50")
    raw["workloads"][0]["servicePort"] = 8080
    with pytest.raises(ConfigError) as caught:
        load_migration(raw, ENVIRONMENTS / "lb50")
    assert caught.value.problems[0].startswith(
        "workloads[0].servicePort: is not a port of Service storefront (metrics:9090, http:80)"
    )


def _hpa_state(phase: Phase, weight: int) -> dict[str, Any]:
    """lb50's autoscaling objects in a phase: the new HPA, the adopted legacy HPA, its bounds patch."""
    state = state_at("lb50", phase, weight)
    found: dict[str, Any] = {"state": state, "patches": [], "new": None, "legacy": None}
    for spec in state.resources:
        if spec.inputs.get("kind") != "HorizontalPodAutoscaler":
            continue
        if spec.is_patch:
            found["patches"].append(spec)
        elif spec.import_id:
            found["legacy"] = spec
        else:
            found["new"] = spec
    return found


def _bounds(hpa: dict[str, Any]) -> tuple[int, int]:
    return hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]


@pytest.mark.parametrize(
    ("phase", "weight", "new", "legacy_replicas"),
    [
        (Phase.BASELINE, 0, None, None),
        (Phase.PREPARE, 0, (2, 2), "not sent"),  # the canary's two pods, legacy untouched
        # lb50 splits through its Gateway: the new side runs at full capacity all through parallel.
        (Phase.PARALLEL, 0, (30, 80), "not sent"),
        (Phase.PARALLEL, 10, (30, 80), "not sent"),
        (Phase.PARALLEL, 100, (30, 80), "not sent"),
        (Phase.CUTOVER, 100, (30, 80), 0),  # zero replicas switch the legacy HPA off
        (Phase.DECOMMISSION, 100, (30, 80), None),
    ],
)
def test_the_legacy_hpa_is_translated_and_switched_off_only_in_cutover(phase, weight, new, legacy_replicas):
    """Item 7: the new Deployment gets its own HPA (same metrics, target the new Deployment); the legacy
    HPA is adopted read-only and never patched: cutover sets the legacy Deployment's replicas to 0,
    which turns its HPA off (horizontal.go: ScalingDisabled), and the way back stops sending them."""
    found = _hpa_state(phase, weight)
    assert found["patches"] == []
    exported_hpa = next(
        o for o in exported("lb50", ENVS["lb50"][0]) if o["kind"] == "HorizontalPodAutoscaler"
    )
    if new is None:
        assert found["new"] is None
    else:
        hpa = found["new"].inputs
        assert _bounds(hpa) == new
        assert hpa["spec"]["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "storefront-spin",
        }
        assert hpa["spec"]["metrics"] == exported_hpa["spec"]["metrics"]
    patch = found["state"].by_name().get("checkout/storefront/legacy-replicas")
    if legacy_replicas is None:
        assert patch is None
    elif legacy_replicas == "not sent":
        assert "spec" not in patch.inputs
    else:
        assert patch.inputs["spec"] == {"replicas": legacy_replicas}
    if phase is Phase.DECOMMISSION:
        assert found["legacy"] is None  # deleted with the Deployment (protected: see the README)
    elif phase is not Phase.BASELINE:
        adopted = found["legacy"]
        assert (
            adopted.import_id == "checkout/storefront"
            and adopted.protect
            and adopted.ignore_changes == ("*",)
        )
        assert adopted.inputs == exported_hpa


def test_the_new_deployment_never_sends_replicas_and_waits_for_its_hpas_minimum():
    """A field Pulumi once sent and then stopped sending would be removed, replicas falling to 1: the
    new Deployment never sends them. HPAs have no awaiter, so the HPA comes first and the Deployment
    (applied again whenever the minimum moves) waits until that many pods are Ready."""
    for phase, weight in WALK:
        state = state_at("lb50", phase, weight)
        for spec in state.resources:
            if spec.inputs.get("kind") != "Deployment" or spec.import_id or spec.is_patch:
                continue
            if spec.inputs["metadata"]["namespace"] != "checkout":
                continue
            assert "replicas" not in spec.inputs["spec"], (phase, weight)
            hpa = state.by_name()["checkout/storefront/wasm-hpa"]
            assert hpa.name in spec.depends_on
            annotations = spec.inputs["metadata"]["annotations"]
            minimum = hpa.inputs["spec"]["minReplicas"]
            assert annotations["aks-wasm-migration/ready-at-least"] == str(minimum)
            assert f"@.readyReplicas > {minimum - 1}" in annotations["pulumi.com/waitFor"]


def test_the_way_back_from_cutover_hands_the_legacy_replicas_back_to_the_hpa():
    """Cutover's patch owns `replicas: 0`; parallel's stops sending it, so server-side apply removes the
    field (its only owner stopped sending it), the Deployment defaults it to 1 and the legacy HPA, on
    again, scales to its minimum; the patch waits for those pods before the step is done."""
    cutover = state_at("lb50", Phase.CUTOVER, 100).by_name()["checkout/storefront/legacy-replicas"]
    parallel = state_at("lb50", Phase.PARALLEL, 100).by_name()["checkout/storefront/legacy-replicas"]
    assert cutover.inputs["spec"] == {"replicas": 0}
    assert "spec" not in parallel.inputs
    wait = parallel.inputs["metadata"]["annotations"]["pulumi.com/waitFor"]
    assert "@.readyReplicas > 29" in wait  # the HPA's minimum (the export had 50 Ready: more)


def test_check_proves_the_isolation_and_names_a_selector_that_cannot_be_escaped(tmp_path):
    for env in ENVS:
        raw = raw_config(env)
        for phase, weight in WALK:
            raw_at = {**raw, "phase": phase.value, "traffic": {**raw.get("traffic", {}), "weight": weight}}
            if phase is Phase.DECOMMISSION:
                raw_at["decommission"] = {
                    "confirm": f"{raw['cluster']['name']}/{raw['legacyPools'][0]['name']}"
                }
            migration = load_migration(raw_at, ENVIRONMENTS / env)
            assert isolation_problems(migration, build_desired_state(migration)) == [], (env, phase)
    # A budget that selects every pod without a `tier` label needs no label the new pods could drop.
    shutil.copytree(ENVIRONMENTS / "lb50", tmp_path / "lb50")
    export = tmp_path / "lb50" / ENVS["lb50"][0]
    listing = yaml.safe_load(export.read_text())
    listing["items"].append(
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "untiered", "namespace": "checkout"},
            "spec": {
                "maxUnavailable": 1,
                "selector": {"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
            },
        }
    )
    export.write_text(yaml.safe_dump(listing))
    raw = {**raw_config("lb50"), "phase": "prepare"}
    raw["workloads"][0]["canary"] = True
    migration = load_migration(raw, tmp_path / "lb50")
    assert isolation_problems(migration, build_desired_state(migration)) == [
        "checkout/storefront: PodDisruptionBudget untiered in manifests/checkout/storefront.yaml selects the "
        "new pods in phase prepare, before they may join it (it needs no label they could leave off); narrow "
        "it to the legacy pods first"
    ]


def test_fixed_replicas_for_an_autoscaled_workload_are_refused():
    raw = raw_config("lb50")
    raw["workloads"][0]["replicas"] = 40
    with pytest.raises(ConfigError) as caught:
        load_migration(raw, ENVIRONMENTS / "lb50")
    assert caught.value.problems == [
        "workloads[0].replicas: HorizontalPodAutoscaler storefront scales this workload: the new side gets "
        "its bounds (minReplicas..maxReplicas), so leave replicas out (got 40)"
    ]


def test_no_step_of_the_lb50_walk_relinquishes_a_legacy_field():
    """The engine's delete step (tests/engine.py) on every transition of lb50's walk, forward and back:
    the legacy patch never reaches its provider's Delete (a relinquished `replicas` would fall back to
    1). In decommission the adopted HPA and Deployment are deleted (protected: the README's two
    deliberate keys) and take the patch with them."""
    states = [state_at("lb50", phase, weight).by_name() for phase, weight in WALK]
    for before, after in [*pairwise(states), *((b, a) for a, b in pairwise(states[:-1]))]:
        removed = {name: spec for name, spec in before.items() if name not in after}
        assert {n for n in provider_deletes(removed, set(removed)) if removed[n].is_patch} == set()
    cutover, decommission = states[-2], states[-1]
    gone = {name: spec for name, spec in cutover.items() if name not in decommission}
    kinds = {(spec.inputs.get("kind"), spec.is_patch, bool(spec.import_id)) for spec in gone.values()}
    assert {("HorizontalPodAutoscaler", False, True), ("Deployment", True, False)} <= kinds
    assert all(gone[name].protect for name in provider_deletes(gone, set(gone)) if gone[name].import_id)


def test_a_rebuild_listening_elsewhere_moves_the_named_container_port_the_service_targets(tmp_path):
    """The serving port targets the container port named `http` (here 8000 behind Service port 80): a
    rebuild on another port changes that declaration (and the probe follows), never adding a second
    port beside it."""
    shutil.copytree(ENVIRONMENTS / "lb50", tmp_path / "lb50")
    export = tmp_path / "lb50" / ENVS["lb50"][0]
    listing = yaml.safe_load(export.read_text())
    deployment = next(o for o in listing["items"] if o["kind"] == "Deployment")
    for port in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]:
        if port["name"] == "http":
            port["containerPort"] = 8000
    export.write_text(yaml.safe_dump(listing))
    raw = {**raw_config("lb50"), "phase": "parallel"}
    raw["workloads"][0]["containerPort"] = 8080
    migration = load_migration(raw, tmp_path / "lb50")
    state = build_desired_state(migration)
    (new,) = workload_deployments(state)
    container = new["spec"]["template"]["spec"]["containers"][0]
    assert {p.get("name"): p["containerPort"] for p in container["ports"]} == {"metrics": 9090, "http": 8080}
    assert container["readinessProbe"]["httpGet"]["port"] == 8080
    service = next(s for s in new_objects(state, "Service") if s["metadata"]["name"] == "storefront-spin")
    assert {p["name"]: p["targetPort"] for p in service["spec"]["ports"]} == {
        "metrics": "metrics",
        "http": 8080,
    }


def _live(env: str, kind: str) -> dict[str, Any]:
    """The object as the API server holds it: the export with managedFields and status."""
    text = (ENVIRONMENTS / env / ENVS[env][0]).read_text()
    return next(o for o in yaml.safe_load(text)["items"] if o["kind"] == kind)


@pytest.mark.parametrize(("phase", "weight"), WALK, ids=lambda v: getattr(v, "value", v))
def test_importing_lb50_issues_no_update(phase, weight):
    """What pulumi-kubernetes reads back on import (tests/engine.py kubernetes_read: every top-level field
    of the live object) against the adoption's inputs after ignore_changes ["*"]: the engine's update
    after the import is empty for the Deployment, the Service and the HPA, in every phase."""
    state = state_at("lb50", phase, weight)
    adopted = {spec.inputs["kind"]: spec for spec in state.resources if spec.import_id and spec.is_kubernetes}
    expected = (
        {"Service"} if phase is Phase.DECOMMISSION else {"Deployment", "Service", "HorizontalPodAutoscaler"}
    )
    assert set(adopted) == expected
    for kind, spec in adopted.items():
        imported = kubernetes_read(_live("lb50", kind))
        assert update_after_import(spec.inputs, imported, list(spec.ignore_changes)) == set(), kind
        assert "spec" in update_after_import({**spec.inputs, "spec": {}}, imported, []), kind


def test_the_cutover_patch_wins_over_the_hpa_in_preview_and_up():
    """The legacy Deployment's replicas belong to kube-controller-manager, through the scale subresource
    (the export's managedFields). Setting them to 0 conflicts, and neither a preview nor an update
    forces over a scale-subresource owner on its own (pulumi-kubernetes await.go patchForce;
    fixCSAFieldManagers hands over only kubectl's non-subresource fields): the patch's
    `pulumi.com/patchForce` annotation makes both force."""
    live = _live("lb50", "Deployment")
    patch = state_at("lb50", Phase.CUTOVER, 100).by_name()["checkout/storefront/legacy-replicas"]
    assert apply_conflicts(live, patch.inputs["spec"]) == {"replicas": "kube-controller-manager"}
    assert patch_force(patch.inputs, live, preview=True) and patch_force(patch.inputs, live, preview=False)
    unforced = {
        **patch.inputs,
        "metadata": {k: v for k, v in patch.inputs["metadata"].items() if k != "annotations"},
    }
    assert not patch_force(unforced, live, preview=True)
