"""Benchmark `python -m migrate init` on a generated export of 2,000 workloads, 500 of them Wasm.

Not a test: run `python benchmarks/bench_init.py [--workloads N --wasm M] [--probes] [--runs R]` from
anywhere. The export is built from the objects of tests/migrate/fixtures/cluster-export.yaml
(managedFields, status, last-applied annotations), renamed and spread over namespaces: Deployments with a
Service each, every 25th workload a StatefulSet and every 40th a CronJob, two running Pods per Deployment
(owned by its ReplicaSet, as `kubectl get pods -A` lists them); every 10th Wasm Deployment has an HPA,
every 7th an HTTPRoute. Its Wasm Deployments have no probe, so the loader refuses each until a person
sets `probe.path`; with `--probes` each has one, so the planner plans every workload in every step (init
then asks it, and `check`, about 480 workloads seven times).
Measured as bench_migrate.py measures (harness.py): each command in its own child, alternately with its
floor (the export and the node pools parsed, and what the command wrote emitted, with libyaml alone),
medians of `--runs` runs. "read + inventory" is the reading alone (the selective kubectl_list parse and
the inventory, no planner, nothing written). Exits 1 when a command fails, writes nothing or misses a
target: 2 s wall time, 300 MB peak RSS, 3x its floor's wall time. `--smoke` (CI): 20 workloads, 5 of
them Wasm, one run, no targets."""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import ROOT, Command, Limits, measure_all

FIXTURES = ROOT / "tests/migrate/fixtures"
NAMESPACES = ("web", "shop", "payments", "search", "media", "batch", "api", "edge")
PODS_PER_DEPLOYMENT = 2
CLUSTER = "3f2b8c1d-6a4e-4f7b-9c2d-1e5a7b9c0d3f/rg-contoso-prod/aks-contoso-prod"


def _named(obj: dict[str, Any], name: str, namespace: str) -> dict[str, Any]:
    """A copy of a fixture object under a new name, its selector and pod labels following."""
    clone = copy.deepcopy(obj)
    clone["metadata"].update(name=name, namespace=namespace)
    clone["metadata"]["labels"] = {"app": name}
    spec = clone.get("spec") or {}
    if "selector" in spec:
        spec["selector"] = (
            {"matchLabels": {"app": name}} if "matchLabels" in spec["selector"] else {"app": name}
        )
    template = spec.get("template") or ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template")
    if template:
        template["metadata"]["labels"] = {"app": name}
    return clone


def _pod_spec(workload: dict[str, Any]) -> dict[str, Any]:
    spec = workload["spec"]
    return (spec.get("template") or spec["jobTemplate"]["spec"]["template"])["spec"]


def _deployment_items(
    fixture: dict[str, dict[str, Any]], workload: dict[str, Any], is_wasm: bool, autoscaled: bool
) -> list[dict[str, Any]]:
    """A Deployment's Service and the pods its ReplicaSet owns."""
    name, namespace = workload["metadata"]["name"], workload["metadata"]["namespace"]
    service = _named(fixture["Service"], name, namespace)
    service["spec"]["selector"] = {"app": name}
    items = [service]
    for replica in range(PODS_PER_DEPLOYMENT):  # owned by the Deployment's ReplicaSet
        pod = _named(fixture["Pod"], f"{name}-7d9c8b6f5-{replica:05d}", namespace)
        pod["metadata"]["labels"] = {"app": name, "pod-template-hash": "7d9c8b6f5"}
        pod["metadata"]["ownerReferences"][0]["name"] = f"{name}-7d9c8b6f5"
        if not is_wasm:
            pod["spec"].pop("runtimeClassName")
        items.append(pod)
    if not autoscaled:
        # Only a Deployment under an HPA has the scale-subresource entry in its managedFields.
        fields = workload["metadata"]["managedFields"]
        workload["metadata"]["managedFields"] = [f for f in fields if f.get("subresource") != "scale"]
    return items


def _workload_items(
    fixture: dict[str, dict[str, Any]], index: int, every: int, wasm: int
) -> list[dict[str, Any]]:
    """Workload `index`: a StatefulSet, a CronJob or a Deployment (Wasm for every `every`th of the
    first `wasm`), with its Service, pods, HPA and HTTPRoute as the index says."""
    name, namespace = f"app-{index:04d}", NAMESPACES[index % len(NAMESPACES)]
    is_wasm = index % every == 0 and index // every < wasm
    if index % 25 == 1:
        kind_template = fixture["StatefulSet"]
    elif index % 40 == 2:
        kind_template = fixture["CronJob"]
    else:
        kind_template = fixture["Deployment"] if is_wasm else fixture["plain Deployment"]
    workload = _named(kind_template, name, namespace)
    if not is_wasm and kind_template is not fixture["plain Deployment"]:
        _pod_spec(workload).pop("runtimeClassName", None)
    autoscaled = is_wasm and index % (10 * every) == 0
    items = [workload]
    if workload["kind"] == "Deployment":
        items += _deployment_items(fixture, workload, is_wasm, autoscaled)
    if autoscaled:
        scaler = _named(fixture["HorizontalPodAutoscaler"], name, namespace)
        scaler["spec"]["scaleTargetRef"]["name"] = name
        items.append(scaler)
    if is_wasm and index % (7 * every) == 0:
        http = _named(fixture["HTTPRoute"], name, namespace)
        http["spec"]["rules"][0]["backendRefs"][0]["name"] = name
        http["spec"]["rules"][0]["matches"][0]["path"]["value"] = f"/{name}"
        items.append(http)
    return items


def generate(path: Path, workloads: int, wasm: int, probes: bool = False) -> None:
    """The export, written with libyaml's dumper (as `kubectl get -o yaml` writes a List)."""
    import yaml

    fixture = yaml.safe_load((FIXTURES / "cluster-export.yaml").read_text())["items"]

    def pick(kind: str, name: str) -> dict[str, Any]:
        return next(o for o in fixture if o["kind"] == kind and o["metadata"]["name"] == name)

    templates = {
        "Deployment": pick("Deployment", "hello-spin"),
        "plain Deployment": pick("Deployment", "checkout"),
        "Service": pick("Service", "hello-spin"),
        "HorizontalPodAutoscaler": pick("HorizontalPodAutoscaler", "hello-spin"),
        "HTTPRoute": pick("HTTPRoute", "hello"),
        "StatefulSet": pick("StatefulSet", "indexer"),
        "CronJob": pick("CronJob", "nightly-report"),
        "Pod": pick("Pod", "hello-spin-7d9c8b6f5-x2kqz"),
    }
    if probes:  # the app's route as its probe, so that the planner plans every workload
        container = templates["Deployment"]["spec"]["template"]["spec"]["containers"][0]
        container["readinessProbe"] = {"httpGet": {"path": "/hello", "port": "http"}}
    items = [o for o in fixture if o["kind"] == "RuntimeClass"]
    every = workloads // wasm
    for index in range(workloads):
        items += _workload_items(templates, index, every, wasm)
    with path.open("w") as out:
        yaml.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items},
                  out, Dumper=yaml.CSafeDumper, default_flow_style=False)  # fmt: skip


READ_ONLY = """\
import sys
from pathlib import Path
from migrate.init.export import read_export
from migrate.init.inventory import build_inventory
from migrate.init.node_pools import parse_cluster, read_node_pools, wasi_pools
export, pools_file, cluster = sys.argv[1:]
pools = read_node_pools(Path(pools_file).read_text(), pools_file)
objects = read_export(Path(export).read_text(), export, wasi_pools(pools, pools_file))
inventory = build_inventory(objects, pools, parse_cluster(cluster), "prod")
print(f"{len(objects)} objects parsed, {len(inventory.exports)} files to write")
"""


def commands(export: Path) -> list[Command]:
    """init as a person runs it (the harness adds --out DIR), its JSON report, and the reading alone
    (the selective kubectl_list parse and the inventory, no planner, nothing written)."""
    pools = FIXTURES / "node-pools.json"
    init = ["-m", "migrate", "init", "--kubectl-export", str(export), "--node-pools", str(pools)]
    init += ["--cluster", CLUSTER]
    inputs = [export, pools]
    return [
        Command("read + inventory", ["-c", READ_ONLY, str(export), str(pools), CLUSTER], inputs),
        Command("init (text)", init, inputs, writes_files=True),
        Command("init --format json", [*init, "--format", "json"], inputs, writes_files=True),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workloads", type=int, default=2000)
    parser.add_argument("--wasm", type=int, default=500)
    parser.add_argument("--probes", action="store_true", help="give every Wasm Deployment a probe")
    parser.add_argument("--runs", type=int, default=3, help="runs of each command and of its floor")
    parser.add_argument("--max-seconds", type=float, default=2.0)
    parser.add_argument("--max-mb", type=float, default=300.0)
    parser.add_argument("--max-floor-ratio", type=float, default=3.0)
    parser.add_argument("--smoke", action="store_true", help="20 workloads (5 Wasm), one run, no targets")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.smoke:
        args.workloads, args.wasm, args.runs = 20, 5, 1
    if args.generate:
        generate(args.generate, args.workloads, args.wasm, args.probes)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.yaml"
        # Built in its own process: this one must stay small while it measures (see harness.py).
        sizes = ["--workloads", str(args.workloads), "--wasm", str(args.wasm), *(["--probes"] * args.probes)]
        subprocess.run([sys.executable, __file__, "--generate", str(export), *sizes], check=True)
        size = export.stat().st_size / 2**20
        probes = "with probes" if args.probes else "without probes"
        if args.smoke:
            limits, targets = Limits(None, None, None), "no targets (--smoke)"
        else:
            limits = Limits(args.max_seconds, args.max_mb, args.max_floor_ratio)
            targets = (
                f"targets {args.max_seconds:g} s wall, {args.max_mb:g} MB, {args.max_floor_ratio:g}x floor"
            )
        print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        print(f"{args.workloads} workloads ({args.wasm} Wasm, {probes}), export {size:.1f} MB; "
              f"median of {args.runs} run(s); {targets}")  # fmt: skip
        ok = measure_all(commands(export), Path(tmp) / "runs", args.runs, limits)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
