"""`python -m migrate init`: the command's arguments, and what it prints. What it does is
migrate/init/pipeline.py: read a cluster (an export or, with --kubeconfig, live and read-only), write
the baseline stack file of the one stack that migrates every WASI pool, the legacy and cluster exports
and the readiness report."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from migrate.exits import EXIT_INPUT, EXIT_OK
from migrate.init.errors import InventoryError
from migrate.writes import UnsafeWrite

if TYPE_CHECKING:
    from migrate.init.pipeline import InitRequest

PROJECT_FILE = "Pulumi.yaml"  # the project root holds it; manifest paths are relative to it


def add_parser(commands: Any, epilog: str) -> None:
    i = commands.add_parser(
        "init",
        help="inventory a cluster: baseline stack file, legacy exports and a readiness report",
        description="Find every Wasm workload of a cluster (from a read-only export, or live with "
        "--kubeconfig), and write the one stack that migrates every WASI pool: "
        "DIR/stacks/Pulumi.<stack>.yaml (phase baseline), DIR/manifests/legacy/<namespace>/<name>.yaml, "
        "DIR/manifests/cluster/<stack>.yaml and DIR/migration-report.md.",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    source = i.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--kubectl-export",
        type=Path,
        help="one kubectl List of the cluster's objects: `kubectl get $(kubectl api-resources "
        "--verbs=list -o name | grep -xE '...' | paste -sd, -) -A -o yaml > FILE` (docs/real-clusters.md)",
    )
    source.add_argument("--kubeconfig", type=Path, help="read the same objects live (list only)")
    i.add_argument("--node-pools", type=Path, required=True, help="az aks nodepool list -o json > FILE")
    i.add_argument("--cluster", required=True, help="SUBSCRIPTION/RESOURCE_GROUP/NAME")
    i.add_argument(
        "--aks-cluster",
        type=Path,
        help="az aks show -g RG -n NAME -o json > FILE: Deployment Safeguards and AKS Automatic decide "
        "whether the shim's installer may run (docs/targets.md)",
    )
    i.add_argument(
        "--policy-assignments",
        type=Path,
        help="az policy assignment list --scope <cluster id> --disable-scope-strict-match -o json > FILE: "
        "assignments that refuse privileged or hostPath pods",
    )
    i.add_argument(
        "--crds",
        type=Path,
        help="kubectl get customresourcedefinitions -o yaml > FILE: which Gateway API versions the cluster "
        "serves, for workloads routed through a Gateway (init keeps them without their schemas)",
    )
    i.add_argument("--stack", default="prod", help="stack name (default prod)")
    # Refused with the reason (one stack migrates every WASI pool), rather than an unknown argument.
    i.add_argument("--legacy-pool", help=argparse.SUPPRESS)
    i.add_argument("--out", type=Path, required=True, help="directory to write into")
    i.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: print the report as JSON"
    )
    i.add_argument("--force", action="store_true", help="overwrite files that exist")


def _request(args: argparse.Namespace) -> InitRequest:
    """The arguments as the pipeline takes them; refused with the reason where they cannot be."""
    from migrate.init.pipeline import InitRequest

    if args.legacy_pool is not None:
        raise InventoryError(
            f"--legacy-pool {args.legacy_pool!r}: one stack migrates every WASI pool of the cluster "
            "(legacyPools); leave --legacy-pool out"
        )
    if not args.stack or not all(c.isalnum() or c in "-_." for c in args.stack):
        raise InventoryError(f"--stack {args.stack!r}: use letters, digits, '-', '_' and '.'")
    return InitRequest(
        node_pools=args.node_pools,
        cluster=args.cluster,
        stack=args.stack,
        out=args.out,
        force=args.force,
        kubectl_export=args.kubectl_export,
        kubeconfig=args.kubeconfig,
        aks_cluster=args.aks_cluster,
        policy_assignments=args.policy_assignments,
        crds=args.crds,
    )


def run(args: argparse.Namespace) -> int:
    # The pipeline (and the library behind it) is imported when init runs, not when the parser is
    # built for another command or --help.
    from migrate.init.pipeline import init

    try:
        report = init(_request(args))
    except (InventoryError, UnsafeWrite) as error:
        print(f"migrate init: {error}", file=sys.stderr)
        return EXIT_INPUT
    except OSError as error:
        print(f"migrate init: cannot write {error.filename}: {error.strerror}", file=sys.stderr)
        return EXIT_INPUT
    if not (args.out / PROJECT_FILE).is_file():
        here = next((d for d in (Path.cwd(), *Path.cwd().parents) if (d / PROJECT_FILE).is_file()), None)
        print(
            f"migrate init: note: {args.out} is not the project root; copy its stacks/ and manifests/ into "
            f"{here or f'the project root (the directory holding {PROJECT_FILE})'} before `migrate check` or "
            "`pulumi` (their paths are relative to it)",
            file=sys.stderr,
        )
    _print_summary(args, report)
    return EXIT_OK


def _print_summary(args: argparse.Namespace, report: dict[str, Any]) -> None:
    from migrate.init.pipeline import REPORT_FILE

    if args.format == "json":
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return
    summary = report["summary"]
    print(
        f"{summary['wasmWorkloads']} Wasm workloads: {summary['migrated']} in "
        f"{args.out / 'stacks' / f'Pulumi.{args.stack}.yaml'}, {summary['notMigrated']} not migrated, "
        f"{len(report['mustDecide'])} decision(s) before check passes; read {args.out / REPORT_FILE}"
    )
