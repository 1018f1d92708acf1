"""The two independent cluster models (tests/traffic_simulator.py, tests/transition_simulator.py) on
EndpointSlices, from hand-built registrations: kube-proxy serves a Service's pods and the ready endpoints
of every slice labelled with its name; a Service without a selector only the latter (kubernetes.io docs
"EndpointSlices", "Services without selectors"). A created slice serves once it exists, a deleted one
stops when its deletion starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, Registration
from tests.traffic_simulator import DEPLOYMENT, ENDPOINT_SLICE, ROUTE, SERVICE, Cluster
from tests.transition_simulator import Transition

NAMESPACE = "web"
EXPORT = """\
apiVersion: v1
kind: List
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: hello-spin, namespace: web}
  spec:
    replicas: 2
    selector: {matchLabels: {app: hello-spin}}
    template:
      metadata: {labels: {app: hello-spin}}
      spec: {containers: [{name: hello-spin, image: "example.com/hello:1"}]}
- apiVersion: v1
  kind: Service
  metadata: {name: hello-spin, namespace: web}
  spec:
    type: ClusterIP
    selector: {app: hello-spin}
    ports: [{port: 80, protocol: TCP}]
"""
GATEWAY = {
    "namespace": "gateway-system",
    "name": "public",
    "hostnames": ["hello.example.com"],
    "pathPrefix": "/",
}


def registration(type_: str, name: str, inputs: dict[str, Any], **options: Any) -> Registration:
    return Registration(
        type=type_,
        name=name,
        inputs=inputs,
        protect=options.get("protect", False),
        import_id=options.get("import_id", ""),
        dependencies=list(options.get("dependencies", [])),
        parent="",
        replace_on_changes=[],
        delete_before_replace=False,
        ignore_changes=[],
        provider="",
        retain_on_delete=options.get("retain_on_delete", False),
        deleted_with="",
    )


def legacy_deployment() -> Registration:
    """The adopted legacy Deployment: 2 pods labelled app=hello-spin."""
    inputs = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello-spin", "namespace": NAMESPACE},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "hello-spin"}},
            "template": {"metadata": {"labels": {"app": "hello-spin"}}, "spec": {"containers": []}},
        },
    }
    return registration(DEPLOYMENT, "hello-spin-legacy", inputs, import_id=f"{NAMESPACE}/hello-spin")


def legacy_service() -> Registration:
    """The adopted exported Service, selecting the legacy pods."""
    inputs = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "hello-spin", "namespace": NAMESPACE},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app": "hello-spin"},
            "ports": [{"port": 80, "protocol": "TCP"}],
        },
    }
    return registration(SERVICE, "hello-spin-service", inputs, import_id=f"{NAMESPACE}/hello-spin")


def selectorless_service() -> Registration:
    inputs = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "hello-spin-spin", "namespace": NAMESPACE},
        "spec": {"type": "ClusterIP", "ports": [{"port": 80, "protocol": "TCP"}]},
    }
    return registration(SERVICE, "hello-spin-aci-service", inputs)


def endpoint_slice(name: str, service: str, ready: list[bool | None]) -> Registration:
    """A slice for `service` with one endpoint per entry of `ready` (None: no ready condition)."""
    endpoints = []
    for index, condition in enumerate(ready):
        endpoint: dict[str, Any] = {"addresses": [f"10.225.100.{65 + index}"]}
        if condition is not None:
            endpoint["conditions"] = {"ready": condition}
        endpoints.append(endpoint)
    inputs = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": f"{service}-aci",
            "namespace": NAMESPACE,
            "labels": {
                "kubernetes.io/service-name": service,
                "endpointslice.kubernetes.io/managed-by": "aks-wasm-migration.io",
            },
        },
        "addressType": "IPv4",
        "ports": [{"port": 80, "protocol": "TCP"}],
        "endpoints": endpoints,
    }
    groups = [
        f"urn:pulumi:test::p::azure-native:containerinstance:ContainerGroup::{name}-group-{i}"
        for i in range(2)
    ]
    return registration(ENDPOINT_SLICE, name, inputs, dependencies=groups)


def route(weights: dict[str, int]) -> Registration:
    """The workload's migration HTTPRoute on the Gateway, splitting `/` by weight."""
    inputs = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "hello-spin-migration", "namespace": NAMESPACE},
        "spec": {
            "parentRefs": [{"name": GATEWAY["name"], "namespace": GATEWAY["namespace"]}],
            "hostnames": GATEWAY["hostnames"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                    "backendRefs": [
                        {"name": name, "port": 80, "weight": weight} for name, weight in weights.items()
                    ],
                }
            ],
        },
    }
    return registration(ROUTE, "hello-spin-migration", inputs)


@pytest.fixture
def workload(project_dir: Path) -> dict[str, Any]:
    """The workload's config entry, its export written inside the project (manifests resolve there)."""
    path = project_dir / "hello-spin.yaml"
    path.write_text(EXPORT)
    return {"name": "hello-spin", "namespace": NAMESPACE, "manifest": str(path.relative_to(ROOT))}


def raw(workload: dict[str, Any]) -> dict[str, Any]:
    return {"workloads": [workload]}


# --- traffic_simulator ---------------------------------------------------------------------------------


def test_a_selectorless_service_reaches_its_slices_ready_endpoints_only(workload):
    regs = [
        legacy_deployment(),
        selectorless_service(),
        endpoint_slice("hello-spin-aci-endpoints", "hello-spin-spin", [True, True, None, False]),
    ]
    cluster = Cluster(regs, raw(workload), ROOT)
    backends = cluster.backends(NAMESPACE, "hello-spin-spin")
    assert len(backends) == 3 and all(b.new for b in backends)
    spec = cluster.services[(NAMESPACE, "hello-spin-spin")]
    assert cluster.service_share(NAMESPACE, spec, False, "hello-spin-spin") == (100, 100)
    # The exported Service, which no slice names, still reaches only its 2 legacy pods.
    assert cluster.entry_points(workload) == {"ClusterIP web/hello-spin": (0, 0)}


def test_a_slice_labelled_with_an_exported_service_adds_its_endpoints_to_it(workload):
    regs = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True])]
    cluster = Cluster(regs, raw(workload), ROOT)
    assert cluster.entry_points(workload) == {"ClusterIP web/hello-spin": (50, 50)}
    assert sum(not b.new for b in cluster.backends(NAMESPACE, "hello-spin")) == 2


def test_a_slice_in_another_namespace_or_without_the_service_label_adds_nothing(workload):
    elsewhere = endpoint_slice("elsewhere", "hello-spin", [True, True])
    elsewhere.inputs["metadata"]["namespace"] = "shop"
    unlabelled = endpoint_slice("unlabelled", "hello-spin", [True])
    del unlabelled.inputs["metadata"]["labels"]["kubernetes.io/service-name"]
    cluster = Cluster([legacy_deployment(), elsewhere, unlabelled], raw(workload), ROOT)
    assert cluster.entry_points(workload) == {"ClusterIP web/hello-spin": (0, 0)}


def test_a_local_policy_sends_nothing_to_endpoints_on_no_node(workload):
    """kube-proxy serves a Local Service from endpoints on the receiving node only; a container group's
    endpoint names no node."""
    regs = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True])]
    cluster = Cluster(regs, raw(workload), ROOT)
    spec = {**cluster.services[(NAMESPACE, "hello-spin")], "internalTrafficPolicy": "Local"}
    assert cluster.service_share(NAMESPACE, spec, False, "hello-spin") == (0, 0)


def test_a_gateway_route_to_the_selectorless_service_reaches_its_endpoints(workload):
    workload = {**workload, "gateway": GATEWAY}
    entry = "Gateway gateway-system/public hello.example.com/"
    served = [
        legacy_deployment(),
        selectorless_service(),
        endpoint_slice("hello-spin-aci-endpoints", "hello-spin-spin", [True, True, True]),
        route({"hello-spin": 50, "hello-spin-spin": 50}),
    ]
    cluster = Cluster(served, raw(workload), ROOT)
    assert cluster.entry_points(workload)[entry] == (50, 50)
    assert cluster.unserved(NAMESPACE, GATEWAY) == 0
    # Without the slice the new backend has no endpoint: the Gateway answers its half with errors.
    unsliced = Cluster([r for r in served if r.type != ENDPOINT_SLICE], raw(workload), ROOT)
    assert unsliced.entry_points(workload)[entry] == (0, 0)
    assert unsliced.unserved(NAMESPACE, GATEWAY) == 0.5


# --- transition_simulator ------------------------------------------------------------------------------


def test_a_created_slice_serves_once_its_creation_completes(workload):
    before = [legacy_deployment()]
    after = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True])]
    transition = Transition(before, after, raw(workload), ROOT)
    assert transition.worst(workload) == {"Service web/hello-spin": (2, 4, 2)}
    # While the create runs the slice serves nothing yet.
    running = frozenset({"hello-spin-aci-joined-0"})
    assert transition.sliced(frozenset(), running).get((NAMESPACE, "hello-spin"), 0) == 0
    assert transition.sliced(running, frozenset()) == {(NAMESPACE, "hello-spin"): 2}


def test_a_deleted_slice_stops_serving_when_its_deletion_starts(workload):
    before = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True])]
    after = [legacy_deployment()]
    transition = Transition(before, after, raw(workload), ROOT)
    assert transition.worst(workload) == {"Service web/hello-spin": (4, 2, 2)}
    (step,) = transition.steps
    assert step.deletes and not transition.sliced(frozenset(), frozenset({step.name}))


def test_an_unchanged_slice_serves_throughout(workload):
    regs = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True, False])]
    transition = Transition(regs, regs, raw(workload), ROOT)
    assert transition.steps == []
    assert transition.worst(workload) == {"Service web/hello-spin": (4, 4, 4)}


def test_an_updated_slice_counts_what_both_its_versions_give_while_it_runs(workload):
    before = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True])]
    after = [legacy_deployment(), endpoint_slice("hello-spin-aci-joined-0", "hello-spin", [True, True, True])]
    transition = Transition(before, after, raw(workload), ROOT)
    assert transition.worst(workload) == {"Service web/hello-spin": (4, 5, 4)}
    running = frozenset({"hello-spin-aci-joined-0"})
    assert transition.sliced(frozenset(), running) == {(NAMESPACE, "hello-spin"): 2}


def test_a_route_to_the_selectorless_service_reaches_its_ready_endpoints(workload):
    workload = {**workload, "gateway": GATEWAY}
    entry = "Gateway gateway-system/public hello.example.com/"
    regs = [
        legacy_deployment(),
        selectorless_service(),
        endpoint_slice("hello-spin-aci-endpoints", "hello-spin-spin", [True, True, True, False]),
        route({"hello-spin-spin": 100}),
    ]
    at_rest = Transition(regs, regs, raw(workload), ROOT)
    assert at_rest.worst(workload)[entry] == (3, 3, 3)
    # Moving the route onto the new Service while its slice is only being created finds the gap: the
    # route step does not wait for the slice here.
    before = [legacy_deployment(), legacy_service(), route({"hello-spin": 100})]
    moving = Transition(before, [legacy_service(), *regs], raw(workload), ROOT)
    assert moving.worst(workload)[entry] == (2, 3, 0)


def test_a_route_that_waits_for_the_slice_never_reaches_fewer(workload):
    workload = {**workload, "gateway": GATEWAY}
    entry = "Gateway gateway-system/public hello.example.com/"
    waiting = route({"hello-spin-spin": 100})
    waiting.dependencies = [f"urn:pulumi:test::p::{ENDPOINT_SLICE}::hello-spin-aci-endpoints"]
    before = [legacy_deployment(), legacy_service(), route({"hello-spin": 100})]
    after = [
        legacy_deployment(),
        legacy_service(),
        selectorless_service(),
        endpoint_slice("hello-spin-aci-endpoints", "hello-spin-spin", [True, True, True]),
        waiting,
    ]
    assert Transition(before, after, raw(workload), ROOT).worst(workload)[entry] == (2, 3, 2)
