"""`python -m migrate init`: read a cluster (an export or, with --kubeconfig, live and read-only), write
the baseline stack file of the one stack that migrates every WASI pool, the legacy and cluster exports
and the readiness report. The logic is migrate/inventory.py; migrate/init_plan.py asks the planner about
what was generated, migrate/init_report.py renders the report."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from components.core.inputs import UnsafeInput, read_text
from migrate.init_plan import ask_planner, must_decide
from migrate.init_report import report_markdown
from migrate.inventory import (
    CLUSTER_EXPORT_DIR,
    Inventory,
    InventoryError,
    build_inventory,
    export_text,
    parse_cluster,
    read_export,
    read_node_pools,
    stack_file_text,
    wasi_pools,
)
from migrate.state import EXIT_INPUT, EXIT_OK
from migrate.writes import UnsafeWrite, write_files

REPORT_FILE = "migration-report.md"
PROJECT_FILE = "Pulumi.yaml"  # the project root holds it; manifest paths are relative to it
# What the README's `kubectl get <kinds> -A -o yaml` lists, in the order kubectl prints the types (the
# order of `kubectl api-resources`): (API class, list method, apiVersion, kind). Reading needs only
# `list` on these; nothing is written to the cluster.
LIVE_LISTS = (
    ("CoreV1Api", "list_namespace", "v1", "Namespace"),
    ("CoreV1Api", "list_node", "v1", "Node"),
    ("CoreV1Api", "list_pod_for_all_namespaces", "v1", "Pod"),
    ("CoreV1Api", "list_service_for_all_namespaces", "v1", "Service"),
    ("AppsV1Api", "list_daemon_set_for_all_namespaces", "apps/v1", "DaemonSet"),
    ("AppsV1Api", "list_deployment_for_all_namespaces", "apps/v1", "Deployment"),
    ("AppsV1Api", "list_replica_set_for_all_namespaces", "apps/v1", "ReplicaSet"),
    ("AppsV1Api", "list_stateful_set_for_all_namespaces", "apps/v1", "StatefulSet"),
    (
        "AutoscalingV2Api",
        "list_horizontal_pod_autoscaler_for_all_namespaces",
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
    ),
    ("BatchV1Api", "list_cron_job_for_all_namespaces", "batch/v1", "CronJob"),
    ("BatchV1Api", "list_job_for_all_namespaces", "batch/v1", "Job"),
    ("NetworkingV1Api", "list_ingress_for_all_namespaces", "networking.k8s.io/v1", "Ingress"),
    ("NetworkingV1Api", "list_network_policy_for_all_namespaces", "networking.k8s.io/v1", "NetworkPolicy"),
    ("PolicyV1Api", "list_pod_disruption_budget_for_all_namespaces", "policy/v1", "PodDisruptionBudget"),
    ("NodeV1Api", "list_runtime_class", "node.k8s.io/v1", "RuntimeClass"),
)
# The optional custom resources, listed only where the cluster serves them (404: not installed), after
# the built-in types as kubectl prints them: (group, version, plural, kind).
LIVE_CUSTOM_LISTS = (
    ("gateway.networking.k8s.io", "v1", "httproutes", "HTTPRoute"),
    ("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject"),
    ("monitoring.coreos.com", "v1", "podmonitors", "PodMonitor"),
    ("monitoring.coreos.com", "v1", "servicemonitors", "ServiceMonitor"),
)
PAGE_SIZE = 500


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
        help="one kubectl List of the cluster's objects: the README's `kubectl get $(kubectl api-resources "
        "--verbs=list -o name | grep -xE '...' | paste -sd, -) -A -o yaml > FILE` (first steps for a real "
        "cluster)",
    )
    source.add_argument("--kubeconfig", type=Path, help="read the same objects live (list only)")
    i.add_argument("--node-pools", type=Path, required=True, help="az aks nodepool list -o json > FILE")
    i.add_argument("--cluster", required=True, help="SUBSCRIPTION/RESOURCE_GROUP/NAME")
    i.add_argument("--stack", default="prod", help="stack name (default prod)")
    # Refused with the reason (one stack migrates every WASI pool), rather than an unknown argument.
    i.add_argument("--legacy-pool", help=argparse.SUPPRESS)
    i.add_argument("--out", type=Path, required=True, help="directory to write into")
    i.add_argument(
        "--format", choices=("text", "json"), default="text", help="json: print the report as JSON"
    )
    i.add_argument("--force", action="store_true", help="overwrite files that exist")


# A whole cluster's export is larger than any stack file or manifest (2,000 workloads: about 12 MB).
MAX_EXPORT_BYTES = 256 * 1024 * 1024


def _read(path: Path, what: str) -> str:
    """Through the project's one reader: regular files only, UTF-8, bounded."""
    try:
        return read_text(path, MAX_EXPORT_BYTES)
    except UnsafeInput as error:
        raise InventoryError(f"{path}: {what} {error}") from None


def read_live(kubeconfig: Path) -> list[dict[str, Any]]:
    """The export's objects read through the official client, in the shape `kubectl -o yaml` prints:
    ApiClient.sanitize_for_serialization gives the wire (camelCase) dicts; list items carry no
    apiVersion/kind on the wire, so they are set here as kubectl does."""
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError

    try:
        api_client = config.new_client_from_config(config_file=str(kubeconfig))
    except Exception as error:  # the loader raises ConfigException, OSError, YAML errors...
        raise InventoryError(f"{kubeconfig}: cannot load kubeconfig: {error}") from None
    objects: list[dict[str, Any]] = []

    def paged(method: Callable[..., Any]) -> list[Any]:
        items: list[Any] = []
        token = None
        while True:
            page = method(limit=PAGE_SIZE, _continue=token)
            data = page if isinstance(page, dict) else api_client.sanitize_for_serialization(page)
            items += data.get("items") or []
            token = (data.get("metadata") or {}).get("continue")
            if not token:
                return items

    try:
        for api, method, api_version, kind in LIVE_LISTS:
            for item in paged(getattr(getattr(client, api)(api_client), method)):
                objects.append({"apiVersion": api_version, "kind": kind, **item})
        custom = client.CustomObjectsApi(api_client)
        for group, version, plural, kind in LIVE_CUSTOM_LISTS:
            try:
                items = paged(
                    lambda g=group, v=version, p=plural, **page: custom.list_cluster_custom_object(
                        g, v, p, **page
                    )
                )
            except ApiException as error:
                if error.status != 404:  # not served: the CRD is not installed
                    raise
                items = []
            objects += [{"apiVersion": f"{group}/{version}", "kind": kind, **item} for item in items]
    except ApiException as error:
        raise InventoryError(f"cluster read failed: {error.status} {error.reason}") from None
    except ValidationError as error:  # the client's models are stricter than some API servers' answers
        first = error.errors(include_url=False)[0]
        raise InventoryError(
            f"cluster read failed: the kubernetes client rejects a {error.title} "
            f"({'.'.join(map(str, first['loc']))}: {first['msg']}); use --kubectl-export instead"
        ) from None
    except (HTTPError, OSError) as error:  # unreachable server, TLS failure, retries exhausted
        raise InventoryError(f"cluster read failed: {' '.join(str(error).split())}") from None
    return objects


def _outputs(stack: str, inventory: Inventory, source: str) -> dict[str, str]:
    """What init writes, by path relative to --out, but the report."""
    files = {
        f"stacks/Pulumi.{stack}.yaml": stack_file_text(inventory.config, inventory.config["cluster"]["name"]),
    }
    for relative, listing in inventory.exports.items():
        what = "cluster" if relative.startswith(f"{CLUSTER_EXPORT_DIR}/") else "legacy"
        files[relative] = export_text(listing, source, what)
    return files


def planned_report(inventory: Inventory, files: dict[str, str]) -> dict[str, Any]:
    """The report with the planner's answers: the generated files are written to a scratch project
    (nothing is written to --out before everything is known) and the config is loaded against them."""
    stack_file = inventory.report["stackFile"]
    with tempfile.TemporaryDirectory(prefix="migrate-init-") as scratch:
        write_files(Path(scratch), files, force=False)
        answers = ask_planner(inventory.config, Path(scratch), stack_file)
    planner = answers.as_dict()
    return {
        **inventory.report,
        "planner": planner,
        "mustDecide": must_decide(inventory.report["decisions"], planner["problems"]),
    }


def run(args: argparse.Namespace) -> int:
    try:
        if args.legacy_pool is not None:
            raise InventoryError(
                f"--legacy-pool {args.legacy_pool!r}: one stack migrates every WASI pool of the cluster "
                "(legacyPools); leave --legacy-pool out"
            )
        if not args.stack or not all(c.isalnum() or c in "-_." for c in args.stack):
            raise InventoryError(f"--stack {args.stack!r}: use letters, digits, '-', '_' and '.'")
        cluster = parse_cluster(args.cluster)
        pools = read_node_pools(_read(args.node_pools, "the node pools"), str(args.node_pools))
        wasi = wasi_pools(pools, str(args.node_pools))
        if args.kubectl_export:
            source = str(args.kubectl_export)
            objects = read_export(_read(args.kubectl_export, "the export"), source, wasi)
        else:
            source = f"the cluster of {args.kubeconfig}"
            objects = read_live(args.kubeconfig)
        inventory = build_inventory(
            objects, pools, cluster, args.stack, sources={"export": source, "nodePools": str(args.node_pools)}
        )
        files = _outputs(args.stack, inventory, source)
        report = planned_report(inventory, files)
        files[REPORT_FILE] = report_markdown(report)
        write_files(args.out, files, force=args.force)
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
    summary = report["summary"]
    if args.format == "json":
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(
            f"{summary['wasmWorkloads']} Wasm workloads: {summary['migrated']} in "
            f"{args.out / 'stacks' / f'Pulumi.{args.stack}.yaml'}, {summary['notMigrated']} not migrated, "
            f"{len(report['mustDecide'])} decision(s) before check passes; read {args.out / REPORT_FILE}"
        )
    return EXIT_OK
