"""What the planner does with the config `migrate init` generated, asked of the planner itself: the
config is loaded against the generated manifests exactly as `migrate check` loads a stack file
(components.loading.load_migration), at every step of the walk (each phase, and parallel at each
traffic weight), and every statement the readiness report makes about the plan is read off the desired
states the program would register (components.desired.build_desired_state), never restated. So the
report cannot promise what the plan does not do.

- the new side's autoscaler and its bounds (or its replicas) in cutover: the HorizontalPodAutoscaler
  (or Deployment) the WasmWorkload component registers there;
- which entry points (exported Services, load balancers, the Gateway route) reach the new pods, from
  which step: the traffic analysis of each state (components/analysis/traffic.py entry points);
- stop-then-start: the planner's own plan of the workload in cutover (components.desired.plan_of);
- every problem `migrate check` reports for the config in every step (migrate.check.check), which
  makes the report's "must decide" list together with init's own decisions.

A workload the loader refuses is left out of a second load, so the planner still answers for the
others; the refusal itself is one of the problems."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from components.analysis.preflight import Finding, preflight
from components.analysis.traffic import analysed_state
from components.core import naming
from components.core.config import ConfigError, Phase, Traffic, parse_config
from components.core.inputs import Project
from components.desired import KEDA_BOUNDS, WASM_WORKLOAD_TYPE, plan_of
from components.desired.spec import DesiredState
from components.export.migration import Migration
from components.export.schemas import KUBERNETES_VERSIONS
from components.loading import load_migration
from migrate.check import SchemaMemo, check
from migrate.state import Loaded, load_in_two

_WORKLOAD_INDEX = re.compile(r"\bworkloads\[(\d+)\]")


@dataclass(frozen=True)
class Step:
    """One step of the walk: a phase, and for parallel the traffic weight."""

    phase: Phase
    weight: int

    @property
    def label(self) -> str:
        return f"{self.phase.value} {self.weight}%" if self.phase is Phase.PARALLEL else self.phase.value


def walk(raw: dict[str, Any]) -> list[Step]:
    """Every step a person applies, in order: baseline, prepare, parallel at each weight of
    `Traffic.walk` (0 % first, 100 % last), cutover, decommission."""
    weights = Traffic.model_validate(raw.get("traffic") or {}).walk
    steps = []
    for phase in Phase:
        at_rest = (weights[0] if phase.position < 2 else weights[-1],)
        steps += [Step(phase, weight) for weight in (weights if phase is Phase.PARALLEL else at_rest)]
    return steps


def step_config(raw: dict[str, Any], step: Step) -> dict[str, Any]:
    """The stack file as a person walks it: `phase`, the weight in parallel, and in decommission the
    confirmation `check` asks for (a person writes it then; it is not a decision to make now)."""
    config = copy.deepcopy(raw)
    config["phase"] = step.phase.value
    config["traffic"] = {**(config.get("traffic") or {}), "weight": step.weight}
    if step.phase is Phase.DECOMMISSION:
        try:
            expected = parse_config({**config, "phase": Phase.BASELINE.value}).decommission_confirmation
        except ConfigError:
            return config
        config["decommission"] = {**(config.get("decommission") or {}), "confirm": expected}
    return config


@dataclass
class Problem:
    """One problem `check` reports, the workload it names (its key, or "" for the stack as a whole) and
    the steps it is reported in."""

    line: str
    workload: str
    steps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Reach:
    """An entry point of a workload and the first step its requests reach new pods in (None: never)."""

    entry: str
    first: str | None


@dataclass(frozen=True)
class WorkloadAnswer:
    """What the planner does with one workload. `planned` is false when the loader refused it in every
    step: then nothing else is stated."""

    key: str
    planned: bool
    autoscaler: tuple[str, int, int] | None = None  # the new side's autoscaler and bounds in cutover
    replicas: int | None = None  # the new Deployment's replicas in cutover, without an autoscaler
    reach: tuple[Reach, ...] = ()
    stop_then_start: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "planned": self.planned,
            "autoscaler": list(self.autoscaler) if self.autoscaler else None,
            "replicas": self.replicas,
            "reach": [{"entry": r.entry, "from": r.first} for r in self.reach],
            "stopThenStart": self.stop_then_start,
        }


@dataclass
class Preflight:
    """One preflight finding and the steps it holds in."""

    finding: Finding
    steps: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        f = self.finding
        return {
            "topic": f.topic,
            "outcome": f.outcome.value,
            "says": f.says,
            "breaks": f.breaks,
            "fix": f.fix,
            "steps": self.steps,
        }


@dataclass(frozen=True)
class Answers:
    steps: tuple[str, ...]
    versions: tuple[str, ...]
    workloads: dict[str, WorkloadAnswer]
    problems: tuple[Problem, ...]
    preflight: tuple[Preflight, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "steps": list(self.steps),
            "kubernetesVersions": list(self.versions),
            "workloads": {key: answer.as_dict() for key, answer in self.workloads.items()},
            "problems": [{"line": p.line, "workload": p.workload, "steps": p.steps} for p in self.problems],
            "preflight": [p.as_dict() for p in self.preflight],
        }


def _keys(raw: dict[str, Any]) -> list[str]:
    return [
        f"{w.get('namespace', 'default')}/{w.get('name')}"
        for w in raw.get("workloads") or []
        if isinstance(w, dict)
    ]


def _reindexed(line: str, kept: list[int]) -> str:
    """A problem line of a config without the refused workloads, its `workloads[i]` renumbered to the
    generated config's indices."""
    return _WORKLOAD_INDEX.sub(lambda m: f"workloads[{kept[int(m.group(1))]}]", line)


def _load(
    config: dict[str, Any], base_dir: Project
) -> tuple[Migration | None, dict[str, Any], list[int], list[str]]:
    """The migration of `config`, or of `config` without the workloads the loader refuses; its raw
    config, the generated indices it kept, and the loader's problems (generated indices)."""
    count = len(config.get("workloads") or [])
    try:
        return load_migration(config, base_dir, load_in_two), config, list(range(count)), []
    except ConfigError as error:
        problems = list(error.problems)
    refused = {int(m.group(1)) for line in problems if (m := _WORKLOAD_INDEX.match(line))}
    if not refused or any(not _WORKLOAD_INDEX.match(line) for line in problems):
        return None, config, [], problems  # the stack as a whole is refused: nothing to plan
    kept = [index for index in range(count) if index not in refused]
    reduced = {**config, "workloads": [config["workloads"][index] for index in kept]}
    try:
        return load_migration(reduced, base_dir, load_in_two), reduced, kept, problems
    except ConfigError as error:  # what only shows without the others (a clash), or the stack as a whole
        return None, reduced, kept, problems + [_reindexed(line, kept) for line in error.problems]


def _workload_of(line: str, keys: list[str], labels: dict[str, str]) -> str:
    """The workload a problem names: by its `workloads[i]` key, its `namespace/name` at the start, or an
    object the workload's components registered; "" for the stack as a whole."""
    match = _WORKLOAD_INDEX.search(line)
    if match and int(match.group(1)) < len(keys):
        return keys[int(match.group(1))]
    for key in keys:
        if line.startswith(f"{key}:"):
            return key
    for label, key in labels.items():
        if label in line:
            return key
    return ""


def _object_owners(state: DesiredState, keys: list[str]) -> dict[str, str]:
    """The label of every Kubernetes object a workload's components register -> the workload's key."""
    owners = {}
    prefixes = {f"{key}/": key for key in keys}
    for spec in state.resources:
        for prefix, key in prefixes.items():
            if spec.component.startswith(prefix) and spec.is_kubernetes:
                owners[f"{spec.label}:"] = key
    return owners


def _new_side(state: DesiredState, key: str) -> tuple[tuple[str, int, int] | None, int | None]:
    """The new side's autoscaler (HPA or KEDA ScaledObject) and its bounds, else its Deployment's
    replicas, as the WasmWorkload registers them."""
    namespace, name = key.split("/", 1)
    component = naming.logical_name(namespace, name, naming.WASM)
    plans = [p for p in state.components if p.type == WASM_WORKLOAD_TYPE and p.name == component]
    if not plans:
        return None, None
    registered = [
        s for s in state.resources if s.component == component and s.is_kubernetes and not s.is_patch
    ]
    for spec in registered:
        if spec.inputs.get("kind") == "HorizontalPodAutoscaler":
            hpa = spec.inputs["spec"]
            return ("HPA", int(hpa.get("minReplicas", 1)), int(hpa["maxReplicas"])), None
        if spec.inputs.get("kind") == "ScaledObject":
            scaled = spec.inputs["spec"]
            low, high = KEDA_BOUNDS
            bounds = int(scaled.get("minReplicaCount", low)), int(scaled.get("maxReplicaCount", high))
            return ("KEDA ScaledObject", *bounds), None
    deployment = next(s for s in registered if s.inputs.get("kind") == "Deployment")
    return None, int(deployment.inputs["spec"].get("replicas", 1))


def ask_planner(
    raw: dict[str, Any],
    base_dir: Project,
    stack_file: str,
    versions: tuple[str, ...] = KUBERNETES_VERSIONS,
) -> Answers:
    """Load `raw` (the generated config) against the manifests under `base_dir` at every step and ask
    the planner and `check` (with `versions`, as `migrate check` validates by default) about it."""
    keys = _keys(raw)
    steps = walk(raw)
    problems: dict[str, Problem] = {}
    states: States = {}
    path = Path(stack_file)
    loads: dict[Phase, tuple[Migration | None, dict[str, Any], list[int], list[str]]] = {}
    memo: SchemaMemo = {}
    preflights: dict[Finding, Preflight] = {}
    for step in steps:
        config = step_config(raw, step)
        if step.phase not in loads:
            loads[step.phase] = _load(config, base_dir)
        migration, loaded_raw, kept, lines = loads[step.phase]
        lines = list(lines)
        owners: dict[str, str] = {}
        if migration is not None:
            # The loader reads nothing of traffic.weight: the phase's load serves each of its weights.
            loaded_raw = {**loaded_raw, "traffic": config["traffic"]}
            migration = replace(migration, config=parse_config(loaded_raw))
            state = analysed_state(migration)
            states[step.label] = (migration, state, kept)
            owners = _object_owners(state, keys)
            loaded = Loaded(path, loaded_raw, migration, state)
            lines += [
                _reindexed(line.removeprefix(f"{path}: "), kept) for line in check(loaded, versions, memo)
            ]
            for finding in preflight(migration, state):
                preflights.setdefault(finding, Preflight(finding)).steps.append(step.label)
        for line in lines:
            problem = problems.setdefault(line, Problem(line, _workload_of(line, keys, owners)))
            problem.steps.append(step.label)
    answers = {key: _answer(key, steps, states) for key in keys}
    return Answers(
        tuple(s.label for s in steps), versions, answers, tuple(problems.values()), tuple(preflights.values())
    )


States = dict[str, tuple[Migration, DesiredState, list[int]]]


def _answer(key: str, steps: list[Step], states: States) -> WorkloadAnswer:
    cutover = next((s.label for s in steps if s.phase is Phase.CUTOVER), None)
    planned = [
        label
        for label, (migration, _, _) in states.items()
        if any(w.config.key == key for w in migration.workloads)
    ]
    if cutover not in planned:
        return WorkloadAnswer(key, planned=False)
    migration, state, _ = states[cutover]
    legacy = next(w for w in migration.workloads if w.config.key == key)
    autoscaler, replicas = _new_side(state, key)
    stop_then_start = plan_of(migration.config, legacy).stop_then_start
    first: dict[str, str | None] = {}
    for step in steps:
        if step.label not in planned:
            continue
        _, at, _ = states[step.label]
        traffic = next((t for t in at.traffic if t.workload == key), None)
        for entry in traffic.entry_points if traffic else ():
            if entry.high_percent > 0 and first.get(entry.entry) is None:
                first[entry.entry] = step.label
            else:
                first.setdefault(entry.entry, None)
    reach = tuple(Reach(entry, step) for entry, step in first.items())
    return replace(
        WorkloadAnswer(key, True),
        autoscaler=autoscaler,
        replicas=replicas,
        reach=reach,
        stop_then_start=stop_then_start,
    )


def must_decide(decisions: list[dict[str, str]], problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What a person must decide before `check` passes: init's own decisions (each naming its config
    key, what breaks and the fix), with the lines `check` reports for that key, then every other line
    `check` reports in some step. Nothing `check` says is left out, and nothing is said twice."""
    items: list[dict[str, Any]] = []
    covered: set[str] = set()
    for decision in decisions:
        key = decision["key"]
        lines = [p for p in problems if p["line"].startswith((f"{key}:", f"{key}."))]
        covered.update(p["line"] for p in lines)
        items.append({**decision, "check": [{"line": p["line"], "steps": p["steps"]} for p in lines]})
    for problem in problems:
        if problem["line"] not in covered:
            items.append(
                {
                    "key": "",
                    "workload": problem["workload"],
                    "text": problem["line"],
                    "check": [{"line": problem["line"], "steps": problem["steps"]}],
                }
            )
    return items
