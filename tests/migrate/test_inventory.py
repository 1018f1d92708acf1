"""The inventory core on a realistic export: what counts as Wasm, what each workload needs, what the
stack config proposes, and which inputs are refused."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import parse_config
from migrate.inventory import (
    ClusterRef,
    InventoryError,
    build_inventory,
    read_export,
    read_node_pools,
    vm_capacity,
    wasi_pools,
    wasm_runtime_classes,
    wasm_signals,
)

FIXTURES = Path(__file__).parent / "fixtures"
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
        (
            {
                "tolerations": [
                    {"key": "wasm.contoso.com/dedicated", "operator": "Exists", "effect": "NoSchedule"}
                ]
            },
            ["toleration for WASI pool wasisearch's taint wasm.contoso.com/dedicated"],
            [],
            False,
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


def test_readiness_per_workload(inventory):
    found = by_key(inventory)
    assert {k: w["classification"] for k, w in found.items() if w["migrated"]} == {
        "Deployment web/hello-spin": "ready",
        "Deployment shop/orders-api": "rebuild recommended",
        "Deployment shop/inventory": "rewrite required",
        "Deployment media/thumbnailer": "ready",
    }
    orders = found["Deployment shop/orders-api"]
    assert any(
        "rebuild it with the current Spin SDK" in note and "Spin 3.6.3" in note for note in orders["notes"]
    )
    assert orders["blocking"] == []
    inventory_app = found["Deployment shop/inventory"]
    assert inventory_app["blocking"][:1] == [
        "set `image:` to the Spin rewrite of this SpiderLightning app (slight has no successor shim) and "
        "`containerPort:` to the port the rewrite listens on (Spin: 80; slight listened on 3000); until "
        "then `check` fails on this workload's `image` and `containerPort`"
    ]
    assert "SpiderLightning (slight) is deprecated upstream since 2024-01-01" in inventory_app["notes"][0]
    assert found["Deployment media/thumbnailer"]["blocking"][0].startswith(
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
    assert reasons["Deployment search/search-api"].startswith(
        "in another stack: pinned to WASI pool wasisearch"
    )
    assert reasons["Deployment search/edge-fn"].startswith(
        "not migrated: RuntimeClass wasmedge (handler wasmedge)"
    )
    assert all(w["manifest"] is None for k, w in found.items() if not w["migrated"])


def test_notes_name_neighbours_and_wasi_assumptions(inventory):
    found = by_key(inventory)
    hello = " ".join(found["Deployment web/hello-spin"]["notes"])
    assert "HPA hello-spin scales the legacy Deployment (2-6)" in hello
    assert "HTTPRoute hello routes to Service hello-spin" in hello
    assert "no HTTP readiness or liveness probe" in " ".join(found["Deployment web/hello-spin"]["blocking"])
    assert "PDB inventory selects the legacy pods" in " ".join(found["Deployment shop/inventory"]["notes"])
    assert "Ingress orders routes to Service orders-api" in " ".join(
        found["Deployment shop/orders-api"]["notes"]
    )
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
    assert list(entries) == ["hello-spin", "orders-api", "inventory", "thumbnailer"]
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


def test_legacy_pool_is_identified_as_the_config_adopts_it(inventory):
    # Adopted read-only: the name identifies it, labels and taints feed the scheduling proof.
    assert inventory.config["legacyPools"] == [{"name": "wasipool"}]
    pools = {pool["name"]: pool for pool in inventory.report["wasiPools"]}
    assert (pools["wasipool"]["vmSize"], pools["wasipool"]["count"]) == ("Standard_D2s_v5", 3)
    other = build_inventory(objects(), node_pools(), CLUSTER, "search", legacy_pool="wasisearch")
    assert other.config["legacyPools"][0] == {
        "name": "wasisearch",
        "nodeLabels": {"contoso.com/team": "search"},
        "nodeTaints": [{"key": "wasm.contoso.com/dedicated", "value": "search", "effect": "NoSchedule"}],
    }
    assert [w["name"] for w in other.config["workloads"]] == ["search-api"]
    assert by_key(other)["Deployment web/hello-spin"]["reason"].startswith(
        "in another stack: not pinned to one WASI pool, so it goes with wasipool"
    )


def test_target_pool_is_sized_from_the_legacy_pool_and_peak_requests(inventory):
    target = inventory.report["targetPool"]
    # hello-spin 6 (HPA max) x 100m/128Mi, orders-api 3 x 100m/64Mi, inventory 2 x 50m/64Mi,
    # thumbnailer 1 x 100m/128Mi (proposed).
    assert target["sizing"]["requestedCpu"] == pytest.approx(1.1)
    assert target["sizing"]["requestedMemoryGiB"] == pytest.approx(
        (6 * 128 + 3 * 64 + 2 * 64 + 128) / 1024, abs=1e-3
    )
    assert target["sizing"]["nodesForRequests"] == 1
    assert inventory.config["targetPools"] == [
        {
            "name": "spinpool",
            "vmSize": "Standard_D2s_v5",
            "osSku": "AzureLinux",
            "count": 3,  # the legacy pool's 3 nodes, more than the requests need
            "autoscaling": {"minCount": 3, "maxCount": 6},
            "zones": ["1", "2", "3"],
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
    # 6 x 1 CPU + 0.55 = 6.55 CPU on 2-vCPU nodes at 70 %: 5 nodes; memory 12 GiB + 0.6 on 8 GiB: 3.
    assert (target["name"], target["count"], target["autoscaling"]) == (
        "spinpool2",
        5,
        {"minCount": 5, "maxCount": 10},
    )


def test_vm_capacity_from_size_names():
    assert vm_capacity("Standard_D4s_v5") == (4, 16.0)
    assert vm_capacity("Standard_E2s_v5") == (2, 16.0)
    assert vm_capacity("Standard_DS2_v2") == (2, 7.0)
    assert vm_capacity("Standard_NC6s_v3") is None


def test_exports_are_the_objects_as_kubectl_printed_them(inventory):
    listing = inventory.exports["manifests/legacy/web/hello-spin.yaml"]
    assert listing["kind"] == "List"
    deployment, service, hpa = listing["items"]
    assert deployment == find(objects(), "Deployment", "web", "hello-spin")  # managedFields, status kept
    assert service == find(objects(), "Service", "web", "hello-spin")
    assert hpa == find(objects(), "HorizontalPodAutoscaler", "web", "hello-spin")  # so that `check` sees it
    assert service["spec"]["type"] == "LoadBalancer" and service["spec"]["clusterIPs"]
    assert sorted(inventory.exports) == [
        "manifests/legacy/media/thumbnailer.yaml",
        "manifests/legacy/shop/inventory.yaml",
        "manifests/legacy/shop/orders-api.yaml",
        "manifests/legacy/web/hello-spin.yaml",
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
        "WASI pool wasipool: the config model cannot describe legacyPool.nodeLabels.kubernetes.azure.com/team"
    )


def test_unknown_legacy_pool_is_refused():
    with pytest.raises(
        InventoryError, match=r"^--legacy-pool userpool: not a WASI pool \(WASI pools: wasipool, "
    ):
        build_inventory(objects(), node_pools(), CLUSTER, "prod", legacy_pool="userpool")


def test_report_json_round_trips(inventory):
    assert json.loads(json.dumps(inventory.report)) == inventory.report
    assert inventory.report["summary"] == {
        "wasmWorkloads": 9,
        "migrated": 4,
        "notMigrated": 5,
        "blocking": 5,
        "ready": 2,
        "rebuild recommended": 1,
        "rewrite required": 1,
    }


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
        "not migrated: RuntimeClass wasmtime-wws-v1 is not one of the AKS WASI classes the migration adopts"
    )


def test_a_krustlet_deployment_needs_a_rebuild():
    def krustlet(pod: dict[str, Any]) -> None:
        del pod["runtimeClassName"]
        pod["nodeSelector"] = {"kubernetes.io/arch": "wasm32-wagi"}

    finding = _with_pod(krustlet)
    assert finding["classification"] == "rewrite required"
    assert finding["reason"].startswith("not migrated: a Krustlet-era WAGI/WASI module")
    assert finding["blocking"] == []


def test_slight_outside_a_deployment_is_a_note_not_a_check_failure():
    items = objects()
    indexer = find(items, "StatefulSet", "search", "indexer")
    indexer["spec"]["template"]["spec"]["runtimeClassName"] = "wasmtime-slight-v1"
    finding = by_key(build_inventory(items, node_pools(), CLUSTER, "prod"))["StatefulSet search/indexer"]
    assert (finding["classification"], finding["blocking"], finding["migrated"]) == (
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
    assert found["Deployment shop/orders-api"]["blocking"] == [
        "Service orders-api has several ports (metrics:9090, api:80) and not one named http/web/app: set "
        "`servicePort:` to the one that serves the app (the route, the probes and the verification use it); "
        "until then `check` fails on this workload's `servicePort`"
    ]
