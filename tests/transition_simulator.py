"""How many Ready pods each entry point reaches while the engine moves a stack from one phase to the
next, modelled independently of components/analysis/capacity.py, for tests.

It takes what the program registered under mocks for both phases (inputs, import ids, dependencies as
the engine receives them) and the legacy exports (read with PyYAML), and plays the engine:

- a resource whose inputs changed (or that is new) is one step; it starts once every resource it
  depends on has completed (pulumi/pulumi step_generator: dependencies, transitively); resources the
  target no longer has are deleted after every other step (deployment_executor performPostSteps);
- what a step waits for comes from tests/engine.py `awaited_condition` (pulumi-kubernetes await.go,
  overrides.go): the built-in Deployment awaiter proves the Deployment's replicas Ready; a
  `pulumi.com/waitFor` proves the fewest Ready pods its JSONPath (tests/engine.py `jsonpath_matches`) lets
  through; `pulumi.com/skipAwait`, HPAs and routes prove nothing;
- while a step runs, pods it takes away are gone and pods it adds are not there; pods it relabels count
  toward a selector only if both their old and new labels match it; a route counts with either
  weighting;
- the worst moment is found by exploring every set of completed steps the dependencies allow;
- KEDA: a ScaledObject keeps its Deployment at its `autoscaling.keda.sh/paused-replicas` (set by a
  ScaledObjectPatch or on itself), else at its minReplicaCount (KEDA's default 0);
- a patch the target no longer has keeps its fields when it is `retainOnDelete` (pulumi/pulumi step.go
  DeleteStep: the provider is not called), so a retained replicas patch still sets the count at rest;
- how many pods of a side may exist at a moment (`present`, Ready or not, terminating ones included):
  a side whose count falls keeps its old pods until a stop gate proves them gone (a Job pulumi-kubernetes
  awaits until it completes, whose STOP_GATE_SETTINGS selector matches the side's pods); `copies` is
  the most pods of two sides that may exist at once;
- EndpointSlices (the aci target's container groups; kubernetes.io docs "EndpointSlices", "Services
  without selectors"): an entry point reaching a Service also reaches the ready endpoints
  (tests/traffic_simulator.py `ready_endpoints`) of every slice labelled with its name, each one Ready
  backend. A created slice serves once its creation completes (it depends on the container groups it
  lists, so they exist then) and nothing before; a deleted one stops when its deletion starts (after
  every other step, as every deletion); an unchanged one serves throughout; while an update runs a
  slice counts toward a Service only what both its old and its new inputs give it."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.engine import awaited_condition, jsonpath_matches, jsonpath_parse
from tests.traffic_simulator import (
    DEPLOYMENT,
    ENDPOINT_SLICE,
    HPA,
    ROUTE,
    SCALED_OBJECT,
    SERVICE,
    export,
    ready_endpoints,
    slice_service,
)

PATCH = DEPLOYMENT + "Patch"
JOB = "kubernetes:batch/v1:Job"
PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"
STOP_GATE_SETTINGS = "STOP_GATE_SETTINGS"


def _key(obj: Mapping[str, Any], namespace: str = "") -> tuple[str, str]:
    return obj["metadata"].get("namespace", namespace), obj["metadata"]["name"]


def _selects(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in (selector or {}).items())


@dataclass(frozen=True)
class Pods:
    labels: Mapping[str, str]
    count: int


def _annotations(registration: Any) -> Mapping[str, str]:
    return (registration.inputs.get("metadata") or {}).get("annotations") or {}


def scaled_object_targets(registrations: Iterable[Any]) -> dict[tuple[str, str], tuple[str, str]]:
    """(namespace, ScaledObject) -> (namespace, the Deployment it scales)."""
    return {
        _key(r.inputs): (_key(r.inputs)[0], r.inputs["spec"]["scaleTargetRef"]["name"])
        for r in registrations
        if r.type == SCALED_OBJECT
    }


def pods_at_rest(registrations: Iterable[Any]) -> dict[tuple[str, str], Pods]:
    """Each registered Deployment's pods at rest: a patch's replicas, else its HPA's minimum (or its
    ScaledObject's pause, else minimum), else its own replicas."""
    registrations = list(registrations)
    patched = {
        _key(r.inputs): int(r.inputs["spec"]["replicas"])
        for r in registrations
        if r.type == PATCH and "replicas" in (r.inputs.get("spec") or {})
    }
    scaled = {
        (_key(r.inputs)[0], r.inputs["spec"]["scaleTargetRef"]["name"]): int(
            r.inputs["spec"].get("minReplicas", 1)
        )
        for r in registrations
        if r.type == HPA
    }
    paused = {
        _key(r.inputs): int(_annotations(r)[PAUSED_REPLICAS])
        for r in registrations
        if r.type in (SCALED_OBJECT, SCALED_OBJECT + "Patch") and PAUSED_REPLICAS in _annotations(r)
    }
    for r in registrations:
        if r.type == SCALED_OBJECT:
            target = (_key(r.inputs)[0], r.inputs["spec"]["scaleTargetRef"]["name"])
            scaled[target] = paused.get(_key(r.inputs), int(r.inputs["spec"].get("minReplicaCount", 0)))
    found = {}
    for r in registrations:
        if r.type != DEPLOYMENT:
            continue
        key = _key(r.inputs)
        count = patched.get(key, scaled.get(key, r.inputs["spec"].get("replicas", 1)))
        found[key] = Pods(r.inputs["spec"]["template"]["metadata"]["labels"], int(count))
    return found


@dataclass(frozen=True)
class Slice:
    """An EndpointSlice as kube-proxy reads it: the Service it adds to and its ready endpoints."""

    service: tuple[str, str]
    ready: int


def endpoint_slices(registrations: Iterable[Any]) -> dict[str, Slice]:
    """Each registered EndpointSlice that names a Service, by registration name."""
    return {
        r.name: Slice(service, len(ready_endpoints(r.inputs)))
        for r in registrations
        if r.type == ENDPOINT_SLICE and (service := slice_service(r.inputs)) is not None
    }


def _routes(registrations: Iterable[Any]) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    routes = {}
    for r in registrations:
        if r.type == ROUTE:
            namespace = r.inputs["metadata"]["namespace"]
            weights: dict[tuple[str, str], int] = {}
            for rule in r.inputs["spec"]["rules"]:
                for backend in rule["backendRefs"]:
                    service = (namespace, backend["name"])
                    weights[service] = weights.get(service, 0) + int(backend.get("weight", 1))
            routes[_key(r.inputs)] = weights
    return routes


def _guarantee(registration: Any) -> int | None:
    """The Ready pods the provider's await proves once the step completes."""
    kind = "Deployment"
    awaited = awaited_condition(registration.inputs, kind, "update")
    if awaited.by == "awaiter":
        replicas = (registration.inputs.get("spec") or {}).get("replicas")
        return int(replicas) if replicas is not None else 1  # an HPA's Deployment: its first pod
    if awaited.by != "waitFor":
        return None
    for ready in range(0, 10_000):
        status = {"observedGeneration": 2}
        if ready:
            status.update(replicas=ready, updatedReplicas=ready, readyReplicas=ready, availableReplicas=ready)
        live = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"generation": 2},
            "status": status,
        }
        if all(
            jsonpath_matches(jsonpath_parse(condition), live).matched
            for condition in awaited.wait_for
            if condition.startswith("jsonpath=")
        ):
            return ready
    raise AssertionError(f"{registration.name}: no pod count satisfies its waitFor")


@dataclass
class Step:
    name: str
    deployment: tuple[str, str] | None = None  # whose pods it changes
    relabels: bool = False
    proves: int | None = None
    route: tuple[str, str] | None = None
    deletes: bool = False
    gone: tuple[str, str] | None = None  # a stop gate: (namespace, label selector) of pods it proves gone
    endpoints: str | None = None  # the EndpointSlice (registration name) it creates, changes or deletes


def _stop_gate(registration: Any) -> tuple[str, str] | None:
    """The pods a Job proves gone once the provider's await sees it complete: its STOP_GATE_SETTINGS."""
    if awaited_condition(registration.inputs, "batch/v1/Job", "create").by != "awaiter":
        return None
    for container in registration.inputs["spec"]["template"]["spec"].get("containers") or []:
        for env in container.get("env") or []:
            if env.get("name") == STOP_GATE_SETTINGS:
                settings = json.loads(env["value"])
                return settings["namespace"], settings["selector"]
    return None


def _requirement_holds(requirement: str, labels: Mapping[str, str]) -> bool:
    """One requirement of a string selector."""
    if found := re.fullmatch(r"(\S+)\s+(in|notin)\s*\((.*)\)", requirement):
        key, operator, values = found[1], found[2], {v.strip() for v in found[3].split(",")}
        return (operator == "in") == (key in labels and labels[key] in values)
    if requirement.startswith("!"):
        return requirement[1:] not in labels
    if "!=" in requirement:
        key, value = requirement.split("!=", 1)
        return labels.get(key) != value
    if "=" in requirement:
        key, value = requirement.split("==", 1) if "==" in requirement else requirement.split("=", 1)
        return labels.get(key) == value
    return requirement in labels


def selector_string_matches(selector: str, labels: Mapping[str, str]) -> bool:
    """A label selector in its string form (`k=v,!k2,k3,k4 in (a,b)`), as kubectl and the API's
    labelSelector parameter take it (k8s.io/apimachinery pkg/labels selector.go Parse): equality,
    inequality, existence, non-existence and the set-based `in` / `notin`; all must hold."""
    requirements = (part.strip() for part in re.split(r",(?![^()]*\))", selector))
    return all(_requirement_holds(r, labels) for r in requirements if r)


def _step(r: Any, old: Any, scaled: Mapping[tuple[str, str], tuple[str, str]]) -> Step | None:
    """What registering `r` (changed from `old`, or new) does to the pods and routes, if anything."""
    if r.type == DEPLOYMENT and not r.import_id:
        relabels = old is not None and (
            old.inputs["spec"]["template"]["metadata"]["labels"]
            != r.inputs["spec"]["template"]["metadata"]["labels"]
        )
        return Step(r.name, _key(r.inputs), relabels, _guarantee(r))
    if r.type == PATCH:
        return Step(r.name, _key(r.inputs), proves=_guarantee(r))
    if r.type == HPA and not r.import_id:
        return Step(r.name, (_key(r.inputs)[0], r.inputs["spec"]["scaleTargetRef"]["name"]))
    if r.type == ROUTE:
        return Step(r.name, route=_key(r.inputs))
    if r.type in (SCALED_OBJECT, SCALED_OBJECT + "Patch") and not r.import_id:
        return Step(r.name, scaled[_key(r.inputs)]) if _key(r.inputs) in scaled else None
    if r.type == JOB and (gone := _stop_gate(r)) is not None:
        return Step(r.name, gone=gone)
    if r.type == ENDPOINT_SLICE:
        return Step(r.name, endpoints=r.name)
    return None


def _deletion(r: Any) -> Step | None:
    if r.type == DEPLOYMENT:
        return Step(r.name, _key(r.inputs), deletes=True)
    if r.type == ROUTE:
        return Step(r.name, route=_key(r.inputs), deletes=True)
    if r.type == ENDPOINT_SLICE:
        return Step(r.name, endpoints=r.name, deletes=True)
    return None


def _steps(source: list[Any], target: list[Any]) -> tuple[list[Step], dict[str, set[str]]]:
    before = {r.name: r for r in source}
    after = {r.name: r for r in target}
    scaled = scaled_object_targets([*source, *target])
    changed = [
        _step(r, before.get(r.name), scaled)
        for r in target
        if r.name not in before or before[r.name].inputs != r.inputs
    ]
    deleted = [_deletion(r) for r in source if r.name not in after]
    steps = [step for step in [*changed, *deleted] if step is not None]
    # Dependencies as the engine got them (URNs ending in `type::name`), followed transitively.
    direct = {r.name: {urn.rsplit("::", 1)[-1] for urn in r.dependencies} for r in target}
    waits: dict[str, set[str]] = {}

    def closure(name: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if name not in waits:
            found: set[str] = set()
            for dependency in direct.get(name, ()):
                if dependency not in seen:
                    found |= {dependency} | closure(dependency, seen | {name})
            waits[name] = found
        return waits[name]

    names = {s.name for s in steps if not s.deletes}
    order = {s.name: (names if s.deletes else closure(s.name) & names) for s in steps}
    return steps, order


def _completions(names: list[str], order: Mapping[str, set[str]]) -> list[frozenset[str]]:
    """Every set of steps that may have completed together, found by completing one step at a time."""
    seen = {frozenset()}
    frontier = [frozenset()]
    while frontier:
        done = frontier.pop()
        for name in names:
            if name not in done and order[name] <= done:
                more = done | {name}
                if more not in seen:
                    seen.add(more)
                    frontier.append(more)
    return list(seen)


@dataclass(frozen=True)
class Entry:
    label: str
    namespace: str
    selector: Mapping[str, str] | None = None
    route: tuple[str, str] | None = None
    fallback: tuple[str, str] | None = None
    service: tuple[str, str] | None = None  # the Service a Service entry is (its slices count too)


def entries(workload: Mapping[str, Any], root: Path) -> list[Entry]:
    namespace = workload.get("namespace", "default")
    objects = export(root / workload["manifest"])
    deployment = next(o for o in objects if o["kind"] == "Deployment")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    found = []
    services = [o for o in objects if o["kind"] == "Service" and _selects(o["spec"].get("selector"), labels)]
    if workload.get("gateway"):
        gateway = workload["gateway"]
        hosts = gateway.get("hostnames") or []
        where = f"{hosts[0] if hosts else '*'}{gateway.get('pathPrefix', '/')}"
        legacy_service = _key(services[0], namespace)  # the one the route's legacy backend names
        found.append(
            Entry(
                f"Gateway {gateway['namespace']}/{gateway['name']} {where}",
                namespace,
                route=(namespace, f"{workload['name']}-migration"),
                fallback=legacy_service,
            )
        )
    for service in services:
        key = _key(service, namespace)
        found.append(
            Entry(f"Service {key[0]}/{key[1]}", namespace, selector=service["spec"]["selector"], service=key)
        )
    return found


class Transition:
    def __init__(self, source: list[Any], target: list[Any], raw: dict[str, Any], root: Path):
        kept = {(r.type, r.name) for r in target}
        retained = [
            r
            for r in source
            if r.type.endswith("Patch") and (r.type, r.name) not in kept and r.retain_on_delete
        ]
        self.before, self.after = pods_at_rest(source), pods_at_rest([*target, *retained])
        self.routes_before, self.routes_after = _routes(source), _routes(target)
        self.steps, self.order = _steps(source, target)
        self.slices_before, self.slices_after = endpoint_slices(source), endpoint_slices(target)
        self.slice_steps = {s.endpoints: s for s in self.steps if s.endpoints is not None}
        self.services: dict[tuple[str, str], Mapping[str, str] | None] = {}
        for r in [*source, *target]:
            if r.type == SERVICE:
                self.services[_key(r.inputs)] = r.inputs["spec"].get("selector")
        self.raw, self.root = raw, root

    def _side(self, key: tuple[str, str], done: frozenset[str], running: frozenset[str]):
        old = self.before.get(key) or Pods(self.after[key].labels, 0)
        new = self.after.get(key) or Pods(old.labels, 0)
        mine = [s for s in self.steps if s.deployment == key]
        if not any(s.name in running | done for s in mine):
            return old.labels, old.labels, old.count
        if any(s.deletes for s in mine if s.name in running | done):
            return old.labels, old.labels, 0
        count = min(old.count, new.count)
        if all(s.name in done for s in mine):
            proofs = [s.proves for s in mine if s.proves is not None]
            if proofs:
                count = max(count, min(new.count, max(proofs)))
        relabel = [s for s in mine if s.relabels]
        if relabel and relabel[0].name not in done:
            return old.labels, new.labels, count
        labels = new.labels if relabel else old.labels
        return labels, labels, count

    def _service(self, namespace: str, selector, sides) -> int:
        return sum(
            count
            for key, (before, after, count) in sides.items()
            if key[0] == namespace and _selects(selector, before) and _selects(selector, after)
        )

    def sliced(self, done: frozenset[str], running: frozenset[str]) -> dict[tuple[str, str], int]:
        """(namespace, Service) -> the ready EndpointSlice endpoints it surely has at this moment: a
        slice's old endpoints until a step on it starts, its new ones once that step completes (none
        once a deletion starts); while a create or update runs, what both give the Service."""
        served: dict[tuple[str, str], int] = {}
        for name in self.slices_before.keys() | self.slices_after.keys():
            step = self.slice_steps.get(name)
            old, new = self.slices_before.get(name), self.slices_after.get(name)
            if step is None or step.name not in running | done:
                states = [old]
            elif step.deletes:
                states = []
            elif step.name in done:
                states = [new]
            else:
                states = [old, new]
            for service in {state.service for state in states if state is not None}:
                served[service] = served.get(service, 0) + min(
                    state.ready if state is not None and state.service == service else 0 for state in states
                )
        return served

    def _reached(self, key: tuple[str, str], selector, sides, served: Mapping[tuple[str, str], int]) -> int:
        """The Ready pods a Service selects and the ready endpoints its slices add."""
        return self._service(key[0], selector, sides) + served.get(key, 0)

    def reach(self, entry: Entry, done: frozenset[str], running: frozenset[str]) -> int:
        keys = self.before.keys() | self.after.keys()
        sides = {key: self._side(key, done, running) for key in keys}
        served = self.sliced(done, running)
        if entry.route is None:
            return self._service(entry.namespace, entry.selector, sides) + served.get(entry.service, 0)
        step = next((s for s in self.steps if s.route == entry.route), None)
        old, new = self.routes_before.get(entry.route), self.routes_after.get(entry.route)
        if step is None or step.name not in running | done:
            weightings = [old]
        elif step.name in done:
            weightings = [new]
        else:
            weightings = [old, new]
        weightings = [w for w in weightings if w is not None]
        if not weightings:
            assert entry.fallback is not None
            return self._reached(entry.fallback, self.services.get(entry.fallback), sides, served)
        results = []
        for weights in weightings:
            total = sum(weights.values())
            loads = [
                Fraction(self._reached(key, self.services.get(key), sides, served) * total, weight)
                for key, weight in weights.items()
                if weight
            ]
            results.append(math.floor(min(loads)) if loads else 0)
        return min(results)

    def present(self, key: tuple[str, str], done: frozenset[str], running: frozenset[str]) -> int:
        """The most pods of a Deployment that may exist at this moment, Ready or not, terminating ones
        included: its old count until a step on it starts, the larger count while one runs, and once all
        are done the new count, or the old one while nothing proves the pods that went away gone."""
        old = self.before[key].count if key in self.before else 0
        new = self.after[key].count if key in self.after else 0
        mine = [s for s in self.steps if s.deployment == key]
        if not any(s.name in running | done for s in mine):
            return old
        if any(s.name not in done for s in mine) or new >= old:
            return max(old, new)
        labels = [pods.labels for pods in (self.before.get(key), self.after.get(key)) if pods is not None]
        proven = any(
            s.gone is not None
            and s.name in done
            and s.gone[0] == key[0]
            and all(selector_string_matches(s.gone[1], found) for found in labels)
            for s in self.steps
        )
        return new if proven else old

    def _services(self, workload: Mapping[str, Any], mine_keys: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The Services one workload's entry points may reach: its exported ones, their `-spin` copies
        and the backends of its route, before and after."""
        namespace = workload.get("namespace", "default")
        exported = {
            _key(o, namespace) for o in export(self.root / workload["manifest"]) if o["kind"] == "Service"
        }
        route = (namespace, f"{workload['name']}-migration")
        return (
            mine_keys
            | exported
            | {(key[0], f"{key[1]}-spin") for key in exported}
            | set(self.routes_before.get(route) or {})
            | set(self.routes_after.get(route) or {})
        )

    def _mine(self, workload: Mapping[str, Any]) -> tuple[list[str], dict[str, set[str]]]:
        """The steps of one workload (its Deployments, route, stop gates and the EndpointSlices of its
        Services) and their order."""
        namespace = workload.get("namespace", "default")
        mine_keys = {
            (namespace, workload["name"]),
            (namespace, f"{workload['name']}-spin"),
            (namespace, f"{workload['name']}-migration"),
        }
        services = self._services(workload, mine_keys)
        slices = {
            name
            for name, found in [*self.slices_before.items(), *self.slices_after.items()]
            if found.service in services
        }
        mine = [
            s.name
            for s in self.steps
            if s.deployment in mine_keys
            or s.route in mine_keys
            or (s.gone and s.gone[0] == namespace)
            or s.endpoints in slices
        ]
        return mine, {name: self.order[name] & set(mine) for name in mine}

    def moments(self, workload: Mapping[str, Any]) -> list[tuple[frozenset[str], frozenset[str]]]:
        """Every (completed, running) pair of the workload's steps the dependencies allow, from before
        the first step to after the last."""
        mine, order = self._mine(workload)
        found = [(frozenset(), frozenset()), (frozenset(mine), frozenset(mine))]
        for done in _completions(mine, order):
            found.append((done, frozenset(n for n in mine if n not in done and order[n] <= done)))
        return found

    def copies(self, workload: Mapping[str, Any]) -> int:
        """The most pods of the legacy and of the new Deployment that may exist at one moment, as
        min(legacy, new): 0 means the two never run at once."""
        namespace = workload.get("namespace", "default")
        legacy, new = (namespace, workload["name"]), (namespace, f"{workload['name']}-spin")
        return max(
            min(self.present(legacy, done, running), self.present(new, done, running))
            for done, running in self.moments(workload)
        )

    def worst(self, workload: Mapping[str, Any]) -> dict[str, tuple[int, int, int]]:
        """Entry point -> (before, after, lowest at any moment) Ready pods it reaches."""
        mine, order = self._mine(workload)
        found = {}
        for entry in entries(workload, self.root):
            start = self.reach(entry, frozenset(), frozenset())
            everything = frozenset(mine)
            end = self.reach(entry, everything, everything)
            lowest = min(start, end)
            for done in _completions(mine, order):
                running = frozenset(n for n in mine if n not in done and order[n] <= done)
                lowest = min(lowest, self.reach(entry, done, running))
            found[entry.label] = (start, end, lowest)
        return found
