"""`migrate init` end to end, the shell around the pure inventory: read the node pools and the cluster
(an export file, or live), inventory it, ask the planner about the generated files (held in memory),
render the report and write everything to --out (nothing before everything is known)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.core.inputs import FileTexts, UnsafeInput, read_text
from components.export.aks import aks_facts
from components.export.cluster import CrdInputError, read_crds
from components.export.guardrails import GuardrailInputError, export_json, read_guardrails
from migrate.init.errors import InventoryError
from migrate.init.export import read_export
from migrate.init.files import output_files
from migrate.init.guardrails import AzureExports
from migrate.init.inventory import Inventory, build_inventory
from migrate.init.live import read_live
from migrate.init.node_pools import WasiPool, parse_cluster, read_node_pools, wasi_pools
from migrate.init.planner import ask_planner, must_decide
from migrate.init.report import report_markdown
from migrate.writes import write_files

REPORT_FILE = "migration-report.md"
# A whole cluster's export is larger than any stack file or manifest (2,000 workloads: about 12 MB).
MAX_EXPORT_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class InitRequest:
    """What `migrate init` was asked: where the cluster is read from (an export file or a kubeconfig),
    its node pools, the --cluster reference, the stack and where to write."""

    node_pools: Path
    cluster: str
    stack: str
    out: Path
    force: bool = False
    kubectl_export: Path | None = None
    kubeconfig: Path | None = None
    aks_cluster: Path | None = None
    policy_assignments: Path | None = None
    crds: Path | None = None


def read_input(path: Path, what: str) -> str:
    """Through the project's one reader: regular files only, UTF-8, bounded."""
    try:
        return read_text(path, MAX_EXPORT_BYTES)
    except UnsafeInput as error:
        raise InventoryError(f"{path}: {what} {error}") from None


def init(request: InitRequest) -> dict[str, Any]:
    """Read, inventory, ask the planner, render and write; the report's data (with the planner's
    answers). Raises InventoryError, UnsafeWrite or OSError; then nothing was written."""
    cluster = parse_cluster(request.cluster)
    pools = read_node_pools(read_input(request.node_pools, "the node pools"), str(request.node_pools))
    wasi = wasi_pools(pools, str(request.node_pools))
    source, objects = _read_cluster(request, wasi)
    azure = _read_azure(request)
    inventory = build_inventory(
        objects,
        pools,
        cluster,
        request.stack,
        sources={"export": source, "nodePools": str(request.node_pools)},
        azure=azure,
    )
    files = output_files(request.stack, inventory.config, inventory.exports, source)
    files.update(azure.files(request.stack))
    report = planned_report(inventory, files)
    files[REPORT_FILE] = report_markdown(report)
    write_files(request.out, files, force=request.force)
    return report


def _read_azure(request: InitRequest) -> AzureExports:
    """The optional exports, read and checked for their shape (one line naming a bad file)."""
    texts = {
        "aks": read_input(request.aks_cluster, "the cluster") if request.aks_cluster else None,
        "policyAssignments": (
            read_input(request.policy_assignments, "the policy assignments")
            if request.policy_assignments
            else None
        ),
    }
    sources = (str(request.aks_cluster), str(request.policy_assignments))
    try:
        guardrails = read_guardrails(texts["aks"], texts["policyAssignments"], sources)
        aks = aks_facts(export_json(texts["aks"], sources[0])) if texts["aks"] is not None else None
        crds = read_crds(read_input(request.crds, "the CRDs"), str(request.crds)) if request.crds else None
    except (GuardrailInputError, CrdInputError) as error:
        raise InventoryError(str(error)) from None
    return AzureExports(texts, guardrails, aks, crds)


def _read_cluster(request: InitRequest, wasi: list[WasiPool]) -> tuple[str, list[dict[str, Any]]]:
    """Where the objects were read from, and the objects: the export file's, else the live cluster's."""
    if request.kubectl_export is not None:
        source = str(request.kubectl_export)
        return source, read_export(read_input(request.kubectl_export, "the export"), source, wasi)
    assert request.kubeconfig is not None  # the command requires one of the two
    return f"the cluster of {request.kubeconfig}", read_live(request.kubeconfig)


def planned_report(inventory: Inventory, files: dict[str, str]) -> dict[str, Any]:
    """The report with the planner's answers: the config is loaded against the generated files as
    they are held in memory (read as a project root is read: components.core.inputs.FileTexts), so
    nothing is written anywhere before everything is known."""
    stack_file = inventory.report["stackFile"]
    answers = ask_planner(inventory.config, FileTexts.of(files), stack_file)
    planner = answers.as_dict()
    return {
        **inventory.report,
        "planner": planner,
        "mustDecide": must_decide(inventory.report["decisions"], planner["problems"]),
    }
