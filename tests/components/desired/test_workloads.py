"""Each workload's path from the WASI pool to the shim pool, phase by phase."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import pytest

from components.analysis.scheduling import scheduling_problems
from components.analysis.traffic import analysed_state
from components.core.config import Phase
from components.desired.phase_table import Capacity, Count, Isolation, LegacySide, plan_workload, toward
from components.export.workload import strip_server_fields
from components.loading import load_migration
from tests.conftest import ROOT, WALK, load_raw, phase_path


def _state(phase: Phase, weight: int | None = None):
    return analysed_state(load_migration(load_raw(phase_path(phase, weight))))


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


@pytest.mark.parametrize("phase", list(Phase))
def test_the_one_legacy_patch_carries_only_the_fields_it_owns(phase):
    state = _at(phase)
    for prefix, path in LEGACY.items():
        exported = _exported(path, "Deployment")
        identity = {"name": exported["metadata"]["name"], "namespace": exported["metadata"]["namespace"]}
        replicas = state.by_name().get(f"{prefix}/legacy-replicas")
        assert f"{prefix}/legacy-selector" not in state.by_name()  # no Service is ever patched
        if phase in (Phase.BASELINE, Phase.DECOMMISSION):
            assert replicas is None
            continue
        want = 0 if phase is Phase.CUTOVER else exported["spec"]["replicas"]
        assert replicas.inputs["spec"] == {"replicas": want}
        assert replicas.inputs["metadata"]["name"] == identity["name"]
        assert replicas.inputs["metadata"]["namespace"] == identity["namespace"]
        assert replicas.inputs["metadata"]["annotations"]["pulumi.com/patchForce"] == "true"
        assert replicas.type == "kubernetes:apps/v1:DeploymentPatch"
        assert replicas.retain_on_delete and replicas.deleted_with == f"{prefix}/legacy-deployment"


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
        assert selector == {"aks-wasm-migration/instance": f"{prefix.split('/')[1]}-spin"}
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
    assert hello["spec"]["replicas"] == 2  # 2 legacy pods stay: 2 new ones for 50 %
    assert _inputs(state, "web/hello-spin/legacy-replicas")["spec"]["replicas"] == 2
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


FIXED_3 = Capacity(Count(3), Count(3))
HPA_30_80 = Capacity(Count(30, 80), Count(30, 80))
K, A, N, D = LegacySide.KEPT, LegacySide.ADOPTED, LegacySide.ZERO, LegacySide.DELETED
ALL, SERVICES, NONE = Isolation.ALL, Isolation.SERVICES, Isolation.NONE

# (phase, weight, capacity, gateway, canary) -> (legacy, new, isolation, route weight, asked %), in
# walking order: the legacy side stays whole until cutover, the new side grows while it is.
PLANS = [
    ((Phase.BASELINE, 0, FIXED_3, False, 1), (A, None, ALL, None, 0)),
    ((Phase.PREPARE, 0, FIXED_3, False, 1), (K, Count(1), ALL, None, 0)),
    ((Phase.PREPARE, 0, FIXED_3, False, None), (K, None, ALL, None, 0)),
    ((Phase.PREPARE, 0, FIXED_3, True, None), (K, None, ALL, 0, 0)),
    ((Phase.PARALLEL, 0, FIXED_3, False, 1), (K, Count(1), ALL, None, 0)),
    ((Phase.PARALLEL, 10, FIXED_3, False, 1), (K, Count(1), NONE, None, 10)),  # 1 of 4: 25 %
    ((Phase.PARALLEL, 25, FIXED_3, False, 1), (K, Count(1), NONE, None, 25)),
    ((Phase.PARALLEL, 50, FIXED_3, False, 1), (K, Count(3), NONE, None, 50)),
    ((Phase.PARALLEL, 90, FIXED_3, False, 1), (K, Count(3), NONE, None, 90)),  # at most the target
    ((Phase.PARALLEL, 100, FIXED_3, False, 1), (K, Count(3), NONE, None, 100)),
    ((Phase.PARALLEL, 0, FIXED_3, True, 1), (K, Count(3), ALL, 0, 0)),
    ((Phase.PARALLEL, 10, FIXED_3, True, 1), (K, Count(3), SERVICES, 10, 10)),
    ((Phase.PARALLEL, 100, FIXED_3, True, 1), (K, Count(3), NONE, 100, 100)),
    ((Phase.CUTOVER, 100, FIXED_3, True, 1), (N, Count(3), NONE, 100, 100)),
    ((Phase.DECOMMISSION, 100, FIXED_3, False, 1), (D, Count(3), NONE, None, 100)),
    ((Phase.PREPARE, 0, HPA_30_80, False, 2), (K, Count(2, 2), ALL, None, 0)),
    ((Phase.PARALLEL, 0, HPA_30_80, False, 2), (K, Count(1, 1), ALL, None, 0)),
    ((Phase.PARALLEL, 10, HPA_30_80, False, 2), (K, Count(3, 9), NONE, None, 10)),
    ((Phase.PARALLEL, 50, HPA_30_80, False, 2), (K, Count(30, 80), NONE, None, 50)),
    ((Phase.PARALLEL, 100, HPA_30_80, False, 2), (K, Count(30, 80), NONE, None, 100)),
    ((Phase.CUTOVER, 100, HPA_30_80, False, 2), (N, Count(30, 80), NONE, None, 100)),
]


@pytest.mark.parametrize(("given", "expected"), PLANS, ids=lambda v: "-".join(map(str, v[:2])))
def test_the_phase_table(given, expected):
    phase, weight, capacity, gateway, canary = given
    plan = plan_workload(phase, weight, capacity, gateway=gateway, canary=canary, stop_then_start=False)
    assert (plan.legacy, plan.new, plan.isolation, plan.route_weight, plan.requested_percent) == expected
    assert plan.await_legacy == (phase is Phase.PARALLEL)


@pytest.mark.parametrize(
    ("weight", "legacy", "target", "new"),
    [
        (0, 2, 2, 1),  # one pod, checked outside traffic
        (10, 2, 2, 1),  # 0.2 new pods for 10 %: at least one
        (50, 2, 2, 2),
        (95, 2, 2, 2),  # never more than the target (the issue: 38 new pods beside 2 legacy ones)
        (99, 50, 50, 50),
        (10, 50, 50, 6),  # 5.6: 6 of 56 = 10.7 %
        (25, 3, 3, 1),
        (100, 2, 5, 5),  # full capacity is the configured target
        (10, 0, 0, 0),  # scaled to zero: nothing to run beside it
        (100, 0, 0, 0),
        (0, 0, 3, 0),
    ],
)
def test_toward_a_weight(weight, legacy, target, new):
    assert toward(weight, legacy, target) == new


def test_toward_properties_over_a_grid():
    for legacy in (1, 2, 3, 5, 8, 13, 50):
        for target in (1, 2, 3, 7, 25, 50):
            previous = 0
            for weight in range(0, 101):
                new = toward(weight, legacy, target)
                assert 1 <= new <= target  # bounded by full capacity, at least one pod to check
                assert new >= previous  # a higher weight never has fewer new pods
                previous = new
                if 0 < weight < 100 and new < target:
                    exact = Fraction(legacy * weight, 100 - weight)
                    assert abs(new - exact) <= Fraction(1, 2) or new == 1, (legacy, target, weight)
            assert toward(100, legacy, target) == target


def test_cutover_takes_the_legacy_pods_away_and_keeps_every_service_as_it_is():
    state = _state(Phase.CUTOVER)
    for prefix in LEGACY:
        assert _inputs(state, f"{prefix}/legacy-replicas")["spec"] == {"replicas": 0}
        assert f"{prefix}/legacy-selector" not in state.by_name()
    route = _inputs(state, "shop/orders-api/route")["spec"]["rules"][0]["backendRefs"]
    assert [b["weight"] for b in route] == [0, 100]
    assert _inputs(state, "shop/inventory/wasm-deployment")["spec"]["replicas"] == 2


def test_decommission_deletes_legacy_deployments_without_recreating_their_pods():
    """The replicas patches leave with their Deployments: retained (no relinquish, which would bring
    replicas back to 1 and start WASI pods) and deleted_with the Deployment."""
    cutover, decommission = _at(Phase.CUTOVER), _at(Phase.DECOMMISSION)
    for prefix in LEGACY:
        patch = cutover.by_name()[f"{prefix}/legacy-replicas"]
        assert patch.retain_on_delete and patch.deleted_with == f"{prefix}/legacy-deployment"
        assert f"{prefix}/legacy-replicas" not in decommission.by_name()
        assert f"{prefix}/legacy-deployment" not in decommission.by_name()


def test_decommission_keeps_the_user_facing_service_which_selects_the_new_pods():
    state = _state(Phase.DECOMMISSION)
    hello = _inputs(state, "web/hello-spin/legacy-service")
    exported = _exported(LEGACY["web/hello-spin"], "Service")
    assert hello == exported  # adopted as it is, never changed
    labels = _inputs(state, "web/hello-spin/wasm-deployment")["spec"]["template"]["metadata"]["labels"]
    assert exported["spec"]["selector"].items() <= labels.items()
    route = _inputs(state, "shop/orders-api/route")["spec"]["rules"][0]["backendRefs"]
    assert route == [{"name": "orders-api-spin", "port": 80, "weight": 100}]


def test_legacy_objects_are_imported_by_namespace_and_name():
    state = _at(Phase.BASELINE)
    assert state.by_name()["web/hello-spin/legacy-service"].import_id == "web/hello-spin"
    assert state.by_name()["web/hello-spin/legacy-deployment"].import_id == "web/hello-spin"
    assert state.by_name()["shop/orders-api/legacy-service"].import_id == "shop/orders-api"


def test_new_deployments_wait_for_the_pool_the_shim_and_the_runtime_class():
    for step in WALK[1:]:
        for spec in analysed_state(load_migration(load_raw(step.path))).resources:
            if spec.name.endswith("/wasm-deployment"):
                assert {"target-pool-spinpool", "shim-installer", "shim-runtime-class"} <= set(
                    spec.depends_on
                )


def test_the_legacy_scale_down_waits_for_new_pods_moved_traffic_and_the_check():
    state = _at(Phase.CUTOVER)
    assert set(state.by_name()["shop/orders-api/legacy-replicas"].depends_on) == {
        "shop/orders-api/legacy-deployment",
        "shop/orders-api/wasm-deployment",
        "shop/orders-api/wasm-service",
        "shop/orders-api/route",
        "shop/orders-api/verify-job",  # the verification gate
    }


@pytest.mark.parametrize("phase", [Phase.PREPARE, Phase.PARALLEL])
def test_before_cutover_nothing_new_waits_for_the_legacy_side(phase):
    """The legacy side is not changed before cutover, so nothing waits on its patch, whose await is
    skipped or (parallel) only the way back from cutover needs."""
    state = _at(phase)
    for spec in state.resources:
        assert not any(d.endswith("/legacy-replicas") for d in spec.depends_on), spec.name


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
    state = analysed_state(migration)
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
    state = analysed_state(load_migration(with_affinity(project_dir, KRUSTLET_POD)))
    pod = _inputs(state, "web/hello-spin/wasm-deployment")["spec"]["template"]["spec"]
    assert "hostNetwork" not in pod and "dnsPolicy" not in pod
    assert pod["nodeSelector"] == {"contoso.com/tier": "web"}
    assert pod["tolerations"] == [
        {"key": "contoso.com/maintenance", "operator": "Exists", "effect": "NoSchedule"}
    ]
    legacy = _inputs(state, "web/hello-spin/legacy-deployment")["spec"]["template"]["spec"]
    assert legacy["hostNetwork"] is True and len(legacy["tolerations"]) == 3


ARM_POD = """        nodeSelector:
          kubernetes.io/arch: arm64
          kubernetes.azure.com/wasmtime-spin-v2: "true"
        tolerations:
        - key: kubernetes.io/arch
          operator: Equal
          value: arm64
          effect: NoSchedule
"""


def test_a_cpu_architecture_pin_stays_only_the_wasi_pin_goes(project_dir):
    """`kubernetes.io/arch` names a Krustlet node only with a wasm32 value: an arm64 image keeps its pin
    (and its toleration of an arm64 taint), or the new pods could land on an amd64 pool."""
    state = analysed_state(load_migration(with_affinity(project_dir, ARM_POD)))
    pod = _inputs(state, "web/hello-spin/wasm-deployment")["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"kubernetes.io/arch": "arm64"}
    assert pod["tolerations"] == [
        {"key": "kubernetes.io/arch", "operator": "Equal", "value": "arm64", "effect": "NoSchedule"}
    ]


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


def test_a_translation_is_dumped_once_and_alike_for_alike_data_only():
    """The annotation's text, kept per distinct translation, is the dump of that translation: data that
    compares equal but dumps otherwise (1, 1.0 and True) never shares a text, asked in any order."""
    import yaml

    from components.desired.workloads import _DUMPER, translation_text

    def fresh(value):
        return yaml.dump(value, Dumper=_DUMPER, sort_keys=False, width=1000, allow_unicode=True)

    alike = [{"probe": "GET /", "n": value} for value in (1, 1.0, True)]
    alike += [{"dropped": {"app": ["Service web/a", "PDB web/a"]}}, {"dropped": {"app": ["PDB web/a"]}}]
    for translation in alike + alike[::-1]:
        assert translation_text(translation) == fresh(translation)
    assert len({translation_text(t) for t in alike}) == len(alike)
