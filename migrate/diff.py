"""`diff`: what moving from one stack file to another does, as GitHub markdown for a PR comment.
See docs/design/diff.md."""

from __future__ import annotations

import difflib
import hashlib
import marshal
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.analysis.capacity import reach_at_rest, route_keys, worst_moments
from components.core import naming
from components.core.config import PROJECT, Cluster, Phase
from components.core.inputs import escape
from components.desired import SHIM_COMPONENT, WASM_WORKLOAD_TYPE
from components.desired.aci import CONTAINER_GROUP_TYPE
from components.desired.pools import AGENT_POOL_TYPE, POOL_FORCE_NEW, POOL_IMMUTABLE
from components.desired.spec import DesiredState, ResourceSpec, WorkloadTraffic
from components.export.migration import Migration
from components.export.workload import ExportedWorkload
from migrate.background import Background
from migrate.check import transition_problems
from migrate.defaults import DEFAULT_MAX_CHARS, STACK_PLACEHOLDER
from migrate.markdown import code, fence, html, printable, text
from migrate.phases import stale
from migrate.revision import load_at, read_raw_at, resolve
from migrate.state import EXIT_INPUT, InputError, Loaded, load, state_at, with_traffic_analysed
from migrate.yamlio import dump

REEXPORT = "re-export"
_LIST_LIMIT = 25  # items listed per risk before "and N more"
# A string this long (or of this many lines) is opaque data to a reviewer, a script: the diff shows its
# digest and size, and `render` prints it.
OPAQUE_CHARS = 2_000
OPAQUE_LINES = 40

# The order a reviewer reads changes in: what happens to the legacy side's capacity and selectors (the
# patches on adopted objects, and re-exports), the traffic split (HTTPRoute weights), the new Deployments
# and their autoscalers, the Services requests are routed through, the node pools, then the rest (shim,
# verification, disruption budgets, alerts).
SECTIONS = (
    "Legacy capacity and selectors",
    "Traffic split",
    "New Deployments and autoscalers",
    "Services",
    "Node pools",
    "Everything else",
)


@dataclass(frozen=True)
class Change:
    action: str  # create | update | replace | delete | re-export (adopted read-only; nothing applied)
    name: str
    before: ResourceSpec | None
    after: ResourceSpec | None
    paths: tuple[str, ...] = ()  # changed leaf paths (update/replace)
    forced_by: tuple[str, ...] = ()  # replace_on_changes entries that matched

    @property
    def spec(self) -> ResourceSpec:
        spec = self.after or self.before
        assert spec is not None
        return spec

    @property
    def kind(self) -> str:
        return self.spec.type.rsplit(":", 1)[-1]

    @property
    def section(self) -> int:
        """Its index in SECTIONS, from what the resource is (never from its name)."""
        spec = self.spec
        if spec.type == AGENT_POOL_TYPE:
            return 4
        if spec.is_patch or spec.import_id:
            return 0
        kind = spec.inputs.get("kind") if spec.is_kubernetes else None
        if kind == "HTTPRoute":
            return 1
        if kind in ("Deployment", "HorizontalPodAutoscaler"):
            return 2
        if kind == "Service":
            return 3
        return 5


def _leaves(value: Any, prefix: str, out: dict[str, Any]) -> None:
    if isinstance(value, dict) and value:
        for key, item in value.items():
            _leaves(item, f"{prefix}.{key}" if prefix else str(key), out)
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            _leaves(item, f"{prefix}[{index}]", out)
    else:
        out[prefix] = value


def changed_paths(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Dotted paths (lists as [i]) whose value differs, added or removed; sorted."""
    if _same(before, after):
        return []
    old: dict[str, Any] = {}
    new: dict[str, Any] = {}
    _leaves(before, "", old)
    _leaves(after, "", new)
    return sorted(path for path in old.keys() | new.keys() if old.get(path, ...) != new.get(path, ...))


def _same(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """Whether the two are the same data, type for type and key for key in the same order (their
    marshal serialisations equal), holding no NaN: then no path's value differs, which is what a phase
    step does to most resources, and is found without listing their leaves. A NaN (unequal to itself,
    its leaf listed as changed) shows as the copy marshal loads back comparing unequal: its NaN is
    another object, where a container's comparison takes the same object as equal. False when unsure (a
    value marshal does not take)."""
    if before != after:  # the cheap answer for most resources that changed
        return False
    try:
        serialised = marshal.dumps(before, 2)
        return serialised == marshal.dumps(after, 2) and _nan_free(before, serialised)
    except ValueError:
        return False


def _nan_free(value: Any, serialised: bytes | None = None) -> bool:
    """Whether plain data holds no NaN (unequal to itself): the copy marshal loads back (`serialised`,
    or the value serialised now; version 2 has no references, so every float is loaded anew) compares
    equal, where a container's comparison takes the same NaN object as equal. ValueError for a value
    marshal does not take."""
    return marshal.loads(serialised if serialised is not None else marshal.dumps(value, 2)) == value


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith((f"{prefix}.", f"{prefix}["))


def _ignores(ignored: str, path: str) -> bool:
    """ignore_changes semantics: a path and everything under it; `*` every property
    (sdk/go/common/resource/properties_path.go)."""
    return ignored == "*" or _under(path, ignored)


def classify(before: ResourceSpec | None, after: ResourceSpec | None) -> Change | None:
    """None when nothing the engine would act on changed (changes only in ignore_changes paths)."""
    if before is None:
        assert after is not None
        return Change("create", after.name, None, after)
    if after is None:
        return Change("delete", before.name, before, None)
    if before.type != after.type:
        return Change("replace", after.name, before, after, forced_by=("type",))
    changed = changed_paths(before.inputs, after.inputs)
    paths = [path for path in changed if not any(_ignores(ignored, path) for ignored in after.ignore_changes)]
    if not paths:
        if changed and after.import_id:  # adopted read-only: the export moved, the engine sends nothing
            return Change(REEXPORT, after.name, before, after, tuple(changed))
        return None
    forced = tuple(r for r in after.replace_on_changes if any(_under(p, r) for p in paths))
    if after.type == AGENT_POOL_TYPE:
        forced += tuple(f for f in (*POOL_FORCE_NEW, *POOL_IMMUTABLE) if any(_under(p, f) for p in paths))
    return Change("replace" if forced else "update", after.name, before, after, tuple(paths), forced)


def compute_changes(before: DesiredState, after: DesiredState) -> list[Change]:
    """By section (SECTIONS); within one, in the target's registration order, then deletions in the
    source's order."""
    old = before.by_name()
    new = after.by_name()
    changes = [classify(old.get(spec.name), spec) for spec in after.resources]
    changes += [classify(spec, None) for spec in before.resources if spec.name not in new]
    return sorted((change for change in changes if change is not None), key=lambda change: change.section)


def urn(spec: ResourceSpec, stack: str = STACK_PLACEHOLDER) -> str:
    """The engine's URN: the types of the parent chain, then the resource's own type and name."""
    types = "$".join((*spec.parent_types, spec.type))
    return f"urn:pulumi:{stack}::{PROJECT}::{types}::{spec.name}"


def _value(value: Any) -> str:
    """A value in a Detail cell: our own words for none and for numbers, a code span for a string."""
    if value is ...:
        return "(none)"
    if not isinstance(value, str):
        return text(repr(value))
    shown = printable(value)
    # Both ends: an image's tag, a name's suffix, is where two values usually differ.
    shown = shown if len(shown) <= 40 else shown[:18] + "..." + shown[-19:]
    return code(shown, cell=True)


def _leaf_values(inputs: dict[str, Any]) -> dict[str, Any]:
    """Each leaf's value by its path, as changed_paths names them."""
    leaves: dict[str, Any] = {}
    _leaves(inputs, "", leaves)
    return leaves


def _detail(change: Change) -> str:
    """Markdown for a table cell."""
    if change.action == "create":
        return "new"
    if change.action == "delete":
        if change.spec.retain_on_delete:
            return "retained: its fields stay as they are"
        return "protected: unprotect first" if change.spec.protect else "removed by this phase"
    if change.action == "replace":
        return "forced by " + ", ".join(code(field, cell=True) for field in change.forced_by)
    assert change.before and change.after
    shown = []
    before, after = _leaf_values(change.before.inputs), _leaf_values(change.after.inputs)
    for path in change.paths[:3]:
        old, new = before.get(path, ...), after.get(path, ...)
        shown.append(f"{code(path, cell=True)}: {_value(old)} → {_value(new)}")
    more = len(change.paths) - len(shown)
    listed = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return (
        f"export changed, adopted read-only so nothing is applied: {listed}"
        if change.action == REEXPORT
        else listed
    )


def summary_table(changes: list[Change], longest: int | None = None) -> str | None:
    """One row per change; None as soon as it is longer than `longest` characters (the rest of the rows
    are then never written: a large step's table is grouped instead)."""
    rows = [
        "| Action | Resource | Pulumi name | Detail |",
        "| --- | --- | --- | --- |",
    ]
    length = len(rows[0]) + 1 + len(rows[1])
    for change in changes:
        name = code(change.name, cell=True)
        rows.append(f"| {change.action} | {text(change.spec.label)} | {name} | {_detail(change)} |")
        length += 1 + len(rows[-1])
        if longest is not None and length > longest:
            return None
    return "\n".join(rows) if longest is None or length <= longest else None


def grouped_table(changes: list[Change]) -> str:
    """The summary for very large transitions: one row per action and kind, with counts."""
    groups: dict[tuple[str, str, str], list[Change]] = {}
    for change in changes:
        detail = _detail(change) if change.action in ("create", "delete", "replace") else "see diffs"
        groups.setdefault((change.action, change.kind, detail), []).append(change)
    rows = ["| Action | Kind | Count | Detail | Examples |", "| --- | --- | --- | --- | --- |"]
    for (action, kind, detail), members in groups.items():
        examples = ", ".join(code(c.name, cell=True) for c in members[:3])
        rows.append(f"| {action} | {text(kind)} | {len(members)} | {detail} | {examples} |")
    return "\n".join(rows)


@dataclass
class Risk:
    title: str  # markdown
    items: list[str] = field(default_factory=list)  # markdown
    code: list[str] = field(default_factory=list)  # shell lines, shown in a code block


def _named(spec: ResourceSpec) -> str:
    """`Deployment shop/app (`shop/app/legacy-deployment`)`, escaped."""
    return f"{text(spec.label)} ({code(spec.name)})"


def _shim_nodes(state: DesiredState, migration: Migration) -> str:
    label = migration.config.shim.node_label
    pools = [
        spec.inputs["agentPoolName"]
        for spec in state.resources
        if not spec.is_kubernetes and (spec.inputs.get("nodeLabels") or {}).get(label.key) == label.value
    ]
    where = f"pool(s) {text(', '.join(pools))}" if pools else "no pool yet"
    return f"every node labelled {code(f'{label.key}={label.value}')} ({where})"


@dataclass
class _Risks:
    """The risks found so far, by key; `stack` names the URNs of the `unprotect` commands."""

    stack: str
    found: dict[str, Risk] = field(default_factory=dict)

    def add(self, key: str, title: str, item: str | None = None) -> Risk:
        risk = self.found.setdefault(key, Risk(title))
        if item:
            risk.items.append(item)
        return risk

    def unprotect_first(self, protected: ResourceSpec) -> None:
        risk = self.add(
            "unprotect",
            "Protected resources are deleted: the engine refuses until each is unprotected. "
            "Run before `pulumi up`:",
        )
        risk.code.append(f"pulumi state unprotect {shlex.quote(urn(protected, self.stack))}")


def _deletion_risks(risks: _Risks, spec: ResourceSpec) -> None:
    if spec.type == AGENT_POOL_TYPE and spec.import_id:  # adopted: the WASI pool
        risks.add(
            "pool",
            "**Irreversible:** the WASI pool is deleted, with its nodes; AKS no longer creates "
            "WasmWasi pools, so it cannot come back",
            _named(spec),
        )
    elif spec.import_id and spec.inputs.get("kind") == "Deployment":  # adopted: a legacy one
        risks.add(
            "legacy",
            "**Irreversible:** legacy Deployments are deleted; their pods cannot be recreated on a WASI pool",
            _named(spec),
        )
    elif not spec.retain_on_delete:
        risks.add("delete", "Deleted resources", _named(spec))
    if spec.protect:
        risks.unprotect_first(spec)


def _replacement_risks(risks: _Risks, change: Change) -> None:
    spec = change.spec
    if spec.type == AGENT_POOL_TYPE:
        risks.add(
            "pool-replace",
            "**Refused:** a node pool cannot change these in place, and replacing it under the same "
            "name takes every Wasm pod on it down. Add a pool under a new name (blue/green), apply, "
            "then remove the old one; `migrate check --from` fails until then",
            f"{_named(spec)}: {code(', '.join(change.forced_by))}",
        )
        return
    detail = ", ".join(change.forced_by)
    how = "deleted first, then created (downtime)" if spec.delete_before_replace else "replaced"
    if spec.inputs.get("kind") == "Job":
        how = "the old Job is deleted and the check runs again"
    risks.add("replace", "Replacements", f"{_named(spec)}: {code(detail)} changed; {how}")
    if change.before and change.before.protect:
        risks.unprotect_first(change.before)


def _shim_risk(risks: _Risks, change: Change, after: DesiredState, target: Migration) -> None:
    """Installing or rolling the shim installer restarts containerd on every node it runs on."""
    spec = change.spec
    if not (
        spec.inputs.get("kind") == "DaemonSet" and spec.component == SHIM_COMPONENT and spec.is_kubernetes
    ):
        return
    template_changed = change.action == "create" or any(_under(p, "spec.template") for p in change.paths)
    if change.action != "delete" and template_changed:
        verb = "installs the shim" if change.action == "create" else "rolls the shim installer"
        risks.add(
            "containerd",
            f"containerd restarts: {text(spec.label)} {verb} and restarts containerd on "
            f"{_shim_nodes(after, target)}, one node at a time",
        )


def _container_risk(risks: _Risks, change: Change) -> None:
    """A new copy in a Spin container costs more than one on the shim, and pulls the app itself."""
    spec = change.spec
    created = change.action == "create" and spec.inputs.get("kind") == "Deployment"
    if not (created and spec.parent_types and spec.parent_types[-1] == WASM_WORKLOAD_TYPE):
        return
    if "runtimeClassName" not in spec.inputs["spec"]["template"]["spec"]:
        risks.add(
            "container",
            "Spin in a container (target container): each new pod runs its own Spin and pulls the app "
            "when it starts, with `container.pullSecret` (not the kubelet's identity): more memory and a "
            "longer cold start than on the shim; the verification gate measures both against the legacy pods",
            _named(spec),
        )


def _aci_risk(risks: _Risks, change: Change) -> None:
    """What a container group cannot do that a pod can, said where the groups are created."""
    if change.action == "create" and change.spec.type == CONTAINER_GROUP_TYPE:
        risks.add(
            "aci",
            "Azure Container Instances (target aci): each group is one copy with one private IP (no split "
            "inside a group, no autoscaler, no DaemonSet); a new group starts cold (image pull, Spin start); "
            "its EndpointSlice lists it as ready whatever ACI's probe says, and a group ACI restarts may "
            "come back on another IP: `pulumi refresh` then `pulumi up` lists it again",
            _named(change.spec),
        )


def _reexport_risk(risks: _Risks, change: Change) -> None:
    risks.add(
        "export",
        "Legacy exports changed: the cluster moved since the last export (a deploy or a scale "
        "outside this program). The adopted objects stay read-only, nothing is applied to them; "
        "what the program derives from them (new pods' template, replicas) changes in the rows above",
        f"{_named(change.spec)}: {', '.join(code(path) for path in change.paths[:5])}"
        + (f" and {len(change.paths) - 5} more" if len(change.paths) > 5 else ""),
    )


def _applied_risks(risks: _Risks, change: Change, after: DesiredState) -> None:
    """What an applied change does beyond its row: replicas dropping to zero, a verification gate."""
    spec = change.spec
    if spec.inputs.get("kind") == "Deployment" and change.before and change.after:
        old = change.before.inputs.get("spec", {}).get("replicas", 1)
        new = change.after.inputs.get("spec", {}).get("replicas", 1)
        if new == 0 and old != 0:
            risks.add("zero", "Replicas drop to zero", f"{_named(spec)}: {text(repr(old))} → 0")
    if spec.inputs.get("kind") == "Job" and change.action != "delete" and after.phase == "cutover":
        risks.add(
            "gate",
            "Gated by verification: each workload's legacy scale-down waits for its Job to pass; a "
            "failing Job stops `pulumi up` before any legacy pod stops (summary: "
            "`kubectl logs job/<name>`, ConfigMap `<workload>-verification`)",
            _named(spec),
        )


def _change_risks(risks: _Risks, change: Change, after: DesiredState, target: Migration) -> None:
    if change.action == "delete":
        _deletion_risks(risks, change.spec)
    elif change.action == "replace":
        _replacement_risks(risks, change)
    _shim_risk(risks, change, after, target)
    _container_risk(risks, change)
    _aci_risk(risks, change)
    if change.action == REEXPORT:
        _reexport_risk(risks, change)
    else:
        _applied_risks(risks, change, after)


# The order risks are listed in: what cannot be undone first, what only needs reading last.
RISK_ORDER = (
    "pool-replace",
    "pool",
    "legacy",
    "other-pods",
    "garbage",
    "unprotect",
    "capacity",
    "interruption",
    "controllers",
    "zero",
    "gate",
    "export",
    "containerd",
    "container",
    "aci",
    "replace",
    "delete",
)


def risks(
    changes: list[Change],
    before: DesiredState,
    after: DesiredState,
    target: Migration,
    stack: str,
    workloads: Callable[[], dict[str, Risk]] | None = None,
) -> list[Risk]:
    """Every risk of the step; `workloads` answers workload_risks already under way."""
    found = _Risks(stack)
    for change in changes:
        _change_risks(found, change, after, target)
    found.found.update(workloads() if workloads else workload_risks(before, after, target))
    return [found.found[key] for key in RISK_ORDER if key in found.found]


def _pods(count: int) -> str:
    return f"{count} Ready pod{'' if count == 1 else 's'}"


def _baseline_reach(target: Migration, routes: Mapping[str, tuple[str, str]]) -> dict[tuple[str, str], int]:
    """What each entry point reaches at baseline (the baseline's resources alone, let go once counted)."""
    return reach_at_rest(state_at(target, Phase.BASELINE, analysed=False), target.workloads, routes)


def _capacity_risks(
    found: dict[str, Risk], before: DesiredState, after: DesiredState, target: Migration
) -> None:
    """Every change of the Ready pods an entry point reaches: at rest before and after, and at the worst
    moment of the step as the engine may run it."""
    workloads = target.workloads
    routes = route_keys(workloads)
    baseline = _baseline_reach(target, routes) if workloads else {}
    for worst in worst_moments(before, after, workloads, routes):
        if worst.before == worst.after == worst.lowest:
            continue
        floor = baseline.get((worst.entry.workload, worst.entry.label), 0)
        lowest = (
            f"; at the worst moment {_pods(worst.lowest)} while "
            f"{', '.join(code(step) for step in worst.started)} run"
            if worst.lowest < min(worst.before, worst.after)
            else ""
        )
        below = (
            f" (**below its baseline of {_pods(floor)}**)" if min(worst.lowest, worst.after) < floor else ""
        )
        found.setdefault(
            "capacity",
            Risk("Capacity: the Ready pods each entry point reaches, before → after the step"),
        ).items.append(
            f"{code(worst.entry.workload)} {text(worst.entry.label)}: "
            f"{worst.before} → {worst.after}{lowest}{below}"
        )


def _dapr_item(legacy: ExportedWorkload, phase: Phase) -> str:
    """Dapr's operator hands a Service to one of the two Deployments sharing an app-id."""
    service = f"{legacy.dapr_app}-dapr"
    return (
        f"{code(legacy.config.key)}: Dapr's operator points Service {code(service)} (service invocation of "
        f"app {code(str(legacy.dapr_app))}) and its owner at whichever Deployment with that app-id it "
        "reconciled last (dapr pkg/operator/handlers/dapr_handler.go): while both sides run, "
        "invocations reach one side's pods only"
        + (
            "; this step changes the new Deployment's metadata so the operator hands the Service to "
            "it before the legacy Deployment is deleted (deletes run last); confirm with "
            + code(
                f"kubectl get service {service} -n {legacy.config.namespace} "
                "-o jsonpath={.metadata.ownerReferences[0].name}"
            )
            + f" (expect {code(naming.new_app_name(legacy.config.name))})"
            if phase is Phase.DECOMMISSION
            else ""
        )
    )


def _controller_items(legacy: ExportedWorkload, phase: Phase) -> list[str]:
    """What other controllers (an HPA, KEDA, Dapr's operator) do or lose because of the step."""
    key = code(legacy.config.key)
    items = []
    if phase is Phase.CUTOVER and legacy.autoscaler is not None and legacy.scaled_object is None:
        hpa = code(str(legacy.autoscaler["metadata"]["name"]))
        items.append(
            f"{key}: its HPA {hpa} writes the legacy replicas "
            "(through the scale subresource): cutover forces them to 0, which switches the HPA off "
            "(ScalingDisabled) until the way back stops sending them (the Deployment then starts at 1 "
            "and the HPA scales it to its minimum)"
        )
    if phase is Phase.CUTOVER and legacy.scaled_object is not None:
        scaled = code(str(legacy.scaled_object["metadata"]["name"]))
        items.append(
            f"{key}: KEDA pauses ScaledObject {scaled} at 0 replicas (it deletes its own HPA and scales "
            "the legacy Deployment to 0); the way back removes the pause and KEDA recreates the HPA"
        )
    if legacy.dapr_app and phase is not Phase.BASELINE:
        items.append(_dapr_item(legacy, phase))
    return items


def _legacy_risks(found: dict[str, Risk], legacy: ExportedWorkload, before: Phase, phase: Phase) -> None:
    key = code(legacy.config.key)
    if legacy.stop_then_start and (phase is Phase.CUTOVER or before is Phase.CUTOVER):
        why = "; ".join(legacy.single_copy) or "sideBySide: false"
        found.setdefault(
            "interruption",
            Risk(
                "Stop-then-start: these must never run two copies, so their entry points reach no "
                "pod from when one side's pods are gone (a gate Job waits for the last, terminating "
                "ones included) until the other side's are Ready"
            ),
        ).items.append(f"{key}: {text(why)}")
    for item in _controller_items(legacy, phase):
        found.setdefault("controllers", Risk("Other controllers")).items.append(item)
    if phase is Phase.DECOMMISSION and legacy.controlled:
        items = ", ".join(code(f"{o['kind']} {o['metadata'].get('name')}") for o in legacy.controlled)
        found.setdefault(
            "garbage",
            Risk(
                "Garbage-collected with the legacy Deployments they are controlled by (ownerReference): "
                "deleting the Deployment deletes them"
            ),
        ).items.append(f"{key}: {items}")


def workload_risks(before: DesiredState, after: DesiredState, target: Migration) -> dict[str, Risk]:
    """What a step does to each workload beyond its rows: every change of the Ready pods an entry point
    reaches (at rest before and after, and at the worst moment of the step as the engine may run it),
    what other controllers do or lose because of it, and what is deleted with the legacy side."""
    found: dict[str, Risk] = {}
    _capacity_risks(found, before, after, target)
    phase = Phase(after.phase)
    for legacy in target.workloads:
        _legacy_risks(found, legacy, Phase(before.phase), phase)
    if phase is Phase.DECOMMISSION and target.cluster is not None:
        for pod in target.cluster.other_pods(target.config):
            found.setdefault(
                "other-pods",
                Risk("Pods that are not Wasm workloads run on the WASI pools and are deleted with them"),
            ).items.append(
                f"{code(pod.key)} ({text(pod.owner_kind)}): pod {code(pod.name)} on {code(pod.node)}"
            )
    return found


def _risk_text(risk: Risk, limit: int | None) -> str:
    lines = [f"- {risk.title}"]
    items = risk.items if limit is None else risk.items[:limit]
    lines += [f"  - {item}" for item in items]
    if len(items) < len(risk.items):
        lines.append(f"  - … and {len(risk.items) - len(items)} more")
    if risk.code:
        shown = risk.code if limit is None else risk.code[:limit]
        block = fence("".join(f"{line}\n" for line in shown), "sh")
        lines += ["", *(f"  {line}" for line in block.splitlines())]
        if len(shown) < len(risk.code):
            lines.append(
                f"  … and {len(risk.code) - len(shown)} more `unprotect` lines: run "
                "`python -m migrate diff --max-chars 0` for all of them"
            )
    return "\n".join(lines)


def _workload_traffic(old: WorkloadTraffic | None, new: WorkloadTraffic | None) -> str:
    """`workload` (weight a% → b%): each entry point's share before → after, and why the target share
    differs from the weight; an entry point absent on one side shows as —."""
    before = {e.entry: e for e in old.entry_points} if old else {}
    after = {e.entry: e for e in new.entry_points} if new else {}
    grouped: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
    for entry in dict.fromkeys([*after, *before]):
        was = before[entry].share if entry in before else "—"
        target = after.get(entry)
        key = (was, target.share if target else "—", target.reasons if target else ())
        grouped.setdefault(key, []).append(entry)
    parts = []
    for (was, share, reasons), entries in grouped.items():
        why = f" ({text('; '.join(reasons))})" if reasons else ""
        parts.append(f"{' and '.join(text(entry) for entry in entries)} {was} → {share}{why}")
    name = (new or old).workload  # type: ignore[union-attr]
    weights = f"{old.requested_percent if old else 0}% → {new.requested_percent if new else 0}%"
    return f"- {code(name)} (weight {weights}): " + ("; ".join(parts) or "no entry point")


def traffic_section(before: DesiredState, after: DesiredState, limit: int | None = None) -> str:
    """The share of requests each workload's new pods really get, per entry point (Gateway route,
    cluster IP, load balancer), as the registered Services, routes and replicas make it; within `limit`
    characters, workloads whose share changes first, and the rest counted."""
    old = {t.workload: t for t in before.traffic}
    new = {t.workload: t for t in after.traffic}
    names = list(dict.fromkeys([*new, *old]))
    if not names:
        return "**Traffic to new pods:** no workloads."
    lines = [_workload_traffic(old.get(name), new.get(name)) for name in names]
    changed = [old.get(name) != new.get(name) for name in names]
    ordered = [line for line, moved in zip(lines, changed, strict=True) if moved]
    ordered += [line for line, moved in zip(lines, changed, strict=True) if not moved]
    shown: list[str] = []
    for line in ordered:
        if limit and sum(len(kept) + 1 for kept in shown) + len(line) > limit:
            break
        shown.append(line)
    if len(shown) < len(ordered):
        shown.append(
            f"- … and {len(ordered) - len(shown)} more workloads, left out to fit the comment: "
            "`python -m migrate diff --max-chars 0` shows every one"
        )
    return "**Traffic to new pods:** the share of requests each entry point sends them\n\n" + "\n".join(shown)


def _opaque(value: Any) -> tuple[Any, bool]:
    """`value` with every long string (a script, a large data entry) replaced by its digest and size;
    and whether one was. Without one, `value` itself (it is only written out): looking costs less than
    copying, and most resources hold none."""
    if not _to_copy(value):
        return value, False
    return _without_long_strings(value)


def _long(value: str) -> bool:
    return len(value) > OPAQUE_CHARS or value.count("\n") > OPAQUE_LINES


def _to_copy(value: Any) -> bool:
    """Whether `value` holds a long string, or a dict or list of a subclass (which the copy makes plain)."""
    pending = [value]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is dict:
            pending.extend(item.values())
        elif kind is list:
            pending.extend(item)
        elif kind is str:
            if _long(item):
                return True
        elif isinstance(item, (dict, list, str)):
            return True
    return False


def _without_long_strings(value: Any) -> tuple[Any, bool]:
    if isinstance(value, dict):
        pairs = [(key, _without_long_strings(item)) for key, item in value.items()]
        return {key: item for key, (item, _) in pairs}, any(found for _, (_, found) in pairs)
    if isinstance(value, list):
        items = [_without_long_strings(item) for item in value]
        return [item for item, _ in items], any(found for _, found in items)
    if isinstance(value, str) and _long(value):
        digest = hashlib.sha256(value.encode()).hexdigest()
        size = len(value.encode())
        return f"<opaque: sha256 {digest[:16]}, {size:,} bytes, {value.count(chr(10)):,} lines>", True
    return value, False


def resource_diff(change: Change, before_phase: str, after_phase: str, files: tuple[str, str]) -> str:
    """One collapsible unified YAML diff; `files` are the source and target stack files, for the `render`
    command that prints what is shown as a digest."""
    old, hidden_old = _opaque(change.before.inputs) if change.before else ({}, False)
    new, hidden_new = _opaque(change.after.inputs) if change.after else ({}, False)
    lines = difflib.unified_diff(
        dump(old).splitlines(keepends=True) if change.before else [],
        dump(new).splitlines(keepends=True) if change.after else [],
        f"{before_phase}/{change.name}",
        f"{after_phase}/{change.name}",
        n=3,
    )
    body = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    summary = _summary(change)
    opaque = ""
    if hidden_old or hidden_new:
        section = (
            "patches" if change.spec.is_patch else "kubernetes" if change.spec.is_kubernetes else "azure"
        )
        file = files[1] if change.after else files[0]
        command = f"python -m migrate render {shlex.quote(file)} --section {section}"
        opaque = (
            f"\n\nLarge data (scripts) is shown as its digest and size; {code(command)} prints it in full.\n"
        )
    return f"<details><summary>{summary}</summary>\n\n{fence(body, 'diff')}\n{opaque}\n</details>\n"


def _dumps_differ(change: Change) -> bool:
    """Whether resource_diff's two dumps surely differ (then its diff has lines): one side is empty, or
    the inputs differ as data. Plain data that differs dumps to other text (keys sorted, each value by
    its type), except a NaN (unequal to itself, dumped alike) and two long strings whose digests collide
    (one in 2**64): inputs holding a NaN, or anything marshal does not take, are not sure. Not `paths`:
    dotted keys can name one path twice, so data equal but for its order may list a changed path."""
    if change.before is None or change.after is None:
        return True
    before, after = change.before.inputs, change.after.inputs
    if before == after:
        return False
    try:
        return _nan_free(before) and _nan_free(after)
    except ValueError:
        return False


def _summary(change: Change) -> str:
    return f"{change.action} {html(change.spec.label)} (<code>{html(change.name)}</code>)"


class _Blocks:
    """Each change's resource_diff, built when first asked for: most of a large transition's never fit
    the comment, and building one (two YAML dumps and a diff) costs more than everything else about it."""

    def __init__(self, changes: list[Change], before_phase: str, after_phase: str, files: tuple[str, str]):
        self.changes, self.phases, self.files = changes, (before_phase, after_phase), files
        self.built: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        if index not in self.built:
            self.built[index] = resource_diff(self.changes[index], *self.phases, self.files)
        return self.built[index]

    def build_while(self, waiting: Callable[[], bool]) -> None:
        """Build blocks in order for as long as `waiting()`: while this process would otherwise only
        wait for another's answer, it builds what the comment will most likely need (a block the
        comment has no room for is built for nothing, but on a core that was idle)."""
        for index in range(len(self.changes)):
            if not waiting():
                return
            self[index]

    def at_least(self, index: int) -> int:
        """A length resource_diff's block never falls below: its wrapper, summary and empty fence, and,
        where the two dumps surely differ, the diff's two file lines, a hunk line and one changed line.
        Once a comment is nearly full, this is what spares building the blocks that cannot fit."""
        if index in self.built:
            return len(self.built[index])
        change = self.changes[index]
        least = len(f"<details><summary>{_summary(change)}</summary>\n\n```diff\n```\n\n</details>\n")
        if _dumps_differ(change):
            before, after = self.phases
            least += len(f"--- {before}/{change.name}\n+++ {after}/{change.name}\n") + len("@@ -1 +1 @@\n+\n")
        return least


def cross_cluster(before: Loaded, after: Loaded) -> str | None:
    """Why two stack files do not describe the same cluster, or None when they do."""
    old, new = before.migration.config.cluster, after.migration.config.cluster

    def where(loaded: Loaded, cluster: Cluster) -> str:
        name = escape(f"{cluster.subscription_id}/{cluster.resource_group}/{cluster.name}", 200)
        return f"{escape(str(loaded.path), 200)} is {name}"

    if old.subscription_id != new.subscription_id:
        what = "different subscriptions"
    elif (old.resource_group, old.name) != (new.resource_group, new.name):
        what = "different clusters"
    else:
        return None
    return f"{what}: {where(before, old)}, {where(after, new)}"


def counts_line(changes: list[Change], before: DesiredState, after: DesiredState) -> str:
    """What changes, in counts that add up: the target phase's resources are the new, the changed, the
    re-exported and the unchanged ones; the source phase's are the target's less the new plus the
    deleted."""
    counts = {a: sum(c.action == a for c in changes) for a in ("create", "update", "replace", "delete")}
    exported = sum(c.action == REEXPORT for c in changes)
    changed = counts["update"] + counts["replace"]
    unchanged = len(after.resources) - counts["create"] - changed - exported
    return (
        f"Phase **{text(before.phase)} → {text(after.phase)}**: "
        + ", ".join(f"{n} to {a}" for a, n in counts.items())
        + (f", {exported} adopted read-only and re-exported" if exported else "")
        + f". The target phase declares {len(after.resources)} resources: {counts['create']} new, "
        f"{changed} changed, "
        + (f"{exported} re-exported, " if exported else "")
        + f"{unchanged} unchanged; {counts['delete']} of the source phase's {len(before.resources)} "
        "are deleted."
    )


def _manifests_read(base_ref: tuple[str, str] | None) -> str:
    if base_ref is None:
        return "both sides from the working tree (`--base-ref` reads the source's at a revision)"
    return (
        f"each side's own: the source's at {code(base_ref[0])} ({code(base_ref[1][:12])}), the "
        "target's from the working tree"
    )


_RESERVE = 1_000  # characters kept for the note on what was left out


def _risks_text(found: list[Risk], budget: int | None) -> str:
    """Every risk with every item, or each list cut at _LIST_LIMIT when that takes over a quarter."""
    whole = "\n".join(_risk_text(r, None) for r in found)
    if budget and len(whole) > budget // 4:
        return "\n".join(_risk_text(r, _LIST_LIMIT) for r in found)
    return whole


def _table(changes: list[Change], budget: int | None, rest: int) -> str:
    """One row per resource, grouped when that takes over half the budget or leaves no room for `rest`."""
    table = summary_table(changes, min(budget // 2, budget - rest) if budget else None)
    if table is None:
        return (
            f"{grouped_table(changes)}\n\n_{len(changes)} changes, grouped to fit the comment; "
            "run `python -m migrate diff --max-chars 0` for one row per resource._"
        )
    return table


def _left_out_note(left_out: list[Change], changes: list[Change], budget: int, rows: str) -> str:
    by_section: dict[int, list[Change]] = {}
    for change in left_out:
        by_section.setdefault(change.section, []).append(change)
    parts = []
    for index, members in by_section.items():
        shown = ", ".join(code(c.name) for c in members[:3])
        more = f" and {len(members) - 3} more" if len(members) > 3 else ""
        parts.append(f"{SECTIONS[index]}: {len(members)} ({shown}{more})")
    return (
        f"\n_Left out to stay under {budget:,} characters: the diffs of {len(left_out)} of "
        f"{len(changes)} changed resources; {'; '.join(parts)}; {rows}. Run `python -m migrate diff` "
        "locally with `--max-chars 0` for all._\n"
    )


def _with_resource_diffs(
    out: str, changes: list[Change], blocks: _Blocks, budget: int | None, rows: str
) -> str:
    """`out` and each resource's diff under its section's heading, as many as the budget holds (a block
    whose least length already does not fit is never built)."""
    out += "\n#### Changes per resource\n"
    left_out: list[Change] = []
    section = None
    for index, change in enumerate(changes):
        heading = f"\n##### {SECTIONS[change.section]}\n\n" if change.section != section else ""
        if budget and len(out) + len(heading) + blocks.at_least(index) + _RESERVE > budget:
            left_out.append(change)
            continue
        block = blocks[index]
        if budget and len(out) + len(heading) + len(block) + _RESERVE > budget:
            left_out.append(change)
            continue
        out += heading + block
        section = change.section
    if left_out and budget:
        out += _left_out_note(left_out, changes, budget, rows)
    return out


def render_diff(
    source: Loaded,
    target: Loaded,
    *,
    files: tuple[str, str],
    base_ref: tuple[str, str] | None = None,
    notices: tuple[str, ...] = (),
    stack: str = STACK_PLACEHOLDER,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> str:
    """The PR comment on moving from `source` to `target` (loaded with `analysed=False`); `files` are
    their stack files, `max_chars` 0 means no limit. `base_ref` is the (ref, commit) the source's legacy
    manifests were read at, None for the working tree; `notices` (markdown, their input escaped through
    migrate/markdown.py) go on top, each a warning."""
    # The workloads' risks (their capacity at baseline and at every moment of the step: the costliest
    # part) are worked out meanwhile in a child where there is a second core (migrate/background.py).
    # They read the resources alone, so both sides' traffic is analysed here while the child works.
    beside = Background(lambda: workload_risks(source.state, target.state, target.migration))
    before, after = with_traffic_analysed(source).state, with_traffic_analysed(target).state
    changes = compute_changes(before, after)
    head = [f"> ⚠️ Warning: {notice}\n" for notice in notices]
    head += [
        f"### {code(files[0])} → {code(files[1])}",
        "",
        counts_line(changes, before, after),
        "",
        f"Legacy manifests: {_manifests_read(base_ref)}.",
        "",
    ]
    budget = max_chars or None
    blocks = _Blocks(changes, before.phase, after.phase, files)
    blocks.build_while(beside.waiting)
    found = risks(changes, before, after, target.migration, stack, beside.result)
    risk_text = _risks_text(found, budget)
    traffic = traffic_section(before, after, budget // 4 if budget else None)
    if not changes:
        head.append("No resource changes.")
    else:
        rest = len("\n".join(head)) + len(traffic) + len(risk_text) + _RESERVE
        # What a reviewer must see whole: the legacy side's capacity and selectors, and the traffic
        # split; summed only until it is past the budget (then every table is too long anyway).
        for index, change in enumerate(changes):
            if change.section < 2 and not (budget and rest > budget):
                rest += len(blocks[index])
        head.append(_table(changes, budget, rest))
    rows = (
        "every one has its row in the table above"
        if "| Pulumi name |" in head[-1]
        else "the table counts them"
    )
    head += ["", traffic, ""]
    head += ["#### Risks", "", risk_text if found else "None found.", ""]
    out = "\n".join(head)
    if not changes:
        return out
    return _with_resource_diffs(out, changes, blocks, budget, rows)


def _warnings(before: Loaded, after: Loaded, mismatch: str | None, stale: list[str]) -> list[tuple[str, str]]:
    """Each warning twice: plain text for stderr, and markdown (its input escaped) for the comment."""
    warnings = []
    if mismatch:
        warnings.append(
            (
                f"{mismatch}. This is not one cluster's transition",
                f"**not one cluster's transition:** {text(mismatch)}",
            )
        )
    refused, _ = transition_problems(before.raw, after.raw)
    if refused:
        warnings.append(
            (
                f"not one step, `check --from` refuses it: {'; '.join(refused)}",
                "**this is not one step**, and `python -m migrate check --from` refuses it: "
                + text("; ".join(refused)),
            )
        )
    for line in dict.fromkeys(stale):
        warnings.append(
            (
                f"{line} (`check` refuses it; shown as the file is)",
                f"**stale:** {text(line)}; `python -m migrate check` refuses it, shown as the file is",
            )
        )
    return warnings


@dataclass(frozen=True)
class DiffOutput:
    """What `diff` prints: warnings (plain text, for stderr) and the comment (markdown, for stdout)."""

    warnings: list[str]
    markdown: str


def diff_stack_files(
    source_file: Path,
    target_file: Path,
    root: Path,
    *,
    base_ref: str | None = None,
    allow_cross_cluster: bool = False,
    stack: str = STACK_PLACEHOLDER,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> DiffOutput:
    """`diff`: moving from `source_file` (read at git revision `base_ref` if given) to `target_file`.
    InputError (exit 2) for two clusters unless `allow_cross_cluster`."""
    revision = resolve(base_ref, root) if base_ref is not None else None
    # Both sides' traffic is analysed once the workloads' risks are under way (render_diff).
    if revision is None:
        before = load(source_file, root, analysed=False)
    else:
        before = load_at(revision, *read_raw_at(revision, source_file), analysed=False).loaded
    after = load(target_file, root, analysed=False)
    mismatch = cross_cluster(before, after)
    if mismatch and not allow_cross_cluster:
        raise InputError(
            [f"{mismatch}; refusing to diff (--allow-cross-cluster to compare anyway)"], EXIT_INPUT
        )
    found = stale(target_file, root) + ([] if base_ref else stale(source_file, root))
    warnings = _warnings(before, after, mismatch, found)
    markdown = render_diff(
        before,
        after,
        files=(str(before.path), str(target_file)),
        base_ref=(revision.ref, revision.commit) if revision else None,
        notices=tuple(notice for _, notice in warnings),
        stack=stack,
        max_chars=max_chars,
    )
    return DiffOutput([line for line, _ in warnings], markdown)
