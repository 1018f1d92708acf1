"""Each workload's path from the WASI pool to the shim pool, phase by phase."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import pytest

from components.config import Phase
from components.desired import build_desired_state
from components.desired.workloads import ISOLATE_ALL, parallel_split, plan_workload, surge
from components.legacy import LegacyWorkload, strip_server_fields
from components.migration import load_migration
from components.scheduling import scheduling_problems
from tests.conftest import ROOT, WALK, load_raw, phase_path


def _state(phase: Phase, weight: int | None = None):
    return build_desired_state(load_migration(load_raw(phase_path(phase, weight))))


def _inputs(state, name: str) -> dict | None:
    spec = state.by_name().get(name)
    return spec.inputs if spec else None


def _exported(path: str, kind: str) -> dict:
    import yaml

    items = yaml.safe_load((ROOT / path).read_text())["items"]
    return next(strip_server_fields(item) for item in items if item["kind"] == kind)


LEGACY = {
    "web/hello-spin": "manifests/legacy/web/hello-spin.yaml",
    "shop/orders-api": "manifests/legacy/shop/orders-api.yaml",
    "shop/inventory": "manifests/legacy/shop/inventory.yaml",
}


def _at(phase: Phase):
    """The phase's state; parallel at its 50 % step."""
    return _state(phase, 50 if phase is Phase.PARALLEL else None)


@pytest.mark.parametrize("phase", list(Phase))
def test_legacy_objects_are_adopted_exactly_as_exported_and_never_applied(phase):
    """The exported manifests appear only in read-only adoptions (ignore_changes *): no registration
    ever applies a legacy pod template, whatever the phase."""
    state = _at(phase)
    for prefix, path in LEGACY.items():
        deployment = state.by_name().get(f"{prefix}/legacy-deployment")
        service = state.by_name()[f"{prefix}/legacy-service"]
        assert service.inputs == _exported(path, "Service")
        assert service.ignore_changes == ("*",) and service.protect
        if phase is Phase.DECOMMISSION:
            assert deployment is None
            continue
        assert deployment.inputs == _exported(path, "Deployment")
        assert deployment.ignore_changes == ("*",) and deployment.protect
        exported_template = deployment.inputs["spec"]["template"]
        for spec in state.resources:
            if spec.name != f"{prefix}/legacy-deployment":
                assert (spec.inputs.get("spec") or {}).get("template") != exported_template, spec.name


# Legacy replicas the bounded default split keeps at 50 %; orders-api splits through its HTTPRoute.
PARALLEL_50_LEGACY = {"web/hello-spin": 1, "shop/orders-api": 3, "shop/inventory": 1}


@pytest.mark.parametrize("phase", list(Phase))
def test_patches_carry_only_the_fields_they_own(phase):
    state = _at(phase)
    expected_replicas = {Phase.PREPARE: "export", Phase.PARALLEL: "export", Phase.CUTOVER: 0}
    for prefix, path in LEGACY.items():
        exported = _exported(path, "Deployment")
        identity = {"name": exported["metadata"]["name"], "namespace": exported["metadata"]["namespace"]}
        replicas = state.by_name().get(f"{prefix}/legacy-replicas")
        if phase not in expected_replicas:
            assert replicas is None
        else:
            want = exported["spec"]["replicas"] if expected_replicas[phase] == "export" else 0
            if phase is Phase.PARALLEL:
                want = PARALLEL_50_LEGACY[prefix]  # the bounded default split scales legacy down
            assert replicas.inputs == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {**identity, "annotations": {"pulumi.com/patchForce": "true"}},
                "spec": {"replicas": want},
            }
            assert replicas.type == "kubernetes:apps/v1:DeploymentPatch"
            assert replicas.retain_on_delete and replicas.deleted_with == f"{prefix}/legacy-deployment"
        selector = state.by_name().get(f"{prefix}/legacy-selector")
        if phase is Phase.BASELINE:
            assert selector is None
            continue
        assert selector.type == "kubernetes:core/v1:ServicePatch"
        assert set(selector.inputs["spec"]) == {"selector"}
        assert selector.retain_on_delete and selector.deleted_with == f"{prefix}/legacy-service"


def test_new_deployment_is_translated_onto_the_new_runtime_class():
    state = _state(Phase.PARALLEL, 50)
    orders = _inputs(state, "shop/orders-api/wasm-deployment")
    pod = orders["spec"]["template"]["spec"]
    assert pod["runtimeClassName"] == "wasm-spin"
    assert "nodeSelector" not in pod  # kubernetes.azure.com/wasmtime-spin-v1 dropped: the class schedules
    (container,) = pod["containers"]
    assert container["image"] == "contosoacr.azurecr.io/shop/orders-api:2.0.0-spin3"
    assert container["resources"] == {
        "requests": {"cpu": "100m", "memory": "64Mi"},
        "limits": {"cpu": "200m", "memory": "128Mi"},
    }
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert container["env"] == [{"name": "ORDERS_DB_HOST", "value": "orders-db.shop.svc.cluster.local"}]
    assert "annotations" not in orders["spec"]["template"]["metadata"]  # restartedAt of the legacy rollout
    assert orders["metadata"]["name"] == "orders-api-spin"
    assert orders["metadata"]["labels"]["app.kubernetes.io/part-of"] == "aks-wasm-migration"

    hello = _inputs(state, "web/hello-spin/wasm-deployment")["spec"]["template"]["spec"]["containers"][0]
    assert hello["image"] == "ghcr.io/spinkube/containerd-shim-spin/examples/spin-rust-hello:v0.15.1"
    assert hello["readinessProbe"]["httpGet"] == {"path": "/hello", "port": 80}
    inventory = _inputs(state, "shop/inventory/wasm-deployment")["spec"]["template"]["spec"]["containers"][0]
    assert inventory["livenessProbe"]["httpGet"] == {"path": "/health", "port": 80}


def test_new_selector_matches_only_new_pods():
    state = _state(Phase.PARALLEL, 50)
    for prefix, path in LEGACY.items():
        selector = _inputs(state, f"{prefix}/wasm-deployment")["spec"]["selector"]["matchLabels"]
        legacy_labels = _exported(path, "Deployment")["spec"]["template"]["metadata"]["labels"]
        new_labels = _inputs(state, f"{prefix}/wasm-deployment")["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= new_labels.items()
        assert not selector.items() <= legacy_labels.items()
        pdb = _inputs(state, f"{prefix}/wasm-pdb")
        assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": selector}}
        assert _inputs(state, f"{prefix}/wasm-service")["spec"]["selector"] == selector


def test_prepare_runs_only_the_canary_outside_production_traffic():
    state = _state(Phase.PREPARE)
    hello = _inputs(state, "web/hello-spin/wasm-deployment")
    assert hello["spec"]["replicas"] == 1
    labels = hello["spec"]["template"]["metadata"]["labels"]
    assert "app" not in labels  # the production Service selects app=hello-spin
    assert _inputs(state, "web/hello-spin/wasm-service")["spec"]["type"] == "ClusterIP"
    assert _inputs(state, "shop/orders-api/wasm-deployment") is None
    assert _inputs(state, "shop/inventory/wasm-deployment") is None
    route = _inputs(state, "shop/orders-api/route")
    assert route["spec"]["rules"][0]["backendRefs"] == [{"name": "orders-api", "port": 80, "weight": 100}]
    assert {t.workload: {e.entry: e.share for e in t.entry_points} for t in state.traffic} == {
        "web/hello-spin": {"LoadBalancer web/hello-spin": "0%", "ClusterIP web/hello-spin": "0%"},
        "shop/orders-api": {
            "Gateway gateway-system/public shop.contoso.com/orders": "0%",
            "ClusterIP shop/orders-api": "0%",
        },
        "shop/inventory": {"ClusterIP shop/inventory": "0%"},
    }


def test_parallel_shares_production_traffic_at_the_weight():
    state = _state(Phase.PARALLEL, 50)
    hello = _inputs(state, "web/hello-spin/wasm-deployment")
    assert hello["spec"]["replicas"] == 1  # target 2 at 50 %: 1 legacy + 1 new
    assert _inputs(state, "web/hello-spin/legacy-replicas")["spec"]["replicas"] == 1
    assert hello["spec"]["template"]["metadata"]["labels"]["app"] == "hello-spin"
    route = _inputs(state, "shop/orders-api/route")["spec"]
    assert route["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "public",
            "namespace": "gateway-system",
            "sectionName": "https",
        }
    ]
    assert route["hostnames"] == ["shop.contoso.com"]
    assert route["rules"][0]["matches"] == [{"path": {"type": "PathPrefix", "value": "/orders"}}]
    assert route["rules"][0]["backendRefs"] == [
        {"name": "orders-api", "port": 80, "weight": 50},
        {"name": "orders-api-spin", "port": 80, "weight": 50},
    ]
    orders_labels = _inputs(state, "shop/orders-api/wasm-deployment")["spec"]["template"]["metadata"][
        "labels"
    ]
    assert "app" not in orders_labels  # exact split: only the HTTPRoute sends it traffic
    # In-cluster clients of the legacy Service bypass the exact split: they reach legacy pods only.
    assert {t.workload: {e.entry: e.share for e in t.entry_points} for t in state.traffic} == {
        "web/hello-spin": {"LoadBalancer web/hello-spin": "50%", "ClusterIP web/hello-spin": "50%"},
        "shop/orders-api": {
            "Gateway gateway-system/public shop.contoso.com/orders": "50%",
            "ClusterIP shop/orders-api": "0%",
        },
        "shop/inventory": {"ClusterIP shop/inventory": "50%"},
    }


def _hello_plan(weight: int, target: int | None = None, legacy_pods: int | None = None):
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    legacy = migration.workloads[0]
    if target is not None or legacy_pods is not None:
        config = legacy.config.model_copy(update={"replicas": target})
        deployment = copy.deepcopy(legacy.deployment)
        deployment["spec"]["replicas"] = legacy_pods if legacy_pods is not None else legacy.replicas
        legacy = LegacyWorkload(config, deployment, legacy.service)
    return plan_workload(Phase.PARALLEL, legacy, weight)


@pytest.mark.parametrize("weight", [95, 99])
def test_high_weights_on_two_replicas_stay_bounded(weight):
    """The issue: weight 95 asked for 38 new pods beside 2 legacy ones, 99 for 198."""
    plan = _hello_plan(weight)
    assert (plan.legacy_replicas, plan.new_replicas) == (1, 2)  # target 2 + surge 1
    assert plan.new_share_percent == 67


def test_the_reference_split_keeps_capacity_at_the_target():
    plan = _hello_plan(50)
    assert (plan.legacy_replicas, plan.new_replicas, plan.new_share_percent) == (1, 1, 50)


def _feasible(legacy: int, target: int):
    ceiling = target + surge(target)
    for new in range(1, target + 1):
        for kept in range(1, legacy + 1):
            if target <= new + kept <= ceiling:
                yield kept, new


GRID = [(legacy, target) for legacy in (1, 2, 3, 5, 8, 13) for target in (1, 2, 3, 4, 7, 10, 25)]


@pytest.mark.parametrize(("legacy", "target"), GRID)
def test_default_split_properties_over_a_grid(legacy, target):
    for weight in range(1, 101):
        split = parallel_split(legacy, target, weight)
        new, kept = split.new_replicas, split.legacy_replicas
        # Bounded: never more new pods than the target, never more in total than target + surge, never
        # fewer than the target (capacity kept), never more legacy pods than run today.
        assert 1 <= new <= target, (legacy, target, weight)
        assert 1 <= kept <= legacy
        assert target <= new + kept <= target + surge(target)
        # The closest share any bounded pair can reach, by brute force.
        best = min(abs(Fraction(100 * n, n + k) - weight) for k, n in _feasible(legacy, target))
        assert abs(Fraction(100 * new, new + kept) - weight) == best
        # Within one pod of the weight, unless a bound stops it.
        off_by = abs(Fraction(new) - Fraction(weight * (new + kept), 100))
        assert off_by <= 1 or new == target or kept in (1, legacy), (legacy, target, weight, split)
        assert split.new_share_percent == round(100 * new / (new + kept))


def test_surge_is_a_quarter_of_the_target_and_at_least_one():
    assert [surge(t) for t in (1, 2, 4, 5, 8, 100)] == [1, 1, 1, 2, 2, 25]


def test_gateway_workloads_keep_full_replicas_and_the_exact_weight():
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    orders = migration.workloads[1]
    plan = plan_workload(Phase.PARALLEL, orders, 95)
    assert (plan.legacy_replicas, plan.new_replicas, plan.route_weight, plan.new_share_percent) == (
        3,
        3,
        95,
        95,
    )


def test_zero_weight_keeps_new_pods_out_of_production():
    plan = _hello_plan(0)
    assert plan.isolation == ISOLATE_ALL and plan.new_share_percent == 0
    assert (plan.legacy_replicas, plan.new_replicas) == (2, 1)  # one new pod, for verification only


def test_cutover_sends_everything_to_new_and_keeps_legacy_at_zero():
    state = _state(Phase.CUTOVER)
    for prefix in LEGACY:
        assert _inputs(state, f"{prefix}/legacy-replicas")["spec"] == {"replicas": 0}
        selector = _inputs(state, f"{prefix}/wasm-deployment")["spec"]["selector"]["matchLabels"]
        assert _inputs(state, f"{prefix}/legacy-selector")["spec"] == {"selector": selector}
    route = _inputs(state, "shop/orders-api/route")["spec"]["rules"][0]["backendRefs"]
    assert [b["weight"] for b in route] == [0, 100]
    assert _inputs(state, "shop/inventory/wasm-deployment")["spec"]["replicas"] == 2


def test_rollback_from_cutover_restores_replicas_by_the_patch_never_by_relinquishing():
    """Removing a patch would relinquish `replicas` (it falls back to 1). Rolling back, the patch
    stays and sets what the earlier phase plans: the split's legacy count in parallel, and the exported
    count in prepare (the patch exists from prepare on, so no rollback ever removes it)."""
    parallel, prepare = _at(Phase.PARALLEL), _at(Phase.PREPARE)
    for prefix, path in LEGACY.items():
        exported = _exported(path, "Deployment")["spec"]["replicas"]
        assert _inputs(parallel, f"{prefix}/legacy-replicas")["spec"] == {
            "replicas": PARALLEL_50_LEGACY[prefix]
        }
        assert _inputs(prepare, f"{prefix}/legacy-replicas")["spec"] == {"replicas": exported}
        assert exported > 1


def test_decommission_deletes_legacy_deployments_without_recreating_their_pods():
    """The replicas patches leave with their Deployments: retained (no relinquish, which would bring
    replicas back to 1 and start WASI pods) and deleted_with the Deployment."""
    cutover, decommission = _at(Phase.CUTOVER), _at(Phase.DECOMMISSION)
    for prefix in LEGACY:
        patch = cutover.by_name()[f"{prefix}/legacy-replicas"]
        assert patch.retain_on_delete and patch.deleted_with == f"{prefix}/legacy-deployment"
        assert f"{prefix}/legacy-replicas" not in decommission.by_name()
        assert f"{prefix}/legacy-deployment" not in decommission.by_name()


def test_decommission_keeps_the_user_facing_service_selecting_only_new_pods():
    state = _state(Phase.DECOMMISSION)
    hello = _inputs(state, "web/hello-spin/legacy-service")
    exported = _exported(LEGACY["web/hello-spin"], "Service")
    assert hello == exported  # adopted as it is; only the patch below changes it
    assert _inputs(state, "web/hello-spin/legacy-selector")["spec"]["selector"] == {
        "app.kubernetes.io/instance": "hello-spin-spin",
    }
    route = _inputs(state, "shop/orders-api/route")["spec"]["rules"][0]["backendRefs"]
    assert route == [{"name": "orders-api-spin", "port": 80, "weight": 100}]


def test_legacy_objects_are_imported_by_namespace_and_name():
    state = _at(Phase.BASELINE)
    assert state.by_name()["web/hello-spin/legacy-service"].import_id == "web/hello-spin"
    assert state.by_name()["web/hello-spin/legacy-deployment"].import_id == "web/hello-spin"
    assert state.by_name()["shop/orders-api/legacy-service"].import_id == "shop/orders-api"


def test_a_gateway_workload_at_weight_100_keeps_its_legacy_pods_in_parallel():
    migration = load_migration(load_raw(phase_path(Phase.PARALLEL, 50)))
    orders = next(w for w in migration.workloads if w.config.gateway)
    plan = plan_workload(Phase.PARALLEL, orders, 100)
    assert plan.legacy_replicas == orders.replicas == 3
    assert plan.route_weight == 100 and plan.new_share_percent == 100


def test_new_deployments_wait_for_the_pool_the_shim_and_the_runtime_class():
    for step in WALK[1:]:
        for spec in build_desired_state(load_migration(load_raw(step.path))).resources:
            if spec.name.endswith("/wasm-deployment"):
                assert {"target-pool-spinpool", "shim-installer", "shim-runtime-class"} <= set(
                    spec.depends_on
                )


def test_scale_down_waits_for_new_pods_and_moved_traffic():
    state = _at(Phase.CUTOVER)
    assert set(state.by_name()["shop/orders-api/legacy-replicas"].depends_on) == {
        "shop/orders-api/legacy-deployment",
        "shop/orders-api/legacy-selector",
        "shop/orders-api/wasm-deployment",
        "shop/orders-api/route",
        "shop/orders-api/verify-job",  # the verification gate
    }
    assert set(state.by_name()["web/hello-spin/legacy-selector"].depends_on) == {
        "web/hello-spin/legacy-service",
        "web/hello-spin/wasm-deployment",
        "web/hello-spin/verify-job",  # the verification gate
    }


def test_in_prepare_legacy_capacity_comes_first():
    """Prepare only keeps (or, rolling back, restores) legacy capacity: the new side waits for it."""
    state = _at(Phase.PREPARE)
    for name in (
        "web/hello-spin/wasm-deployment",
        "web/hello-spin/wasm-service",
        "web/hello-spin/legacy-selector",
    ):
        assert "web/hello-spin/legacy-replicas" in state.by_name()[name].depends_on, name
    assert "shop/orders-api/legacy-replicas" in state.by_name()["shop/orders-api/route"].depends_on


def test_in_parallel_the_split_scales_legacy_down_only_once_new_pods_serve():
    """No capacity dip: the bounded split's legacy scale-down waits for the new Deployment (awaited until
    Ready); the route and the check wait for the split; traffic moves back only after legacy returns."""
    state = _at(Phase.PARALLEL)
    for workload in ("web/hello-spin", "shop/inventory", "shop/orders-api"):
        replicas = state.by_name()[f"{workload}/legacy-replicas"]
        assert f"{workload}/wasm-deployment" in replicas.depends_on
        assert f"{workload}/legacy-replicas" not in state.by_name()[f"{workload}/wasm-deployment"].depends_on
        assert f"{workload}/legacy-replicas" in state.by_name()[f"{workload}/legacy-selector"].depends_on
        assert f"{workload}/legacy-replicas" in state.by_name()[f"{workload}/verify-job"].depends_on
    assert "shop/orders-api/legacy-replicas" in state.by_name()["shop/orders-api/route"].depends_on


def test_a_spiderlightning_workload_moves_on_its_replacement_image():
    container = _inputs(_state(Phase.PARALLEL, 50), "shop/inventory/wasm-deployment")["spec"]["template"][
        "spec"
    ]["containers"][0]
    assert container["image"] == "contosoacr.azurecr.io/shop/inventory:3.0.0-spin"


WASI_AFFINITY = """        affinity:
          nodeAffinity:
            requiredDuringSchedulingIgnoredDuringExecution:
              nodeSelectorTerms:
              - matchExpressions:
                - key: kubernetes.azure.com/wasmtime-spin-v2
                  operator: In
                  values: ["true"]
                - key: topology.kubernetes.io/zone
                  operator: In
                  values: ["westeurope-1", "westeurope-2"]
            preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 10
              preference:
                matchExpressions:
                - key: kubernetes.azure.com/wasmtime-spin-v2
                  operator: Exists
          podAntiAffinity:
            preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 50
              podAffinityTerm:
                topologyKey: kubernetes.io/hostname
                labelSelector:
                  matchLabels:
                    app: hello-spin
"""


def with_affinity(project_dir, affinity: str = WASI_AFFINITY) -> dict:
    text = (
        (ROOT / LEGACY["web/hello-spin"])
        .read_text()
        .replace(
            "        runtimeClassName: wasmtime-spin-v2\n",
            f"{affinity}        runtimeClassName: wasmtime-spin-v2\n",
        )
    )
    (project_dir / "hello.yaml").write_text(text)
    raw = copy.deepcopy(load_raw(phase_path(Phase.PARALLEL, 50)))
    raw["workloads"][0]["manifest"] = str((project_dir / "hello.yaml").relative_to(ROOT))
    return raw


def test_wasi_node_affinity_is_dropped_and_the_rest_kept(project_dir):
    migration = load_migration(with_affinity(project_dir))
    state = build_desired_state(migration)
    affinity = _inputs(state, "web/hello-spin/wasm-deployment")["spec"]["template"]["spec"]["affinity"]
    assert affinity["nodeAffinity"] == {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [
                {
                    "matchExpressions": [
                        {
                            "key": "topology.kubernetes.io/zone",
                            "operator": "In",
                            "values": ["westeurope-1", "westeurope-2"],
                        }
                    ]
                }
            ]
        }
    }
    assert affinity["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]["weight"] == 50
    assert scheduling_problems(migration.config, state) == []  # legacy pods still pinned, new ones free
    legacy = _inputs(state, "web/hello-spin/legacy-deployment")["spec"]["template"]["spec"]["affinity"]
    assert (
        legacy["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"][0][
            "matchExpressions"
        ][0]["key"]
        == "kubernetes.azure.com/wasmtime-spin-v2"
    )


KRUSTLET_POD = """        hostNetwork: true
        dnsPolicy: ClusterFirstWithHostNet
        nodeSelector:
          kubernetes.io/arch: wasm32-wagi
          contoso.com/tier: web
        tolerations:
        - key: kubernetes.io/arch
          operator: Equal
          value: wasm32-wagi
          effect: NoSchedule
        - key: kubernetes.azure.com/wasmtime-spin-v2
          operator: Exists
        - key: contoso.com/maintenance
          operator: Exists
          effect: NoSchedule
"""


def test_krustlet_host_network_and_wasi_tolerations_are_dropped_from_new_pods(project_dir):
    state = build_desired_state(load_migration(with_affinity(project_dir, KRUSTLET_POD)))
    pod = _inputs(state, "web/hello-spin/wasm-deployment")["spec"]["template"]["spec"]
    assert "hostNetwork" not in pod and "dnsPolicy" not in pod
    assert pod["nodeSelector"] == {"contoso.com/tier": "web"}
    assert pod["tolerations"] == [
        {"key": "contoso.com/maintenance", "operator": "Exists", "effect": "NoSchedule"}
    ]
    legacy = _inputs(state, "web/hello-spin/legacy-deployment")["spec"]["template"]["spec"]
    assert legacy["hostNetwork"] is True and len(legacy["tolerations"]) == 3


@pytest.mark.parametrize("phase", list(Phase))
def test_importing_the_live_legacy_objects_issues_no_update(phase):
    """What pulumi-kubernetes reads back on import (every top-level field of the live object, from a
    realistic `kubectl get -o yaml` with managedFields and status) against the adoption's inputs after
    ignore_changes: the update the engine would send is empty, in every phase; without the wildcard it
    would apply the export (and own every field it sends)."""
    import yaml

    from tests.engine import kubernetes_read, update_after_import

    state = _at(phase)
    for prefix, path in LEGACY.items():
        live = yaml.safe_load((ROOT / path).read_text())["items"]
        for obj in live:
            kind = obj["kind"].lower()
            spec = state.by_name().get(f"{prefix}/legacy-{kind}")
            if spec is None:  # decommission: the Deployment is gone
                continue
            imported = kubernetes_read(obj)
            imported["metadata"].setdefault("annotations", {})["kubectl.kubernetes.io/note"] = "drifted"
            assert update_after_import(spec.inputs, imported, list(spec.ignore_changes)) == set(), spec.name
            assert "metadata" in update_after_import(spec.inputs, imported, []), spec.name


def test_the_route_waits_until_the_gateway_accepted_it():
    route = _inputs(_at(Phase.PARALLEL), "shop/orders-api/route")
    wait_for = json.loads(route["metadata"]["annotations"]["pulumi.com/waitFor"])
    assert wait_for == [
        'jsonpath={.status.parents[*].conditions[?(@.type=="Accepted")].status}=True',
        'jsonpath={.status.parents[*].conditions[?(@.type=="ResolvedRefs")].status}=True',
    ]
