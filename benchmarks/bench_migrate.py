"""Benchmark `python -m migrate render` and `check` on a generated 500-workload migration.

Not a test: run `python benchmarks/bench_migrate.py [--workloads N]` from anywhere. Each command runs in
its own child process; wall time is measured around it and peak memory is the child's max RSS (from
os.wait4). Exits 1 when a command fails or misses a target (default: 5 s and 300 MB each)."""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from components.core.config import PROJECT  # noqa: E402
from components.loading import raw_config_from_stack_file  # noqa: E402

LEGACY = ROOT / "manifests/legacy/web/hello-spin.yaml"
NAMESPACES = ("web", "shop", "payments", "search", "media")


def generate(directory: Path, count: int, root: Path = ROOT) -> dict[str, Path]:
    """Stack files for every phase with `count` workloads copied from one legacy manifest, under the
    project root `root` (where the manifests' paths are relative to)."""
    base = raw_config_from_stack_file(ROOT / "stacks/prod.1-baseline.yaml")
    template = next(w for w in base["workloads"] if w["name"] == "hello-spin")
    gateway = next(w for w in base["workloads"] if "gateway" in w)["gateway"]
    source = LEGACY.read_text()
    workloads: list[dict[str, Any]] = []
    for index in range(count):
        name, namespace = f"app-{index:04d}", NAMESPACES[index % len(NAMESPACES)]
        manifest = directory / namespace / f"{name}.yaml"
        manifest.parent.mkdir(exist_ok=True)
        text = source.replace("hello-spin", name).replace("namespace: web", f"namespace: {namespace}")
        manifest.write_text(text)
        workload = copy.deepcopy(template)
        relative = str(manifest.relative_to(root))  # manifest paths must stay inside the project
        workload.update(name=name, namespace=namespace, manifest=relative, canary=index % 4 == 0)
        if index % 3 == 0:
            workload["gateway"] = {**gateway, "pathPrefix": f"/{name}"}
        workloads.append(workload)
    files = {}
    steps = {"prepare": ("prepare", 0), "parallel-0": ("parallel", 0), "parallel-100": ("parallel", 100)}
    for label, (phase, weight) in {**steps, "cutover": ("cutover", 100)}.items():
        raw = {**base, "phase": phase, "traffic": {**base.get("traffic", {}), "weight": weight}}
        raw["workloads"] = workloads
        path = directory / f"bench.{label}.yaml"
        path.write_text(yaml.safe_dump({"config": {f"{PROJECT}:{k}": v for k, v in raw.items()}}))
        files[label] = path
    return files


def measure(argv: list[str], scratch: Path) -> tuple[float, float, int, int]:
    """(wall seconds, max RSS MB, exit code, stdout bytes) of `python -m migrate ...` in its own child."""
    out_path, err_path = scratch / "stdout", scratch / "stderr"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "migrate", *argv], cwd=ROOT, stdout=out, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage, not a high-water mark
        wall = time.perf_counter() - start
    child.returncode = code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.stderr.write(err_path.read_text()[-2000:])
    return wall, usage.ru_maxrss / 1024, code, out_path.stat().st_size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=500)
    parser.add_argument("--max-seconds", type=float, default=5.0)
    parser.add_argument("--max-mb", type=float, default=300.0)
    args = parser.parse_args()
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:
        files = generate(Path(tmp), args.workloads)
        prepare, entered, whole, cutover = (
            str(files[p]) for p in ("prepare", "parallel-0", "parallel-100", "cutover")
        )
        # The walk's steps (check --from refuses a skipped one): prepare -> parallel at 0 %, and parallel at
        # 100 % -> cutover, where both sides run at full capacity (the most resources and Ready pods).
        runs = {
            "render parallel-100": ["render", whole],
            "render parallel-100 --out": ["render", whole, "--out", f"{tmp}/out"],
            "check parallel-0 --from prepare": ["check", entered, "--from", prepare],
            "check cutover --from parallel-100": ["check", cutover, "--from", whole],
            "diff parallel-100 cutover": ["diff", whole, cutover],
        }
        print(f"{args.workloads} workloads, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
        print(f"{'command':32} {'wall s':>8} {'max RSS MB':>11} {'exit':>5} {'stdout KB':>10}  verdict")
        failed = False
        for label, argv in runs.items():
            wall, rss, code, size = measure(argv, Path(tmp))
            ok = code == 0 and wall <= args.max_seconds and rss <= args.max_mb
            failed |= not ok
            verdict = "ok" if ok else "MISSED"
            print(f"{label:32} {wall:8.2f} {rss:11.1f} {code:5d} {size / 1024:10.1f}  {verdict}")
        print(f"targets: {args.max_seconds} s and {args.max_mb} MB per command")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
