"""components/export/facts.py on the cluster environments of tests/fixtures/clusters. Every expected
value is read off the export by hand (the comment says where), never computed with the module; the
objects a fixture lacks (NetworkPolicies, monitors, Ingresses, routes) are added beside its own, each
written out here."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.export import facts

CLUSTERS = Path(__file__).resolve().parents[2] / "fixtures" / "clusters"


@cache
def _export(env: str) -> tuple[dict[str, Any], ...]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return tuple(yaml.load((CLUSTERS / env / "export.yaml").read_text(), Loader=loader)["items"])


def export(env: str) -> list[dict[str, Any]]:
    return copy.deepcopy(list(_export(env)))


def node_pools(env: str) -> list[dict[str, Any]]:
    return json.loads((CLUSTERS / env / "node-pools.json").read_text())


def find(items: list[dict[str, Any]], kind: str, namespace: str | None, name: str) -> dict[str, Any]:
    return next(
        o
        for o in items
        if o["kind"] == kind and o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace
    )


def ids(objects: list[Any]) -> list[tuple[str, str | None, str]]:
    return [(o["kind"], o["metadata"].get("namespace"), o["metadata"]["name"]) for o in objects]


# --- ownership ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "kind", "namespace", "name", "controller"),
    [
        # helm-chart: the Pod's ownerReferences name ReplicaSet catalog-gvd44nx9x with controller: true
        ("helm-chart", "Pod", "shop", "catalog-gvd44nx9x-29b8n", ("ReplicaSet", "catalog-gvd44nx9x")),
        # keda: KEDA's HPA is controlled by its ScaledObject
        (
            "keda",
            "HorizontalPodAutoscaler",
            "orders",
            "keda-hpa-order-worker",
            ("ScaledObject", "order-worker"),
        ),
        # dapr-mesh: Dapr's operator sets the Deployment as controller of the -dapr Service
        ("dapr-mesh", "Service", "orders", "order-processor-dapr", ("Deployment", "order-processor")),
        # kwasm: the provisioning Job is controlled by its (cluster-scoped) Node
        (
            "kwasm",
            "Job",
            "kwasm",
            "aks-kwasmpool-36182507-vmss000000-provision-kwasm",
            ("Node", "aks-kwasmpool-36182507-vmss000000"),
        ),
        ("mixed-wasi-pool", "Pod", "default", "netshoot", None),  # kubectl run: no ownerReferences
        ("helm-chart", "Deployment", "shop", "catalog", None),
    ],
)
def test_controller_of(env, kind, namespace, name, controller):
    assert facts.controller_of(find(export(env), kind, namespace, name)) == controller


@pytest.mark.parametrize(
    ("env", "owner", "owned"),
    [
        # helm-chart: catalog's two ReplicaSets (revisions 4 and 5), in export order (by name)
        (
            "helm-chart",
            ("Deployment", "shop", "catalog"),
            [("ReplicaSet", "shop", "catalog-7vwb9l7mx"), ("ReplicaSet", "shop", "catalog-gvd44nx9x")],
        ),
        # dapr-mesh: the operator's Service (core, listed before apps) and the ReplicaSet
        (
            "dapr-mesh",
            ("Deployment", "orders", "order-processor"),
            [
                ("Service", "orders", "order-processor-dapr"),
                ("ReplicaSet", "orders", "order-processor-ss6pvb8vc9"),
            ],
        ),
        # kwasm: a Node owns a Job in another (any) namespace
        (
            "kwasm",
            ("Node", None, "aks-kwasmpool-36182507-vmss000001"),
            [("Job", "kwasm", "aks-kwasmpool-36182507-vmss000001-provision-kwasm")],
        ),
        (
            "keda",
            ("ScaledObject", "orders", "order-worker"),
            [("HorizontalPodAutoscaler", "orders", "keda-hpa-order-worker")],
        ),
        (
            "mixed-wasi-pool",
            ("Deployment", "web", "hello-wasi"),
            [("ReplicaSet", "web", "hello-wasi-q6gk28jvpp")],
        ),
    ],
)
def test_owned_by(env, owner, owned):
    items = export(env)
    assert ids(facts.owned_by(items, find(items, *owner))) == owned


def test_owners_are_matched_by_uid_before_names():
    items = export("helm-chart")
    catalog = find(items, "Deployment", "shop", "catalog")
    # A Deployment recreated under the same name has a new uid: the old ReplicaSets are not its own.
    recreated = copy.deepcopy(catalog)
    recreated["metadata"]["uid"] = "00000000-0000-4000-8000-000000000000"
    assert facts.owned_by(items, recreated) == []
    # Without a uid on the owner (a hand-written manifest), kind and name in the namespace decide.
    unnamed = copy.deepcopy(catalog)
    del unnamed["metadata"]["uid"]
    assert ids(facts.owned_by(items, unnamed)) == [
        ("ReplicaSet", "shop", "catalog-7vwb9l7mx"),
        ("ReplicaSet", "shop", "catalog-gvd44nx9x"),
    ]
    elsewhere = copy.deepcopy(unnamed)
    elsewhere["metadata"]["namespace"] = "web"
    assert facts.owned_by(items, elsewhere) == []


# --- selection ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "namespace", "labels", "services"),
    [
        # helm-chart: catalog's pods carry app=catalog and the chart's two selector labels: the chart's
        # Service (instance+name) and the alias catalog-api (app: catalog) both select them.
        (
            "helm-chart",
            "shop",
            {"app": "catalog", "app.kubernetes.io/name": "catalog", "app.kubernetes.io/instance": "catalog"},
            ["catalog", "catalog-api"],
        ),
        ("helm-chart", "shop", {"app.kubernetes.io/name": "catalog"}, []),  # half the chart's selector
        ("helm-chart", "web", {"app": "catalog"}, []),  # another namespace
        # dapr-mesh: the app's Service and the operator's headless -dapr Service select the same pods
        ("dapr-mesh", "orders", {"app": "order-processor"}, ["order-processor", "order-processor-dapr"]),
        # default/kubernetes has no selector: it selects nothing, whatever the labels
        ("keda", "default", {}, []),
    ],
)
def test_selecting_services(env, namespace, labels, services):
    found = facts.selecting_services(export(env), namespace, labels)
    assert [s["metadata"]["name"] for s in found] == services


@pytest.mark.parametrize(
    ("env", "deployment", "autoscaler", "controlled", "scaled_object"),
    [
        # keda: order-api has the team's HPA (2-10); order-worker only KEDA's HPA, owned by the ScaledObject
        ("keda", "order-api", "order-api", [], None),
        ("keda", "order-worker", None, ["keda-hpa-order-worker"], "order-worker"),
        ("helm-chart", "catalog", "catalog", [], None),  # the chart's HPA (4-20)
        ("helm-chart", "reviews", None, [], None),
    ],
)
def test_autoscalers_and_scaled_objects(env, deployment, autoscaler, controlled, scaled_object):
    items = export(env)
    namespace = {"keda": "orders", "helm-chart": "shop"}[env]
    target = find(items, "Deployment", namespace, deployment)
    found = facts.autoscaler_of(items, target)
    assert (found["metadata"]["name"] if found else None) == autoscaler
    assert [h["metadata"]["name"] for h in facts.controlled_autoscalers(items, target)] == controlled
    scaled = facts.scaled_object_of(items, target)
    assert (scaled["metadata"]["name"] if scaled else None) == scaled_object


@pytest.mark.parametrize(
    ("env", "namespace", "name", "related"),
    [
        # helm-chart catalog: both Services, the chart's HPA, the team's PDB (instance+name), the two
        # ReplicaSets, and AKS's RuntimeClass wasmtime-spin-v2 named by the template.
        (
            "helm-chart",
            "shop",
            "catalog",
            [
                ("Deployment", "shop", "catalog"),
                ("Service", "shop", "catalog"),
                ("Service", "shop", "catalog-api"),
                ("HorizontalPodAutoscaler", "shop", "catalog"),
                ("PodDisruptionBudget", "shop", "catalog"),
                ("ReplicaSet", "shop", "catalog-7vwb9l7mx"),
                ("ReplicaSet", "shop", "catalog-gvd44nx9x"),
                ("RuntimeClass", None, "wasmtime-spin-v2"),
            ],
        ),
        # keda order-worker: KEDA's HPA targets it too, then the ScaledObject
        (
            "keda",
            "orders",
            "order-worker",
            [
                ("Deployment", "orders", "order-worker"),
                ("Service", "orders", "order-worker"),
                ("HorizontalPodAutoscaler", "orders", "keda-hpa-order-worker"),
                ("ScaledObject", "orders", "order-worker"),
                ("ReplicaSet", "orders", "order-worker-9krhc6f2vs"),
                ("RuntimeClass", None, "wasmtime-spin-v2"),
            ],
        ),
        # dapr-mesh: the -dapr Service both selects and is owned by the Deployment: listed once
        (
            "dapr-mesh",
            "orders",
            "order-processor",
            [
                ("Deployment", "orders", "order-processor"),
                ("Service", "orders", "order-processor"),
                ("Service", "orders", "order-processor-dapr"),
                ("ReplicaSet", "orders", "order-processor-ss6pvb8vc9"),
                ("RuntimeClass", None, "wasmtime-spin-v2"),
            ],
        ),
        # kwasm: the deislabs app on the user's class wasmtime-spin
        (
            "kwasm",
            "legacy",
            "wasm-spin",
            [
                ("Deployment", "legacy", "wasm-spin"),
                ("Service", "legacy", "wasm-spin"),
                ("ReplicaSet", "legacy", "wasm-spin-8lsbqj8ckc"),
                ("RuntimeClass", None, "wasmtime-spin"),
            ],
        ),
        # mixed-wasi-pool: nginx has no runtimeClassName, so no RuntimeClass
        (
            "mixed-wasi-pool",
            "edge",
            "edge-proxy",
            [
                ("Deployment", "edge", "edge-proxy"),
                ("Service", "edge", "edge-proxy"),
                ("ReplicaSet", "edge", "edge-proxy-p2cn6zfjq"),
            ],
        ),
    ],
)
def test_related_objects_of_the_fixtures(env, namespace, name, related):
    items = export(env)
    assert ids(facts.related_objects(items, find(items, "Deployment", namespace, name))) == related


def _object(kind: str, api_version: str, name: str, spec: dict[str, Any], **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": metadata.pop("namespace", "shop"), **metadata},
        "spec": spec,
    }


def test_related_objects_follow_every_selector_and_backend():
    """helm-chart's catalog with what the fixture lacks: which of these select, route to or monitor it
    is decided by hand from their selectors (catalog's pods: app=catalog, app.kubernetes.io/name and
    instance=catalog; catalog-api's own labels: app=catalog)."""
    items = export("helm-chart")
    added = [
        _object("NetworkPolicy", "networking.k8s.io/v1", "deny-all", {"podSelector": {}}),  # every pod
        _object(
            "NetworkPolicy", "networking.k8s.io/v1", "other", {"podSelector": {"matchLabels": {"app": "x"}}}
        ),
        _object("NetworkPolicy", "networking.k8s.io/v1", "web-too", {"podSelector": {}}, namespace="web"),
        _object(
            "PodMonitor",
            "monitoring.coreos.com/v1",
            "by-name",
            {
                "selector": {
                    "matchExpressions": [
                        {"key": "app.kubernetes.io/name", "operator": "In", "values": ["catalog"]}
                    ]
                },
                "podMetricsEndpoints": [{"port": "http"}],
            },
        ),
        _object(
            "PodMonitor",
            "monitoring.coreos.com/v1",
            "elsewhere",  # its namespaceSelector looks in web only
            {
                "selector": {},
                "namespaceSelector": {"matchNames": ["web"]},
                "podMetricsEndpoints": [{"port": "http"}],
            },
        ),
        _object(
            "ServiceMonitor",
            "monitoring.coreos.com/v1",
            "alias",  # selects catalog-api by its label app=catalog
            {"selector": {"matchLabels": {"app": "catalog"}}, "endpoints": [{"port": "http"}]},
        ),
        _object(
            "ServiceMonitor",
            "monitoring.coreos.com/v1",
            "any-namespace",  # the chart's Service by its helm.sh/chart label
            {
                "selector": {"matchLabels": {"helm.sh/chart": "catalog-0.4.2"}},
                "namespaceSelector": {"any": True},
                "endpoints": [{"port": "http"}],
            },
        ),
        _object(
            "ServiceMonitor",
            "monitoring.coreos.com/v1",
            "reviews",
            {
                "selector": {"matchLabels": {"app.kubernetes.io/name": "reviews"}},
                "endpoints": [{"port": "http"}],
            },
        ),
        _object(
            "Ingress",
            "networking.k8s.io/v1",
            "shop",
            {
                "rules": [
                    {
                        "http": {
                            "paths": [
                                {
                                    "path": "/",
                                    "pathType": "Prefix",
                                    "backend": {"service": {"name": "catalog-api", "port": {"number": 80}}},
                                }
                            ]
                        }
                    }
                ]
            },
        ),
        _object(
            "Ingress",
            "networking.k8s.io/v1",
            "reviews",
            {"defaultBackend": {"service": {"name": "reviews", "port": {"number": 80}}}},
        ),
        _object(
            "HTTPRoute",
            "gateway.networking.k8s.io/v1",
            "catalog",
            {
                "parentRefs": [{"name": "public", "namespace": "gateway"}],
                "rules": [{"backendRefs": [{"name": "catalog", "port": 80}]}],
            },
        ),
        _object(
            "HTTPRoute",
            "gateway.networking.k8s.io/v1",
            "other-namespace-backend",  # a backend named catalog, but in namespace web
            {
                "parentRefs": [{"name": "public", "namespace": "gateway"}],
                "rules": [{"backendRefs": [{"name": "catalog", "namespace": "web", "port": 80}]}],
            },
        ),
    ]
    items += added
    related = facts.related_objects(items, find(items, "Deployment", "shop", "catalog"))
    assert ids(related) == [
        ("Deployment", "shop", "catalog"),
        ("Service", "shop", "catalog"),
        ("Service", "shop", "catalog-api"),
        ("HorizontalPodAutoscaler", "shop", "catalog"),
        ("PodDisruptionBudget", "shop", "catalog"),
        ("NetworkPolicy", "shop", "deny-all"),
        ("PodMonitor", "shop", "by-name"),
        ("ServiceMonitor", "shop", "alias"),
        ("ServiceMonitor", "shop", "any-namespace"),
        ("Ingress", "shop", "shop"),
        ("HTTPRoute", "shop", "catalog"),
        ("ReplicaSet", "shop", "catalog-7vwb9l7mx"),
        ("ReplicaSet", "shop", "catalog-gvd44nx9x"),
        ("RuntimeClass", None, "wasmtime-spin-v2"),
    ]
    # The same answers from an index built once, as init asks for hundreds of workloads.
    index = facts.ObjectIndex(items)
    assert ids(facts.related_objects(index, find(items, "Deployment", "shop", "catalog"))) == ids(related)


# --- what the workload is ----------------------------------------------------------------------------


def _with_volume(volume: dict[str, Any], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    archive = find(export("stateful"), "Deployment", "notes", "archive-reader")
    pod = archive["spec"]["template"]["spec"]
    pod["volumes"] = [volume]
    pod["containers"][0]["volumeMounts"] = mounts
    return archive


@pytest.mark.parametrize(
    ("workload", "reasons"),
    [
        # stateful guestbook: strategy Recreate, and claim guestbook-data mounted at /data without readOnly
        (
            lambda: find(export("stateful"), "Deployment", "notes", "guestbook"),
            [
                "strategy Recreate: its pods must not overlap",
                "volume data (persistentVolumeClaim guestbook-data) is mounted writable by guestbook",
            ],
        ),
        # archive-reader: readOnly on the claim and on the mount; RollingUpdate
        (lambda: find(export("stateful"), "Deployment", "notes", "archive-reader"), []),
        (lambda: find(export("helm-chart"), "Deployment", "shop", "catalog"), []),
        (
            lambda: _with_volume(
                {"name": "share", "azureFile": {"secretName": "s", "shareName": "reports"}},
                [{"name": "share", "mountPath": "/r"}],
            ),
            ["volume share (azureFile reports) is mounted writable by archive-reader"],
        ),
        (  # read-only on every mount
            lambda: _with_volume(
                {"name": "share", "nfs": {"server": "10.0.0.4", "path": "/x"}},
                [{"name": "share", "mountPath": "/r", "readOnly": True}],
            ),
            [],
        ),
        (  # a vault's secrets: no state
            lambda: _with_volume(
                {"name": "kv", "csi": {"driver": "secrets-store.csi.k8s.io"}},
                [{"name": "kv", "mountPath": "/kv"}],
            ),
            [],
        ),
        (  # another CSI driver holds state
            lambda: _with_volume(
                {"name": "blob", "csi": {"driver": "blob.csi.azure.com"}},
                [{"name": "blob", "mountPath": "/b"}],
            ),
            ["volume blob (csi blob.csi.azure.com) is mounted writable by archive-reader"],
        ),
        (  # a claim nobody mounts
            lambda: _with_volume({"name": "idle", "persistentVolumeClaim": {"claimName": "c"}}, []),
            [],
        ),
        (lambda: _with_volume({"name": "tmp", "emptyDir": {}}, [{"name": "tmp", "mountPath": "/tmp"}]), []),
    ],
)
def test_single_copy_reasons(workload, reasons):
    assert facts.single_copy_reasons(workload()) == reasons


def _template(annotations: dict[str, str] | None = None, labels: dict[str, str] | None = None, **spec):
    return {"metadata": {"annotations": annotations or {}, "labels": labels or {}}, "spec": spec}


@pytest.mark.parametrize(
    ("template", "enabled", "app_id"),
    [
        # dapr-mesh: order-processor's template annotations dapr.io/enabled "true", app-id order-processor
        (
            lambda: find(export("dapr-mesh"), "Deployment", "orders", "order-processor")["spec"]["template"],
            True,
            "order-processor",
        ),
        (
            lambda: find(export("dapr-mesh"), "Deployment", "storefront", "storefront-web")["spec"][
                "template"
            ],
            False,
            None,
        ),
        (
            lambda: _template({"dapr.io/enabled": "Yes", "dapr.io/app-id": "a"}),
            True,
            "a",
        ),  # dapr/kit IsTruthy
        (lambda: _template({"dapr.io/enabled": "false", "dapr.io/app-id": "a"}), False, None),
        (lambda: _template({"dapr.io/enabled": "true"}), True, None),  # the injector refuses these pods
    ],
)
def test_dapr_app_id(template, enabled, app_id):
    assert (facts.dapr_enabled(template()), facts.dapr_app_id(template())) == (enabled, app_id)


@pytest.mark.parametrize(
    ("env", "namespace", "name", "replica_set"),
    [
        # paused: the Deployment's revision annotation is "3"; invoice-api-ztqckv4f9p is revision 3 (v1.9.0),
        # invoice-api-5hh2q7qdt4 revision 2
        ("paused", "billing", "invoice-api", "invoice-api-ztqckv4f9p"),
        ("paused", "billing", "invoice-export", "invoice-export-mnrfn9jglf"),  # revision 1, at 0 replicas
        ("helm-chart", "shop", "catalog", "catalog-gvd44nx9x"),  # revision 5, not 4
    ],
)
def test_serving_replica_set(env, namespace, name, replica_set):
    items = export(env)
    deployment = find(items, "Deployment", namespace, name)
    assert facts.serving_replica_set(items, deployment)["metadata"]["name"] == replica_set
    del deployment["metadata"]["annotations"]["deployment.kubernetes.io/revision"]
    assert facts.serving_replica_set(items, deployment) is None


ISTIO_NS = "Istio sidecar (istio-proxy) from the namespace label istio-injection=enabled"


@pytest.mark.parametrize(
    ("template", "labels", "annotations", "sidecars"),
    [
        # dapr-mesh: namespace storefront is labelled istio-injection: enabled
        (
            lambda: find(export("dapr-mesh"), "Deployment", "storefront", "storefront-web")["spec"][
                "template"
            ],
            lambda: find(export("dapr-mesh"), "Namespace", None, "storefront")["metadata"]["labels"],
            {},
            [ISTIO_NS],
        ),
        (
            lambda: find(export("dapr-mesh"), "Deployment", "orders", "order-processor")["spec"]["template"],
            lambda: find(export("dapr-mesh"), "Namespace", None, "orders")["metadata"]["labels"],
            {},
            [],
        ),
        (
            lambda: _template(labels={"sidecar.istio.io/inject": "false"}),
            lambda: {"istio-injection": "enabled"},
            {},
            [],
        ),
        (
            lambda: _template(annotations={"sidecar.istio.io/inject": "false"}),
            lambda: {"istio-injection": "enabled"},
            {},
            [],
        ),
        (lambda: _template(hostNetwork=True), lambda: {"istio-injection": "enabled"}, {}, []),
        (lambda: _template(), lambda: {"istio-injection": "disabled"}, {}, []),
        (
            lambda: _template(),
            lambda: {"istio.io/rev": "canary"},
            {},
            ["Istio sidecar (istio-proxy) from the namespace label istio.io/rev"],
        ),
        (
            lambda: _template(labels={"istio.io/rev": "default"}),
            lambda: {},
            {},
            ["Istio sidecar (istio-proxy) from the pod label istio.io/rev"],
        ),
        (
            lambda: _template(labels={"sidecar.istio.io/inject": "true"}),
            lambda: {},
            {},
            ["Istio sidecar (istio-proxy) from the pod label sidecar.istio.io/inject=true"],
        ),
        (
            lambda: _template(annotations={"sidecar.istio.io/inject": "true"}),
            lambda: {},
            {},
            [],
        ),  # no webhook
        (
            lambda: _template(),
            lambda: {},
            {"linkerd.io/inject": "enabled"},
            ["Linkerd proxy from the namespace annotation linkerd.io/inject=enabled"],
        ),
        (
            lambda: _template(annotations={"linkerd.io/inject": "disabled"}),
            lambda: {},
            {"linkerd.io/inject": "enabled"},
            [],
        ),
        (
            lambda: _template(annotations={"linkerd.io/inject": "ingress"}),
            lambda: {},
            {},
            ["Linkerd proxy from the pod annotation linkerd.io/inject=ingress"],
        ),
        (lambda: _template(annotations={"linkerd.io/inject": "on"}), lambda: {}, {}, []),  # invalid value
        (
            lambda: _template(automountServiceAccountToken=False),
            lambda: {},
            {"linkerd.io/inject": "enabled"},
            [],
        ),
    ],
)
def test_mesh_sidecars(template, labels, annotations, sidecars):
    assert facts.mesh_sidecars(template(), labels(), annotations) == sidecars


# --- RuntimeClasses and nodes ------------------------------------------------------------------------


def _class(handler: str, selector: dict[str, str] | None) -> dict[str, Any]:
    runtime_class: dict[str, Any] = {
        "apiVersion": "node.k8s.io/v1",
        "kind": "RuntimeClass",
        "handler": handler,
    }
    runtime_class["metadata"] = {"name": "x"}
    if selector is not None:
        runtime_class["scheduling"] = {"nodeSelector": selector}
    return runtime_class


@pytest.mark.parametrize(
    ("runtime_class", "shim"),
    [
        # kwasm: the team's wasm-spin (handler spin) selects agentpool kwasmpool, an OCIContainer pool
        (lambda items: find(items, "RuntimeClass", None, "wasm-spin"), None),
        # the deislabs class wasmtime-spin (handler spin) selects agentpool wasipool, the WasmWasi pool
        (lambda items: find(items, "RuntimeClass", None, "wasmtime-spin"), "spin"),
        # AKS's classes select the WASI nodes' own labels (handler spin-v0-15-1, slight)
        (lambda items: find(items, "RuntimeClass", None, "wasmtime-spin-v2"), "spin"),
        (lambda items: find(items, "RuntimeClass", None, "wasmtime-slight-v1"), "slight"),
        (lambda _: _class("wasmedge", {"kubernetes.azure.com/agentpool": "wasipool"}), None),  # not Spin
        (lambda _: _class("spin", None), None),  # no scheduling: any node
        (lambda _: _class("spin", {"kubernetes.io/os": "linux"}), None),  # every pool's nodes
        (lambda _: _class("spin", {"kubernetes.azure.com/agentpool": "gone"}), None),  # no node at all
        (lambda _: _class("spin-v2", {"agentpool": "wasipool", "kubernetes.io/arch": "amd64"}), "spin"),
    ],
)
def test_runs_spin_on_wasi(runtime_class, shim):
    items = export("kwasm")
    labels = facts.pool_labels(node_pools("kwasm"), [o for o in items if o["kind"] == "Node"])
    assert facts.runs_spin_on_wasi(runtime_class(items), labels) == shim


def test_pool_labels_from_pools_and_their_nodes():
    items = export("two-pools")
    labels = facts.pool_labels(node_pools("two-pools"), [o for o in items if o["kind"] == "Node"])
    # node-pools.json: three pools; the Arm64 WASI pool's nodes say kubernetes.io/arch: arm64
    assert sorted(labels) == ["nodepool1", "wasiarm", "wasipool"]
    assert labels["wasiarm"]["kubernetes.io/arch"] == "arm64"
    assert labels["wasipool"]["kubernetes.io/arch"] == "amd64"
    assert labels["wasiarm"]["kubernetes.azure.com/wasmtime-spin-v2"] == "true"
    assert "kubernetes.azure.com/wasmtime-spin-v2" not in labels["nodepool1"]
    assert "kubernetes.io/hostname" not in labels["wasiarm"]  # differs between its two nodes
    assert facts.is_wasi_pool(labels["wasiarm"]) and not facts.is_wasi_pool(labels["nodepool1"])


def test_pods_on_nodes_with_their_controllers():
    items = export("mixed-wasi-pool")
    found = facts.pods_on_nodes(items, ["aks-wasipool-48157920-vmss000001"])
    # mixed-wasi-pool: on the second WASI node, in export order (Pods by namespace, then name)
    assert [(p.key, p.chain, p.daemon_set) for p in found] == [
        ("default/netshoot", (), False),
        (
            "edge/edge-proxy-p2cn6zfjq-9w4zv",
            (("ReplicaSet", "edge-proxy-p2cn6zfjq"), ("Deployment", "edge-proxy")),
            False,
        ),
        ("kube-system/cloud-node-manager-kvmcf", (("DaemonSet", "cloud-node-manager"),), True),
        ("kube-system/kube-proxy-dk45w", (("DaemonSet", "kube-proxy"),), True),
        (
            "web/hello-wasi-q6gk28jvpp-ttbqj",
            (("ReplicaSet", "hello-wasi-q6gk28jvpp"), ("Deployment", "hello-wasi")),
            False,
        ),
    ]
    assert {p.node for p in found} == {"aks-wasipool-48157920-vmss000001"}


def test_a_controller_the_export_lacks_ends_the_chain():
    items = [o for o in export("kwasm") if o["kind"] != "Job"]
    node = "aks-kwasmpool-36182507-vmss000000"
    found = [p for p in facts.pods_on_nodes(items, [node]) if p.key.startswith("kwasm/")]
    # the provisioning Pod's Job is not in the list any more: the chain names it and stops
    assert [(p.key, p.chain) for p in found] == [
        (f"kwasm/{node}-provision-kwasm-snxz7", (("Job", f"{node}-provision-kwasm"),)),
    ]
