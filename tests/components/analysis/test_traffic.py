"""The share of requests that really reaches new pods: label selector semantics, HTTPRoute precedence,
and every phase of the walk checked against an independent simulation (tests/traffic_simulator.py) of
what the program registers under mocks."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.analysis.traffic import analysed_state, route_conflicts
from components.core.config import PROJECT, ConfigError, Phase
from components.loading import load_migration
from migrate.check import traffic_warnings
from migrate.phases import plan
from tests.conftest import ENVIRONMENT, PHASE_FILES, ROOT, WALK, load_raw
from tests.traffic_simulator import Cluster, reported

# ---------------------------------------------------------------------------------------------------
# HTTPRoute precedence


def _route(name: str, hosts: list[str], *matches: dict[str, Any], section: str | None = "https") -> dict:
    parent = {
        "name": "public",
        "namespace": "gateway-system",
        **({"sectionName": section} if section else {}),
    }
    spec: dict[str, Any] = {"parentRefs": [parent], "rules": [{"matches": list(matches)}]}
    if hosts:
        spec["hostnames"] = hosts
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": "shop"},
        "spec": spec,
    }


def _prefix(value: str, **extra: Any) -> dict[str, Any]:
    return {"path": {"type": "PathPrefix", "value": value}, **extra}


OURS = _route("orders-api-migration", ["shop.contoso.com"], _prefix("/orders"))


@pytest.mark.parametrize(
    ("theirs", "conflict"),
    [
        (
            _route("orders", ["shop.contoso.com"], _prefix("/orders")),
            (["shop.contoso.com"], True),
        ),  # oldest wins
        (
            _route("orders", ["shop.contoso.com"], _prefix("/orders/")),
            (["shop.contoso.com"], True),
        ),  # same prefix
        (_route("orders", [], _prefix("/orders")), None),  # our named host is more specific than any host
        (_route("orders", ["shop.contoso.com"], _prefix("/orders/admin")), (["shop.contoso.com"], False)),
        (
            _route("orders", ["shop.contoso.com"], {"path": {"type": "Exact", "value": "/orders/x"}}),
            (["shop.contoso.com"], False),
        ),
        (  # more header matches win at the same path
            _route(
                "orders", ["shop.contoso.com"], _prefix("/orders", headers=[{"name": "x-beta", "value": "1"}])
            ),
            (["shop.contoso.com"], False),
        ),
        (_route("orders", ["*.contoso.com"], _prefix("/orders")), None),  # our exact host is more specific
        (_route("orders", ["shop.contoso.com"], _prefix("/")), None),  # our longer prefix wins
        (_route("orders", ["shop.contoso.com"], _prefix("/ordersx")), None),  # not under /orders
        (_route("orders", ["www.contoso.com"], _prefix("/orders")), None),
        (_route("orders", ["shop.contoso.com"], _prefix("/orders"), section="http"), None),  # other listener
        (
            _route("orders", ["shop.contoso.com"], _prefix("/orders"), section=None),
            (["shop.contoso.com"], True),
        ),
    ],
)
def test_an_existing_route_wins_by_gateway_api_precedence(theirs, conflict):
    found = route_conflicts(OURS, [theirs])
    assert [(list(c.hosts), c.takes_all) for c in found] == ([conflict] if conflict else [])
    assert all(c.route == "HTTPRoute shop/orders" for c in found)


def test_without_hostnames_our_route_loses_the_hosts_a_route_names():
    ours = _route("orders-api-migration", [], _prefix("/orders"))
    (found,) = route_conflicts(ours, [_route("orders", ["shop.contoso.com"], _prefix("/"))])
    assert found.hosts == ("shop.contoso.com",) and found.takes_all  # the named host is more specific


# ---------------------------------------------------------------------------------------------------
# Every phase: the reported share is the simulated one


REFERENCE = {
    "baseline": {
        "web/hello-spin": {"LoadBalancer web/hello-spin": 0, "ClusterIP web/hello-spin": 0},
        "shop/orders-api": {"ClusterIP shop/orders-api": 0},
        "shop/inventory": {"ClusterIP shop/inventory": 0},
    },
    "prepare": {
        "web/hello-spin": {"LoadBalancer web/hello-spin": 0, "ClusterIP web/hello-spin": 0},
        "shop/orders-api": {
            "Gateway gateway-system/public shop.contoso.com/orders": 0,
            "ClusterIP shop/orders-api": 0,
        },
        "shop/inventory": {"ClusterIP shop/inventory": 0},
    },
    **{
        f"parallel-{weight}": {
            "web/hello-spin": {"LoadBalancer web/hello-spin": pods, "ClusterIP web/hello-spin": pods},
            # In-cluster clients of orders-api's Service bypass its exact Gateway split until its new
            # pods join that Service at 100 %.
            "shop/orders-api": {
                "Gateway gateway-system/public shop.contoso.com/orders": weight,
                "ClusterIP shop/orders-api": 50 if weight == 100 else 0,
            },
            "shop/inventory": {"ClusterIP shop/inventory": pods},
        }
        # Two legacy pods stay: beside them one checked pod outside traffic, then 1 of 3 pods, then
        # both new pods, 2 of 4, at most.
        for weight, pods in ((0, 0), (10, 33), (50, 50), (90, 50), (100, 50))
    },
    **{
        phase: {
            "web/hello-spin": {"LoadBalancer web/hello-spin": 100, "ClusterIP web/hello-spin": 100},
            "shop/orders-api": {
                "Gateway gateway-system/public shop.contoso.com/orders": 100,
                "ClusterIP shop/orders-api": 100,
            },
            "shop/inventory": {"ClusterIP shop/inventory": 100},
        }
        for phase in ("cutover", "decommission")
    },
}


def _step(path: Path) -> str:
    (file,) = [f for f in WALK if f.path == path]
    return f"parallel-{file.weight}" if file.phase is Phase.PARALLEL else file.phase.value


def simulate_and_report(pulumi_run, raw: dict[str, Any]) -> tuple[dict, dict]:
    """(reported, simulated) shares per workload and entry point, as (min, max) percent."""
    run = pulumi_run(raw)
    cluster = Cluster(run.registrations, raw, ROOT)
    simulated = {
        f"{w.get('namespace', 'default')}/{w['name']}": cluster.entry_points(w) for w in raw["workloads"]
    }
    (outputs,) = [o for urn, o in run.monitor.outputs.items() if urn.endswith("MigrationPhase::migration")]
    return reported(outputs), simulated


@pytest.mark.parametrize("path", PHASE_FILES, ids=lambda p: p.name)
def test_the_reported_share_is_the_simulated_one_in_every_phase(pulumi_run, path):
    shown, simulated = simulate_and_report(pulumi_run, load_raw(path))
    assert shown == simulated
    expected = REFERENCE[_step(path)]
    assert simulated == {w: {e: (p, p) for e, p in entries.items()} for w, entries in expected.items()}


def _stack(project_dir: Path, manifest: str, phase: Phase, **changes: Any) -> dict[str, Any]:
    """The reference environment in `phase` with hello-spin exported as `manifest`; `changes` update
    its workload entry (a `traffic` change updates the traffic key)."""
    path = project_dir / "hello-spin.yaml"
    path.write_text(manifest)
    raw = load_raw(ENVIRONMENT)  # confirms decommission in advance
    raw["phase"] = phase.value
    raw["traffic"] = {"weight": changes.pop("weight", 10)}
    raw["workloads"][0].update(manifest=str(path.relative_to(ROOT)), **changes)
    return raw


def _hello(**service: Any) -> tuple[list[dict[str, Any]], str]:
    objects = yaml.safe_load((ROOT / "manifests/legacy/web/hello-spin.yaml").read_text())["items"]
    objects[1]["spec"].update(service)
    return objects, yaml.safe_dump_all(objects)


def test_a_one_replica_canary_at_weight_10_gets_half(pulumi_run, project_dir):
    objects, _ = _hello()
    objects[0]["spec"]["replicas"] = 1
    raw = _stack(project_dir, yaml.safe_dump_all(objects), Phase.PARALLEL)
    shown, simulated = simulate_and_report(pulumi_run, raw)
    assert shown == simulated
    assert simulated["web/hello-spin"] == {
        "LoadBalancer web/hello-spin": (50, 50),
        "ClusterIP web/hello-spin": (50, 50),
    }
    warnings = traffic_warnings(analysed_state(load_migration(raw)))
    assert warnings[0] == (
        "warning: web/hello-spin: 50% of the requests through LoadBalancer web/hello-spin and ClusterIP "
        "web/hello-spin reach new pods, where the phase asks for 10%: Service web/hello-spin spreads "
        "requests over 2 ready pods, 1 of them new, as kube-proxy picks a pod, not a weight; a `gateway:` "
        "splits exactly, or choose a weight near 50%"
    )


def test_external_traffic_policy_local_shares_per_node_not_per_pod(pulumi_run, project_dir):
    """50 replicas behind a LoadBalancer with externalTrafficPolicy Local: at 10 % 6 new pods run beside
    the 50 legacy ones, 11 % per pod; the load balancer spreads per node with a pod, so 6 new pods on
    1-6 shim nodes against 50 legacy ones on 1-50 WASI nodes get 2-86 % from outside."""
    objects, _ = _hello(externalTrafficPolicy="Local")
    objects[0]["spec"]["replicas"] = 50
    raw = _stack(project_dir, yaml.safe_dump_all(objects), Phase.PARALLEL)
    shown, simulated = simulate_and_report(pulumi_run, raw)
    assert shown == simulated
    assert simulated["web/hello-spin"] == {
        "LoadBalancer web/hello-spin": (2, 86),
        "ClusterIP web/hello-spin": (11, 11),
    }
    (warning,) = [w for w in traffic_warnings(analysed_state(load_migration(raw))) if "hello-spin" in w]
    assert warning.startswith(
        "warning: web/hello-spin: 2-86% of the requests through LoadBalancer web/hello-spin reach new pods, "
        "where the phase asks for 10%: externalTrafficPolicy Local: the load balancer spreads requests over "
        "the nodes that run a ready pod, not over pods"
    )


GATEWAY = {"name": "public", "namespace": "gateway-system", "hostnames": ["hello.contoso.com"]}
EXISTING_ROUTE = {
    "apiVersion": "gateway.networking.k8s.io/v1",
    "kind": "HTTPRoute",
    "metadata": {"name": "hello", "namespace": "web", "creationTimestamp": "2024-03-11T09:15:00Z"},
    "spec": {
        "parentRefs": [{"name": "public", "namespace": "gateway-system"}],
        "hostnames": ["hello.contoso.com"],
        "rules": [{"backendRefs": [{"name": "hello-spin", "port": 80}]}],  # no matches: PathPrefix /
    },
}


def test_the_gateway_covers_only_its_own_requests_the_load_balancer_keeps_its_pods(pulumi_run, project_dir):
    _, manifest = _hello()
    raw = _stack(project_dir, manifest, Phase.PARALLEL, gateway=GATEWAY, weight=50)
    shown, simulated = simulate_and_report(pulumi_run, raw)
    assert shown == simulated
    assert simulated["web/hello-spin"] == {
        "Gateway gateway-system/public hello.contoso.com/": (50, 50),
        "LoadBalancer web/hello-spin": (0, 0),  # 100 % legacy: the split is the Gateway's only
        "ClusterIP web/hello-spin": (0, 0),
    }
    (warning,) = [w for w in traffic_warnings(analysed_state(load_migration(raw))) if "hello-spin" in w]
    assert "LoadBalancer web/hello-spin and ClusterIP web/hello-spin" in warning
    assert "bypasses the split of Gateway gateway-system/public hello.contoso.com/" in warning


def test_an_existing_route_for_the_same_host_and_path_is_refused_from_parallel_on(pulumi_run, project_dir):
    objects, _ = _hello()
    manifest = yaml.safe_dump_all([*objects, EXISTING_ROUTE])
    # prepare: the existing route keeps serving (and wins over the migration's route); check says so.
    raw = _stack(project_dir, manifest, Phase.PREPARE, gateway=GATEWAY)
    shown, simulated = simulate_and_report(pulumi_run, raw)
    assert shown == simulated
    assert simulated["web/hello-spin"]["Gateway gateway-system/public hello.contoso.com/"] == (0, 0)
    (warning,) = [w for w in traffic_warnings(analysed_state(load_migration(raw))) if "hello-spin" in w]
    assert "HTTPRoute web/hello (in the export) takes every request on hello.contoso.com" in warning
    for phase in (Phase.PARALLEL, Phase.CUTOVER, Phase.DECOMMISSION):
        raw = _stack(project_dir, manifest, phase, gateway=GATEWAY)
        with pytest.raises(ConfigError) as refused:
            load_migration(raw)
        (line,) = refused.value.problems
        assert line.startswith(
            "workloads[0].gateway: HTTPRoute web/hello (in the export) takes every request on "
            "hello.contoso.com: Gateway API gives a request to the most specific match and then to the "
            "oldest route"
        )
        assert "Delete that route (or its rules for this host and path) once prepare is applied" in line
        assert line.endswith("(got 'gateway-system/public')")


def test_an_invalid_route_in_the_export_is_refused_in_every_phase(project_dir):
    objects, _ = _hello()
    route = copy.deepcopy(EXISTING_ROUTE)
    route["spec"]["rules"][0]["matches"] = [{"path": {"type": "Prefix", "value": "/"}}]
    raw = _stack(project_dir, yaml.safe_dump_all([*objects, route]), Phase.BASELINE)
    with pytest.raises(ConfigError) as refused:
        load_migration(raw)
    assert refused.value.problems[0].startswith(
        "workloads[0].manifest: HTTPRoute web/hello (Kubernetes 1.33): "
    )


def test_new_pods_stay_outside_a_legacy_service_selecting_the_standard_name_label(pulumi_run, project_dir):
    """A legacy Service selecting only `app.kubernetes.io/name` (very common) must not reach the canary
    before parallel: prepare sends 0 % to new pods, through every entry point."""
    objects, _ = _hello()
    for labels in (
        objects[0]["spec"]["template"]["metadata"]["labels"],
        objects[0]["spec"]["selector"]["matchLabels"],
    ):
        labels["app.kubernetes.io/name"] = labels.pop("app")
    objects[1]["spec"]["selector"] = {"app.kubernetes.io/name": "hello-spin"}
    raw = _stack(project_dir, yaml.safe_dump_all(objects), Phase.PREPARE)
    shown, simulated = simulate_and_report(pulumi_run, raw)
    assert shown == simulated
    assert simulated["web/hello-spin"] == {
        "LoadBalancer web/hello-spin": (0, 0),
        "ClusterIP web/hello-spin": (0, 0),
    }


# ---------------------------------------------------------------------------------------------------
# The realistic environments of tests/fixtures/environments, walked through every phase

ENVIRONMENTS = ROOT / "tests" / "fixtures" / "environments"


def environment_walk(name: str, manifest: Path | None = None) -> list[tuple[str, dict[str, Any]]]:
    """(step, raw config) of every phase file `migrate phases` writes for the environment, its manifest
    paths made relative to the project root (where the program resolves them), or all pointing at
    `manifest`. A workload without probe gets the path its app serves, /hello: the missing probe is
    item 8's to refuse, not this walk's."""
    environment = next((ENVIRONMENTS / name).glob("Pulumi.*.yaml"))
    walk = []
    for file in plan(environment, environment.parent):
        config = yaml.safe_load(file.body)["config"]
        raw = {key.removeprefix(f"{PROJECT}:"): value for key, value in config.items()}
        for workload in raw["workloads"]:
            path = manifest or environment.parent / workload["manifest"]
            workload["manifest"] = str(path.relative_to(ROOT))
            workload.setdefault("probe", {"path": "/hello"})
        step = f"parallel-{file.weight}" if file.weight is not None else file.phase.value
        walk.append((step, raw))
    return walk


def _everywhere(shares: dict[str, int], entries: list[str]) -> dict[str, dict[str, tuple[int, int]]]:
    return {step: {e: (share, share) for e in entries} for step, share in shares.items()}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (  # one replica each: at any weight above 0, 1 legacy + 1 new pod, half the requests
            "deislabs",
            {
                workload: _everywhere(
                    {
                        "baseline": 0,
                        "prepare": 0,
                        "parallel-0": 0,
                        "parallel-10": 50,
                        "parallel-50": 50,
                        "parallel-90": 50,
                        "parallel-100": 50,
                        "cutover": 100,
                    },
                    [f"ClusterIP {workload}"],
                )
                for workload in ("default/wasm-spin", "default/wasm-slight")
            },
        ),
        (
            "aks-samples",
            {
                workload: _everywhere(
                    {
                        "baseline": 0,
                        "prepare": 0,
                        "parallel-0": 0,
                        "parallel-50": 50,
                        "parallel-100": 50,
                        "cutover": 100,
                    },
                    [f"LoadBalancer {workload}", f"ClusterIP {workload}"],
                )
                for workload in ("default/wasm-spin", "default/wasm-slight")
            },
        ),
    ],
)
def test_environment_walk_reports_the_simulated_share(pulumi_run, name, expected):
    for step, raw in environment_walk(name):
        shown, simulated = simulate_and_report(pulumi_run, raw)
        assert shown == simulated, step
        assert simulated == {workload: steps[step] for workload, steps in expected.items()}, step


LB50_ENTRIES = [
    "Gateway gateway-system/public shop.contoso.com/",
    "LoadBalancer checkout/storefront",
    "ClusterIP checkout/storefront",
]


def test_lb50_walk_refuses_the_existing_route_then_splits_only_through_the_gateway(pulumi_run, project_dir):
    """50 replicas behind a LoadBalancer (externalTrafficPolicy Local, selector on
    app.kubernetes.io/name only) with an HTTPRoute of their own for the same host and path. Before
    parallel no request reaches the 2 canary pods; parallel is refused while the export holds the
    route; without it, the Gateway carries the weight and the load balancer and the cluster IP stay on
    the legacy pods until cutover."""
    walk = environment_walk("lb50")
    for step, raw in walk:
        if step in ("baseline", "prepare"):
            shown, simulated = simulate_and_report(pulumi_run, raw)
            assert shown == simulated, step
            assert simulated == {"checkout/storefront": {e: (0, 0) for e in LB50_ENTRIES}}, step
            continue
        with pytest.raises(ConfigError) as refused:
            load_migration(raw)
        assert refused.value.problems[0].startswith(
            "workloads[0].gateway: HTTPRoute checkout/storefront (in the export) takes every request on "
            "shop.contoso.com"
        ), step
    exported = yaml.safe_load((ENVIRONMENTS / "lb50/manifests/checkout/storefront.yaml").read_text())
    exported["items"] = [item for item in exported["items"] if item["kind"] != "HTTPRoute"]
    without_route = project_dir / "storefront.yaml"
    without_route.write_text(yaml.safe_dump(exported))
    # (Gateway, LoadBalancer, ClusterIP): at 100 % the new pods join the Service too: 30 of 60 pods at
    # rest, and the load balancer under externalTrafficPolicy Local spreads per node (a range).
    expected = {
        "parallel-0": ((0, 0), (0, 0), (0, 0)),
        "parallel-10": ((10, 10), (0, 0), (0, 0)),
        "parallel-50": ((50, 50), (0, 0), (0, 0)),
        "parallel-90": ((90, 90), (0, 0), (0, 0)),
        "parallel-100": ((100, 100), (3, 92), (50, 50)),
        "cutover": ((100, 100), (100, 100), (100, 100)),
    }
    for step, raw in environment_walk("lb50", without_route):
        if step not in expected:
            continue
        shown, simulated = simulate_and_report(pulumi_run, raw)
        assert shown == simulated, step
        assert simulated == {"checkout/storefront": dict(zip(LB50_ENTRIES, expected[step], strict=True))}, (
            step
        )


def test_lb50_without_a_gateway_splits_by_the_shaped_hpa_minimums(pulumi_run, project_dir):
    """The replica split of an HPA-scaled app: the legacy HPA keeps its bounds (lb50: 30..80) and the new
    HPA gets the bounds of the weight's share beside them, so at rest the new pods are the new HPA's
    minimum against the legacy one's. The cluster IP spreads per pod; the LoadBalancer with
    externalTrafficPolicy Local spreads per node (a range)."""
    exported = yaml.safe_load((ENVIRONMENTS / "lb50/manifests/checkout/storefront.yaml").read_text())
    exported["items"] = [item for item in exported["items"] if item["kind"] != "HTTPRoute"]
    manifest = project_dir / "storefront.yaml"
    manifest.write_text(yaml.safe_dump(exported))
    # ClusterIP share: new minimum / both minimums (3/33, 30/60), then everything from cutover on.
    expected = {
        "prepare": 0,
        "parallel-0": 0,
        "parallel-10": 9,
        "parallel-50": 50,
        "parallel-90": 50,
        "parallel-100": 50,
        "cutover": 100,
    }
    for step, raw in environment_walk("lb50", manifest):
        raw["workloads"][0].pop("gateway")
        if step not in expected:
            continue
        shown, simulated = simulate_and_report(pulumi_run, raw)
        assert shown == simulated, step
        share = expected[step]
        assert simulated["checkout/storefront"]["ClusterIP checkout/storefront"] == (share, share), step


def test_a_local_load_balancer_sends_nothing_to_container_groups(pulumi_run, project_dir):
    """Target aci behind a Service with externalTrafficPolicy Local: the load balancer reaches only
    endpoints on the node that took the request, and the container groups run on none, so its requests
    stay on the legacy pods while the cluster IP spreads over both."""
    _, manifest = _hello(externalTrafficPolicy="Local")
    raw = _stack(project_dir, manifest, Phase.PARALLEL, weight=50, target="aci")
    raw["container"] = {"spinImage": {"digest": "sha256:" + "ab" * 32}}
    raw["aci"] = {
        "location": "westeurope",
        "subnetId": "/subscriptions/3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/resourceGroups/rg-contoso-prod/"
        "providers/Microsoft.Network/virtualNetworks/vnet-aks/subnets/aci",
    }
    shown, simulated = simulate_and_report(pulumi_run, raw)
    assert shown == simulated
    assert simulated["web/hello-spin"] == {
        "LoadBalancer web/hello-spin": (0, 0),
        "ClusterIP web/hello-spin": (50, 50),
    }
