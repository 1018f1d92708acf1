"""Benchmark `python -m migrate init` on a generated export of 2,000 workloads, 500 of them Wasm.

Not a test: run `python benchmarks/bench_init.py [--workloads N --wasm M] [--probes]` from anywhere. The
export is built from the objects of tests/migrate/fixtures/cluster-export.yaml (managedFields, status,
last-applied annotations), renamed and spread over namespaces: Deployments with a Service each, every
25th workload a StatefulSet and every 40th a CronJob, two running Pods per Deployment (owned by its
ReplicaSet, as `kubectl get pods -A` lists them); every 10th Wasm Deployment has an HPA, every 7th an
HTTPRoute. Its Wasm Deployments have no probe, so the loader refuses each until a person sets
`probe.path`; with `--probes` each has one, so the planner plans every workload in every step (init then
asks it, and `check`, about 480 workloads seven times).
Measured like bench_migrate.py: each command runs in its own child process, wall time around it, peak
memory and CPU time from the child's rusage. "read + inventory" is the reading alone (the selective
kubectl_list parse and the inventory, no planner, nothing written). Exits 1 when init fails or misses a
target (default 5 s wall time, 300 MB)."""

from __future__ import annotations

import argparse
import copy
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    with path.open("w") as out:
        yaml.dump({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items},
                  out, Dumper=dumper, default_flow_style=False)  # fmt: skip


READ_ONLY = """\
import json, sys
from pathlib import Path
from migrate.init.export import read_export
from migrate.init.inventory import build_inventory
from migrate.init.node_pools import parse_cluster, read_node_pools, wasi_pools
export, pools_file, cluster = sys.argv[1:]
pools = read_node_pools(Path(pools_file).read_text(), pools_file)
objects = read_export(Path(export).read_text(), export, wasi_pools(pools, pools_file))
build_inventory(objects, pools, parse_cluster(cluster), "prod")
"""


def measure(argv: list[str], scratch: Path) -> tuple[float, float, float, int, int]:
    """(wall s, CPU s, max RSS MB, exit code, stdout bytes) of `python ...argv` in its own child,
    as bench_migrate.py measures, plus the child's CPU time: on a shared, loaded machine wall time grows
    with the load, CPU time does not."""
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, *argv], cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err_path.read_text()[-2000:])
    cpu = usage.ru_utime + usage.ru_stime
    return wall, cpu, usage.ru_maxrss / 1024, code, out_path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=2000)
    parser.add_argument("--wasm", type=int, default=500)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--max-mb", type=float, default=300.0)
    parser.add_argument("--probes", action="store_true", help="give every Wasm Deployment a probe")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.workloads, args.wasm, args.probes)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "export.yaml"
        # Built in its own process: a child's max RSS includes what it inherited at fork (Linux keeps the
        # high-water mark across exec), so this process must stay small while it measures.
        sizes = ["--workloads", str(args.workloads), "--wasm", str(args.wasm), *(["--probes"] * args.probes)]
        subprocess.run([sys.executable, __file__, "--generate", str(export), *sizes], check=True)
        pools = str(FIXTURES / "node-pools.json")
        base = [
            "-m",
            "migrate",
            "init",
            "--kubectl-export",
            str(export),
            "--node-pools",
            pools,
            "--cluster",
            CLUSTER,
        ]
        runs = {
            "read + inventory": ["-c", READ_ONLY, str(export), pools, CLUSTER],
            "init (text)": [*base, "--out", f"{tmp}/text"],
            "init --format json": [*base, "--out", f"{tmp}/json", "--format", "json"],
        }
        size = export.stat().st_size / 2**20
        probes = "with probes" if args.probes else "without probes"
        print(f"{args.workloads} workloads ({args.wasm} Wasm, {probes}), export {size:.1f} MB, "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        header = f"{'wall s':>7} {'CPU s':>6} {'max RSS MB':>11} {'exit':>5} {'stdout KB':>10}"
        print(f"{'command':24} {header}  verdict")
        failed = False
        for label, argv in runs.items():
            wall, cpu, rss, code, stdout_size = measure(argv, Path(tmp))
            ok = code == 0 and wall <= args.max_seconds and rss <= args.max_mb
            failed |= not ok
            verdict = "ok" if ok else "MISSED"
            figures = f"{wall:7.2f} {cpu:6.2f} {rss:11.1f} {code:5d} {stdout_size / 1024:10.1f}"
            print(f"{label:24} {figures}  {verdict}")
        written = sorted((Path(tmp) / "text").rglob("*.yaml"))
        print(f"wrote {len(written) - 2} legacy exports, 1 cluster file and 1 stack file per run")
        print(f"targets: {args.max_seconds} s and {args.max_mb} MB per command")
        shutil.rmtree(Path(tmp) / "text")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
