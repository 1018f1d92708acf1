"""Benchmark the Pulumi program under mocks against a bare program registering the same resources.

Not a test: run `python benchmarks/bench_program.py [--workloads N]` from anywhere. Both run in their own
child process under the same mocks, on a generated parallel-phase stack with N workloads:

- program: the real `components.migration_phase.program()` (config validation, legacy manifests read
  and schema-checked, desired state built, the public components registering it);
- bare:    the same resources with the same types, names, inputs, parents, providers and options (a
           component's `depends_on` forwarded to its resources, the provider plugin's version), registered
           straight from a precomputed list (`pulumi.CustomResource`, grouped by component outside the
           timer), with no logic at all; only the typed classes' aliases are not sent.

Prints both wall times and their ratio, and the same for the CPU time of the timed part (steadier on a
busy machine); exits 1 when the wall ratio exceeds --max-ratio (default 1.3)."""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_migrate import generate  # noqa: E402


class _Mocks:
    """Every resource echoes its inputs; the credentials invoke returns a kubeconfig."""

    def new_resource(self, args):
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args):
        return {"kubeconfigs": [{"name": "u", "value": base64.b64encode(b"apiVersion: v1").decode()}]}


# The provider plugin versions the typed SDK classes send (the engine picks the plugin by them).
_VERSIONS = {"kubernetes": "", "azure-native": ""}


def _bare_plan(state) -> list[tuple[str, str, list[str], list]]:
    """Outside the timer: each component's type, name, the resources it waits for, and its specs each with
    its own `depends_on` (the state's specs also name what the whole component waits for, at the end),
    grouped in one pass."""
    import pulumi_azure_native
    import pulumi_kubernetes

    _VERSIONS["kubernetes"] = pulumi_kubernetes._utilities.get_version()
    _VERSIONS["azure-native"] = pulumi_azure_native._utilities.get_version()
    by_component: dict[str, list] = {plan.name: [] for plan in state.components}
    waits = {plan.name: len(plan.depends_on) for plan in state.components}
    for spec in state.resources:
        own = spec.depends_on[: len(spec.depends_on) - waits[spec.component]]
        by_component[spec.component].append((spec, own, _VERSIONS[spec.type.split(":", 1)[0]]))
    return [
        (plan.type, plan.name, list(plan.depends_on), by_component[plan.name]) for plan in state.components
    ]


def _bare_program(components) -> None:
    """The same resources, parents, providers and options (a component's `depends_on` forwarded to each of
    its resources, as the components do), from the precomputed list: no logic, no quadratic work."""
    import pulumi

    from components.desired import PHASE_TYPE

    phase = pulumi.ComponentResource(PHASE_TYPE, "migration")
    providers = {
        package: pulumi.ProviderResource(
            package, name, {}, pulumi.ResourceOptions(parent=phase, version=_VERSIONS[package])
        )
        for package, name in (("azure-native", "azure"), ("kubernetes", "cluster"))
    }
    registered: dict = {}
    for type_, name, waits_for, specs in components:
        outer = [registered[dependency] for dependency in waits_for]
        component = pulumi.ComponentResource(
            type_, name, None, pulumi.ResourceOptions(parent=phase, providers=providers, depends_on=outer)
        )
        local: dict = {}
        for spec, own, version in specs:
            options = pulumi.ResourceOptions(
                parent=component,
                version=version,
                protect=spec.protect,
                import_=spec.import_id,
                depends_on=[*(local[dependency] for dependency in own), *outer],
                ignore_changes=list(spec.ignore_changes) or None,
                replace_on_changes=list(spec.replace_on_changes) or None,
                delete_before_replace=spec.delete_before_replace,
                retain_on_delete=spec.retain_on_delete or None,
                deleted_with=local[spec.deleted_with] if spec.deleted_with else None,
            )
            local[spec.name] = pulumi.CustomResource(spec.type, spec.name, dict(spec.inputs), options)
        registered.update(local)


def child(mode: str, stack: Path) -> None:
    """One timed run in this process; prints {"seconds": ..., "cpu_seconds": ...}."""
    import pulumi

    from components.core.config import PROJECT
    from components.desired import build_desired_state
    from components.loading import load_migration, raw_config_from_stack_file
    from components.migration_phase import program

    raw = raw_config_from_stack_file(stack)
    config = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    pulumi.runtime.set_mocks(_Mocks(), project=PROJECT, stack="bench", preview=False)  # type: ignore[arg-type]
    pulumi.runtime.set_all_config(config)
    if mode == "program":
        run = program
    else:
        # Outside the timer: the bare run has no logic.
        components = _bare_plan(build_desired_state(load_migration(raw)))

        def run():
            _bare_program(components)

    start, cpu = time.perf_counter(), time.process_time()
    pulumi.runtime.test(run)()
    print(json.dumps({"seconds": time.perf_counter() - start, "cpu_seconds": time.process_time() - cpu}))


def timed(mode: str, stack: Path) -> tuple[float, float]:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(stack)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"{mode} run failed")
    found = json.loads(result.stdout.strip().splitlines()[-1])
    return found["seconds"], found["cpu_seconds"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workloads", type=int, default=500)
    parser.add_argument("--max-ratio", type=float, default=1.3)
    parser.add_argument("--child", nargs=2, metavar=("MODE", "STACK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    (ROOT / "build").mkdir(exist_ok=True)  # manifest paths must stay inside the project
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:
        stack = generate(Path(tmp), args.workloads)["parallel-100"]
        (program, program_cpu), (bare, bare_cpu) = timed("program", stack), timed("bare", stack)
    ratio = program / bare
    print(f"{args.workloads} workloads, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"program under mocks {program:8.2f} s")
    print(f"bare program        {bare:8.2f} s")
    print(f"ratio               {ratio:8.2f}  (target <= {args.max_ratio})")
    print(f"CPU: program {program_cpu:.2f} s, bare {bare_cpu:.2f} s, ratio {program_cpu / bare_cpu:.2f}")
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
