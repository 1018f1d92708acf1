"""The inventory core on a realistic export: what counts as Wasm, what each workload needs, what the
stack config proposes, and which inputs are refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.core.config import parse_config
from components.core.identifiers import vm_architecture
from migrate.init.detect import wasm_runtime_classes, wasm_signals
from migrate.init.errors import InventoryError
from migrate.init.export import read_export
from migrate.init.inventory import build_inventory
from migrate.init.node_pools import ClusterRef, read_node_pools, wasi_pools
from migrate.init.sizing import vm_capacity
from tests.components.export.test_facts import export as cluster_export
from tests.components.export.test_facts import node_pools as cluster_pools

FIXTURES = Path(__file__).parent.parent / "fixtures"
EXPORT = FIXTURES / "cluster-export.yaml"
POOLS = FIXTURES / "node-pools.json"
CLUSTER = ClusterRef("3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f", "rg-contoso-prod", "aks-contoso-prod")


def objects() -> list[dict[str, Any]]:
    return read_export(EXPORT.read_text(), "export")


def node_pools() -> list[dict[str, Any]]:
    return read_node_pools(POOLS.read_text(), "pools")


def find(items: list[dict[str, Any]], kind: str, namespace: str, name: str) -> dict[str, Any]:
    return next(
        o
        for o in items
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
    )


@pytest.fixture(scope="module")
def inventory():
    return build_inventory(objects(), node_pools(), CLUSTER, "prod")


def by_key(inventory) -> dict[str, dict[str, Any]]:
    return {f"{w['kind']} {w['namespace']}/{w['name']}": w for w in inventory.report["workloads"]}


# --- reading -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("items: [unclosed", "export: is not valid YAML"),
        ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n", "export: not a kubectl List"),
        ("kind: List\nitems: []\n---\nkind: List\nitems: []\n", "export: not a kubectl List"),
        ("kind: List\nitems: [just-a-string]\n", "export: a kubectl List needs `items`"),
        ("kind: List\nitems: [{kind: Pod}]\n", "export: a kubectl List needs `items`"),
    ],
)
def test_export_that_is_not_a_kubectl_list_is_refused(text, expected):
    with pytest.raises(InventoryError) as error:
        read_export(text, "export")
    assert str(error.value).startswith(expected)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("text", ["{not json", '{"name": "wasipool"}', '[{"vmSize": "x"}]'])
def test_node_pools_that_are_not_az_output_are_refused(text):
    with pytest.raises(InventoryError, match=r"^pools: not "):
        read_node_pools(text, "pools")


def test_node_pools_without_a_wasi_pool_are_refused():
    pools = [p for p in node_pools() if p["workloadRuntime"] != "WasmWasi"]
    with pytest.raises(InventoryError) as error:
        wasi_pools(pools, "pools.json")
    assert str(error.value) == (
        "pools.json: no pool with workloadRuntime WasmWasi "
        "(pools: nodepool1 (OCIContainer), userpool (OCIContainer))"
    )


def test_all_wasi_pools_are_found_with_their_taints():
    pools = wasi_pools(node_pools(), "pools")
    assert [p.name for p in pools] == ["wasipool", "wasisearch"]
    assert pools[1].taints == (
        {"key": "wasm.contoso.com/dedicated", "value": "search", "effect": "NoSchedule"},
    )


# --- what counts as Wasm -----------------------------------------------------------------------------


def signals(pod: dict[str, Any], classes: dict[str, str] | None = None):
    pools = wasi_pools(node_pools(), "pools")
    return wasm_signals(pod, pools, classes if classes is not None else wasm_runtime_classes(objects()))


def test_runtime_classes_with_wasm_shim_handlers_count_and_others_do_not():
    items = [
        {"kind": "RuntimeClass", "metadata": {"name": name}, "handler": handler}
        for name, handler in [
            ("edge", "wasmedge"),
            ("spin-v2", "spin-v2"),
            ("kata", "kata-mshv-vm-isolation"),
        ]
    ]
    classes = wasm_runtime_classes(items)
    assert classes["edge"] == "wasmedge" and classes["spin-v2"] == "spin-v2"
    assert "kata" not in classes
    assert classes["wasmtime-slight-v1"] == "slight"
    assert signals({"runtimeClassName": "spin-v2"}, classes).reasons == (
        "runtimeClassName spin-v2 (handler spin-v2)",
    )
    assert signals({"runtimeClassName": "kata"}, classes).reasons == ()


@pytest.mark.parametrize(
    ("pod", "reasons", "pinned", "krustlet"),
    [
        (
            {"runtimeClassName": "wasmtime-spin-v0-5-1"},
            ["runtimeClassName wasmtime-spin-v0-5-1 (handler spin)"],
            [],
            False,
        ),
        ({"runtimeClassName": "wasmtime-spin-v9"}, ["runtimeClassName wasmtime-spin-v9"], [], False),
        (
            {"nodeSelector": {"kubernetes.azure.com/wasmtime-slight-v1": "true"}},
            ["nodeSelector kubernetes.azure.com/wasmtime-slight-v1=true"],
            [],
            False,
        ),
        (
            {"nodeSelector": {"agentpool": "wasisearch"}},
            ["nodeSelector agentpool=wasisearch (WASI pool)"],
            ["wasisearch"],
            False,
        ),
        ({"nodeSelector": {"kubernetes.azure.com/agentpool": "userpool"}}, [], [], False),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "preferredDuringSchedulingIgnoredDuringExecution": [
                            {
                                "weight": 1,
                                "preference": {
                                    "matchExpressions": [
                                        {"key": "kubernetes.azure.com/wasmtime-spin-v2", "operator": "Exists"}
                                    ]
                                },
                            }
                        ]
                    }
                }
            },
            ["node affinity on kubernetes.azure.com/wasmtime-spin-v2"],
            [],
            False,
        ),
        (
            {
                "affinity": {
                    "nodeAffinity": {
                        "requiredDuringSchedulingIgnoredDuringExecution": {
                            "nodeSelectorTerms": [
                                {
                                    "matchExpressions": [
                                        {
                                            "key": "kubernetes.azure.com/agentpool",
                                            "operator": "In",
                                            "values": ["wasipool", "userpool"],
                                        }
                                    ]
                                }
                            ]
                        }
                    }
                }
            },
            ["node affinity kubernetes.azure.com/agentpool in wasipool (WASI pool)"],
            ["wasipool"],
            False,
        ),
        (  # tolerating a WASI pool's taint is no signal: an ordinary container may tolerate it too
            {
                "tolerations": [
                    {"key": "wasm.contoso.com/dedicated", "operator": "Exists", "effect": "NoSchedule"}
                ]
            },
            [],
            [],
            False,
        ),
        (
            {"tolerations": [{"key": "kubernetes.io/arch", "value": "wasm32-wagi", "operator": "Equal"}]},
            ["toleration kubernetes.io/arch=wasm32-wagi (Krustlet)"],
            [],
            True,
        ),
        ({"tolerations": [{"operator": "Exists"}]}, [], [], False),
        (
            {"tolerations": [{"key": "wasm.contoso.com/dedicated", "value": "other", "operator": "Equal"}]},
            [],
            [],
            False,
        ),
        (
            {"nodeSelector": {"kubernetes.io/arch": "wasm32-wasi"}},
            ["nodeSelector kubernetes.io/arch=wasm32-wasi (Krustlet)"],
            [],
            True,
        ),
        ({"nodeSelector": {"kubernetes.io/arch": "amd64"}, "runtimeClassName": "runc"}, [], [], False),
    ],
)
def test_each_wasm_signal_is_recognised_alone(pod, reasons, pinned, krustlet):
    found = signals(pod)
    assert list(found.reasons) == reasons
    assert sorted(found.pinned_pools) == pinned
    assert found.krustlet is krustlet


# --- the fixture's inventory -------------------------------------------------------------------------


def test_every_wasm_workload_is_found_and_nothing_else(inventory):
    assert sorted(by_key(inventory)) == [
        "CronJob batch/nightly-report",
        "Deployment media/thumbnailer",
        "Deployment search/edge-fn",
        "Deployment search/search-api",
        "Deployment shop/inventory",
        "Deployment shop/orders-api",
        "Deployment web/hello-spin",
        "Pod legacy-demo/wagi-hello",
        "StatefulSet search/indexer",
    ]


def decisions(workload: dict[str, Any]) -> dict[str, str]:
    return {d["key"]: d["text"] for d in workload["decisions"]}


def test_readiness_per_workload(inventory):
    found = by_key(inventory)
    assert {k: w["classification"] for k, w in found.items() if w["migrated"]} == {
        "Deployment web/hello-spin": "ready",
        "Deployment shop/orders-api": "rebuild recommended",
        "Deployment shop/inventory": "rewrite required",
        "Deployment media/thumbnailer": "ready",
        "Deployment search/search-api": "ready",  # pinned to the second WASI pool: the same stack
    }
    orders = found["Deployment shop/orders-api"]
    assert any(
        "rebuild it with the current Spin SDK" in note and "Spin 3.6.3" in note for note in orders["notes"]
    )
    assert orders["decisions"] == []
    inventory_app = found["Deployment shop/inventory"]
    assert decisions(inventory_app)["image"] == (
        "set `image:` to the Spin rewrite of this SpiderLightning app (slight has no successor shim) and "
        "`containerPort:` to the port the rewrite listens on (Spin: 80; slight listened on 3000)"
    )
    assert "SpiderLightning (slight) is deprecated upstream since 2024-01-01" in inventory_app["notes"][0]
    assert decisions(found["Deployment media/thumbnailer"])["manifest"].startswith(
        "2 containers (thumbnailer, log-shipper): a Spin pod runs exactly one Wasm container"
    )


def test_what_is_not_migrated_says_why(inventory):
    found = by_key(inventory)
    reasons = {k: w["reason"] for k, w in found.items() if not w["migrated"]}
    assert reasons["StatefulSet search/indexer"].startswith(
        "not migrated: StatefulSets keep stable identities"
    )
    assert reasons["CronJob batch/nightly-report"].startswith(
        "not migrated: a CronJob is not moved side by side"
    )
    assert reasons["Pod legacy-demo/wagi-hello"].startswith("not migrated: a bare Pod (no ownerReferences)")
    assert "Krustlet-era" in reasons["Pod legacy-demo/wagi-hello"]
    assert reasons["Deployment search/edge-fn"].startswith(
        "not migrated: RuntimeClass wasmedge (handler wasmedge) is not one of the AKS WASI classes and does "
        "not run Spin on a WASI pool"
    )
    assert all(w["manifest"] is None for k, w in found.items() if not w["migrated"])


def test_notes_name_neighbours_and_wasi_assumptions(inventory):
    found = by_key(inventory)
    hello = " ".join(found["Deployment web/hello-spin"]["notes"])
    assert "HPA hello-spin scales the legacy Deployment (2..6)" in hello
    assert "HTTPRoute hello routes to Service hello-spin" in hello
    assert (
        "no HTTP readiness or liveness probe" in decisions(found["Deployment web/hello-spin"])["probe.path"]
    )
    assert "Ingress orders routes to Service orders-api" in " ".join(
        found["Deployment shop/orders-api"]["notes"]
    )
    # What selects, scales or routes to each workload is exported with it (cluster-export.yaml: the
    # inventory PDB selects app=inventory; HTTPRoute hello and Ingress orders name their Services).
    assert {key: w["related"] for key, w in found.items() if w["migrated"]} == {
        "Deployment web/hello-spin": [
            "Deployment hello-spin",
            "Service hello-spin",
            "HorizontalPodAutoscaler hello-spin",
            "HTTPRoute hello",
            "RuntimeClass wasmtime-spin-v2",
        ],
        "Deployment shop/orders-api": [
            "Deployment orders-api",
            "Service orders-api",
            "Ingress orders",
            "RuntimeClass wasmtime-spin-v1",
        ],
        "Deployment shop/inventory": [
            "Deployment inventory",
            "Service inventory",
            "PodDisruptionBudget inventory",
            "RuntimeClass wasmtime-slight-v1",
        ],
        "Deployment media/thumbnailer": [
            "Deployment thumbnailer",
            "Service thumbnailer",
            "RuntimeClass wasmtime-spin-v2",
        ],
        "Deployment search/search-api": [
            "Deployment search-api",
            "Service search-api",
            "RuntimeClass wasmtime-spin-v2",
        ],
    }
    thumbnailer = " ".join(found["Deployment media/thumbnailer"]["notes"])
    for expected in (
        "hostPath volumes (logs)",
        "volumes (cache)",
        "thumbnailer: allowPrivilegeEscalation; thumbnailer: runAsUser 0",
        "WASI annotations (module.wasm.image/variant)",
        "proposed requests.cpu 100m, limits.cpu 100m, requests.memory 128Mi, limits.memory 128Mi",
    ):
        assert expected in thumbnailer
    assert found["Deployment media/thumbnailer"]["signals"] == [
        "runtimeClassName wasmtime-spin-v2 (handler spin)",
        "node affinity on kubernetes.azure.com/wasmtime-spin-v2",
    ]


def test_config_entries_carry_the_export_and_the_proposals(inventory):
    config = parse_config(inventory.config)  # the model accepts it as generated
    assert config.phase.value == "baseline"
    assert (
        config.cluster.kubernetes_version == "1.33"
    )  # the newest pool: nodes never outrun the control plane
    entries = {w["name"]: w for w in inventory.config["workloads"]}
    assert list(entries) == ["hello-spin", "orders-api", "inventory", "thumbnailer", "search-api"]
    assert inventory.config["cluster"]["export"] == "manifests/cluster/prod.yaml"
    assert entries["orders-api"] == {
        "name": "orders-api",
        "namespace": "shop",
        "manifest": "manifests/legacy/shop/orders-api.yaml",
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
        "probe": {"path": "/healthz", "port": 80},  # the named port `http`, resolved from the container
    }
    assert entries["hello-spin"]["gateway"] == {
        "name": "public",
        "namespace": "gateway-system",
        "sectionName": "https",
        "hostnames": ["hello.contoso.com"],
        "pathPrefix": "/hello",
    }
    assert "image" not in entries["inventory"]  # the person's decision: `check` asks for it
    assert entries["thumbnailer"]["resources"] == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "100m", "memory": "128Mi"},
    }


def test_every_wasi_pool_is_adopted_by_the_one_stack(inventory):
    # Adopted read-only: the name identifies each, labels and taints feed the scheduling proof
    # (node-pools.json: wasisearch has nodeLabels contoso.com/team=search and one taint).
    assert inventory.config["legacyPools"] == [
        {"name": "wasipool"},
        {
            "name": "wasisearch",
            "nodeLabels": {"contoso.com/team": "search"},
            "nodeTaints": [{"key": "wasm.contoso.com/dedicated", "value": "search", "effect": "NoSchedule"}],
        },
    ]
    pools = {pool["name"]: pool for pool in inventory.report["wasiPools"]}
    assert (pools["wasipool"]["vmSize"], pools["wasipool"]["count"]) == ("Standard_D2s_v5", 3)
    assert pools["wasisearch"]["workloads"] == ["Deployment search/search-api"]
    assert by_key(inventory)["Deployment search/search-api"]["wasiPool"] == "wasisearch"


def test_target_pool_is_sized_from_the_legacy_pools_and_peak_requests(inventory):
    (target,) = inventory.report["targetPools"]
    # hello-spin 6 (HPA max) x 100m/128Mi, orders-api 3 x 100m/64Mi, inventory 2 x 50m/64Mi,
    # thumbnailer 1 x 100m/128Mi (proposed), search-api 2 x 200m/256Mi.
    assert target["sizing"]["requestedCpu"] == pytest.approx(1.5)
    assert target["sizing"]["requestedMemoryGiB"] == pytest.approx(
        (6 * 128 + 3 * 64 + 2 * 64 + 128 + 2 * 256) / 1024, abs=1e-3
    )
    assert target["sizing"]["nodesForRequests"] == 2
    # Both WASI pools are amd64: one target pool, of the larger VM size (E2s_v5: 2 vCPU, 16 GiB against
    # D2s_v5's 8 GiB), with no less capacity than they have: 3 x 2 + 1 x 2 vCPUs = 4 nodes of 2 vCPUs.
    assert inventory.config["targetPools"] == [
        {
            "name": "spinpool",
            "vmSize": "Standard_E2s_v5",
            "osSku": "AzureLinux",
            "count": 4,
            "autoscaling": {"minCount": 4, "maxCount": 8},
            "maxPods": 110,
            "maxSurge": "33%",
        }
    ]


def test_target_pool_grows_with_requests_and_avoids_taken_names():
    items = objects()
    hello = find(items, "Deployment", "web", "hello-spin")
    hello["spec"]["template"]["spec"]["containers"][0]["resources"] = {
        "requests": {"cpu": "1", "memory": "2Gi"},
        "limits": {"cpu": "1", "memory": "2Gi"},
    }
    pools = node_pools()
    pools.append({**pools[1], "name": "spinpool"})
    result = build_inventory(items, pools, CLUSTER, "prod")
    target = result.config["targetPools"][0]
    # 6 x 1 CPU + 0.95 = 6.95 CPU on 2-vCPU nodes at 70 %: 5 nodes; memory 12 GiB + 1.1 on 16 GiB: 2.
    assert (target["name"], target["count"], target["autoscaling"]) == (
        "spinpool2",
        5,
        {"minCount": 5, "maxCount": 10},
    )


@pytest.mark.parametrize(
    ("size", "arch"),
    [
        ("Standard_D4ps_v5", "arm64"),
        ("Standard_E8pds_v5", "arm64"),
        ("Standard_D2pls_v5", "arm64"),
        ("Standard_D4s_v5", "amd64"),
        ("Standard_D4ds_v5", "amd64"),
        ("Standard_DS2_v2", "amd64"),
        ("Standard_NC6s_v3", "amd64"),
    ],
)
def test_vm_arch_from_size_names(size, arch):
    assert vm_architecture(size) == arch


def test_vm_capacity_from_size_names():
    assert vm_capacity("Standard_D4s_v5") == (4, 16.0)
    assert vm_capacity("Standard_E2s_v5") == (2, 16.0)
    assert vm_capacity("Standard_DS2_v2") == (2, 7.0)
    assert vm_capacity("Standard_NC6s_v3") is None


def test_exports_are_the_objects_as_kubectl_printed_them(inventory):
    listing = inventory.exports["manifests/legacy/web/hello-spin.yaml"]
    assert listing["kind"] == "List"
    deployment, service, hpa, route, runtime_class = listing["items"]
    assert deployment == find(objects(), "Deployment", "web", "hello-spin")  # managedFields, status kept
    assert service == find(objects(), "Service", "web", "hello-spin")
    assert hpa == find(objects(), "HorizontalPodAutoscaler", "web", "hello-spin")  # so that `check` sees it
    assert route == find(objects(), "HTTPRoute", "web", "hello")
    assert runtime_class["metadata"]["name"] == "wasmtime-spin-v2"
    assert service["spec"]["type"] == "LoadBalancer" and service["spec"]["clusterIPs"]
    assert sorted(inventory.exports) == [
        "manifests/cluster/prod.yaml",
        "manifests/legacy/media/thumbnailer.yaml",
        "manifests/legacy/search/search-api.yaml",
        "manifests/legacy/shop/inventory.yaml",
        "manifests/legacy/shop/orders-api.yaml",
        "manifests/legacy/web/hello-spin.yaml",
    ]
    # cluster-export.yaml exports no Node: the cluster file holds its five RuntimeClasses only
    cluster = inventory.exports["manifests/cluster/prod.yaml"]["items"]
    assert [(o["kind"], o["metadata"]["name"]) for o in cluster] == [
        ("RuntimeClass", "wasmtime-slight-v1"),
        ("RuntimeClass", "wasmtime-spin-v1"),
        ("RuntimeClass", "wasmtime-spin-v2"),
        ("RuntimeClass", "wasmtime-spin-v0-15-1"),
        ("RuntimeClass", "wasmedge"),
    ]


def test_an_export_without_wasm_workloads_is_refused():
    items = [o for o in objects() if o["metadata"].get("namespace") in ("payments", "kube-system")]
    with pytest.raises(InventoryError, match=r"^the export holds no Wasm workload"):
        build_inventory(items, node_pools(), CLUSTER, "prod")


def test_names_are_revalidated_before_they_become_paths():
    items = objects()
    bad = copy.deepcopy(find(items, "Deployment", "web", "hello-spin"))
    bad["metadata"]["name"] = "../../etc"
    items.append(bad)
    result = build_inventory(items, node_pools(), CLUSTER, "prod")
    assert by_key(result)["Deployment web/../../etc"]["reason"] == (
        "not migrated: web/../../etc is not a name the config accepts (namespace and name must be DNS-1123 "
        "labels: at most 63 lowercase letters, digits and '-')"
    )
    assert all(".." not in path for path in result.exports)


def test_a_deployment_without_a_service_is_not_migrated():
    items = [o for o in objects() if not (o["kind"] == "Service" and o["metadata"]["name"] == "orders-api")]
    result = build_inventory(items, node_pools(), CLUSTER, "prod")
    assert by_key(result)["Deployment shop/orders-api"]["reason"].startswith(
        "not migrated: no Service selects"
    )


def test_selectors_mean_what_kubernetes_means():
    """init asks components/core/kubernetes.py (through components/export/facts.py), never its own rules:
    an empty LabelSelector (a NetworkPolicy's `podSelector: {}`, a PDB's `selector: {}`) selects every
    pod of its namespace, so it goes with the workload; a Service with an empty selector selects none
    (its endpoints are managed by hand)."""

    def obj(kind: str, api: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
        return {"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": "web"}, "spec": spec}

    items = [
        *objects(),
        obj("NetworkPolicy", "networking.k8s.io/v1", "deny-all", {"podSelector": {}}),
        obj("PodDisruptionBudget", "policy/v1", "everyone", {"selector": {}, "maxUnavailable": 1}),
        obj("PodDisruptionBudget", "policy/v1", "nobody", {"maxUnavailable": 1}),
        obj("Service", "v1", "by-hand", {"selector": {}, "ports": [{"port": 80}]}),
    ]
    result = build_inventory(items, node_pools(), CLUSTER, "prod")
    related = by_key(result)["Deployment web/hello-spin"]["related"]
    assert "NetworkPolicy deny-all" in related and "PodDisruptionBudget everyone" in related
    assert "PodDisruptionBudget nobody" not in related and "Service by-hand" not in related
    assert "by-hand" not in by_key(result)["Deployment web/hello-spin"]["services"]


def test_pinned_to_wasi_nodes_without_a_wasm_runtime_class_is_not_migrated():
    items = objects()
    pod = find(items, "Deployment", "web", "hello-spin")["spec"]["template"]["spec"]
    del pod["runtimeClassName"]
    pod["nodeSelector"] = {"kubernetes.azure.com/wasmtime-spin-v2": "true"}
    result = build_inventory(items, node_pools(), CLUSTER, "prod")
    assert by_key(result)["Deployment web/hello-spin"]["reason"].startswith(
        "not migrated: pinned to WASI nodes without a Wasm RuntimeClass"
    )


def test_a_wasi_pool_the_config_cannot_describe_is_refused():
    pools = node_pools()
    next(p for p in pools if p["name"] == "wasipool")["nodeLabels"] = {"kubernetes.azure.com/team": "a"}
    with pytest.raises(InventoryError) as error:
        build_inventory(objects(), pools, CLUSTER, "prod")
    assert str(error.value).startswith(
        "WASI pool wasipool: the config model cannot describe "
        "legacyPools[0].nodeLabels.kubernetes.azure.com/team"
    )


def test_report_json_round_trips(inventory):
    assert json.loads(json.dumps(inventory.report)) == inventory.report
    assert inventory.report["summary"] == {
        "wasmWorkloads": 9,
        "migrated": 5,
        "notMigrated": 4,
        "ready": 3,
        "rebuild recommended": 1,
        "rewrite required": 1,
    }
    assert [d["key"] for d in inventory.report["decisions"]] == [
        "workloads[0].probe.path",
        "workloads[2].image",
        "workloads[2].probe.path",
        "workloads[3].manifest",
        "workloads[3].probe.path",
    ]


def test_fixture_is_a_realistic_export():
    document = yaml.safe_load(EXPORT.read_text())
    deployments = [o for o in document["items"] if o["kind"] == "Deployment"]
    assert all("managedFields" in d["metadata"] and "status" in d for d in deployments)
    assert any(
        "kubectl.kubernetes.io/last-applied-configuration" in d["metadata"]["annotations"]
        for d in deployments
    )
    assert {d["metadata"]["namespace"] for d in deployments} >= {"web", "shop", "payments", "kube-system"}


def _with_pod(change) -> dict[str, dict[str, Any]]:
    items = objects()
    change(find(items, "Deployment", "web", "hello-spin")["spec"]["template"]["spec"])
    return by_key(build_inventory(items, node_pools(), CLUSTER, "prod"))["Deployment web/hello-spin"]


def test_a_wasmtime_class_aks_never_had_is_not_adopted():
    finding = _with_pod(lambda pod: pod.update(runtimeClassName="wasmtime-wws-v1"))
    assert finding["reason"].startswith(
        "not migrated: RuntimeClass wasmtime-wws-v1 is not one of the AKS WASI classes and does not run Spin "
        "on a WASI pool"
    )


def test_a_krustlet_deployment_needs_a_rebuild():
    def krustlet(pod: dict[str, Any]) -> None:
        del pod["runtimeClassName"]
        pod["nodeSelector"] = {"kubernetes.io/arch": "wasm32-wagi"}

    finding = _with_pod(krustlet)
    assert finding["classification"] == "rewrite required"
    assert finding["reason"].startswith("not migrated: a Krustlet-era WAGI/WASI module")
    assert finding["decisions"] == []


def test_slight_outside_a_deployment_is_a_note_not_a_check_failure():
    items = objects()
    indexer = find(items, "StatefulSet", "search", "indexer")
    indexer["spec"]["template"]["spec"]["runtimeClassName"] = "wasmtime-slight-v1"
    finding = by_key(build_inventory(items, node_pools(), CLUSTER, "prod"))["StatefulSet search/indexer"]
    assert (finding["classification"], finding["decisions"], finding["migrated"]) == (
        "rewrite required",
        [],
        False,
    )
    assert finding["notes"][0].startswith("SpiderLightning (slight) is deprecated upstream")


def test_a_service_with_several_ports_and_no_http_one_is_a_decision():
    """The route, the probes and the verification use the serving port; `ports[0]` is often metrics."""
    items = objects()
    service = find(items, "Service", "shop", "orders-api")
    service["spec"]["ports"] = [
        {"name": "metrics", "port": 9090, "targetPort": 9090, "protocol": "TCP"},
        {"name": "api", "port": 80, "targetPort": "http", "protocol": "TCP"},
    ]
    found = by_key(build_inventory(items, node_pools(), CLUSTER, "prod"))
    assert found["Deployment shop/orders-api"]["decisions"] == [
        {
            "key": "servicePort",
            "text": "Service orders-api has several ports (metrics:9090, api:80) and not one named "
            "http/web/app: set `servicePort:` to the one that serves the app (the route, the probes and the "
            "verification use it)",
        }
    ]


# --- the cluster environments (tests/fixtures/clusters) ----------------------------------------------

ENV_CLUSTER = ClusterRef("3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f", "rg", "aks")


def env_inventory(env: str):
    return build_inventory(cluster_export(env), cluster_pools(env), ENV_CLUSTER, "prod")


@pytest.mark.parametrize(
    ("env", "legacy", "targets", "migrated"),
    [
        # node-pools.json of each: the WasmWasi pools, their VM sizes and node counts
        ("helm-chart", ["wasipool"], [("spinpool", "Standard_D4s_v5", 2)], ["shop/catalog", "shop/reviews"]),
        (
            "keda",
            ["wasipool"],
            [("spinpool", "Standard_D4s_v5", 2)],
            ["orders/order-api", "orders/order-worker"],
        ),
        (
            "dapr-mesh",
            ["wasipool"],
            [("spinpool", "Standard_D4s_v5", 2)],
            ["orders/order-processor", "storefront/storefront-web"],
        ),
        (
            "stateful",
            ["wasipool"],
            [("spinpool", "Standard_D4s_v5", 2)],
            ["notes/archive-reader", "notes/guestbook"],
        ),
        (
            "paused",
            ["wasipool"],
            [("spinpool", "Standard_D4s_v5", 2)],
            ["billing/invoice-api", "billing/invoice-export"],
        ),
        # kwasm: apps/hello-kwasm already runs on KWasm's pool; the deislabs app on wasmtime-spin is migrated
        (
            "kwasm",
            ["wasipool"],
            [("spinpool", "Standard_D2s_v5", 2)],
            ["default/wasm-spin", "legacy/wasm-spin"],
        ),
        # two-pools: wasiarm's 2 x Standard_D4ps_v5 Arm64 nodes get an Arm64 pool of the same size
        (
            "two-pools",
            ["wasiarm", "wasipool"],
            [("spinpool", "Standard_D4s_v5", 2), ("spinarm", "Standard_D4ps_v5", 2)],
            ["search/ranker", "search/search-api", "search/suggest"],
        ),
        ("mixed-wasi-pool", ["wasipool"], [("spinpool", "Standard_D4s_v5", 2)], ["web/hello-wasi"]),
    ],
)
def test_one_stack_migrates_every_wasi_pool_of_each_environment(env, legacy, targets, migrated):
    found = env_inventory(env)
    parse_config(found.config)  # the model accepts it as generated
    assert [pool["name"] for pool in found.config["legacyPools"]] == legacy
    assert [(p["name"], p["vmSize"], p["count"]) for p in found.config["targetPools"]] == targets
    assert [f"{w['namespace']}/{w['name']}" for w in found.config["workloads"]] == migrated
    assert found.config["cluster"]["export"] == "manifests/cluster/prod.yaml"
    assert found.config["cluster"]["kubernetesVersion"] == "1.30"  # every pool runs 1.30.12


def test_each_workload_goes_with_the_pool_its_pods_run_on():
    found = {w["name"]: w for w in env_inventory("two-pools").report["workloads"]}
    # two-pools: ranker's Pods on aks-wasiarm-*, search-api's and suggest's (not pinned) on aks-wasipool-*
    assert {name: w["wasiPool"] for name, w in found.items()} == {
        "ranker": "wasiarm",
        "search-api": "wasipool",
        "suggest": "wasipool",
    }
    sizing = {t["name"]: t["sizing"] for t in env_inventory("two-pools").report["targetPools"]}
    assert (sizing["spinarm"]["arch"], sizing["spinarm"]["workloads"]) == ("arm64", ["search/ranker"])
    assert sizing["spinpool"]["workloads"] == ["search/search-api", "search/suggest"]


@pytest.mark.parametrize(
    ("env", "path", "items"),
    [
        (
            "helm-chart",
            "manifests/legacy/shop/catalog.yaml",
            [
                ("Deployment", "catalog"),
                ("Service", "catalog"),
                ("Service", "catalog-api"),  # selects app: catalog, a label catalog's pods carry
                ("HorizontalPodAutoscaler", "catalog"),
                ("PodDisruptionBudget", "catalog"),
                ("ReplicaSet", "catalog-7vwb9l7mx"),
                ("ReplicaSet", "catalog-gvd44nx9x"),
                ("RuntimeClass", "wasmtime-spin-v2"),
            ],
        ),
        (
            "keda",
            "manifests/legacy/orders/order-worker.yaml",
            [
                ("Deployment", "order-worker"),
                ("Service", "order-worker"),
                ("HorizontalPodAutoscaler", "keda-hpa-order-worker"),
                ("ScaledObject", "order-worker"),
                ("ReplicaSet", "order-worker-9krhc6f2vs"),
                ("RuntimeClass", "wasmtime-spin-v2"),
            ],
        ),
        (
            "dapr-mesh",
            "manifests/legacy/orders/order-processor.yaml",
            [
                ("Deployment", "order-processor"),
                ("Service", "order-processor"),
                ("Service", "order-processor-dapr"),
                ("ReplicaSet", "order-processor-ss6pvb8vc9"),
                ("RuntimeClass", "wasmtime-spin-v2"),
            ],
        ),
        (
            "paused",
            "manifests/legacy/billing/invoice-api.yaml",
            [
                ("Deployment", "invoice-api"),
                ("Service", "invoice-api"),
                ("ReplicaSet", "invoice-api-5hh2q7qdt4"),
                ("ReplicaSet", "invoice-api-ztqckv4f9p"),
                ("RuntimeClass", "wasmtime-spin-v2"),
            ],
        ),
        (
            "kwasm",
            "manifests/legacy/legacy/wasm-spin.yaml",
            [
                ("Deployment", "wasm-spin"),
                ("Service", "wasm-spin"),
                ("ReplicaSet", "wasm-spin-8lsbqj8ckc"),
                ("RuntimeClass", "wasmtime-spin"),
            ],
        ),
        # mixed-wasi-pool: the RuntimeClasses and Namespaces (for the preflight; the export holds no
        # metrics add-on), the two WASI Nodes, and the pods on them that are neither hello-wasi's nor a
        # DaemonSet's: the bare netshoot and edge-proxy's two, with the ReplicaSet and Deployment above
        # them (check names them as the report does)
        (
            "mixed-wasi-pool",
            "manifests/cluster/prod.yaml",
            [
                *(
                    ("Namespace", name)
                    for name in ("default", "edge", "kube-node-lease", "kube-public", "kube-system", "web")
                ),
                ("Node", "aks-wasipool-48157920-vmss000000"),
                ("Node", "aks-wasipool-48157920-vmss000001"),
                ("Pod", "netshoot"),
                ("Pod", "edge-proxy-p2cn6zfjq-9w4zv"),
                ("Pod", "edge-proxy-p2cn6zfjq-wchtk"),
                ("Deployment", "edge-proxy"),
                ("ReplicaSet", "edge-proxy-p2cn6zfjq"),
                *(
                    ("RuntimeClass", f"wasmtime-{name}")
                    for name in (
                        "slight-v1",
                        "spin-v0-15-1",
                        "spin-v0-3-0",
                        "spin-v0-5-1",
                        "spin-v0-8-0",
                        "spin-v1",
                        "spin-v2",
                    )
                ),
            ],
        ),
    ],
)
def test_manifests_hold_what_relates_to_each_workload(env, path, items):
    found = env_inventory(env).exports[path]["items"]
    assert [(o["kind"], o["metadata"]["name"]) for o in found] == items
    exported = cluster_export(env)
    assert all(o in exported for o in found)  # as exported, server fields and all


@pytest.mark.parametrize(
    ("env", "workload", "decided", "noted"),
    [
        # dapr-mesh: template annotations dapr.io/enabled "true", app-id order-processor; the operator's
        # Service order-processor-dapr is controlled by the Deployment
        (
            "dapr-mesh",
            "orders/order-processor",
            ["daprBeforeServing"],
            [
                "2 Services select its pods (order-processor, order-processor-dapr): `service: "
                "order-processor`",
                "Service order-processor-dapr is controlled by the legacy Deployment: the garbage collector",
            ],
        ),
        # namespace storefront is labelled istio-injection: enabled
        (
            "dapr-mesh",
            "storefront/storefront-web",
            [],
            ["Istio sidecar (istio-proxy) from the namespace label"],
        ),
        (
            "keda",
            "orders/order-worker",
            [],
            [
                "KEDA ScaledObject order-worker scales it (1..30 replicas",
                "HPA keda-hpa-order-worker is controlled by ScaledObject order-worker",
            ],
        ),
        ("keda", "orders/order-api", [], ["HPA order-api scales the legacy Deployment (2..10)"]),
        # stateful: strategy Recreate and the claim guestbook-data mounted at /data without readOnly
        (
            "stateful",
            "notes/guestbook",
            [],
            [
                "must not run two copies at once: strategy Recreate",
                "must not run two copies at once: volume data (persistentVolumeClaim guestbook-data)",
            ],
        ),
        ("stateful", "notes/archive-reader", [], []),
        # paused: revision 3 runs v1.9.0, spec.template stages v2.0.0
        (
            "paused",
            "billing/invoice-api",
            [],
            [
                "paused (spec.paused: true): its pods run ReplicaSet invoice-api-ztqckv4f9p (revision 3), "
                "image contosoacr.azurecr.io/billing/invoice-api:v1.9.0, not spec.template (image "
                "contosoacr.azurecr.io/billing/invoice-api:v2.0.0)"
            ],
        ),
        ("paused", "billing/invoice-export", ["probe.path"], ["scaled to zero (spec.replicas: 0)"]),
        (
            "kwasm",
            "legacy/wasm-spin",
            ["probe.path"],
            ["RuntimeClass wasmtime-spin is the team's own (handler spin)"],
        ),
        (
            "helm-chart",
            "shop/catalog",
            [],
            [
                "2 Services select its pods (catalog, catalog-api): `service: catalog`",
                "HPA catalog scales the legacy Deployment (4..20)",
            ],
        ),
    ],
)
def test_decisions_and_notes(env, workload, decided, noted):
    found = next(
        w for w in env_inventory(env).report["workloads"] if f"{w['namespace']}/{w['name']}" == workload
    )
    assert [d["key"] for d in found["decisions"]] == decided
    for note in noted:
        assert any(n.startswith(note) for n in found["notes"]), (note, found["notes"])
    checked = ("two copies", "paused", "scaled to zero", "KEDA", "Istio", "controlled by", "Services select")
    assert len([n for n in found["notes"] if any(c in n for c in checked)]) == len(
        [n for n in noted if any(c in n for c in checked)]
    )


def test_dapr_decision_names_the_channels_and_the_operator():
    found = env_inventory("dapr-mesh")
    (decision,) = [d for d in found.report["decisions"] if d["key"].endswith("daprBeforeServing")]
    assert decision["key"] == "workloads[0].daprBeforeServing"
    for said in (
        "pub/sub consumer groups, input bindings and actor placement",
        "re-points the order-processor-dapr Service at whichever Deployment with that app-id it reconciled "
        "last",
        "dapr/dapr pkg/operator/handlers/dapr_handler.go",
        "`daprBeforeServing: withoutSidecar`",
    ):
        assert said in decision["text"]


def test_pods_on_wasi_nodes_that_are_not_migrated_must_be_acknowledged():
    found = env_inventory("mixed-wasi-pool").report
    # mixed-wasi-pool: netshoot (kubectl run, bare) and edge-proxy's two Pods; the DaemonSets' Pods follow
    # the nodes and hello-wasi's are migrated
    assert [(p["pod"], p["chain"], p["acknowledge"]) for p in found["otherPods"]] == [
        ("default/netshoot", [], "default/netshoot"),
        (
            "edge/edge-proxy-p2cn6zfjq-9w4zv",
            ["ReplicaSet edge-proxy-p2cn6zfjq", "Deployment edge-proxy"],
            "edge/edge-proxy",
        ),
        (
            "edge/edge-proxy-p2cn6zfjq-wchtk",
            ["ReplicaSet edge-proxy-p2cn6zfjq", "Deployment edge-proxy"],
            "edge/edge-proxy",
        ),
    ]
    (decision,) = [d for d in found["decisions"] if d["key"] == "decommission.acknowledgeOtherPods"]
    assert "list default/netshoot, edge/edge-proxy in `decommission.acknowledgeOtherPods`" in decision["text"]
    assert all(env_inventory(env).report["otherPods"] == [] for env in ("helm-chart", "keda", "two-pools"))


def test_a_runtime_class_of_that_name_gets_the_migration_a_free_name():
    found = env_inventory("kwasm")
    # kwasm: the team's RuntimeClass wasm-spin (handler spin) selects agentpool kwasmpool
    assert found.config["shim"] == {"runtimeClassName": "wasm-spin-migration"}
    target, note = found.report["notes"]  # the target init proposes comes first, then the class
    assert target.startswith("target shim: give --aks-cluster and --policy-assignments")
    assert note.startswith("RuntimeClass wasm-spin already exists with another definition (handler spin")
    assert "so both coexist" in note
    apps = next(w for w in found.report["workloads"] if w["name"] == "hello-kwasm")
    assert apps["reason"].startswith("not migrated: already on a Spin shim outside the WASI pools")
    assert "shim" not in env_inventory("helm-chart").config


def test_an_unsupported_kubernetes_version_is_a_decision_with_the_way_out():
    found = env_inventory("helm-chart").report["decisions"]
    (version,) = [d for d in found if d["key"] == "cluster.kubernetesVersion"]
    assert version["text"].startswith("the cluster runs Kubernetes 1.30, and `check` validates")
    assert "az aks upgrade --control-plane-only" in version["text"]
    assert not [
        d
        for d in build_inventory(objects(), node_pools(), CLUSTER, "p").report["decisions"]
        if d["key"].startswith("cluster.")
    ]
