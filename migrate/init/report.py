"""`migration-report.md`, rendered from the report's data (migrate/init/inventory.py's facts and
migrate/init/planner.py's answers from the planner), one function per section: every table through
`table`, every string from the export through migrate/markdown.py (`code` for identifiers, `text` for
prose)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from migrate.init.sizing import MIN_TARGET_NODES
from migrate.markdown import code, text


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A GFM table; headers are ours, every cell arrives escaped (`cell_code`, `cell_text`)."""
    return [
        f"| {' | '.join(headers)} |",
        f"| {' | '.join('---' for _ in headers)} |",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


def cell_code(value: Any) -> str:
    return code(value, cell=True)


def cell_text(value: Any) -> str:
    return text(value)


def _steps(steps: Sequence[str], every: Sequence[str]) -> str:
    if list(steps) == list(every):
        return "every step"
    return ", ".join(steps)


def new_side_statement(answer: dict[str, Any]) -> str:
    """What the new side runs in cutover, as the planner registers it."""
    if not answer["planned"]:
        return "not planned: the loader refuses this workload (see what to decide)"
    if answer["autoscaler"]:
        kind, low, high = answer["autoscaler"]
        return f"gets {'an' if kind == 'HPA' else 'a'} {kind} {low}..{high}"
    count = answer["replicas"]
    return f"runs {count} replica{'' if count == 1 else 's'}, no autoscaler"


def reach_statement(answer: dict[str, Any]) -> str:
    if not answer["planned"]:
        return "-"
    parts = [
        f"{r['entry']} from {r['from']}" if r["from"] else f"{r['entry']} never" for r in answer["reach"]
    ]
    return "; ".join(parts) or "no entry point"


def move_statement(answer: dict[str, Any]) -> str:
    if not answer["planned"]:
        return "-"
    if answer["stopThenStart"]:
        return (
            "stop-then-start: the legacy pods stop before the new ones start, in cutover (a short "
            "interruption)"
        )
    return "side by side: new pods run beside the legacy ones before cutover"


def _decision_lines(items: list[dict[str, Any]], steps: Sequence[str]) -> list[str]:
    lines = []
    for item in items:
        who = f"**{text(item['workload'])}**" if item["workload"] else "**the stack**"
        key = f" {code(item['key'])}" if item["key"] else ""
        said = "; ".join(
            f"check says {code(c['line'])} ({text(_steps(c['steps'], steps))})" for c in item["check"]
        )
        body = text(item["text"]) if item["key"] else f"check says {code(item['text'])}"
        if item["key"] and said:
            body += f" ({said})"
        elif not item["key"]:
            body += f" ({text(_steps(item['check'][0]['steps'], steps))})"
        lines.append(f"- {who}{key}: {body}")
    return lines or ["- nothing"]


def report_markdown(report: dict[str, Any]) -> str:
    """The readiness report a person reads before the first `pulumi preview`."""
    sections = (
        _summary,
        _must_decide,
        preflight_section,
        _plan,
        _wasi_pools,
        _target_pools,
        _migrated,
        _other_pods,
        _not_migrated,
        _next,
    )
    return "\n".join(line for section in sections for line in section(report))


def _migrated_workloads(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [w for w in report["workloads"] if w["migrated"]]


def _summary(report: dict[str, Any]) -> list[str]:
    summary = report["summary"]
    return [
        f"# Migration readiness: {text(report['cluster']['name'])} (stack {code(report['stack'])})",
        "",
        f"{summary['wasmWorkloads']} Wasm workload(s) found; {summary['migrated']} Deployment(s) in "
        f"{code(report['stackFile'])} ({summary['ready']} ready, {summary['rebuild recommended']} rebuild "
        f"recommended, {summary['rewrite required']} rewrite required), migrated by this one stack from "
        f"{len(report['wasiPools'])} WASI pool(s); {summary['notMigrated']} not migrated; "
        f"{len(report['otherPods'])} other pod(s) on WASI nodes; {len(report['mustDecide'])} thing(s) to "
        "decide before `python -m migrate check` passes in every step.",
        "",
    ]


def _must_decide(report: dict[str, Any]) -> list[str]:
    planner = report["planner"]
    steps = planner["steps"]
    return [
        "## What a person must decide before `check` passes",
        "",
        "Asked of the planner: the generated config loaded against the generated manifests in every step of "
        f"the walk ({text(', '.join(steps))}) and checked as `migrate check` checks it (Kubernetes "
        f"{text(', '.join(planner['kubernetesVersions']))}), with init's own findings.",
        "",
        *_decision_lines(report["mustDecide"], steps),
        "",
        "Alerts are off in the generated stack (`alerts.mode: off`): before `parallel`, set `alerts.mode` to "
        "`azureMonitor` (with the cluster's Azure Monitor workspace and an action group) or "
        "`prometheusOperator` (docs/alerts.md).",
        "",
    ]


def preflight_section(report: dict[str, Any]) -> list[str]:
    """What the cluster says, finding by finding: refusals first (check refuses those steps too)."""
    planner = report["planner"]
    order = {"refuses": 0, "warns": 1, "not known": 2, "ok": 3}
    findings = sorted(planner["preflight"], key=lambda f: order[f["outcome"]])
    lines = [
        "## Preflight: what the cluster says",
        "",
        "Read from the exports init was given (`az aks show`, the policy assignments, the CRDs, the "
        "namespaces and add-ons of the cluster export) against what each step registers "
        "(docs/preflight.md). `check` refuses a step where the cluster refuses it.",
        "",
    ]
    for f in findings:
        line = f"- **{text(f['topic'])}** ({f['outcome']}, {text(_steps(f['steps'], planner['steps']))}): "
        line += text(f["says"])
        if f["breaks"]:
            line += f". What breaks: {text(f['breaks'])}"
        if f["fix"]:
            line += f". Fix: {text(f['fix'])}"
        lines.append(line)
    if not findings:
        lines.append(
            "- nothing checked yet: no step of the generated config loads before the decisions above are "
            "made; `python -m migrate check` runs the same preflight on each phase file after them"
        )
    return [*lines, ""]


def _plan(report: dict[str, Any]) -> list[str]:
    answers = report["planner"]["workloads"]
    rows = []
    for w in _migrated_workloads(report):
        answer = answers[w["namespace"] + "/" + w["name"]]
        rows.append(
            [
                cell_code(w["namespace"] + "/" + w["name"]),
                cell_text(new_side_statement(answer)),
                cell_text(reach_statement(answer)),
                cell_text(move_statement(answer)),
            ]
        )
    return [
        "## What the plan does",
        "",
        "Read off the desired states the program registers for this config (what `render` prints): the "
        "new side in cutover, the first step each entry point sends requests to new pods, how the workload "
        "moves.",
        "",
        *table(["workload", "new side in cutover", "entry points reaching new pods", "move"], rows),
    ]


def _wasi_pools(report: dict[str, Any]) -> list[str]:
    rows = [
        [
            cell_code(pool["name"]),
            cell_code(pool["vmSize"]),
            cell_text(pool["arch"]),
            cell_text(pool["count"]),
            cell_text(", ".join(pool["nodeTaints"]) or "-"),
            cell_text(len(pool["workloads"])),
        ]
        for pool in report["wasiPools"]
    ]
    return [
        "",
        "## WASI node pools",
        "",
        "One stack migrates every WASI pool of the cluster (`legacyPools`).",
        "",
        *table(["pool", "VM size", "architecture", "nodes", "taints", "Wasm workloads"], rows),
    ]


def _target_pools(report: dict[str, Any]) -> list[str]:
    lines = ["", "## Proposed target pools", ""]
    for target in report["targetPools"]:
        lines += _target_pool(target)
    if report["notes"]:
        lines += [*(f"- {text(note)}" for note in report["notes"]), ""]
    return lines


def _target_pool(target: dict[str, Any]) -> list[str]:
    sizing = target["sizing"]
    lines = [
        f"{code(target['name'])}: {text(target['vmSize'])} ({text(target['osSku'])}, "
        f"{text(sizing['arch'])}), {target['count']} nodes, autoscaling "
        f"{target['autoscaling']['minCount']}-{target['autoscaling']['maxCount']}"
        + (f", zones {text(', '.join(target['zones']))}" if target.get("zones") else "")
        + f", for the workloads of {text(', '.join(sizing['legacyPools']))}.",
        "",
        f"- requests at peak replicas (an autoscaler's maximum where one scales the workload): "
        f"{sizing['requestedCpu']} CPU, {sizing['requestedMemoryGiB']} GiB memory",
    ]
    if sizing.get("nodesForRequests") is not None:
        lines.append(
            f"- a {text(sizing['vmSize'])} node has {sizing['nodeVcpus']} vCPU / "
            f"{sizing['nodeMemoryGiB']} GiB; assuming {int(sizing['allocatableShare'] * 100)} % is "
            f"allocatable to these pods, the requests need {sizing['nodesForRequests']} node(s); the "
            f"WASI pools have {sizing['legacyVcpus']} vCPUs, which the proposal keeps"
        )
    else:
        lines.append(
            f"- {text(sizing['vmSize'])}: capacity unknown to this tool, so the count follows the WASI "
            f"pools' {sizing['legacyNodes']} node(s)"
        )
    return [
        *lines,
        f"- never fewer than {MIN_TARGET_NODES} nodes; `orchestratorVersion` is left out, so AKS creates "
        "the pool at the control plane's version",
        "",
    ]


def _migrated(report: dict[str, Any]) -> list[str]:
    migrated = _migrated_workloads(report)
    rows = [
        [
            cell_code(w["namespace"] + "/" + w["name"]),
            cell_code(w["runtimeClass"]),
            cell_text(w["classification"]),
            cell_text("; ".join(w["signals"])),
            cell_code(w["service"]) if w["service"] else cell_text("to decide"),
        ]
        for w in migrated
    ]
    lines = [
        "## Migrated workloads",
        "",
        *table(["workload", "runtime class", "readiness", "found by", "Service"], rows),
    ]
    for w in migrated:
        lines += _workload_details(w)
    return lines


def _workload_details(w: dict[str, Any]) -> list[str]:
    lines = [
        "",
        f"### {text(w['namespace'] + '/' + w['name'])}",
        "",
        f"Manifest: {code(w['manifest'])} ({text(', '.join(w['related']))})",
        "",
        *(f"- **must decide** {code(d['key'])}: {text(d['text'])}" for d in w["decisions"]),
        *(f"- {text(note)}" for note in w["notes"]),
    ]
    if w["proposed"]:
        lines.append(f"- proposed in the stack file: {code(json.dumps(w['proposed'], sort_keys=True))}")
    return lines


def _other_pods(report: dict[str, Any]) -> list[str]:
    lines = ["", "## Pods on WASI nodes that are not migrated Wasm workloads", ""]
    if not report["otherPods"]:
        return [*lines, "- none: only migrated Wasm workloads and DaemonSets run on the WASI nodes"]
    rows = [
        [
            cell_code(pod["pod"]),
            cell_code(pod["node"]),
            cell_text(" < ".join(pod["chain"]) or "nothing (a bare pod: nothing recreates it)"),
            cell_code(pod["acknowledge"]),
        ]
        for pod in report["otherPods"]
    ]
    return [
        *lines,
        "Deleting the WASI pools in decommission deletes these pods with their nodes (DaemonSet pods "
        "follow the nodes and are not listed). Move each off the WASI pools, or acknowledge it in "
        f"`decommission.acknowledgeOtherPods`; {code(report['clusterFile'])} holds them as exported.",
        "",
        *table(["pod", "node", "controlled by", "acknowledge as"], rows),
    ]


def _not_migrated(report: dict[str, Any]) -> list[str]:
    lines = ["", "## Not migrated by this stack", ""]
    others = [w for w in report["workloads"] if not w["migrated"]]
    if not others:
        return [*lines, "- nothing: every Wasm workload is a Deployment this stack migrates"]
    rows = [
        [
            cell_code(f"{w['kind']} {w['namespace']}/{w['name']}"),
            cell_text("; ".join(w["signals"])),
            cell_text(w["reason"]),
        ]
        for w in others
    ]
    return [*lines, *table(["workload", "found by", "why"], rows)]


def _next(report: dict[str, Any]) -> list[str]:
    return [
        "",
        "## Next",
        "",
        "Paths in the stack file are relative to the directory init wrote to; `migrate check` and the Pulumi "
        "program read them from the project root (where Pulumi.yaml is), so keep `stacks/` and `manifests/` "
        "there.",
        "",
        f"1. Decide the items above in {code(report['stackFile'])} (and re-export where they say so).",
        f"2. {code('python -m migrate check ' + report['stackFile'])} until it passes, then "
        f"{code('python -m migrate phases ' + report['stackFile'])} for the phase files.",
        "3. `pulumi preview` the baseline: it adopts the WASI pools and the legacy objects without changes.",
        "",
    ]
