"""Loading a migration from wherever its config lives (the Pulumi engine or a stack file on disk),
into one validated value: the config model plus the legacy manifests it points to."""

from __future__ import annotations

import json
from collections.abc import Callable
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from components.analysis.traffic import export_problems
from components.core import naming
from components.core.config import (
    PROJECT,
    ConfigError,
    MigrationConfig,
    Phase,
    parse_config,
    problem,
    spin_image_problems,
)
from components.core.inputs import (
    ECHO_CHARS,
    MAX_DEPTH,
    Project,
    UnsafeInput,
    check_tree,
    echo,
    escape,
    load_yaml,
    read_project_file,
    read_text,
)
from components.desired import shim_component
from components.desired.shim import runtime_class_manifest
from components.export.aks import aks_facts
from components.export.cluster import (
    ClusterExport,
    ClusterReads,
    CrdInputError,
    load_cluster_export,
    read_crds,
    runtime_class_problems,
)
from components.export.guardrails import GuardrailInputError, export_json, installer_refusals, read_guardrails
from components.export.migration import Migration
from components.export.workload import ExportedWorkload, Load, load_legacy_workload

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Stands in for a value the stack file holds encrypted; offline tools never decrypt secrets.
ENCRYPTED_PLACEHOLDER = "[secret: encrypted in the stack file]"


LoadWorkloads = Callable[[MigrationConfig, Project], list[Load]]


def load_each(config: MigrationConfig, base_dir: Project) -> list[Load]:
    """Every legacy workload's load, one after another, in `workloads` order."""
    version, pools = config.cluster.kubernetes_version, config.legacy_pools
    return [
        load_legacy_workload(workload, index, base_dir, version, pools)
        for index, workload in enumerate(config.workloads)
    ]


def load_migration(
    raw: dict[str, Any], base_dir: Project = PROJECT_ROOT, load_workloads: LoadWorkloads = load_each
) -> Migration:
    """Validate everything, collecting every problem, before a single resource exists; the files the
    config names are read under `base_dir` (a root on disk, or files held in memory). `load_workloads`
    gives every legacy workload's load_legacy_workload answer, in order: the command line's splits them
    between two processes (migrate.state.load_in_two)."""
    config = parse_config(raw)
    workloads, problems = [], spin_image_problems(config)
    objects: list[tuple[int, list[naming.NamedObject]]] = []
    loads = load_workloads(config, base_dir)
    for index, (workload, (legacy, found)) in enumerate(zip(config.workloads, loads, strict=True)):
        problems.extend(found)
        if legacy:
            found = export_problems(config.phase, index, legacy)
            problems.extend(found)
            if not found:
                workloads.append(legacy)
            service = legacy.service["metadata"]["name"]
            objects.append((index, naming.workload_objects(workload.namespace, workload.name, service)))
    for index, source, clash in naming.object_clashes(objects):
        value = getattr(config.workloads[index], source)
        problems.append(problem(f"workloads[{index}].{source}", value, clash))
    cluster, found = load_cluster_export(config, base_dir)
    problems.extend(found)
    if not found and config.uses_shim:
        wanted = runtime_class_manifest(shim_component(config).args)
        problems.extend(runtime_class_problems(config, cluster, wanted))
    if not found:
        problems.extend(other_pod_problems(config, cluster))
    reads, found = read_cluster_reads(config, base_dir)
    problems.extend(found)
    problems.extend(guardrail_problems(config, reads))
    problems.extend(aci_problems(config, workloads))
    if problems:
        raise ConfigError(problems)
    return Migration(config, tuple(workloads), cluster, reads)


def aci_problems(config: MigrationConfig, workloads: list[ExportedWorkload]) -> list[str]:
    """What a container group cannot be: autoscaled (ACI has no autoscaler), stopped before another
    copy starts (a group keeps no volume state), or one pod with sidecars (Dapr, a mesh: the group runs
    the Spin container alone)."""
    problems = []
    for legacy in workloads:
        if legacy.config.target != "aci":
            continue
        index = config.workloads.index(legacy.config)
        why = [
            reason
            for reason, applies in (
                ("an autoscaler scales it (ACI has none)", legacy.autoscaler or legacy.scaled_object),
                (f"it must never run two copies ({', '.join(legacy.single_copy)})", legacy.stop_then_start),
                ("it is a Dapr app (its sidecar cannot come along)", legacy.dapr_app),
                (
                    "its pods take Entra tokens through workload identity (a container group gets no "
                    "service account token)",
                    legacy.workload_identity,
                ),
            )
            if applies
        ]
        if why:
            problems.append(
                problem(
                    f"workloads[{index}].target",
                    "aci",
                    f"Azure Container Instances cannot run {legacy.config.key}: {'; '.join(why)}; choose "
                    "target shim or container (docs/targets.md)",
                )
            )
    return problems


def cluster_files(config: MigrationConfig) -> dict[str, str | None]:
    """The files of the cluster a config names, by config key: the export load_cluster_export reads
    and the optional exports read_cluster_reads reads (None: not set)."""
    return {
        "cluster.export": config.cluster.export,
        "cluster.aks": config.cluster.aks,
        "cluster.policyAssignments": config.cluster.policy_assignments,
        "cluster.crds": config.cluster.crds,
    }


def read_cluster_reads(config: MigrationConfig, base_dir: Project) -> tuple[ClusterReads, list[str]]:
    """The optional exports the preflight reads (cluster.aks, cluster.policyAssignments, cluster.crds),
    each checked for its shape (one line naming a bad file)."""
    paths = {key: relative for key, relative in cluster_files(config).items() if key != "cluster.export"}
    texts: dict[str, str | None] = {}
    for key, relative in paths.items():
        try:
            texts[key] = read_project_file(base_dir, relative) if relative else None
        except UnsafeInput as error:
            return ClusterReads(), [problem(key, relative, str(error))]
    aks_text, crds_text = texts["cluster.aks"], texts["cluster.crds"]
    try:
        guardrails = read_guardrails(
            aks_text,
            texts["cluster.policyAssignments"],
            (str(paths["cluster.aks"]), str(paths["cluster.policyAssignments"])),
        )
        aks = aks_facts(export_json(aks_text, str(paths["cluster.aks"]))) if aks_text is not None else None
        crds = read_crds(crds_text, str(paths["cluster.crds"])) if crds_text is not None else None
    except (GuardrailInputError, CrdInputError) as error:
        return ClusterReads(), [problem("cluster", None, escape(str(error), ECHO_CHARS))]
    return ClusterReads(aks, tuple(guardrails), texts["cluster.policyAssignments"] is not None, crds), []


def guardrail_problems(config: MigrationConfig, reads: ClusterReads) -> list[str]:
    """A shim target on a cluster whose guardrails (cluster.aks, cluster.policyAssignments) refuse the
    installer's privileged pod in its namespace: the prepare phase would fail there, so it is refused
    here with the fix."""
    if not config.uses_shim:
        return []
    namespace = config.shim.namespace
    return [
        problem(
            "target",
            "shim",
            f"the cluster refuses the shim installer in namespace {namespace}: "
            f"{escape(g.source, ECHO_CHARS)} refuses {g.refuses}; {g.fix}, or set target: container "
            "(docs/targets.md)",
        )
        for g in installer_refusals(list(reads.guardrails), namespace)
    ]


def other_pod_problems(config: MigrationConfig, cluster: ClusterExport | None) -> list[str]:
    """Decommission deletes the WASI pools with their nodes, and with them every pod that still runs
    there: each that is not a migrated workload's must be moved off, or acknowledged by name."""
    if config.phase is not Phase.DECOMMISSION or cluster is None:
        return []
    acknowledged = set(config.decommission.acknowledge_other_pods)
    missing: dict[str, list[str]] = {}
    for pod in cluster.other_pods(config):
        if pod.key not in acknowledged:
            missing.setdefault(f"{pod.owner_kind} {pod.key}", []).append(pod.name)
    if not missing:
        return []
    listed = "; ".join(f"{owner} ({', '.join(pods)})" for owner, pods in sorted(missing.items()))
    return [
        problem(
            "decommission.acknowledgeOtherPods",
            list(config.decommission.acknowledge_other_pods),
            f"deleting the WASI pools deletes pods that are not Wasm workloads with them: "
            f"{escape(listed, ECHO_CHARS * 4)}; move them off the pools (or accept that they go) and list "
            "each `<namespace>/<name>` here",
        )
    ]


def _decode_secure(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"secure"}:
            return ENCRYPTED_PLACEHOLDER
        return {key: _decode_secure(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode_secure(item) for item in value]
    return value


def raw_config_from_stack_file(path: Path) -> dict[str, Any]:
    """The project's keys from a Pulumi stack file, as the program would receive them. Keys of other
    namespaces (`azure-native:location`, `pulumi:disable-default-providers`) belong to providers and
    the engine; they are ignored, as the program never sees them either."""
    try:
        text = read_text(path)
    except UnsafeInput as error:
        raise ConfigError([problem("stack file", str(path), str(error))]) from None
    return raw_config_from_stack_text(text, str(path))


def raw_config_from_stack_text(text: str, name: str) -> dict[str, Any]:
    """The same from a stack file's text read elsewhere (a git revision); `name` says where."""
    try:
        document = load_yaml(text)
    except UnsafeInput as error:
        raise ConfigError([problem("stack file", name, str(error))]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError([problem("stack file", name, "must be a mapping with a `config:` mapping")])
    raw: dict[str, Any] = {}
    problems = []
    prefix = f"{PROJECT}:"
    for item, value in document["config"].items():
        key = str(item)
        namespace, colon, name = key.partition(":")
        shown = escape(key, ECHO_CHARS)
        if namespace == PROJECT:
            raw[name] = _decode_secure(value)
        elif not colon:
            problems.append(problem(shown, value, f"keys of this project are written `{prefix}<key>`"))
        elif get_close_matches(namespace, [PROJECT], n=1, cutoff=0.8):
            suggestion = escape(f"{prefix}{name}", ECHO_CHARS)
            problems.append(
                problem(shown, value, f"unknown namespace {echo(namespace)}; did you mean `{suggestion}`?")
            )
    if problems:
        raise ConfigError(problems)
    return raw


def raw_config_from_engine(keys: tuple[str, ...]) -> dict[str, Any]:
    """The project's keys as the Pulumi engine hands them over (structured values arrive as JSON),
    held to the same depth and size limits as YAML."""
    import pulumi

    raw: dict[str, Any] = {}
    problems = []
    for key in keys:
        value = pulumi.runtime.get_config(f"{PROJECT}:{key}")
        if value is None:
            continue
        try:
            raw[key] = json.loads(value)
            check_tree(raw[key])
        except json.JSONDecodeError:
            raw[key] = value
        except RecursionError:
            problems.append(problem(key, value, f"is nested deeper than {MAX_DEPTH} levels (limit: depth)"))
        except ValueError as error:  # e.g. an integer of more than 4300 digits
            problems.append(problem(key, value, f"is not a usable value: {escape(str(error))}"))
        except UnsafeInput as error:
            problems.append(problem(key, value, str(error)))
    if problems:
        raise ConfigError(problems)
    return raw
