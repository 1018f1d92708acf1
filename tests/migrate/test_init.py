"""`migrate init` end to end: the files it writes load with the existing code and pass `check` in every
phase, except exactly where the report says a person must decide; bad input writes nothing."""

from __future__ import annotations

import copy
import itertools
import json
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from kubernetes.client import ApiClient, rest

from components.config import ConfigError, Phase, Traffic
from components.desired import build_desired_state
from components.legacy import strip_server_fields
from components.migration import load_migration, raw_config_from_stack_file
from migrate.__main__ import main
from migrate.check import check, transition_problems
from migrate.inventory import build_inventory, parse_cluster, read_export
from migrate.state import Loaded
from tests.conftest import ROOT
from tests.markdown_tree import render
from tests.migrate.test_inventory import EXPORT, POOLS

CLUSTER = "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/rg-contoso-prod/aks-contoso-prod"


def run_init(
    capsys, out: Path, *extra: Any, export: Path = EXPORT, pools: Path = POOLS
) -> tuple[int, str, str]:
    argv = ["init", "--node-pools", str(pools), "--cluster", CLUSTER, "--out", str(out), *map(str, extra)]
    if not any(str(arg) == "--kubeconfig" for arg in extra):
        argv += ["--kubectl-export", str(export)]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def phase_config(raw: dict[str, Any], phase: Phase) -> dict[str, Any]:
    """The stack file as a person walks it: only `phase` changes, and `decommission.confirm` last."""
    config = copy.deepcopy(raw)
    config["phase"] = phase.value
    if phase is Phase.DECOMMISSION:
        config["decommission"] = {"confirm": f"{raw['cluster']['name']}/{raw['legacyPools'][0]['name']}"}
    return config


def check_problems(raw: dict[str, Any], base_dir: Path, versions: tuple[str, ...] = ("1.33",)) -> list[str]:
    """Config errors, or else every problem `migrate check` reports for this config."""
    try:
        migration = load_migration(raw, base_dir=base_dir)
    except ConfigError as error:
        return error.problems
    loaded = Loaded(base_dir / "stack.yaml", raw, migration, build_desired_state(migration))
    return [line.removeprefix(f"{loaded.path}: ") for line in check(loaded, versions)]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("init")
    assert main(["init", "--kubectl-export", str(EXPORT), "--node-pools", str(POOLS), "--cluster", CLUSTER,
                 "--out", str(out)]) == 0  # fmt: skip
    return out


def test_writes_the_stack_the_exports_and_the_report(generated):
    files = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    assert files == [
        "manifests/legacy/media/thumbnailer.yaml",
        "manifests/legacy/shop/inventory.yaml",
        "manifests/legacy/shop/orders-api.yaml",
        "manifests/legacy/web/hello-spin.yaml",
        "migration-report.md",
        "stacks/Pulumi.prod.yaml",
    ]
    export = yaml.safe_load((generated / "manifests/legacy/shop/orders-api.yaml").read_text())
    assert export["kind"] == "List"
    assert [(o["kind"], o["metadata"]["name"]) for o in export["items"]] == [
        ("Deployment", "orders-api"),
        ("Service", "orders-api"),
    ]
    assert "managedFields" in export["items"][0]["metadata"] and "status" in export["items"][0]
    report = (generated / "migration-report.md").read_text()
    assert report.startswith("# Migration readiness: aks-contoso-prod (stack `prod`)")
    # Prose from the export reaches the report as literal text (migrate/markdown.py): read it rendered.
    assert "<strong>shop/inventory</strong>: set `image:` to the Spin rewrite of this" in render(report)
    assert "| StatefulSet search/indexer |" in report


@pytest.mark.parametrize("phase", list(Phase), ids=lambda p: p.value)
def test_every_phase_fails_exactly_on_the_decisions_the_report_names(generated, phase):
    raw = phase_config(raw_config_from_stack_file(generated / "stacks/Pulumi.prod.yaml"), phase)
    no_probe = (
        "probe.path: is required: the export has no HTTP readiness or liveness probe, and a Spin app only "
        "answers the routes in its spin.toml (a guessed / may be 404, and the pods never get Ready) "
        "(got (not set))"
    )
    assert check_problems(raw, generated) == [
        f"workloads[0].{no_probe}",
        "workloads[2].image: shop/inventory runs on wasmtime-slight-v1 (SpiderLightning), which has no "
        "successor shim; set the image of a Spin rebuild of this app (got (not set))",
        f"workloads[2].{no_probe}",
        "workloads[3].manifest: media/thumbnailer: a Spin pod runs exactly one Wasm container (got 2)",
        f"workloads[3].{no_probe}",
    ]
    report = json.loads(json.dumps(build_report(generated)))
    blocked = [w["manifest"] for w in report["workloads"] if w["migrated"] and w["blocking"]]
    assert blocked == [
        "manifests/legacy/web/hello-spin.yaml",
        "manifests/legacy/shop/inventory.yaml",
        "manifests/legacy/media/thumbnailer.yaml",
    ]


def build_report(out: Path) -> dict[str, Any]:
    """The report as `--format json` prints it, for the files in `out`."""
    return build_inventory(
        read_export(EXPORT.read_text(), "export"),
        json.loads(POOLS.read_text()),
        parse_cluster(CLUSTER),
        "prod",
    ).report


def decided(raw: dict[str, Any], generated: Path, out: Path) -> dict[str, Any]:
    """What the report asks a person to do, in a copy of `generated` at `out`: probe paths the apps
    serve, a Spin rewrite of the slight app and where it listens; the sidecar app waits. hello-spin's
    HPA stays: it is exported with the Deployment and translated."""
    shutil.copytree(generated, out)
    config = copy.deepcopy(raw)
    config["workloads"] = [w for w in config["workloads"] if w["name"] != "thumbnailer"]
    inventory = next(w for w in config["workloads"] if w["name"] == "inventory")
    inventory.update(image="contosoacr.azurecr.io/inv:3-spin", containerPort=80)
    for workload in config["workloads"]:
        workload.setdefault("probe", {"path": "/health"})
    return config


def walk_configs(raw: dict[str, Any]) -> list[dict[str, Any]]:
    """Every step of the walk: each phase, and parallel at each weight of `Traffic.walk`."""
    configs = []
    walk = Traffic.model_validate(raw.get("traffic") or {}).walk
    for phase in Phase:
        weights = walk if phase is Phase.PARALLEL else (walk[0] if phase.position < 2 else walk[-1],)
        for weight in weights:
            config = phase_config(raw, phase)
            config["traffic"] = {**(raw.get("traffic") or {}), "weight": weight}
            configs.append(config)
    return configs


def test_with_the_decisions_made_every_phase_passes_check_on_every_version(generated, tmp_path):
    out = tmp_path / "decided"
    raw = decided(raw_config_from_stack_file(generated / "stacks/Pulumi.prod.yaml"), generated, out)
    configs = walk_configs(raw)
    for config in configs:
        assert check_problems(config, out, ("1.31", "1.32", "1.33", "1.34")) == [], config["phase"]
    for before, after in itertools.pairwise(configs):
        assert transition_problems(before, after)[0] == []


def test_a_second_wasi_pool_gets_its_own_stack(tmp_path, capsys):
    code, out, _ = run_init(capsys, tmp_path, "--legacy-pool", "wasisearch", "--stack", "search")
    assert code == 0
    assert out.startswith("9 Wasm workloads: 1 in ")
    raw = raw_config_from_stack_file(tmp_path / "stacks/Pulumi.search.yaml")
    assert raw["legacyPools"][0]["name"] == "wasisearch"
    # search-api's pin to its WASI pool is left off the new pods: every phase schedules.
    for phase in Phase:
        assert check_problems(phase_config(raw, phase), tmp_path) == [], phase
    report = (tmp_path / "migration-report.md").read_text()
    assert "pinned to WASI pool wasisearch by its agentpool label: the new pods leave that pin out" in report


def test_json_format_prints_the_report(tmp_path, capsys):
    code, out, err = run_init(capsys, tmp_path, "--format", "json")
    assert code == 0
    assert err == (
        f"migrate init: note: {tmp_path} is not the project root; copy its stacks/ and manifests/ into "
        f"{ROOT} before `migrate check` or `pulumi` (their paths are relative to it)\n"
    )
    report = json.loads(out)
    assert report["summary"]["migrated"] == 4
    assert report["legacyPool"] == "wasipool"
    assert [w["name"] for w in report["workloads"] if w["blocking"]] == [
        "hello-spin",
        "inventory",
        "thumbnailer",
    ]


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("export.yaml", "items: [unclosed", "is not valid YAML"),
        ("export.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: a}\n", "not a kubectl List"),
        ("export.yaml", "kind: List\nitems: []\n", "the export holds no Wasm workload"),
    ],
)
def test_bad_exports_exit_2_and_write_nothing(tmp_path, capsys, name, text, message):
    out = tmp_path / "out"
    code, stdout, err = run_init(capsys, out, export=_write(tmp_path / name, text))
    assert code == 2 and stdout == ""
    assert err.count("\n") == 1 and err.startswith("migrate init: ") and message in err
    assert not out.exists()


def test_node_pools_without_wasi_exit_2_and_write_nothing(tmp_path, capsys):
    pools = [p for p in json.loads(POOLS.read_text()) if p["workloadRuntime"] != "WasmWasi"]
    out = tmp_path / "out"
    code, _, err = run_init(capsys, out, pools=_write(tmp_path / "pools.json", json.dumps(pools)))
    assert code == 2
    assert err.startswith("migrate init: ") and "no pool with workloadRuntime WasmWasi" in err
    assert not out.exists()


@pytest.mark.parametrize(
    ("cluster", "message"),
    [
        ("just-a-name", "--cluster 'just-a-name': expected SUBSCRIPTION/RESOURCE_GROUP/NAME"),
        ("not-a-uuid/rg/aks", "cluster.subscriptionId: must be an Azure subscription id (a UUID)"),
    ],
)
def test_bad_cluster_exits_2(tmp_path, capsys, cluster, message):
    code = main(["init", "--kubectl-export", str(EXPORT), "--node-pools", str(POOLS), "--cluster", cluster,
                 "--out", str(tmp_path / "out")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_existing_files_are_kept_without_force(tmp_path, capsys):
    report = tmp_path / "migration-report.md"
    report.write_text("my notes\n")
    code, _, err = run_init(capsys, tmp_path)
    assert code == 2
    assert err == f"migrate init: {report} exists; nothing was written; pass --force to overwrite\n"
    assert report.read_text() == "my notes\n"
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["migration-report.md"]
    code, _, _ = run_init(capsys, tmp_path, "--force")
    assert code == 0 and report.read_text().startswith("# Migration readiness")


# --- live: the official client, faked at its HTTP boundary ----------------------------------------------

# Where each kind is listed; the client builds these URLs, the fake serves the fixture's objects there.
LIST_PATHS = {
    "/apis/apps/v1/deployments": "Deployment",
    "/apis/apps/v1/statefulsets": "StatefulSet",
    "/apis/apps/v1/daemonsets": "DaemonSet",
    "/apis/batch/v1/cronjobs": "CronJob",
    "/apis/batch/v1/jobs": "Job",
    "/api/v1/pods": "Pod",
    "/api/v1/services": "Service",
    "/apis/autoscaling/v2/horizontalpodautoscalers": "HorizontalPodAutoscaler",
    "/apis/policy/v1/poddisruptionbudgets": "PodDisruptionBudget",
    "/apis/networking.k8s.io/v1/ingresses": "Ingress",
    "/apis/node.k8s.io/v1/runtimeclasses": "RuntimeClass",
    "/apis/gateway.networking.k8s.io/v1/httproutes": "HTTPRoute",
}
PAGE = 2  # the fake server pages at 2 items, whatever limit the client asks for


class _HttpResponse:
    def __init__(self, status: int, body: dict[str, Any]):
        self.status, self.reason = status, "OK" if status == 200 else "Not Found"
        self.data = json.dumps(body).encode()
        self.headers = {"content-type": "application/json"}


def fake_api_server(monkeypatch, without: tuple[str, ...] = (), items: list | None = None) -> list[str]:
    """Replace ApiClient.call_api (the client's HTTP call) with the fixture export served as list
    responses: items without apiVersion/kind, as the API server sends them."""
    items = items if items is not None else yaml.safe_load(EXPORT.read_text())["items"]
    requested: list[str] = []

    def call_api(self, method, url, header_params=None, body=None, post_params=None, _request_timeout=None):
        parsed = urlparse(url)
        requested.append(f"{method} {parsed.path}")
        kind = LIST_PATHS.get(parsed.path)
        if kind is None or kind in without:
            return rest.RESTResponse(_HttpResponse(404, {"kind": "Status", "code": 404}))
        matching = [
            {k: v for k, v in o.items() if k not in ("apiVersion", "kind")}
            for o in items
            if o["kind"] == kind
        ]
        start = int(parse_qs(parsed.query).get("continue", ["0"])[0])
        page = matching[start : start + PAGE]
        token = str(start + PAGE) if start + PAGE < len(matching) else None
        response = {"kind": f"{kind}List", "metadata": {"resourceVersion": "1"}, "items": page}
        if token:
            response["metadata"]["continue"] = token
        return rest.RESTResponse(_HttpResponse(200, response))

    monkeypatch.setattr(ApiClient, "call_api", call_api)
    return requested


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: aks, cluster: {server: "https://aks-contoso-prod.hcp.westeurope.azmk8s.io:443"}}]
users: [{name: reader, user: {token: not-a-real-token}}]
contexts: [{name: aks, context: {cluster: aks, user: reader}}]
current-context: aks
"""


def test_live_reading_gives_what_the_export_gives(tmp_path, capsys, monkeypatch, generated):
    requested = fake_api_server(monkeypatch)
    kubeconfig = _write(tmp_path / "kubeconfig", KUBECONFIG)
    code, _, err = run_init(capsys, tmp_path / "out", "--kubeconfig", kubeconfig)
    assert code == 0 and err.startswith("migrate init: note: ")
    assert {r.split()[0] for r in requested} == {"GET"}  # read-only
    assert {r.split()[1] for r in requested} == set(LIST_PATHS)
    assert len(requested) > len(LIST_PATHS)  # paged
    live = raw_config_from_stack_file(tmp_path / "out/stacks/Pulumi.prod.yaml")
    assert live == raw_config_from_stack_file(generated / "stacks/Pulumi.prod.yaml")
    exported = yaml.safe_load((generated / "manifests/legacy/web/hello-spin.yaml").read_text())
    read = yaml.safe_load((tmp_path / "out/manifests/legacy/web/hello-spin.yaml").read_text())
    # The same objects once the loader drops what the server writes (the client omits nulls and prints
    # timestamps as +00:00 rather than Z, both in fields the loader strips).
    assert [strip_server_fields(o) for o in read["items"]] == [
        strip_server_fields(o) for o in exported["items"]
    ]
    assert read["items"][0]["metadata"]["managedFields"][0]["manager"] == "kubectl-client-side-apply"
    decided_live = decided(live, tmp_path / "out", tmp_path / "decided")
    assert check_problems(phase_config(decided_live, Phase.PARALLEL), tmp_path / "decided") == []


def test_live_reading_without_gateway_api_has_no_routes(tmp_path, capsys, monkeypatch):
    fake_api_server(monkeypatch, without=("HTTPRoute",))
    code, _, _ = run_init(capsys, tmp_path, "--kubeconfig", _write(tmp_path / "kubeconfig", KUBECONFIG))
    assert code == 0
    hello = raw_config_from_stack_file(tmp_path / "stacks/Pulumi.prod.yaml")["workloads"][0]
    assert hello["name"] == "hello-spin" and "gateway" not in hello


def test_live_reading_that_is_refused_exits_2(tmp_path, capsys, monkeypatch):
    fake_api_server(monkeypatch, without=("Pod",))
    code, _, err = run_init(capsys, tmp_path / "out", "--kubeconfig", _write(tmp_path / "kc", KUBECONFIG))
    assert code == 2 and err == "migrate init: cluster read failed: 404 Not Found\n"
    assert not (tmp_path / "out").exists()


def test_unreadable_kubeconfig_exits_2(tmp_path, capsys):
    code, _, err = run_init(
        capsys, tmp_path / "out", "--kubeconfig", _write(tmp_path / "kc", "kind: Config\n")
    )
    assert code == 2 and err.startswith(f"migrate init: {tmp_path / 'kc'}: cannot load kubeconfig: ")
    assert err.count("\n") == 1


def test_live_answer_the_client_cannot_read_exits_2(tmp_path, capsys, monkeypatch):
    items = yaml.safe_load(EXPORT.read_text())["items"]
    daemonset = next(o for o in items if o["kind"] == "DaemonSet")
    del daemonset["status"]["numberMisscheduled"]  # required by the client's model
    fake_api_server(monkeypatch, items=items)
    code, _, err = run_init(capsys, tmp_path / "out", "--kubeconfig", _write(tmp_path / "kc", KUBECONFIG))
    assert code == 2
    assert err == (
        "migrate init: cluster read failed: the kubernetes client rejects a V1DaemonSetStatus "
        "(numberMisscheduled: Input should be a valid integer); use --kubectl-export instead\n"
    )
    assert not (tmp_path / "out").exists()


def test_unreachable_cluster_exits_2(tmp_path, capsys):
    closed_port = KUBECONFIG.replace("aks-contoso-prod.hcp.westeurope.azmk8s.io:443", "127.0.0.1:9")
    code, _, err = run_init(capsys, tmp_path / "out", "--kubeconfig", _write(tmp_path / "kc", closed_port))
    assert code == 2 and err.startswith("migrate init: cluster read failed: ") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
