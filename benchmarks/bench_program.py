"""Benchmark the Pulumi program under mocks against a bare program registering the same resources.

Not a test: run `python benchmarks/bench_program.py [--workloads N]` from anywhere. Both run in their own
child process under the same mocks, on a generated parallel-phase stack with N workloads:

- program: the real `components.migration_phase.program()` (config validation, legacy manifests read
  and schema-checked, desired state built, the public components registering it);
- bare:    the same resources with the same types, names, inputs, parents, providers and options (a
           component's `depends_on` forwarded to its resources, the provider plugin's version), registered
           from a precomputed list (`pulumi.CustomResource`, grouped by component outside the timer) in
           each component's constructor, as any component library registers them, with no logic at
           all; only the typed classes' aliases are not sent.

Prints both wall times and their ratio, the same for the CPU time of the timed part (steadier on a busy
machine), and how many resources each registered; exits 1 when a run fails, when the two register a
different number of resources, or when the wall ratio exceeds --max-ratio (default 1.3). `--smoke` (CI):
3 workloads, no ratio target."""

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
from harness import load_average  # noqa: E402

SMOKE_WORKLOADS = 3


class _Mocks:
    """Every resource echoes its inputs; the credentials invoke returns a kubeconfig. Counts the
    registrations (components and providers included), which both programs must make alike."""

    def __init__(self) -> None:
        self.registered = 0

    def new_resource(self, args):
        self.registered += 1
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
    its resources, as the components do), from the precomputed list: no logic, no quadratic work. Each
    component registers its resources in its constructor and then its (empty) outputs, as Pulumi's
    guide to authoring a component says a component does (pulumi.com/docs/iac/concepts/resources/
    components: children allocated in the constructor, register_outputs at its end, which also tells
    the engine the component is complete). A bare run without the components' shape would measure
    another program: register_outputs alone is a round trip to the engine per component."""
    import pulumi

    from components.desired import PHASE_TYPE

    class Component(pulumi.ComponentResource):
        def __init__(self, type_, name, specs, outer, options) -> None:
            super().__init__(type_, name, None, options)
            self.registered: dict = {}
            for spec, own, version in specs:
                resource_options = pulumi.ResourceOptions(
                    parent=self,
                    version=version,
                    protect=spec.protect,
                    import_=spec.import_id,
                    depends_on=[*(self.registered[dependency] for dependency in own), *outer],
                    ignore_changes=list(spec.ignore_changes) or None,
                    replace_on_changes=list(spec.replace_on_changes) or None,
                    delete_before_replace=spec.delete_before_replace,
                    retain_on_delete=spec.retain_on_delete or None,
                    deleted_with=self.registered[spec.deleted_with] if spec.deleted_with else None,
                )
                self.registered[spec.name] = pulumi.CustomResource(
                    spec.type, spec.name, dict(spec.inputs), resource_options
                )
            self.register_outputs({})

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
        options = pulumi.ResourceOptions(parent=phase, providers=providers, depends_on=outer)
        registered.update(Component(type_, name, specs, outer, options).registered)


def child(mode: str, stack: Path) -> None:
    """One timed run in this process; prints {"seconds": ..., "cpu_seconds": ..., "resources": ...}."""
    import pulumi

    from components.core.config import PROJECT
    from components.desired import build_desired_state
    from components.loading import load_migration, raw_config_from_stack_file
    from components.migration_phase import program

    raw = raw_config_from_stack_file(stack)
    config = {f"{PROJECT}:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    mocks = _Mocks()
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack="bench", preview=False)  # type: ignore[arg-type]
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
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu_seconds, "resources": mocks.registered}))


def timed(mode: str, stack: Path) -> dict[str, float]:
    """One run in its own child: its timed part's wall and CPU seconds and how many resources it
    registered. A failing run ends the benchmark (exit 1)."""
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, str(stack)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit(f"{mode} run failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def report(workloads: int, program: dict[str, float], bare: dict[str, float]) -> None:
    print(f"{workloads} workloads, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    print(f"{'run':20} {'wall s':>8} {'CPU s':>8} {'resources':>10}")
    for label, run in (("program under mocks", program), ("bare program", bare)):
        print(f"{label:20} {run['seconds']:8.2f} {run['cpu_seconds']:8.2f} {run['resources']:10.0f}")
    wall, cpu = program["seconds"] / bare["seconds"], program["cpu_seconds"] / bare["cpu_seconds"]
    print(f"{'ratio':20} {wall:8.2f} {cpu:8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workloads", type=int, default=500)
    parser.add_argument("--max-ratio", type=float, default=1.3)
    parser.add_argument("--smoke", action="store_true", help="3 workloads, no ratio target")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "STACK"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    if args.smoke:
        args.workloads = SMOKE_WORKLOADS
    (ROOT / "build").mkdir(exist_ok=True)  # manifest paths must stay inside the project
    print(f"load average before: {load_average()}")
    with tempfile.TemporaryDirectory(dir=ROOT / "build") as tmp:
        stack = generate(Path(tmp), args.workloads)["parallel-100"]
        program, bare = timed("program", stack), timed("bare", stack)
    report(args.workloads, program, bare)
    print(f"load average after:  {load_average()}")
    if program["resources"] != bare["resources"]:
        print("the bare program does not register what the program does: the ratio means nothing")
        return 1
    if args.smoke:
        print("no ratio target (--smoke)")
        return 0
    ratio = program["seconds"] / bare["seconds"]
    print(
        f"wall ratio {ratio:.2f}, target <= {args.max_ratio}: {'ok' if ratio <= args.max_ratio else 'MISSED'}"
    )
    return 0 if ratio <= args.max_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
