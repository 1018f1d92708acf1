"""`migrate init` end to end: one stack per cluster; the files it writes load with the existing code; the
report's "must decide" list is exactly what `check` says in every step plus init's own findings; every
statement the report makes about the plan holds in the phases `render` prints; bad input writes nothing."""

from __future__ import annotations

import copy
import itertools
import json
import re
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from kubernetes.client import ApiClient, rest
from markdown_it.tree import SyntaxTreeNode

from components.core.config import ConfigError, Phase, Traffic
from components.core.kubernetes import service_selects
from components.desired import build_desired_state
from components.export.workload import strip_server_fields
from components.loading import load_migration, raw_config_from_stack_file
from migrate.__main__ import main
from migrate.check import check, transition_problems
from migrate.init.planner import step_config, walk
from migrate.state import Loaded
from tests.components.export.test_facts import CLUSTERS
from tests.conftest import ROOT
from tests.markdown_tree import parser, render
from tests.migrate.init.test_inventory import EXPORT, POOLS

CLUSTER = "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/rg-contoso-prod/aks-contoso-prod"
ENVIRONMENTS = sorted(path.name for path in CLUSTERS.iterdir() if path.is_dir())


def run_init(
    capsys, out: Path, *extra: Any, export: Path = EXPORT, pools: Path = POOLS
) -> tuple[int, str, str]:
    argv = ["init", "--node-pools", str(pools), "--cluster", CLUSTER, "--out", str(out), *map(str, extra)]
    if not any(str(arg) == "--kubeconfig" for arg in extra):
        argv += ["--kubectl-export", str(export)]
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _init(out: Path, export: Path, pools: Path) -> dict[str, Any]:
    """init into `out` (made a project root, so `render` finds it); the report as JSON."""
    import contextlib
    import io

    printed = io.StringIO()
    argv = ["init", "--kubectl-export", str(export), "--node-pools", str(pools), "--cluster", CLUSTER]
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(io.StringIO()):
        assert main([*argv, "--out", str(out), "--format", "json"]) == 0
    shutil.copy(ROOT / "Pulumi.yaml", out / "Pulumi.yaml")
    return json.loads(printed.getvalue())


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("init")
    assert main(["init", "--kubectl-export", str(EXPORT), "--node-pools", str(POOLS), "--cluster", CLUSTER,
                 "--out", str(out)]) == 0  # fmt: skip
    return out


@pytest.fixture(scope="module")
def environments(tmp_path_factory) -> dict[str, tuple[Path, dict[str, Any]]]:
    """Every cluster environment and the contoso fixture, each through init once."""
    found = {}
    for env in ENVIRONMENTS:
        out = tmp_path_factory.mktemp(env)
        found[env] = (out, _init(out, CLUSTERS / env / "export.yaml", CLUSTERS / env / "node-pools.json"))
    out = tmp_path_factory.mktemp("contoso")
    found["contoso"] = (out, _init(out, EXPORT, POOLS))
    return found


def check_problems(raw: dict[str, Any], base_dir: Path) -> list[str]:
    """What `migrate check` reports for this config: the loader's problems, or else every problem."""
    try:
        migration = load_migration(raw, base_dir=base_dir)
    except ConfigError as error:
        return error.problems
    loaded = Loaded(base_dir / "stack.yaml", raw, migration, build_desired_state(migration))
    return [line.removeprefix(f"{loaded.path}: ") for line in check(loaded)]


def test_writes_the_stack_the_exports_the_cluster_file_and_the_report(generated):
    files = sorted(str(p.relative_to(generated)) for p in generated.rglob("*") if p.is_file())
    assert files == [
        "manifests/cluster/prod.yaml",
        "manifests/legacy/media/thumbnailer.yaml",
        "manifests/legacy/search/search-api.yaml",
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
        ("Ingress", "orders"),
        ("RuntimeClass", "wasmtime-spin-v1"),
    ]
    assert "managedFields" in export["items"][0]["metadata"] and "status" in export["items"][0]
    raw = raw_config_from_stack_file(generated / "stacks/Pulumi.prod.yaml")
    assert raw["cluster"]["export"] == "manifests/cluster/prod.yaml"
    assert [pool["name"] for pool in raw["legacyPools"]] == ["wasipool", "wasisearch"]
    report = (generated / "migration-report.md").read_text()
    assert report.startswith("# Migration readiness: aks-contoso-prod (stack `prod`)")
    # Prose from the export reaches the report as literal text (migrate/markdown.py): read it rendered.
    assert "set `image:` to the Spin rewrite of this SpiderLightning app" in render(report)
    assert "| `StatefulSet search/indexer` |" in report


# --- the must-decide list is what check says in every step -------------------------------------------


def _without(raw: dict[str, Any], refused: set[int]) -> tuple[dict[str, Any], list[int]]:
    kept = [i for i in range(len(raw["workloads"])) if i not in refused]
    return {**raw, "workloads": [raw["workloads"][i] for i in kept]}, kept


def _renumbered(line: str, kept: list[int]) -> str:
    return re.sub(r"workloads\[(\d+)\]", lambda m: f"workloads[{kept[int(m.group(1))]}]", line)


@pytest.mark.parametrize("env", ["contoso", "helm-chart", "kwasm", "mixed-wasi-pool", "paused"])
def test_the_must_decide_list_is_what_check_says_in_every_step(environments, env):
    out, report = environments[env]
    raw = raw_config_from_stack_file(out / f"stacks/Pulumi.{report['stack']}.yaml")
    listed = {line["line"]: set(line["steps"]) for item in report["mustDecide"] for line in item["check"]}
    for step in walk(raw):
        config = step_config(raw, step)
        said = check_problems(config, out)
        in_report = {line for line, steps in listed.items() if step.label in steps}
        assert set(said) <= in_report, step.label  # everything `check` says now
        # and what it says once the workloads the loader refuses are left out (or decided)
        refused = {int(m.group(1)) for line in said if (m := re.match(r"workloads\[(\d+)\]", line))}
        rest: set[str] = set()
        if refused:
            reduced, kept = _without(config, refused)
            rest = {_renumbered(line, kept) for line in check_problems(reduced, out)}
        assert in_report == set(said) | rest, step.label
    # init's own findings are in the list too, each with what check says for its key
    keys = [item["key"] for item in report["mustDecide"] if item["key"]]
    assert keys == [d["key"] for d in report["decisions"]]


def test_the_report_lists_the_decisions_once_each(generated):
    report = (generated / "migration-report.md").read_text()
    rendered = render(report)
    section = rendered.split("<h2>What a person must decide")[1].split("<h2>")[0]
    items = re.findall(r"<li>(.*?)</li>", section, re.S)
    # contoso: hello-spin's, inventory's and thumbnailer's probes, inventory's rewrite, thumbnailer's
    # sidecar; the Service check wants for search-api is reported by check, not by init
    assert [re.sub(r"<.*?>", "", item).split(":")[0] for item in items] == [
        "web/hello-spin workloads[0].probe.path",
        "shop/inventory workloads[2].image",
        "shop/inventory workloads[2].probe.path",
        "media/thumbnailer workloads[3].manifest",
        "media/thumbnailer workloads[3].probe.path",
    ]


# --- every statement about the plan holds in the rendered phases --------------------------------------


def plan_table(markdown: str) -> dict[str, list[str]]:
    """The rows of the report's "What the plan does" table: workload -> the cells' text as it reads."""
    root = SyntaxTreeNode(parser().parse(markdown))
    heading = False
    for node in root.children:
        if node.type == "heading":
            heading = "What the plan does" in "".join(c.content for c in node.children[0].children)
        if node.type == "table" and heading:
            rows = [row for section in node.children for row in section.children][1:]
            cells = [
                ["".join(t.content for t in cell.children[0].children) for cell in row.children]
                for row in rows
            ]
            return {row[0]: row[1:] for row in cells}
    raise AssertionError("no plan table")


def rendered(out: Path, raw: dict[str, Any], step: Any, capsys) -> list[dict[str, Any]]:
    """The Kubernetes objects `render` prints for the config at `step`."""
    path = out / "stacks" / f"step-{step.label.replace(' ', '-').replace('%', '')}.yaml"
    config = step_config(raw, step)
    path.write_text(yaml.safe_dump({"config": {f"aks-wasm-migration:{k}": v for k, v in config.items()}}))
    capsys.readouterr()
    assert main(["render", str(path), "--section", "kubernetes"]) == 0, capsys.readouterr().err
    return [doc for doc in yaml.safe_load_all(capsys.readouterr().out) if doc]


def _new_side(objects: list[dict[str, Any]], namespace: str, name: str) -> tuple[Any, Any, Any]:
    """The new Deployment (README: `<workload>-spin`), its HPA and its KEDA ScaledObject, as rendered."""

    def find(kind: str, targets: Any) -> dict[str, Any] | None:
        return next(
            (
                o
                for o in objects
                if o["kind"] == kind
                and targets(o) == f"{name}-spin"
                and o["metadata"].get("namespace") == namespace
            ),
            None,
        )

    deployment = find("Deployment", lambda o: o["metadata"]["name"])
    hpa = find("HorizontalPodAutoscaler", lambda o: o["spec"]["scaleTargetRef"]["name"])
    scaled = find("ScaledObject", lambda o: o["spec"]["scaleTargetRef"]["name"])
    return deployment, hpa, scaled


def _new_pods(objects: list[dict[str, Any]], namespace: str, name: str) -> tuple[dict[str, str], int]:
    deployment, hpa, scaled = _new_side(objects, namespace, name)
    if deployment is None:
        return {}, 0
    if hpa:
        count = hpa["spec"].get("minReplicas", 1)
    elif scaled:  # KEDA scales to its pause, else to at least minReplicaCount (default 0)
        paused = (scaled["metadata"].get("annotations") or {}).get("autoscaling.keda.sh/paused-replicas")
        count = int(paused) if paused is not None else scaled["spec"].get("minReplicaCount", 0)
    else:
        count = deployment["spec"].get("replicas", 1)
    return deployment["spec"]["template"]["metadata"].get("labels") or {}, count


def _reaches(
    entry: str, objects: list[dict[str, Any]], exported: list[dict[str, Any]], workload: str
) -> bool:
    """Whether requests through `entry` can reach new pods, from the rendered objects alone: a Service
    (exported, never changed by the walk) that selects the new pods while some run, or the migration's
    route sending the new Service a weight."""
    namespace, name = workload.split("/")
    labels, count = _new_pods(objects, namespace, name)
    kind, _, where = entry.partition(" ")
    if kind == "Gateway":
        route = next(
            o for o in objects if o["kind"] == "HTTPRoute" and o["metadata"]["name"] == f"{name}-migration"
        )
        weights = {b["name"]: b.get("weight", 1) for r in route["spec"]["rules"] for b in r["backendRefs"]}
        return count > 0 and any(w > 0 for backend, w in weights.items() if backend.endswith("-spin"))
    service_namespace, service_name = where.split("/")
    service = next(
        o
        for o in exported
        if o["kind"] == "Service"
        and o["metadata"]["name"] == service_name
        and o["metadata"].get("namespace") == service_namespace
    )
    return count > 0 and service_selects(service["spec"].get("selector"), labels)


@pytest.mark.parametrize("env", [*ENVIRONMENTS, "contoso"])
def test_every_statement_about_the_plan_holds_in_the_rendered_phases(environments, env, capsys):
    out, report = environments[env]
    markdown = (out / "migration-report.md").read_text()
    table = plan_table(markdown)
    raw = raw_config_from_stack_file(out / f"stacks/Pulumi.{report['stack']}.yaml")
    planned = [key for key, answer in report["planner"]["workloads"].items() if answer["planned"]]
    # What the planner cannot load is said so, and each has a loader problem in the list.
    for key, answer in report["planner"]["workloads"].items():
        if not answer["planned"]:
            assert table[key][0] == "not planned: the loader refuses this workload (see what to decide)"
            assert any(item["workload"] == key for item in report["mustDecide"])
    if not planned:
        return
    refused = {i for i, w in enumerate(raw["workloads"]) if f"{w['namespace']}/{w['name']}" not in planned}
    reduced, _ = _without(raw, refused)
    # The person's decision for the other pods on WASI nodes: accept that they go, by the names listed.
    acknowledged = sorted({pod["acknowledge"] for pod in report["otherPods"]})
    if acknowledged:
        reduced["decommission"] = {
            **(reduced.get("decommission") or {}),
            "acknowledgeOtherPods": acknowledged,
        }
    steps = walk(reduced)
    by_step = {step.label: rendered(out, reduced, step, capsys) for step in steps}
    exported = {
        key: yaml.safe_load(
            (
                out / next(w["manifest"] for w in raw["workloads"] if f"{w['namespace']}/{w['name']}" == key)
            ).read_text()
        )["items"]
        for key in planned
    }
    cutover = next(s.label for s in steps if s.phase is Phase.CUTOVER)
    before = [s.label for s in steps if s.phase is Phase.PARALLEL][-1]
    for key in planned:
        namespace, name = key.split("/")
        new_side, reach, move = table[key]
        deployment, hpa, scaled = _new_side(by_step[cutover], namespace, name)
        if hpa is not None:
            assert (
                new_side == f"gets an HPA {hpa['spec'].get('minReplicas', 1)}..{hpa['spec']['maxReplicas']}"
            )
        elif scaled is not None:  # KEDA's defaults: minReplicaCount 0, maxReplicaCount 100
            bounds = (
                f"{scaled['spec'].get('minReplicaCount', 0)}..{scaled['spec'].get('maxReplicaCount', 100)}"
            )
            assert new_side == f"gets a KEDA ScaledObject {bounds}"
        else:
            count = deployment["spec"].get("replicas", 1)
            assert new_side == f"runs {count} replica{'' if count == 1 else 's'}, no autoscaler"
        for said in reach.split("; "):
            entry, _, first = (
                said.rpartition(" from ") if " from " in said else (said.removesuffix(" never"), "", None)
            )
            truth = [s.label for s in steps if _reaches(entry, by_step[s.label], exported[key], key)]
            assert (truth[0] if truth else None) == (first or None), (key, said, truth)
        _, parallel_count = _new_pods(by_step[before], namespace, name)
        _, cutover_count = _new_pods(by_step[cutover], namespace, name)
        stops = parallel_count == 0 and cutover_count > 0
        assert move.startswith("stop-then-start" if stops else "side by side"), (key, move)


def test_the_plan_statements_cover_an_autoscaler_and_a_shared_service(environments):
    """What the environments make the report say, today: keda's order-api gets its HPA's 2..10 in
    cutover; reviews runs 4 replicas; mixed-wasi-pool's LoadBalancer reaches the new pods from parallel
    50 %, the first weight that gives them a share."""
    statements = {
        env: plan_table((environments[env][0] / "migration-report.md").read_text())
        for env in ("keda", "helm-chart", "mixed-wasi-pool")
    }
    assert statements["keda"]["orders/order-api"][0] == "gets an HPA 2..10"
    # order-worker's ScaledObject (minReplicaCount 1, maxReplicaCount 30) is translated, KEDA's HPA not
    assert statements["keda"]["orders/order-worker"][0] == "gets a KEDA ScaledObject 1..30"
    assert statements["helm-chart"]["shop/reviews"][0] == "runs 4 replicas, no autoscaler"
    assert (
        "LoadBalancer web/hello-wasi from parallel 50%" in statements["mixed-wasi-pool"]["web/hello-wasi"][1]
    )


# --- decided, the walk passes --------------------------------------------------------------------------


def phase_config(raw: dict[str, Any], phase: Phase) -> dict[str, Any]:
    """The stack file as a person walks it: only `phase` changes, and `decommission.confirm` last."""
    config = copy.deepcopy(raw)
    config["phase"] = phase.value
    if phase is Phase.DECOMMISSION:
        pools = ",".join(pool["name"] for pool in raw["legacyPools"])
        config["decommission"] = {"confirm": f"{raw['cluster']['name']}/{pools}"}
    return config


def decided(raw: dict[str, Any], generated: Path, out: Path) -> dict[str, Any]:
    """What the report asks a person to do, in a copy of `generated` at `out`: probe paths the apps
    serve, a Spin rewrite of the slight app and where it listens; the sidecar app waits; the HTTPRoute
    that would take the migration's requests is deleted (after prepare) and so left out of the export."""
    shutil.copytree(generated, out)
    manifest = out / "manifests/legacy/web/hello-spin.yaml"
    listing = yaml.safe_load(manifest.read_text())
    listing["items"] = [o for o in listing["items"] if o["kind"] != "HTTPRoute"]
    manifest.write_text(yaml.safe_dump(listing))
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
    walk_weights = Traffic.model_validate(raw.get("traffic") or {}).walk
    for phase in Phase:
        weights = (
            walk_weights
            if phase is Phase.PARALLEL
            else (walk_weights[0] if phase.position < 2 else walk_weights[-1],)
        )
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
        assert check_problems(config, out) == [], config["phase"]
    for before, after in itertools.pairwise(configs):
        assert transition_problems(before, after)[0] == []


# --- arguments and files ---------------------------------------------------------------------------------


def test_a_legacy_pool_is_refused_with_the_reason(tmp_path, capsys):
    code, out, err = run_init(capsys, tmp_path / "out", "--legacy-pool", "wasisearch")
    assert (code, out) == (2, "")
    assert err == (
        "migrate init: --legacy-pool 'wasisearch': one stack migrates every WASI pool of the cluster "
        "(legacyPools); leave --legacy-pool out\n"
    )
    assert not (tmp_path / "out").exists()


def test_json_format_prints_the_report(tmp_path, capsys):
    code, out, err = run_init(capsys, tmp_path, "--format", "json")
    assert code == 0
    assert err == (
        f"migrate init: note: {tmp_path} is not the project root; copy its stacks/ and manifests/ into "
        f"{ROOT} before `migrate check` or `pulumi` (their paths are relative to it)\n"
    )
    report = json.loads(out)
    assert report["summary"]["migrated"] == 5
    assert [pool["name"] for pool in report["wasiPools"]] == ["wasipool", "wasisearch"]
    assert report["planner"]["steps"] == [
        "baseline",
        "prepare",
        "parallel 0%",
        "parallel 50%",
        "parallel 100%",
        "cutover",
        "decommission",
    ]
    assert sorted(report["planner"]["workloads"]) == [
        "media/thumbnailer",
        "search/search-api",
        "shop/inventory",
        "shop/orders-api",
        "web/hello-spin",
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
    "/api/v1/namespaces": "Namespace",
    "/api/v1/nodes": "Node",
    "/api/v1/pods": "Pod",
    "/api/v1/services": "Service",
    "/apis/apps/v1/daemonsets": "DaemonSet",
    "/apis/apps/v1/deployments": "Deployment",
    "/apis/apps/v1/replicasets": "ReplicaSet",
    "/apis/apps/v1/statefulsets": "StatefulSet",
    "/apis/autoscaling/v2/horizontalpodautoscalers": "HorizontalPodAutoscaler",
    "/apis/batch/v1/cronjobs": "CronJob",
    "/apis/batch/v1/jobs": "Job",
    "/apis/networking.k8s.io/v1/ingresses": "Ingress",
    "/apis/networking.k8s.io/v1/networkpolicies": "NetworkPolicy",
    "/apis/policy/v1/poddisruptionbudgets": "PodDisruptionBudget",
    "/apis/node.k8s.io/v1/runtimeclasses": "RuntimeClass",
    "/apis/gateway.networking.k8s.io/v1/httproutes": "HTTPRoute",
    "/apis/keda.sh/v1alpha1/scaledobjects": "ScaledObject",
    "/apis/monitoring.coreos.com/v1/podmonitors": "PodMonitor",
    "/apis/monitoring.coreos.com/v1/servicemonitors": "ServiceMonitor",
}
OPTIONAL = ("HTTPRoute", "ScaledObject", "PodMonitor", "ServiceMonitor")
PAGE = 2  # the fake server pages at 2 items, whatever limit the client asks for


class _HttpResponse:
    def __init__(self, status: int, body: dict[str, Any]):
        self.status, self.reason = status, "OK" if status == 200 else "Not Found"
        self.data = json.dumps(body).encode()
        self.headers = {"content-type": "application/json"}


def fake_api_server(
    monkeypatch, without: tuple[str, ...] = (), items: list | None = None, export: Path = EXPORT
) -> list[str]:
    """Replace ApiClient.call_api (the client's HTTP call) with an export served as list responses:
    items without apiVersion/kind, as the API server sends them; `without` kinds answer 404."""
    items = items if items is not None else yaml.safe_load(export.read_text())["items"]
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


def test_live_reading_lists_the_kinds_of_the_documented_export_command():
    readme = (ROOT / "docs" / "real-clusters.md").read_text()
    pattern = re.search(r"grep -xE '([^']+)'", readme).group(1)
    resources = {name.replace("\\.", ".") for name in pattern.split("|")}
    # each list path's last element is the resource, its group the path's `apis/<group>` element
    listed = set()
    for path in LIST_PATHS:
        parts = path.strip("/").split("/")
        listed.add(parts[-1] if parts[0] == "api" else f"{parts[-1]}.{parts[1]}")
    assert listed == resources


@pytest.mark.parametrize("env", ["keda", "mixed-wasi-pool"])
def test_live_reading_gives_what_the_export_gives(tmp_path, capsys, monkeypatch, env):
    export, pools = CLUSTERS / env / "export.yaml", CLUSTERS / env / "node-pools.json"
    code, _, _ = run_init(capsys, tmp_path / "exported", export=export, pools=pools)
    assert code == 0
    requested = fake_api_server(monkeypatch, export=export)
    kubeconfig = _write(tmp_path / "kubeconfig", KUBECONFIG)
    code, _, err = run_init(capsys, tmp_path / "out", "--kubeconfig", kubeconfig, pools=pools)
    assert code == 0 and err.startswith("migrate init: note: ")
    assert {r.split()[0] for r in requested} == {"GET"}  # read-only
    assert {r.split()[1] for r in requested} == set(LIST_PATHS)  # every kind of the export command
    assert len(requested) > len(LIST_PATHS)  # paged
    live = raw_config_from_stack_file(tmp_path / "out/stacks/Pulumi.prod.yaml")
    assert live == raw_config_from_stack_file(tmp_path / "exported/stacks/Pulumi.prod.yaml")
    written = sorted(str(p.relative_to(tmp_path / "out")) for p in (tmp_path / "out").rglob("*.yaml"))
    assert written == sorted(
        str(p.relative_to(tmp_path / "exported")) for p in (tmp_path / "exported").rglob("*.yaml")
    )
    for relative in written:
        if relative.startswith("manifests/"):
            exported = yaml.safe_load((tmp_path / "exported" / relative).read_text())["items"]
            read = yaml.safe_load((tmp_path / "out" / relative).read_text())["items"]
            # The same objects once the loader drops what the server writes (the client omits nulls and
            # prints timestamps as +00:00 rather than Z, both in fields the loader strips).
            assert [(o["kind"], strip_server_fields(o)["metadata"]["name"]) for o in read] == [
                (o["kind"], o["metadata"]["name"]) for o in exported
            ]
    assert (tmp_path / "out/migration-report.md").read_text().replace(str(tmp_path / "out"), "") == (
        tmp_path / "exported/migration-report.md"
    ).read_text().replace(str(tmp_path / "exported"), "").replace(str(export), f"the cluster of {kubeconfig}")


def test_live_reading_without_the_optional_crds(tmp_path, capsys, monkeypatch):
    fake_api_server(monkeypatch, without=OPTIONAL)
    code, _, _ = run_init(capsys, tmp_path, "--kubeconfig", _write(tmp_path / "kubeconfig", KUBECONFIG))
    assert code == 0
    hello = raw_config_from_stack_file(tmp_path / "stacks/Pulumi.prod.yaml")["workloads"][0]
    assert hello["name"] == "hello-spin" and "gateway" not in hello  # no HTTPRoute served


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
