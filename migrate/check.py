"""`check`: everything that can be proven offline before `pulumi up`. See docs/design/check.md."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from components.analysis.capacity import Worst, reach_at_rest, route_keys, worst_moments
from components.analysis.isolation import isolation_problems
from components.analysis.preflight import Finding, Outcome, preflight, refusals
from components.analysis.scheduling import scheduling_problems
from components.core.config import ConfigError, MigrationConfig, Phase, Traffic, parse_config
from components.core.inputs import ECHO_CHARS, echo, escape
from components.desired.phase_table import SHARE_TOLERANCE_PERCENT
from components.desired.spec import DesiredState
from components.export.migration import Migration
from components.export.schemas import KUBERNETES_VERSIONS, schema_problems_on
from migrate.background import Background
from migrate.phases import step_problems, verify
from migrate.revision import Revision, load_at, read_raw_at, resolve
from migrate.state import (
    InputError,
    Loaded,
    in_tree,
    load_raw,
    read_manifests,
    read_raw,
    state_at,
    with_traffic_analysed,
)

# Keys that may (must) change when the phase moves; anything else waits for its own change.
PHASE_KEYS = ("phase", "decommission")
_DEFAULT_WEIGHT = Traffic.model_fields["weight"].default


# Each manifest to validate, and whether it is a patch.
Manifests = Sequence[tuple[dict[str, Any], bool]]


def _validate_all(manifests: Manifests, versions: tuple[str, ...]) -> list[list[list[str]]]:
    """The problems of each manifest, per version. One process: the compiled fast path answers for a
    valid object in microseconds (components/export/schemas.py), so forking workers would cost more
    than it saves."""
    return [schema_problems_on(m, versions, partial=patch) for m, patch in manifests]


# Schema problems by version and manifest (its canonical JSON, and whether it is a patch): what one
# caller validating many phases of one config (init asking about every step) shares between them.
SchemaMemo = dict[tuple[str, str], list[str]]


def schema_check(state: DesiredState, versions: Iterable[str], memo: SchemaMemo | None = None) -> list[str]:
    """Every schema problem, ordered by object then version. With `memo`, an object already validated
    (byte for byte, in another phase) is not validated again."""
    versions = tuple(versions)
    manifests = [(spec.inputs, spec.is_patch) for spec in state.resources if spec.is_kubernetes]
    if memo is None:
        return [line for found in _validate_all(manifests, versions) for lines in found for line in lines]
    keys = [
        json.dumps(m, sort_keys=True, default=str) + ("|patch" if patch else "") for m, patch in manifests
    ]
    missing = {
        key: manifest for key, manifest in zip(keys, manifests, strict=True) if (versions[0], key) not in memo
    }
    for key, by_version in zip(missing, _validate_all(list(missing.values()), versions), strict=True):
        memo.update({(version, key): lines for version, lines in zip(versions, by_version, strict=True)})
    return [line for key in keys for version in versions for line in memo[(version, key)]]


def _phase(raw: dict[str, Any]) -> Phase | None:
    try:
        phase = raw.get("phase")
        return Phase(phase) if isinstance(phase, str) else None
    except ValueError:
        return None


def owned_objects(config: MigrationConfig) -> set[str]:
    """What a stack owns in its cluster, by identity, from its config alone: its pools, the shim's
    namespace, DaemonSet and RuntimeClass, the alert rules and every workload's objects."""
    from components.desired.alerts import rule_group_name
    from components.desired.shim import INSTALLER_NAME

    shim = config.shim
    pools = [pool.name for pool in config.legacy_pools] + [pool.name for pool in config.target_pools]
    owned = {f"AgentPool {name}" for name in pools}
    owned |= {
        f"Namespace {shim.namespace}",
        f"DaemonSet {shim.namespace}/{INSTALLER_NAME}",
        f"RuntimeClass {shim.runtime_class_name}",
    }
    if config.alerts.mode == "azureMonitor":
        owned.add(f"PrometheusRuleGroup {rule_group_name(config)}")
    elif config.alerts.mode == "prometheusOperator":
        owned.add(f"PrometheusRule {config.alerts.prometheus_operator.namespace}/wasm-migration")
    owned |= {f"Deployment {workload.key}" for workload in config.workloads}
    return owned


def sibling_stack_problems(path: Path, config: MigrationConfig) -> list[str]:
    """Another environment file beside this one migrating the same cluster: two stacks would own the
    cluster's shim, pools and alerts twice (AlreadyExists, or each deleting the other's on rollback).
    One stack migrates a cluster; its legacyPools list every WASI pool."""
    from components.loading import raw_config_from_stack_file
    from migrate.phases import ENVIRONMENT_NAME, is_generated, stack_of

    mine = stack_of(path)
    cluster = config.cluster
    problems = []
    for other in sorted(path.parent.glob("Pulumi.*.yaml")):
        if not ENVIRONMENT_NAME.match(other.name) or is_generated(other) or stack_of(other) == mine:
            continue
        try:
            theirs = parse_config(raw_config_from_stack_file(other))
        except ConfigError:
            continue  # its own check reports it
        same = (theirs.cluster.subscription_id, theirs.cluster.resource_group, theirs.cluster.name) == (
            cluster.subscription_id,
            cluster.resource_group,
            cluster.name,
        )
        if not same:
            continue
        shared = sorted(owned_objects(config) & owned_objects(theirs))
        problems.append(
            f"{path}: stack {escape(str(stack_of(other)))} ({escape(other.name)}) migrates the same cluster "
            f"{escape(cluster.name)}"
            + (f" and would own {', '.join(escape(item) for item in shared)} too" if shared else "")
            + ": one stack migrates a cluster (its legacyPools list every WASI pool); merge them"
        )
    return problems


def _expected_confirmation(raw: dict[str, Any]) -> str | None:
    cluster, pools = raw.get("cluster"), raw.get("legacyPools")
    if isinstance(cluster, dict) and isinstance(pools, list) and all(isinstance(p, dict) for p in pools):
        return f"{cluster.get('name')}/{','.join(str(pool.get('name')) for pool in pools)}"
    return None


# Target pool keys whose change AKS can only make with a new pool (azure-native force-new: vmSize; AKS
# immutable: zones, maxPods); see components/desired/pools.py POOL_FORCE_NEW and POOL_IMMUTABLE.
POOL_KEYS_NEEDING_A_NEW_POOL = ("vmSize", "zones", "maxPods")


def pool_replacement_problems(source: dict[str, Any], target: dict[str, Any]) -> list[str]:
    """A target pool that keeps its name but changes what only a new pool can change: refused, since
    replacing it in place takes every Wasm pod on it down; blue/green under a new name instead."""

    def pools(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
        items = raw.get("targetPools")
        if not isinstance(items, list):
            return {}
        return {p["name"]: p for p in items if isinstance(p, dict) and isinstance(p.get("name"), str)}

    problems = []
    old = pools(source)
    for index, (name, pool) in enumerate(pools(target).items()):
        if name not in old:
            continue
        for key in POOL_KEYS_NEEDING_A_NEW_POOL:
            before, after = old[name].get(key), pool.get(key)
            if before != after:
                problems.append(
                    f"targetPools[{index}].{key}: {before!r} → {after!r} needs a new pool; "
                    f"replacing {name!r} in place is an outage. Add a pool with another name (blue/green), "
                    "apply, then remove this one"
                )
    return problems


def _weight(raw: dict[str, Any]) -> Any:
    traffic = raw.get("traffic")
    return traffic.get("weight", _DEFAULT_WEIGHT) if isinstance(traffic, dict) else _DEFAULT_WEIGHT


def _without_weight(raw: dict[str, Any]) -> Any:
    traffic = raw.get("traffic")
    if not isinstance(traffic, dict):
        return traffic
    return {key: value for key, value in traffic.items() if key != "weight"} or None


def _changed_keys(source: dict[str, Any], target: dict[str, Any], weight_moves: bool) -> list[str]:
    """Keys other than the phase keys that differ; `traffic` only for more than its weight when the
    weight may move."""
    changed = []
    for key in sorted((source.keys() | target.keys()) - set(PHASE_KEYS)):
        if source.get(key) == target.get(key):
            continue
        if key == "traffic" and weight_moves and _without_weight(source) == _without_weight(target):
            continue
        changed.append(key)
    return changed


def _step(
    before: Phase, after: Phase, source: dict[str, Any], target: dict[str, Any]
) -> tuple[str, list[str]]:
    """A one-line description of the step, and its problem when it skips a phase or leaves decommission."""
    step = after.position - before.position
    if before is after is Phase.PARALLEL and _weight(source) != _weight(target):
        direction = "step" if _weight(target) > _weight(source) else "rollback"
        return f"traffic {direction} parallel {_weight(source)}% → {_weight(target)}%", []
    if step == 0:
        return f"no phase change ({after.value})", []
    what = f"{before.value} → {after.value}"
    if step == 1:
        return (what + f" at {_weight(target)}%" if after is Phase.PARALLEL else what), []
    if step > 1:
        skipped = [p.value for p in list(Phase)[before.position + 1 : after.position]]
        return what, [
            f"transition {what} skips {', '.join(skipped)}: apply one phase at a time "
            f"(next is {list(Phase)[before.position + 1].value})"
        ]
    if before is Phase.DECOMMISSION:
        return what, [
            f"transition {what} is impossible: decommission deleted the WASI pool and the legacy "
            "Deployments for good; there is nothing to roll back to"
        ]
    return f"rollback {what}", []


def _confirmation(target: dict[str, Any], what: str) -> tuple[str, list[str]]:
    """Entering decommission is irreversible: the description says for what it is confirmed, or the
    problem says what to confirm."""
    expected = _expected_confirmation(target)
    decommission = target.get("decommission")
    confirm = (decommission or {}).get("confirm") if isinstance(decommission, dict) else None
    if confirm != expected:
        return what, [
            f"transition {what} is irreversible and unconfirmed: set decommission.confirm to "
            f"{echo(expected, 200)} (got {echo(confirm)})"
        ]
    return what + f" (irreversible; confirmed for {escape(str(confirm))})", []


def _riders(source: dict[str, Any], target: dict[str, Any], weight_moves: bool, what: str) -> list[str]:
    """Keys that change together with a phase or traffic step."""
    return [
        f"transition {what}: `{escape(str(key), ECHO_CHARS)}` changes together with the phase; "
        f"change only {' and '.join(PHASE_KEYS)} (and traffic.weight into, within or out of "
        "parallel) in a phase step and ship other changes separately"
        for key in _changed_keys(source, target, weight_moves)
    ]


def transition_problems(source: dict[str, Any], target: dict[str, Any]) -> tuple[list[str], str]:
    """Problems of moving from `source` to `target` (raw configs), and a one-line description."""
    before, after = _phase(source), _phase(target)
    if before is None or after is None:
        bad = "source" if before is None else "target"
        return [f"transition: the {bad} phase is not one of {', '.join(p.value for p in Phase)}"], ""
    problems = pool_replacement_problems(source, target)
    what, found = _step(before, after, source, target)
    problems += found
    if after is Phase.DECOMMISSION and before is not Phase.DECOMMISSION:
        what, found = _confirmation(target, what)
        problems += found
    problems += _walk_problems(before, after, source, target, what)
    if phase_moves(source, target):
        problems += _riders(source, target, Phase.PARALLEL in (before, after), what)
    return problems, what


def _walk(raw: dict[str, Any]) -> tuple[int, ...]:
    try:
        return Traffic.model_validate(raw.get("traffic") or {}).walk
    except ValueError:
        return (0, 100)  # the config's own problems are reported by the config check


def _walk_problems(
    before: Phase, after: Phase, source: dict[str, Any], target: dict[str, Any], what: str
) -> list[str]:
    """Parallel is entered at its first step (0 %: new pods outside traffic) and left from its last
    (100 %: the new side at full capacity), and walked one step at a time: so no step changes the legacy
    and the new side at once (components/desired/phase_table.py), and none can be skipped."""
    walk = _walk(target)
    old, new = _weight(source), _weight(target)
    if before is after is Phase.PARALLEL and old != new:
        if old in walk and new in walk and abs(walk.index(old) - walk.index(new)) > 1:
            low, high = sorted((walk.index(old), walk.index(new)))
            skipped = ", ".join(f"{w}%" for w in walk[low + 1 : high])
            return [
                f"transition {what} skips traffic step(s) {skipped}: walk {list(walk)} one step at a time"
            ]
        return []
    edges = {
        (Phase.PREPARE, Phase.PARALLEL): (new, walk[0], "enters parallel"),
        (Phase.PARALLEL, Phase.PREPARE): (old, walk[0], "leaves parallel for prepare"),
        (Phase.PARALLEL, Phase.CUTOVER): (old, walk[-1], "leaves parallel for cutover"),
        (Phase.CUTOVER, Phase.PARALLEL): (new, walk[-1], "returns to parallel"),
    }
    found = edges.get((before, after))
    if found is None or found[0] == found[1]:
        return []
    weight, expected, verb = found
    why = (
        "new pods are checked outside traffic first"
        if expected == walk[0]
        else "the new side runs at full capacity before the legacy pods go"
    )
    return [
        f"transition {what} {verb} at {weight}%, not at {expected}%: {why}; step through parallel "
        f"{expected}% (walk {list(walk)})"
    ]


def phase_moves(source: dict[str, Any], target: dict[str, Any]) -> bool:
    """Whether moving from `source` to `target` is a phase step or a traffic step."""
    before, after = _phase(source), _phase(target)
    return before is not after or (before is Phase.PARALLEL and _weight(source) != _weight(target))


def manifest_problems(
    source: dict[str, Any], target: dict[str, Any], changed: list[str], transition: str
) -> list[str]:
    """A legacy manifest re-exported in a phase step: its effect (new pods' template, replicas) would
    be applied together with the step's, so neither could be reviewed, or rolled back, on its own."""
    if not phase_moves(source, target):
        return []
    return [
        f"transition {transition}: legacy manifest {escape(path)} changes together with the phase; "
        "ship the re-export in its own change (no phase step) and the step after it"
        for path in changed
    ]


def check(
    loaded: Loaded,
    versions: tuple[str, ...] = KUBERNETES_VERSIONS,
    memo: SchemaMemo | None = None,
) -> list[str]:
    """Every problem of one loaded stack file; `memo` shares schema validation between calls."""
    config = loaded.migration.config
    exported_classes = [
        o for w in loaded.migration.workloads for o in w.exported if o.get("kind") == "RuntimeClass"
    ]
    rest = [f"{loaded.path}: preflight: {finding.line()}" for finding in refusals(_preflight(loaded))]
    rest += [
        f"{loaded.path}: scheduling: {line}"
        for line in scheduling_problems(config, loaded.state, exported_classes)
    ]
    rest += [
        f"{loaded.path}: isolation: {line}" for line in isolation_problems(loaded.migration, loaded.state)
    ]
    rest += [f"{loaded.path}: capacity: {line}" for line in capacity_problems(loaded)]
    problems = []
    if config.cluster.kubernetes_version not in KUBERNETES_VERSIONS:
        problems.append(
            f"{loaded.path}: cluster.kubernetesVersion: no schemas for Kubernetes "
            f"{config.cluster.kubernetes_version}; supported: {', '.join(KUBERNETES_VERSIONS)}"
        )
    validated = schema_check(loaded.state, versions, memo)
    problems += [f"{loaded.path}: schema: {escape(line)}" for line in validated]
    return problems + rest


def _accepting(loaded: Loaded) -> dict[str, int]:
    """Workloads whose config accepts reduced capacity, by key -> their index in `workloads`."""
    return {
        workload.key: index
        for index, workload in enumerate(loaded.migration.config.workloads)
        if workload.accept_reduced_capacity
    }


def _plural(count: int) -> str:
    return f"{count} Ready pod{'' if count == 1 else 's'}"


_LAST_BASELINE: list[tuple[Loaded, dict[tuple[str, str], int]]] = []


def baseline_reach(loaded: Loaded) -> dict[tuple[str, str], int]:
    """What each entry point reaches at baseline; the last stack file's kept, as the problems at rest and
    those of the transition both read it (callers never change it)."""
    for seen, found in _LAST_BASELINE:
        if seen is loaded:
            return found
    migration = loaded.migration
    baseline = state_at(migration, Phase.BASELINE, analysed=False)  # the resources alone: what pods reach
    found = reach_at_rest(baseline, migration.workloads, route_keys(migration.workloads))
    _LAST_BASELINE[:] = [(loaded, found)]
    return found


def capacity_problems(loaded: Loaded) -> list[str]:
    """Every entry point of every workload reaches, at rest in this phase, at least the Ready pods it
    reaches at baseline (components/analysis/capacity.py), unless the workload accepts less."""
    migration = loaded.migration
    baseline = baseline_reach(loaded)
    now = reach_at_rest(loaded.state, migration.workloads, route_keys(migration.workloads))
    accepted = _accepting(loaded)
    problems = []
    for (workload, entry), count in now.items():
        before = baseline.get((workload, entry), 0)
        if count >= before or workload in accepted:
            continue
        problems.append(
            f"{workload}: {entry} reaches {_plural(count)} at rest in phase {loaded.state.phase}, fewer "
            f"than the {_plural(before)} it reaches at baseline; give the new side that capacity "
            f"(workloads[].replicas) or set acceptReducedCapacity: true on the workload to accept it"
        )
    return problems


def _moment(worst: Worst) -> str:
    running = ", ".join(worst.started) or "nothing"
    return f"while {running} {'runs' if len(worst.started) == 1 else 'run'}"


_LAST_TRANSITION: list[tuple[Loaded, Loaded, list[Worst]]] = []


def transition_capacity(source: Loaded, target: Loaded) -> list[Worst]:
    """The worst moment of each entry point; the last transition's kept, as problems and warnings both
    read it."""
    for seen_source, seen_target, found in _LAST_TRANSITION:
        if seen_source is source and seen_target is target:
            return found
    found = _worst_moments(source, target)
    _LAST_TRANSITION[:] = [(source, target, found)]
    return found


def _worst_moments(source: Loaded, target: Loaded) -> list[Worst]:
    workloads = target.migration.workloads
    return worst_moments(source.state, target.state, workloads, route_keys(workloads))


def _stopping(loaded: Loaded) -> set[str]:
    """Workloads that stop before they start again (never two copies at once)."""
    return {legacy.config.key for legacy in loaded.migration.workloads if legacy.stop_then_start}


def transition_capacity_problems(source: Loaded, target: Loaded, what: str) -> list[str]:
    """No moment of the transition, in any order the engine may run its steps, leaves an entry point
    with fewer Ready pods than at baseline, unless the workload accepts less, or must stop before it
    starts again (its interruption is a warning: `transition_capacity_warnings`)."""
    return _capacity_problems(transition_capacity(source, target), target, what)


def _capacity_problems(moments: list[Worst], target: Loaded, what: str) -> list[str]:
    baseline = baseline_reach(target)
    exempt = set(_accepting(target)) | _stopping(target)
    problems = []
    for worst in moments:
        floor = baseline.get((worst.entry.workload, worst.entry.label), 0)
        if worst.lowest >= floor or worst.entry.workload in exempt:
            continue
        problems.append(
            f"transition {what}: {worst.entry.workload}: {worst.entry.label} may reach only "
            f"{_plural(worst.lowest)} {_moment(worst)}, fewer than the {_plural(floor)} it reaches at "
            "baseline"
        )
    return problems


def transition_capacity_warnings(source: Loaded, target: Loaded) -> list[str]:
    """The interruption of a workload that stops before it starts again, where a transition has one."""
    return _capacity_warnings(transition_capacity(source, target), target)


def _capacity_warnings(moments: list[Worst], target: Loaded) -> list[str]:
    stopping = _stopping(target)
    reasons = {legacy.config.key: legacy.single_copy for legacy in target.migration.workloads}
    warnings = []
    for worst in moments:
        workload = worst.entry.workload
        if workload in stopping and worst.lowest < min(worst.before, worst.after):
            why = "; ".join(reasons[workload]) or "sideBySide: false"
            warnings.append(
                f"warning: {workload}: {worst.entry.label} reaches {_plural(worst.lowest)} from when one "
                "side's pods are gone until the other's are Ready: it must never run two copies "
                f"({escape(why)})"
            )
    return warnings


def alert_warnings(config: MigrationConfig) -> list[str]:
    """`alerts.mode: off` is allowed (it is the only way to have no alerts), but from parallel on new pods
    serve production traffic: say that nothing will page anyone when they fail."""
    if config.alerts.mode != "off" or not config.phase.at_least(Phase.PARALLEL):
        return []
    return [
        f"warning: alerts.mode: off in phase {config.phase.value}: new pods serve production traffic and "
        "nothing alerts when they, the shim installer or the verification fail; set alerts.mode to "
        "azureMonitor or prometheusOperator (docs/alerts.md)"
    ]


def pinning_warnings(migration: Migration) -> list[str]:
    """A Spin container (or container group) pulls its app when it starts: an app pinned by tag only
    may change between the parallel run the verification compared and cutover (the shim's pods are
    pulled by the kubelet, which keeps what it pulled on each node)."""
    warnings = []
    for index, legacy in enumerate(migration.workloads):
        reference = legacy.config.image or legacy.pod_spec["containers"][0].get("image", "")
        if legacy.config.target in ("container", "aci") and "@" not in reference:
            warnings.append(
                f"warning: workloads[{index}].image: Spin pulls {escape(reference)} by tag when each copy "
                "starts, so a moved tag changes what runs between the verified parallel run and cutover; "
                "pin it by digest (<image>@sha256:...)"
            )
    return warnings


def traffic_warnings(state: DesiredState) -> list[str]:
    """Entry points whose real share of requests to new pods misses what the phase asks for (in parallel
    by more than the tolerance, elsewhere at all), and routes an existing one takes. Warnings, not
    problems: the phase is safe to apply, it just shares traffic differently. Entry points with the
    same share for the same reasons share a line."""
    tolerance = SHARE_TOLERANCE_PERCENT if state.phase == Phase.PARALLEL.value else 0
    warnings = []
    for traffic in state.traffic:
        asked = traffic.requested_percent
        grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
        for entry in traffic.entry_points:
            off = max(abs(entry.low_percent - asked), abs(entry.high_percent - asked))
            if entry.conflict or off > tolerance:
                grouped.setdefault((entry.share, entry.reasons), []).append(entry.entry)
        for (share, reasons), entries in grouped.items():
            why = "; ".join(reasons)
            warnings.append(
                f"warning: {traffic.workload}: {share} of the requests through {' and '.join(entries)} "
                f"reach new pods, where the phase asks for {asked}%: {why}"
            )
    return warnings


@dataclass(frozen=True)
class _Origin:
    """The stack file a transition starts from, as `check --from` reads it."""

    raw: dict[str, Any]
    transition: str
    problems: list[str]
    before: Loaded | None = None  # what the cluster runs: the transition's capacity starts there
    manifests: dict[str, str] | None = None  # read at a git revision: its manifests, to find re-exports


@dataclass(frozen=True)
class _Source:
    """The stack file a transition starts from, as read (`label` names it in messages), not yet loaded."""

    label: Path
    raw: dict[str, Any]
    transition: str
    problems: list[str]
    revision: Revision | None


def _read_source(source_file: Path, base_ref: str | None, target: dict[str, Any], root: Path) -> _Source:
    """The source stack file, from the working tree or at `base_ref`; what cannot be read stops the
    check (InputError)."""
    revision = resolve(base_ref, root) if base_ref is not None else None
    label, raw = read_raw_at(revision, source_file) if revision else (source_file, read_raw(source_file))
    problems, transition = transition_problems(raw, target)
    return _Source(label, raw, transition, problems, revision)


def _origin(source: _Source, root: Path) -> _Origin:
    """The source side loaded; what cannot be loaded is a problem of the check (prefixed `(source)`)."""
    label, raw, revision = source.label, source.raw, source.revision
    transition, problems = source.transition, source.problems
    # The source's resources alone: the transition's capacity reads what pods they reach, never the
    # traffic analysis (each entry point's share), which only the target's warnings show.
    try:  # without a revision its manifests are the target's, unless `workloads` changed (a problem)
        if not revision:  # (load_raw parses the config first: its problems are parse_only's)
            return _Origin(raw, transition, problems, load_raw(label, raw, root, analysed=False))
        base = load_at(revision, label, raw, analysed=False)
        # The cluster runs what today's exports say (a re-export records it): the transition's
        # capacity starts there, the diff rows compare with the revision.
        try:
            before = load_raw(label, raw, root, analysed=False)
        except InputError:
            before = base.loaded
        return _Origin(raw, transition, problems, before, base.manifests)
    except InputError as error:
        return _Origin(raw, transition, problems + [f"(source) {line}" for line in error.problems])


def _reexported(origin: _Origin | None, stack_file: Path, loaded: Loaded, root: Path) -> list[str]:
    """The legacy manifests whose text changed since the revision the source was read at."""
    if origin is None or origin.manifests is None:
        return []
    config = loaded.migration.config
    after = read_manifests(config, str(stack_file), lambda relative: in_tree(relative, root))
    return [path for path, text in after.items() if origin.manifests.get(path, text) != text]


def _loaded_problems(
    loaded: Loaded,
    stack_file: Path,
    own: Callable[[], list[str]],
    origin: _Origin | None,
    moments: list[Worst] | None,
) -> list[str]:
    """The target's own problems (`own`: check's, under way in a child), its cluster's other stacks,
    and the transition's capacity."""
    transition = []
    if origin and moments is not None:
        transition = _capacity_problems(moments, loaded, origin.transition)
    return own() + sibling_stack_problems(stack_file, loaded.migration.config) + transition


_LAST_PREFLIGHT: list[tuple[Loaded, list[Finding]]] = []


def _preflight(loaded: Loaded) -> list[Finding]:
    """The preflight's findings; the last stack file's kept, as its refusals and its warnings both read
    them (callers never change them)."""
    for seen, found in _LAST_PREFLIGHT:
        if seen is loaded:
            return found
    found = preflight(loaded.migration, loaded.state)
    _LAST_PREFLIGHT[:] = [(loaded, found)]
    return found


def preflight_warnings(loaded: Loaded) -> list[str]:
    """What the cluster says that applies but loses something (docs/preflight.md)."""
    return [f"warning: preflight: {f.line()}" for f in _preflight(loaded) if f.outcome is Outcome.WARNS]


class _Child:
    """What a forked child works out about the target alone while this process loads the source side and
    works out the transition (migrate/background.py): every problem `check` finds in it (schemas,
    preflight, scheduling, isolation, capacity at rest) and the warnings that need no source side."""

    def __init__(self, loaded: Loaded, versions: tuple[str, ...]) -> None:
        self._work = Background(lambda: (check(loaded, versions), _own_warnings(loaded)))
        self._answer: tuple[list[str], list[str]] | None = None

    def _answers(self) -> tuple[list[str], list[str]]:
        if self._answer is None:
            self._answer = self._work.result()
        return self._answer

    def problems(self) -> list[str]:
        return self._answers()[0]

    def warnings(self) -> list[str]:
        return self._answers()[1]


def _traffic_lines(loaded: Loaded) -> list[str]:
    """traffic_warnings of the target, its state analysed (check_stack_file loads it without)."""
    return traffic_warnings(with_traffic_analysed(loaded).state)


def _own_warnings(loaded: Loaded) -> list[str]:
    """The target's warnings that need no source side, in the order `check` prints them."""
    warnings = _traffic_lines(loaded) + alert_warnings(loaded.migration.config)
    warnings += preflight_warnings(loaded)
    return warnings + pinning_warnings(loaded.migration)


def _warnings(loaded: Loaded, moments: list[Worst] | None, own: list[str]) -> list[str]:
    """The target's own warnings, then the transition's (`moments`: its worst moments, if any)."""
    return own + (_capacity_warnings(moments, loaded) if moments is not None else [])


@dataclass(frozen=True)
class Verdict:
    """What `check` prints: its problems (exit 1), else its warnings and a one-line summary."""

    problems: list[str]
    warnings: list[str] = field(default_factory=list)
    summary: str = ""


def _summary(stack_file: Path, loaded: Loaded, versions: tuple[str, ...], transition: str, since: str) -> str:
    """The OK line: what was proven, the transition, and `since` (the manifests re-exported)."""
    state = loaded.state
    counts = sum(spec.is_kubernetes for spec in state.resources)
    return (
        f"OK: {stack_file} phase {loaded.migration.config.phase.value}: {len(state.resources)} "
        f"resources, {counts} Kubernetes objects valid on Kubernetes {', '.join(versions)}, scheduling and "
        f"isolation from legacy selectors proven{f', transition {transition}' if transition else ''}" + since
    )


def check_stack_file(
    stack_file: Path,
    root: Path,
    *,
    stack: str | None = None,
    source_file: Path | None = None,
    base_ref: str | None = None,
    versions: tuple[str, ...] = KUBERNETES_VERSIONS,
) -> Verdict:
    """`check`: a phase file (of `stack`, up to date with its environment file) and, from `source_file`
    (read at git revision `base_ref` if given), the transition. InputError when it cannot act (exit 2)."""
    verify(stack_file, stack, root)
    raw = read_raw(stack_file)
    problems = step_problems(stack_file, raw)
    source = _read_source(source_file, base_ref, raw, root) if source_file else None
    try:
        loaded = load_raw(stack_file, raw, root, analysed=False)  # its traffic analysed in the child
    except InputError as error:
        origin = _origin(source, root) if source else None
        return Verdict(error.problems + problems + (origin.problems if origin else []))
    # Everything about the target alone (its problems, schemas included, and its own warnings) is worked
    # out from now on in a child where there is a second core (migrate/background.py): forked before the
    # source side is loaded, the child holds the target alone. Here the source side is then loaded, the
    # transition's worst moments worked out from it, and the source let go before the target is
    # measured at baseline.
    child = _Child(loaded, versions)
    origin = _origin(source, root) if source else None
    moments = _worst_moments(origin.before, loaded) if origin and origin.before else None
    if origin:
        problems += origin.problems
        origin = replace(origin, before=None)
    problems += _loaded_problems(loaded, stack_file, child.problems, origin, moments)
    changed = _reexported(origin, stack_file, loaded, root)
    if origin and changed:
        problems += manifest_problems(origin.raw, raw, changed, origin.transition)
    if problems:
        return Verdict(problems)
    since = f"; legacy manifests changed since {base_ref}: {escape(', '.join(changed))}" if changed else ""
    transition = origin.transition if origin else ""
    warnings = _warnings(loaded, moments, child.warnings())
    return Verdict([], warnings, _summary(stack_file, loaded, versions, transition, since))
