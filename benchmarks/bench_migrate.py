"""Benchmark `python -m migrate` render, check --from and diff on generated migrations, each beside its floor.

Not a test: run `python benchmarks/bench_migrate.py [--workloads 100 500 2000] [--runs 3]` from anywhere.
For each size it generates the stack files of a migration (every workload a copy of one legacy manifest)
in build/, then runs each command in its own child, alternately with its floor (the same inputs parsed
and the same output emitted with libyaml alone, benchmarks/floor.py), and prints the medians of wall
time, CPU time and peak RSS of both, their ratios and the load average before and after.

Exits 1 when a command fails, writes nothing or misses a target: wall time max(2 s, 4 ms per workload)
(2 s at 500 workloads, 8 s at 2,000, growing linearly), 300 MB peak RSS, 3x its floor's wall time.
`--smoke` (CI): 5 workloads, one run, no targets."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from harness import ROOT, Command, Limits, measure_all

LEGACY = ROOT / "manifests/legacy/web/hello-spin.yaml"
NAMESPACES = ("web", "shop", "payments", "search", "media")
CLUSTER_FILES = ("export", "aks", "policyAssignments", "crds")
SMOKE_WORKLOADS = 5
# The project's packages are imported only where inputs are generated, in a child (see write_inputs).
sys.path.insert(0, str(ROOT))


def generate(directory: Path, count: int, root: Path = ROOT) -> dict[str, Path]:
    """Stack files for every phase with `count` workloads copied from one legacy manifest, under the
    project root `root` (where the manifests' paths are relative to)."""
    import copy

    import yaml

    from components.core.config import PROJECT
    from components.loading import raw_config_from_stack_file

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


def named_files(stack: Path) -> list[Path]:
    """The files a command reads for a stack file: itself, every legacy manifest and cluster file it
    names (the floor parses each of them)."""
    from components.loading import raw_config_from_stack_file

    raw = raw_config_from_stack_file(stack)
    named = [w["manifest"] for w in raw.get("workloads", [])]
    named += [raw["cluster"][key] for key in CLUSTER_FILES if raw.get("cluster", {}).get(key)]
    return [stack, *(ROOT / relative for relative in named)]


def write_inputs(directory: Path, count: int) -> None:
    """In a child process (this one must stay small, see harness.py): generate, and list in
    inputs.json what each stack file makes a command read."""
    reads = {
        label: [str(path) for path in named_files(stack)]
        for label, stack in generate(directory, count).items()
    }
    (directory / "inputs.json").write_text(json.dumps(reads))


def generated(directory: Path, count: int) -> dict[str, list[Path]]:
    """Each stack file's label -> the stack file, then the files it names."""
    subprocess.run([sys.executable, __file__, "--generate", str(directory), str(count)], check=True)
    reads = json.loads((directory / "inputs.json").read_text())
    return {label: [Path(path) for path in paths] for label, paths in reads.items()}


def commands(reads: dict[str, list[Path]]) -> list[Command]:
    """The walk's steps (check --from refuses a skipped one): prepare -> parallel at 0 %, and parallel at
    100 % -> cutover, where both sides run at full capacity (the most resources and Ready pods); render
    and diff at parallel 100 %. Files both sides name are parsed once by the floor."""
    prepare, entered, whole, cutover = (
        reads[p] for p in ("prepare", "parallel-0", "parallel-100", "cutover")
    )

    def both(first: list[Path], second: list[Path]) -> list[Path]:
        return list(dict.fromkeys([*first, *second]))

    migrate = ["-m", "migrate"]
    return [
        Command("render parallel-100", [*migrate, "render", str(whole[0])], whole, stdout="yaml"),
        Command("render parallel-100 --out", [*migrate, "render", str(whole[0])], whole, writes_files=True),
        Command(
            "check parallel-0 --from prepare",
            [*migrate, "check", str(entered[0]), "--from", str(prepare[0])],
            both(entered, prepare),
        ),
        Command(
            "check cutover --from parallel-100",
            [*migrate, "check", str(cutover[0]), "--from", str(whole[0])],
            both(cutover, whole),
        ),
        Command(
            "diff parallel-100 cutover",
            [*migrate, "diff", str(whole[0]), str(cutover[0])],
            both(whole, cutover),
        ),
    ]


def wall_limit(count: int, fixed: float | None) -> float:
    """2 s up to 500 workloads (a smaller migration may not take longer), then 4 ms per workload."""
    return fixed if fixed is not None else max(2.0, 0.004 * count)


def run_size(count: int, args: argparse.Namespace) -> bool:
    """Generate `count` workloads in build/ (manifest paths must stay inside the project), print their
    table; True when every command is ok."""
    (ROOT / "build").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:
        reads = generated(Path(tmp), count)
        files = {path for paths in reads.values() for path in paths}
        size = sum(path.stat().st_size for path in files) / 2**20
        if args.smoke:
            limits, targets = Limits(None, None, None), "no targets (--smoke)"
        else:
            seconds = wall_limit(count, args.max_seconds)
            limits = Limits(seconds, args.max_mb, args.max_floor_ratio)
            targets = f"targets {seconds:g} s wall, {args.max_mb:g} MB, {args.max_floor_ratio:g}x floor"
        runs = f"median of {args.runs} run(s)"
        print(f"\n{count} workloads: {len(files)} input files, {size:.1f} MB; {runs}; {targets}")
        return measure_all(commands(reads), Path(tmp) / "runs", args.runs, limits)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workloads", type=int, nargs="+", default=[100, 500, 2000])
    parser.add_argument("--runs", type=int, default=3, help="runs of each command and of its floor")
    parser.add_argument("--max-seconds", type=float, help="one wall-time target for every size")
    parser.add_argument("--max-mb", type=float, default=300.0)
    parser.add_argument("--max-floor-ratio", type=float, default=3.0)
    parser.add_argument("--smoke", action="store_true", help="5 workloads, one run, no targets")
    parser.add_argument("--generate", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        write_inputs(Path(args.generate[0]), int(args.generate[1]))
        return 0
    if args.smoke:
        args.workloads, args.runs = [SMOKE_WORKLOADS], 1
    print(f"{os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    ok = [run_size(count, args) for count in args.workloads]
    return 0 if all(ok) else 1


if __name__ == "__main__":
    sys.exit(main())
