"""How many Ready pods each entry point of a workload reaches: at rest in every phase, and at the worst
moment of a transition as the engine may run it. See docs/design/capacity.md."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import combinations
from typing import Any

from components.analysis.traffic import GATEWAY_GROUP, pods_at_rest
from components.core import naming
from components.core.kubernetes import ready_endpoints, service_selects, slice_service
from components.desired.awaits import awaited_ready
from components.desired.spec import DesiredState, ResourceSpec
from components.export.workload import ExportedWorkload

Key = tuple[str, str]  # (namespace, name)


@dataclass(frozen=True)
class Side:
    """One Deployment's pods at rest in a phase: how many and with which labels."""

    labels: Mapping[str, str]
    count: int


@dataclass(frozen=True)
class Route:
    """A route's backends with a weight: (namespace, Service) -> weight."""

    weights: Mapping[Key, int]


@dataclass
class Picture:
    """What one phase leaves running, as far as reach goes."""

    sides: dict[Key, Side] = field(default_factory=dict)
    routes: dict[Key, Route] = field(default_factory=dict)


def _identity(manifest: Mapping[str, Any], namespace: str = "default") -> Key:
    metadata = manifest.get("metadata") or {}
    return metadata.get("namespace") or namespace, metadata.get("name") or ""


def _kind(spec: ResourceSpec) -> str:
    return str(spec.inputs.get("kind", "")) if spec.is_kubernetes else ""


def picture(resources: Sequence[ResourceSpec]) -> Picture:
    found = Picture()
    rest = pods_at_rest(resources)
    for spec in resources:
        if spec.is_patch or not spec.is_kubernetes:
            continue
        if _kind(spec) == "Deployment":
            key = _identity(spec.inputs)
            deployment = spec.inputs["spec"]
            labels = ((deployment["template"].get("metadata") or {}).get("labels")) or {}
            found.sides[key] = Side(dict(labels), int(rest.get(key, deployment.get("replicas", 1))))
        elif _kind(spec) == "EndpointSlice" and slice_service(spec.inputs):
            found.sides[_identity(spec.inputs)] = _slice_side(spec)
        elif _kind(spec) == "HTTPRoute":
            key = _identity(spec.inputs)
            weights: dict[Key, int] = {}
            for rule in (spec.inputs.get("spec") or {}).get("rules") or []:
                for backend in rule.get("backendRefs") or []:
                    if backend.get("kind", "Service") == "Service" and backend.get("group", "") in (
                        "",
                        "core",
                    ):
                        service = (backend.get("namespace") or key[0], backend["name"])
                        weights[service] = weights.get(service, 0) + int(backend.get("weight", 1))
            found.routes[key] = Route(weights)
    return found


# A slice's endpoints stand as a side whose only "label" names the Service it belongs to, a key no pod
# carries: a Service reaches a side its selector selects, or a slice labelled with its name.
SLICE_OF = "endpointslice.aks-wasm-migration/service"


def _slice_side(spec: ResourceSpec) -> Side:
    return Side({SLICE_OF: str(slice_service(spec.inputs))}, ready_endpoints(spec.inputs))


def _serves(name: str | None, selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """Whether a Service (by name and selector) sends requests to a side with these labels."""
    if SLICE_OF in labels:
        return name is not None and labels[SLICE_OF] == name
    return service_selects(selector, labels)


# ---------------------------------------------------------------------------------------------------
# Entry points


@dataclass(frozen=True)
class Entry:
    """A way in to a workload: a Service (by its selector) or the migration's Gateway route."""

    workload: str
    label: str
    namespace: str
    selector: Mapping[str, str] | None = None  # a Service's
    service: str | None = None  # a Service's name (the slices labelled with it add endpoints)
    route: Key | None = None  # the migration's HTTPRoute
    fallback: Key | None = None  # the Service a Gateway route reaches before the route exists


def entry_points(legacy: ExportedWorkload, route: Key | None) -> list[Entry]:
    """Each exported Service that selects the workload's legacy pods, and its Gateway route."""
    workload, namespace = legacy.config.key, legacy.config.namespace
    template = (legacy.deployment["spec"]["template"].get("metadata") or {}).get("labels") or {}
    entries = []
    gateway = legacy.config.gateway
    if gateway is not None and route is not None:
        where = f"{gateway.hostnames[0] if gateway.hostnames else '*'}{gateway.path_prefix}"
        entries.append(
            Entry(
                workload,
                f"Gateway {gateway.namespace}/{gateway.name} {where}",
                namespace,
                route=route,
                fallback=_identity(legacy.service, namespace),
            )
        )
    for obj in legacy.exported:
        selector = (obj.get("spec") or {}).get("selector") if obj.get("kind") == "Service" else None
        if isinstance(selector, Mapping) and service_selects(selector, template):
            key = _identity(obj, namespace)
            entries.append(Entry(workload, f"Service {key[0]}/{key[1]}", namespace, dict(selector), key[1]))
    return entries


def _service_reach(sides: Iterable[tuple[Key, Mapping[str, str], int]], entry: Entry) -> int:
    return sum(
        count
        for key, labels, count in sides
        if key[0] == entry.namespace and _serves(entry.service, entry.selector, labels)
    )


# ---------------------------------------------------------------------------------------------------
# A moment of a transition: each side's pods (a pair of label sets while a rollout relabels them)


SideView = tuple[Key, Mapping[str, str], Mapping[str, str], int]


class Background:
    """The pods of every side a workload's steps leave alone, as they are before the step, summed per
    Service selector once (a moment of one workload changes only its own sides)."""

    def __init__(
        self,
        sides: Mapping[str, Sequence[SideView]],
        excluded: frozenset[Key],
        indexed: dict[str, _Indexed] | None = None,
    ):
        self._sides = sides
        self._excluded = excluded
        self._counts: dict[ServiceKey, int] = {}
        # The sides' index per namespace: shared by the backgrounds of one set of sides.
        self._indexed = {} if indexed is None else indexed

    def reach(self, namespace: str, name: str | None, selector: Mapping[str, str] | None) -> int:
        key = _service_key(namespace, name, selector)
        if key not in self._counts:
            if namespace not in self._indexed:
                self._indexed[namespace] = _Indexed(self._sides.get(namespace, ()))
            candidates = self._indexed[namespace].candidates(name, selector)
            mine = (side for side in candidates if side[0] not in self._excluded)
            self._counts[key] = _selected(mine, name, selector)
        return self._counts[key]


ServiceKey = tuple[str, str | None, tuple[tuple[str, str], ...] | None]


def _service_key(namespace: str, name: str | None, selector: Mapping[str, str] | None) -> ServiceKey:
    return (namespace, name, tuple(sorted(selector.items())) if selector is not None else None)


def _selected(sides: Iterable[SideView], name: str | None, selector: Mapping[str, str] | None) -> int:
    return sum(
        count
        for _, before, after, count in sides
        if _serves(name, selector, before) and _serves(name, selector, after)
    )


class _Indexed:
    """The sides of one namespace by each label they carry before the moment: a side a Service serves
    carries its selector's first label, or is a slice labelled with its name (so only those are looked
    at, each once; _selected still asks _serves of both label sets)."""

    def __init__(self, sides: Iterable[SideView]):
        self.sides = list(sides)
        by_label: dict[tuple[str, Any], list[SideView]] | None = {}
        try:
            for side in self.sides:
                for item in side[1].items():
                    by_label.setdefault(item, []).append(side)  # type: ignore[union-attr]
        except TypeError:  # an unhashable label value: no index, every side is looked at
            by_label = None
        self.by_label = by_label

    def candidates(self, name: str | None, selector: Mapping[str, str] | None) -> Iterable[SideView]:
        if self.by_label is None:
            return self.sides
        found: dict[int, SideView] = {}
        try:
            if name is not None:
                found.update((id(side), side) for side in self.by_label.get((SLICE_OF, name), ()))
            if selector:
                first = next(iter(selector.items()))
                found.update((id(side), side) for side in self.by_label.get(first, ()))
        except TypeError:
            return self.sides
        return found.values()


def by_namespace(sides: Iterable[SideView]) -> dict[str, list[SideView]]:
    grouped: dict[str, list[SideView]] = {}
    for side in sides:
        grouped.setdefault(side[0][0], []).append(side)
    return grouped


@dataclass(frozen=True)
class Moment:
    """Each side's countable pods: (labels before, labels after, count); pods count toward a selector
    only when both label sets match it (a rollout relabels them one at a time, in any order). With a
    `background`, `sides` are only the sides that change and the background holds the rest."""

    sides: tuple[SideView, ...]
    routes: Mapping[Key, tuple[Route, ...]]  # every weighting that may be in force
    background: Background | None = None

    @cached_property
    def _by_namespace(self) -> dict[str, _Indexed]:
        return {namespace: _Indexed(sides) for namespace, sides in by_namespace(self.sides).items()}

    def reach(self, entry: Entry, services: Mapping[Key, Mapping[str, str] | None]) -> int:
        if entry.route is None:
            return self._service(entry.namespace, entry.service, entry.selector)
        weightings = self.routes.get(entry.route)
        if not weightings:
            assert entry.fallback is not None
            return self._service(entry.fallback[0], entry.fallback[1], services.get(entry.fallback))
        return min(self._route(route, services) for route in weightings)

    @cached_property
    def _reached(self) -> dict[ServiceKey, int]:
        return {}

    def _service(self, namespace: str, name: str | None, selector: Mapping[str, str] | None) -> int:
        key = _service_key(namespace, name, selector)
        if key not in self._reached:
            indexed = self._by_namespace.get(namespace)
            own = _selected(indexed.candidates(name, selector), name, selector) if indexed else 0
            background = self.background.reach(namespace, name, selector) if self.background else 0
            self._reached[key] = own + background
        return self._reached[key]

    def _route(self, route: Route, services: Mapping[Key, Mapping[str, str] | None]) -> int:
        total = sum(route.weights.values())
        loads = [
            Fraction(self._service(key[0], key[1], services.get(key)) * total, weight)
            for key, weight in route.weights.items()
            if weight > 0
        ]
        return math.floor(min(loads)) if loads else 0


def at_rest(view: Picture) -> Moment:
    return Moment(
        tuple((key, side.labels, side.labels, side.count) for key, side in view.sides.items()),
        {key: (route,) for key, route in view.routes.items()},
    )


# ---------------------------------------------------------------------------------------------------
# Steps of one transition


@dataclass(frozen=True)
class Step:
    """One resource the engine creates, updates or deletes, as far as reach goes."""

    name: str
    label: str
    side: Key | None = None  # the Deployment whose pods it changes
    relabels: bool = False  # the Deployment's template changes its pods' labels
    guarantees: int | None = None  # pods the step's await proves Ready when it completes
    route: Key | None = None
    deletes: bool = False


def _services(resources: Iterable[ResourceSpec], legacy: Iterable[ExportedWorkload]) -> dict[Key, Any]:
    found: dict[Key, Any] = {}
    for workload in legacy:
        for obj in workload.exported:
            if obj.get("kind") == "Service":
                found[_identity(obj, workload.config.namespace)] = (obj.get("spec") or {}).get("selector")
    for spec in resources:
        if _kind(spec) == "Service" and not spec.is_patch:
            found[_identity(spec.inputs)] = (spec.inputs.get("spec") or {}).get("selector")
    return found


def _step(spec: ResourceSpec, before: ResourceSpec | None, deletes: bool = False) -> Step | None:
    kind = _kind(spec)
    label = f"{'delete ' if deletes else ''}{spec.label}"
    if kind == "Deployment" and not spec.is_patch:
        if deletes:
            return Step(spec.name, label, _identity(spec.inputs), deletes=True)
        if spec.import_id:
            return None  # adopted read-only: ignore_changes ["*"], nothing is applied
        template = lambda s: ((s.inputs["spec"]["template"].get("metadata") or {}).get("labels")) or {}  # noqa: E731
        relabels = before is not None and template(before) != template(spec)
        ready = awaited_ready(spec.inputs)
        return Step(spec.name, label, _identity(spec.inputs), relabels, ready)
    if kind == "Deployment" and spec.is_patch and not deletes:
        return Step(spec.name, label, _identity(spec.inputs), guarantees=awaited_ready(spec.inputs))
    if kind == "HorizontalPodAutoscaler" and not spec.is_patch and not spec.import_id and not deletes:
        namespace, _ = _identity(spec.inputs)
        return Step(spec.name, label, (namespace, spec.inputs["spec"]["scaleTargetRef"]["name"]))
    if kind == "HTTPRoute":
        return Step(spec.name, label, route=_identity(spec.inputs), deletes=deletes)
    if kind == "EndpointSlice" and slice_service(spec.inputs):
        # Listed endpoints serve once the slice exists (they are the groups it waited for).
        ready = None if deletes else ready_endpoints(spec.inputs)
        return Step(spec.name, label, _identity(spec.inputs), guarantees=ready, deletes=deletes)
    return None


@dataclass(frozen=True)
class Worst:
    """The lowest reach of an entry point during a transition, and the moment it happens."""

    entry: Entry
    before: int
    after: int
    lowest: int
    started: tuple[str, ...] = ()  # steps running (not completed) at that moment
    completed: tuple[str, ...] = ()


def _closure(depends: Mapping[str, tuple[str, ...]], relevant: set[str]) -> dict[str, AbstractSet[str]]:
    """Which `relevant` resources each resource transitively waits for. Kept as that part alone (a phase
    of 2,000 workloads has some 20,000 resources: their whole closures took tens of megabytes), from the
    same walk as over whole closures, so a dependency cycle yields what it did."""
    done: dict[str, AbstractSet[str]] = {}

    def visit(name: str, trail: frozenset[str]) -> AbstractSet[str]:
        if name in done:
            return done[name]
        found: set[str] = set()
        for dependency in depends.get(name, ()):
            if dependency not in trail:
                found |= visit(dependency, trail | {name})
                if dependency in relevant:
                    found.add(dependency)
        done[name] = found or _NOTHING
        return done[name]

    for name in depends:
        visit(name, frozenset())
    return done


_NOTHING: frozenset[str] = frozenset()


def transition_steps(
    source: DesiredState, target: DesiredState
) -> tuple[list[Step], dict[str, AbstractSet[str]]]:
    """The steps of moving from `source` to `target` that change reach, and what each waits for
    (transitively, within those steps): deletions wait for every other step."""
    old = source.by_name()
    new = target.by_name()
    steps = []
    for spec in target.resources:
        before = old.get(spec.name)
        if before is not None and before.inputs == spec.inputs and before.type == spec.type:
            continue
        step = _step(spec, before)
        if step is not None:
            steps.append(step)
    deletions = [
        step for spec in source.resources if spec.name not in new if (step := _step(spec, None, True))
    ]
    relevant = {step.name for step in steps}
    waits = _closure({spec.name: spec.depends_on for spec in target.resources}, relevant)
    order: dict[str, AbstractSet[str]] = {
        step.name: relevant & waits.get(step.name, _NOTHING) for step in steps
    }
    everything = frozenset(relevant)  # one set for every deletion, not a copy each
    for step in deletions:
        order[step.name] = everything
    return steps + deletions, order


def _downward_closed(names: Sequence[str], order: Mapping[str, AbstractSet[str]]) -> Iterable[frozenset[str]]:
    """Every set of steps that may have completed together (each with everything it waits for)."""
    for size in range(len(names) + 1):
        for chosen in combinations(names, size):
            completed = frozenset(chosen)
            if all(order[name] <= completed for name in completed):
                yield completed


def _moment(
    before: Picture,
    after: Picture,
    steps: Sequence[Step],
    completed: frozenset[str],
    started: frozenset[str],
    keys: frozenset[Key],
    background: Background,
) -> Moment:
    """The moment of one workload's transition where `completed` steps are done and `started` ones
    run: its own sides and route (`keys`) as the steps leave them, every other side in `background`."""
    sides = []
    for key in {key for key in keys if key in before.sides or key in after.sides}:
        # A side that does not exist on one end has no pods there, labelled as on the other end.
        old = before.sides.get(key) or Side(after.sides[key].labels, 0)
        new = after.sides.get(key) or Side(old.labels, 0)
        touching = [step for step in steps if step.side == key]
        running = [step for step in touching if step.name in started]
        if not running:
            sides.append((key, old.labels, old.labels, old.count))
            continue
        if any(step.deletes for step in running):
            continue
        count = min(old.count, new.count)
        if all(step.name in completed for step in touching):
            proven = [step.guarantees for step in touching if step.guarantees is not None]
            count = max(count, min(new.count, max(proven))) if proven else count
        relabel = next((step for step in touching if step.relabels), None)
        if relabel is None or relabel.name in completed:
            labels_before = new.labels if relabel is not None else old.labels
            sides.append((key, labels_before, new.labels, count))
        else:
            sides.append((key, old.labels, new.labels, count))
    routes: dict[Key, tuple[Route, ...]] = {}
    for key in {key for key in keys if key in before.routes or key in after.routes}:
        step = next((s for s in steps if s.route == key), None)
        old_route, new_route = before.routes.get(key), after.routes.get(key)
        chosen: tuple[Route | None, ...]
        if step is None or step.name not in started:
            chosen = (old_route,)
        elif step.name in completed:
            chosen = (new_route,)
        else:
            chosen = (old_route, new_route)
        routes[key] = tuple(route for route in chosen if route is not None)
    return Moment(tuple(sides), routes, background)


def worst_moments(
    source: DesiredState,
    target: DesiredState,
    workloads: Sequence[ExportedWorkload],
    route_of: Mapping[str, Key],
) -> list[Worst]:
    """Per workload and entry point: its reach before, after, and at the worst moment in between."""
    before, after = picture(source.resources), picture(target.resources)
    steps, order = transition_steps(source, target)
    services = _services([*source.resources, *target.resources], workloads)
    start_view, end_view = at_rest(before), at_rest(after)
    unchanged = by_namespace(start_view.sides)
    indexed: dict[str, _Indexed] = {}
    by_key = _steps_by_key(steps)
    found = []
    for legacy in workloads:
        entries = entry_points(legacy, route_of.get(legacy.config.key))
        keys = frozenset(key for key in _keys(legacy, route_of) if key is not None)
        background = Background(unchanged, keys, indexed)
        mine = [steps[index] for index in sorted({i for key in keys for i in by_key.get(key, ())})]
        names = [step.name for step in mine]
        local = {name: order[name] & set(names) for name in names}
        moments = []
        for completed in _downward_closed(names, local):
            started = completed | {name for name in names if local[name] <= completed}
            moment = _moment(before, after, mine, completed, started, keys, background)
            moments.append((moment, completed, started))
        for entry in entries:
            start = start_view.reach(entry, services)
            end = end_view.reach(entry, services)
            lowest, completed, started = min(
                ((moment.reach(entry, services), done, running) for moment, done, running in moments),
                key=lambda item: item[0],
                default=(min(start, end), frozenset(), frozenset()),
            )
            found.append(
                Worst(
                    entry,
                    start,
                    end,
                    min(lowest, start, end),
                    tuple(sorted(started - completed)),
                    tuple(sorted(completed)),
                )
            )
    return found


def _steps_by_key(steps: Sequence[Step]) -> dict[Key, list[int]]:
    """Where each side and route is changed: the indexes of its steps, in their order (a workload's
    steps are those of its keys, so a transition of n workloads is not n passes over every step)."""
    by_key: dict[Key, list[int]] = {}
    for index, step in enumerate(steps):
        for key in {step.side, step.route}:
            if key is not None:
                by_key.setdefault(key, []).append(index)
    return by_key


def _keys(legacy: ExportedWorkload, route_of: Mapping[str, Key]) -> set[Key | None]:
    """The workload's Deployments (legacy and new) and route."""
    namespace = legacy.config.namespace
    new_service = naming.new_service_name(legacy.service["metadata"]["name"])
    keys: set[Key | None] = {
        _identity(legacy.deployment, namespace),
        (namespace, naming.new_app_name(legacy.config.name)),
        *(
            (namespace, naming.endpoint_slice_name(service))
            for service in [new_service, *(s["metadata"]["name"] for s in legacy.services)]
        ),
    }
    if legacy.config.key in route_of:
        keys.add(route_of[legacy.config.key])
    return keys


def reach_at_rest(
    state: DesiredState, workloads: Sequence[ExportedWorkload], route_of: Mapping[str, Key]
) -> dict[tuple[str, str], int]:
    """(workload, entry point) -> the Ready pods it reaches at rest in this phase."""
    moment = at_rest(picture(state.resources))
    services = _services(state.resources, workloads)
    return {
        (legacy.config.key, entry.label): moment.reach(entry, services)
        for legacy in workloads
        for entry in entry_points(legacy, route_of.get(legacy.config.key))
    }


def route_keys(workloads: Sequence[ExportedWorkload]) -> dict[str, Key]:
    """The migration's HTTPRoute of each workload with a `gateway:` (components.core.naming.route_name)."""
    return {
        legacy.config.key: (legacy.config.namespace, naming.route_name(legacy.config.name))
        for legacy in workloads
        if legacy.config.gateway is not None
    }


__all__ = [
    "GATEWAY_GROUP",
    "Entry",
    "Worst",
    "entry_points",
    "reach_at_rest",
    "route_keys",
    "transition_steps",
    "worst_moments",
]
