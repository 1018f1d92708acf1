"""The share of requests that really reaches new pods, per entry point, computed from the objects a phase
registers and from the export, not from the plan. See docs/design/traffic.md."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from components.core.config import Phase, Workload, problem
from components.core.inputs import ECHO_CHARS, escape
from components.core.kubernetes import ready_endpoints, service_selects, slice_service
from components.desired import build_desired_state, route_args
from components.desired.pools import AGENT_POOL_TYPE
from components.desired.spec import DesiredState, EntryShare, ResourceSpec, WorkloadTraffic
from components.desired.workloads import KEDA_PAUSED_REPLICAS, BackendArgs, traffic_split_specs
from components.export.migration import Migration
from components.export.schemas import object_label
from components.export.workload import ExportedWorkload

GATEWAY_GROUP = "gateway.networking.k8s.io"

# ---------------------------------------------------------------------------------------------------
# What runs and what routes, from the registered resources and the export


@dataclass(frozen=True)
class PodGroup:
    """The ready pods of one Deployment."""

    owner: str
    namespace: str
    labels: Mapping[str, str]
    count: int
    new: bool
    on_node: bool = True  # an EndpointSlice's endpoints outside the cluster's nodes are not


@dataclass(frozen=True)
class ServiceView:
    namespace: str
    name: str
    selector: Mapping[str, str] | None
    type: str
    external_policy: str
    internal_policy: str
    registered: bool

    @property
    def label(self) -> str:
        return f"Service {self.namespace}/{self.name}"


def _identity(manifest: Mapping[str, Any], default_namespace: str = "default") -> tuple[str, str]:
    metadata = manifest.get("metadata") or {}
    return metadata.get("namespace") or default_namespace, metadata.get("name") or ""


def _kind(spec: ResourceSpec) -> str:
    return str(spec.inputs.get("kind", ""))


def _service_view(
    manifest: Mapping[str, Any], selector: Any, registered: bool, namespace: str
) -> ServiceView:
    spec = manifest.get("spec") or {}
    return ServiceView(
        *_identity(manifest, namespace),
        selector=dict(selector) if isinstance(selector, Mapping) else None,
        type=spec.get("type") or "ClusterIP",
        external_policy=spec.get("externalTrafficPolicy") or "Cluster",
        internal_policy=spec.get("internalTrafficPolicy") or "Cluster",
        registered=registered,
    )


def pods_at_rest(resources: Sequence[ResourceSpec]) -> dict[tuple[str, str], int]:
    """(namespace, Deployment) -> the pods it keeps at rest in this phase, where the Deployment does not
    say so itself: its autoscaler's minimum (an HPA's minReplicas, a KEDA ScaledObject's
    minReplicaCount: an autoscaled Deployment sends no replicas; under load both sides' autoscalers
    keep that ratio), overridden by a pause at a count (KEDA's paused-replicas) and by a capacity
    patch's replicas (0 turns an HPA off)."""
    replicas: dict[tuple[str, str], int] = {}
    paused = {
        _identity(spec.inputs): int(annotations[KEDA_PAUSED_REPLICAS])
        for spec in resources
        if spec.is_patch
        and _kind(spec) == "ScaledObject"
        and KEDA_PAUSED_REPLICAS
        in (annotations := (spec.inputs.get("metadata") or {}).get("annotations") or {})
    }
    for spec in resources:
        if spec.is_patch or _kind(spec) not in ("HorizontalPodAutoscaler", "ScaledObject"):
            continue
        namespace, name = _identity(spec.inputs)
        scaler = spec.inputs["spec"]
        target = (namespace, scaler["scaleTargetRef"]["name"])
        if _kind(spec) == "HorizontalPodAutoscaler":
            replicas[target] = int(scaler.get("minReplicas", 1))
        else:
            replicas[target] = paused.get((namespace, name), int(scaler.get("minReplicaCount", 0)))
    for spec in resources:
        if spec.is_patch and _kind(spec) == "Deployment" and "replicas" in (spec.inputs.get("spec") or {}):
            replicas[_identity(spec.inputs)] = int(spec.inputs["spec"]["replicas"])
    return replicas


@dataclass
class ClusterView:
    """The pods, Services and HTTPRoutes one phase leaves in the cluster, as far as traffic goes."""

    pods: list[PodGroup] = field(default_factory=list)
    services: dict[tuple[str, str], ServiceView] = field(default_factory=dict)
    routes: list[tuple[Mapping[str, Any], bool]] = field(default_factory=list)  # (route, registered)
    new_nodes: int = 0  # how many nodes the target pools can have at most
    by_label: dict[tuple[str, str, str], list[PodGroup]] = field(default_factory=dict)
    # (namespace, Service) -> the endpoints EndpointSlices the phase registers list for it (the aci
    # target's container groups): kube-proxy serves them beside the pods the Service selects.
    sliced: dict[tuple[str, str], list[PodGroup]] = field(default_factory=dict)
    # The routes by the paths their matches can take, built when first asked (see routes_for).
    _by_path: tuple[dict[tuple[str, str], list[int]], list[int]] | None = field(
        default=None, repr=False, compare=False
    )
    # The registered routes by identity, and the exported ones the phase leaves: built when first asked.
    _by_origin: tuple[dict[tuple[str, str], list[Mapping[str, Any]]], list[Mapping[str, Any]]] | None = field(
        default=None, repr=False, compare=False
    )

    def registered_routes(self, identity: tuple[str, str]) -> list[Mapping[str, Any]]:
        """The routes the phase registers as `identity` (namespace, name), in their order."""
        return self._origins()[0].get(identity, [])

    def exported_routes(self) -> list[Mapping[str, Any]]:
        """The exported routes the phase does not register (they stay as they are), in their order."""
        return self._origins()[1]

    def _origins(self) -> tuple[dict[tuple[str, str], list[Mapping[str, Any]]], list[Mapping[str, Any]]]:
        if self._by_origin is None:
            registered: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
            for route, mine in self.routes:
                if mine:
                    registered.setdefault(_identity(route), []).append(route)
            self._by_origin = registered, [route for route, mine in self.routes if not mine]
        return self._by_origin

    def routes_for(self, path: str) -> list[tuple[Mapping[str, Any], bool]]:
        """The routes, in their order, of which some match can take a request for `path` (the others
        cannot win it: winning_rule skips them). One pass over the routes, not one per request."""
        if self._by_path is None:
            self._by_path = _path_index(self.routes)
        by_path, anywhere = self._by_path
        found = set(anywhere)
        found.update(by_path.get(("Exact", path), ()))
        found.update(by_path.get(("PathPrefix", ""), ()))
        found.update(by_path.get(("PathPrefix", path), ()))
        for index, char in enumerate(path):
            if char == "/":
                found.update(by_path.get(("PathPrefix", path[:index]), ()))
        return [self.routes[index] for index in sorted(found)]

    @classmethod
    def of(cls, resources: Sequence[ResourceSpec], workloads: Iterable[ExportedWorkload]) -> ClusterView:
        view = cls()
        view.new_nodes = sum(
            int(spec.inputs.get("maxCount") or spec.inputs.get("count") or 0)
            for spec in resources
            if spec.type == AGENT_POOL_TYPE and spec.import_id is None
        )
        view._add_registered(resources)
        view._add_exported(workloads)
        for pods in view.pods:
            for label in pods.labels.items():
                view.by_label.setdefault((pods.namespace, *label), []).append(pods)
        return view

    def _add_registered(self, resources: Sequence[ResourceSpec]) -> None:
        """The Deployments (at the replicas they rest at), Services and HTTPRoutes the phase registers."""
        replicas = pods_at_rest(resources)
        for spec in resources:
            if spec.is_patch or not spec.is_kubernetes:
                continue
            kind, key = _kind(spec), _identity(spec.inputs)
            if kind == "Deployment":
                deployment = spec.inputs["spec"]
                self.pods.append(
                    PodGroup(
                        object_label(spec.inputs),
                        key[0],
                        dict(((deployment["template"].get("metadata") or {}).get("labels")) or {}),
                        int(replicas.get(key, deployment.get("replicas", 1))),
                        new=spec.import_id is None,
                    )
                )
            elif kind == "Service":
                selector = (spec.inputs.get("spec") or {}).get("selector")
                self.services[key] = _service_view(spec.inputs, selector, True, key[0])
            elif kind == "HTTPRoute":
                self.routes.append((spec.inputs, True))
            elif kind == "EndpointSlice":
                self._add_slice(spec)

    def _add_slice(self, spec: ResourceSpec) -> None:
        """A slice's ready endpoints, as new endpoints of the Service its label names."""
        service = slice_service(spec.inputs)
        if service is None:
            return
        namespace, _ = _identity(spec.inputs)
        group = PodGroup(
            object_label(spec.inputs), namespace, {}, ready_endpoints(spec.inputs), new=True, on_node=False
        )
        self.sliced.setdefault((namespace, service), []).append(group)

    def _add_exported(self, workloads: Iterable[ExportedWorkload]) -> None:
        """The exported Services and HTTPRoutes the phase does not register: they stay as they are."""
        registered_routes = {_identity(route) for route, _ in self.routes}
        for legacy in workloads:
            namespace = legacy.config.namespace
            for obj in legacy.exported:
                key = _identity(obj, namespace)
                if obj.get("kind") == "Service" and key not in self.services:
                    selector = (obj.get("spec") or {}).get("selector")
                    self.services[key] = _service_view(obj, selector, False, namespace)
                elif obj.get("kind") == "HTTPRoute" and key not in registered_routes:
                    metadata = {**(obj.get("metadata") or {}), "namespace": key[0]}
                    self.routes.append(({**obj, "metadata": metadata}, False))

    def endpoints(self, service: ServiceView) -> list[PodGroup]:
        """The running pods a Service selects, and the endpoints slices list for it; pods looked up
        through one of its labels, as every pod it selects carries them all (linear in the pods, not
        quadratic in the workloads)."""
        sliced = [group for group in self.sliced.get((service.namespace, service.name), []) if group.count]
        if not service.selector:
            return sliced
        key, value = next(iter(service.selector.items()))
        return [
            pods
            for pods in self.by_label.get((service.namespace, key, value), [])
            if pods.count and service_selects(service.selector, pods.labels)
        ] + sliced


def _count(groups: Iterable[PodGroup], new: bool) -> int:
    return sum(pods.count for pods in groups if pods.new is new)


def _percent(value: Fraction) -> int:
    return int(value * 100 + Fraction(1, 2))  # half up, like the share the plan states


# ---------------------------------------------------------------------------------------------------
# HTTPRoute precedence


@dataclass(frozen=True)
class Request:
    host: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    method: str | None = None


def _wildcard_covers(wildcard: str, host: str) -> bool:
    return wildcard.startswith("*.") and host.endswith(wildcard[1:]) and len(host) > len(wildcard) - 1


def _host_rank(hostnames: Sequence[str], host: str) -> tuple[int, int] | None:
    """(characters of a matching non-wildcard hostname, characters of a matching hostname); None when
    the route does not serve the host. A route without hostnames serves every host, least specifically."""
    if not hostnames:
        return (0, 0)
    ranks = [(len(name), len(name)) for name in hostnames if name == host]
    ranks += [(0, len(name)) for name in hostnames if _wildcard_covers(name, host)]
    return max(ranks) if ranks else None


def _under(prefix: str, path: str) -> bool:
    """PathPrefix semantics: element-wise, a trailing slash ignored (`/orders` matches `/orders/x`,
    not `/ordersx`)."""
    base = prefix.rstrip("/")
    return not base or path == base or path.startswith(base + "/")


def _value_matches(match: Mapping[str, Any], actual: str | None) -> bool:
    """A header or query match. A RegularExpression one is taken to match any value: its dialect is
    implementation-specific, and a pattern from the export is never run here."""
    if actual is None:
        return False
    return match.get("type", "Exact") == "RegularExpression" or actual == match.get("value")


def _match_rank(match: Mapping[str, Any], request: Request) -> tuple[int, ...] | None:
    """The precedence of one HTTPRouteMatch for a request (higher wins), None when it does not match.
    A RegularExpression path is taken to match every path, ranked lowest (its precedence is
    implementation-specific): a conflict it may cause is reported rather than missed."""
    path = match.get("path") or {}
    kind, value = path.get("type", "PathPrefix"), path.get("value", "/")
    if kind == "Exact":
        if request.path != value:
            return None
        path_rank = (2, len(value))
    elif kind == "PathPrefix":
        if not _under(value, request.path):
            return None
        path_rank = (1, len(value.rstrip("/")))
    else:
        path_rank = (0, 0)
    method = match.get("method")
    if method and method != request.method:
        return None
    headers = match.get("headers") or []
    if not all(_value_matches(h, request.headers.get(str(h.get("name")).lower())) for h in headers):
        return None
    query = match.get("queryParams") or []
    if not all(_value_matches(q, request.query.get(str(q.get("name")))) for q in query):
        return None
    return (*path_rank, 1 if method else 0, len(headers), len(query))


def _path_keys(route: Mapping[str, Any]) -> list[tuple[str, str]] | None:
    """What each match of a route needs of a request's path, as _match_rank reads it: ("Exact", the
    path) or ("PathPrefix", the prefix without its trailing "/"); None when one may match any path."""
    keys = []
    for rule in (route.get("spec") or {}).get("rules") or [{}]:
        for match in rule.get("matches") or [{}]:
            path = match.get("path") or {}
            kind, value = path.get("type", "PathPrefix"), path.get("value", "/")
            if kind == "Exact" and isinstance(value, str):
                keys.append((kind, value))
            elif kind == "PathPrefix" and isinstance(value, str):
                keys.append((kind, value.rstrip("/")))
            else:
                return None
    return keys


def _path_index(
    routes: Sequence[tuple[Mapping[str, Any], bool]],
) -> tuple[dict[tuple[str, str], list[int]], list[int]]:
    """Route indexes by the path keys of their matches, and those of the routes that may take any path
    (or whose shape the index does not read: winning_rule looks at them as before)."""
    by_path: dict[tuple[str, str], list[int]] = {}
    anywhere: list[int] = []
    for index, (route, _) in enumerate(routes):
        try:
            keys = _path_keys(route)
        except (AttributeError, TypeError):
            keys = None
        if keys is None:
            anywhere.append(index)
        for key in keys or ():
            by_path.setdefault(key, []).append(index)
    return by_path, anywhere


def _attached(route: Mapping[str, Any], gateway: Mapping[str, Any]) -> bool:
    """The route attaches to the Gateway's listener `gateway` names (any listener when either side
    names no section)."""
    namespace, _ = _identity(route)
    for parent in (route.get("spec") or {}).get("parentRefs") or []:
        same_gateway = (
            parent.get("group", GATEWAY_GROUP) == GATEWAY_GROUP
            and parent.get("kind", "Gateway") == "Gateway"
            and parent.get("name") == gateway["name"]
            and parent.get("namespace", namespace) == gateway["namespace"]
        )
        section, wanted = parent.get("sectionName"), gateway.get("sectionName")
        if same_gateway and (not section or not wanted or section == wanted):
            return True
    return False


@dataclass(frozen=True)
class Winner:
    route: Mapping[str, Any]
    registered: bool
    rule: Mapping[str, Any]

    @property
    def label(self) -> str:
        return object_label(dict(self.route))


def winning_rule(
    routes: Sequence[tuple[Mapping[str, Any], bool]], gateway: Mapping[str, Any], request: Request
) -> Winner | None:
    """The rule that serves `request` on the Gateway listener: highest precedence, then the oldest
    route (every exported route is older than the migration's own), then `namespace/name`, then rule
    and match order."""
    best: tuple[Any, ...] | None = None
    found: Winner | None = None
    for route, registered in routes:
        if not _attached(route, gateway):
            continue
        spec = route.get("spec") or {}
        host = _host_rank(spec.get("hostnames") or [], request.host)
        if host is None:
            continue
        namespace, name = _identity(route)
        for rule_index, rule in enumerate(spec.get("rules") or [{}]):
            for match_index, match in enumerate(rule.get("matches") or [{}]):
                rank = _match_rank(match, request)
                if rank is None:
                    continue
                key = (*host, *rank, not registered, f"{namespace}/{name}", -rule_index, -match_index)
                if best is None or _better(key, best):
                    best, found = key, Winner(route, registered, rule)
    return found


def _better(key: tuple[Any, ...], best: tuple[Any, ...]) -> bool:
    """Precedence descending, then older (exported) first, then `namespace/name` ascending, then the
    first rule and match."""
    precedence, older, name, order = key[:-4], key[-4], key[-3], key[-2:]
    best_precedence, best_older, best_name, best_order = best[:-4], best[-4], best[-3], best[-2:]
    if precedence != best_precedence:
        return precedence > best_precedence
    if older != best_older:
        return bool(older)
    if name != best_name:
        return name < best_name
    return order > best_order


def _sample_host(hostname: str) -> str:
    return f"any{hostname[1:]}" if hostname.startswith("*.") else hostname


GENERIC_HOST = "any-other-host.invalid"


def _requests(route: Mapping[str, Any], others: Sequence[Mapping[str, Any]]) -> list[tuple[Request, bool]]:
    """Requests the migration's route serves that another route may take: on each of its hosts (or, if
    it names none, on the others' hosts and any other host), at its path prefix and at every more
    specific path, header, query and method the others match. True marks the plain request at the
    prefix: who wins it takes every request of that host."""
    spec = route.get("spec") or {}
    prefix = spec["rules"][0]["matches"][0]["path"]["value"]
    hosts = [_sample_host(h) for h in spec.get("hostnames") or []]
    if not hosts:
        hosts = [
            GENERIC_HOST,
            *(_sample_host(h) for o in others for h in (o.get("spec") or {}).get("hostnames") or []),
        ]
    samples: list[tuple[Request, bool]] = []
    for host in dict.fromkeys(hosts):
        samples.append((Request(host, prefix), True))
        for other in others:
            for rule in (other.get("spec") or {}).get("rules") or [{}]:
                for match in rule.get("matches") or [{}]:
                    path = (match.get("path") or {}).get("value", "/")
                    headers = {
                        str(h.get("name")).lower(): str(h.get("value")) for h in match.get("headers") or []
                    }
                    query = {str(q.get("name")): str(q.get("value")) for q in match.get("queryParams") or []}
                    regex = (match.get("path") or {}).get("type") == "RegularExpression"
                    at = path if _under(prefix, path) and not regex else prefix
                    samples.append((Request(host, at, headers, query, match.get("method")), False))
    return samples


@dataclass(frozen=True)
class RouteConflict:
    route: str
    hosts: tuple[str, ...]
    takes_all: bool

    def describe(self) -> str:
        where = ", ".join(h for h in self.hosts if h != GENERIC_HOST) or "any host"
        what = "every request" if self.takes_all else "part of the requests"
        return f"{self.route} (in the export) takes {what} on {where}"


def route_conflicts(route: Mapping[str, Any], existing: Sequence[Mapping[str, Any]]) -> list[RouteConflict]:
    """Existing routes that win requests the migration's route matches, on its Gateway listener."""
    gateway = _parent(route)
    others = [o for o in existing if _attached(o, gateway) and _identity(o) != _identity(route)]
    candidates = [(route, True), *((o, False) for o in others)]
    taken: dict[str, tuple[list[str], bool]] = {}
    for request, plain in _requests(route, others):
        mine = winning_rule([(route, True)], gateway, request)
        winner = winning_rule(candidates, gateway, request)
        if mine is None or winner is None or winner.registered:
            continue
        hosts, all_of_it = taken.setdefault(winner.label, ([], False))
        if request.host not in hosts:
            hosts.append(request.host)
        taken[winner.label] = (hosts, all_of_it or plain)
    return [RouteConflict(label, tuple(hosts), all_of_it) for label, (hosts, all_of_it) in taken.items()]


def _parent(route: Mapping[str, Any]) -> dict[str, Any]:
    parent = route["spec"]["parentRefs"][0]
    return {
        "name": parent["name"],
        "namespace": parent["namespace"],
        "sectionName": parent.get("sectionName"),
    }


def migration_route(workload: Workload, legacy_service: str) -> dict[str, Any]:
    """The HTTPRoute the migration registers for `workload` (its matching part), built by the same
    builders, to find conflicts before anything is registered."""
    backends: list[BackendArgs] = [{"service_name": legacy_service, "port": 1, "weight": 100}]
    return traffic_split_specs("route", route_args(workload, backends))[0].inputs


def export_problems(phase: Phase, index: int, legacy: ExportedWorkload) -> list[str]:
    """An existing HTTPRoute that wins requests of the migration's route is refused from parallel on,
    where the route must carry the split (the loader has checked every exported route's schema).
    Why refused rather than adopted: docs/design/traffic.md."""
    workload = legacy.config
    read = [obj for obj in legacy.exported if obj.get("kind") == "HTTPRoute"]
    if workload.gateway is None or not phase.at_least(Phase.PARALLEL):
        return []
    route = migration_route(workload, legacy.service["metadata"]["name"])
    existing = [
        {
            **obj,
            "metadata": {**(obj.get("metadata") or {}), "namespace": _identity(obj, workload.namespace)[0]},
        }
        for obj in read
        if obj.get("kind") == "HTTPRoute"
    ]
    return [
        problem(
            f"workloads[{index}].gateway",
            f"{workload.gateway.namespace}/{workload.gateway.name}",
            f"{escape(conflict.describe(), ECHO_CHARS * 4)}: Gateway API gives a request to the most "
            "specific match and then to the oldest route, so the migration's route would not carry the "
            "split there. Delete that route (or its rules for this host and path) once prepare is "
            "applied: the migration's route then serves those requests, 100 % to legacy, with no gap; "
            "then remove it from the export",
        )
        for conflict in route_conflicts(route, existing)
    ]


# ---------------------------------------------------------------------------------------------------
# The share per entry point


def _pods_phrase(groups: Sequence[PodGroup], service: ServiceView) -> str:
    new, total = _count(groups, True), sum(pods.count for pods in groups)
    return f"{service.label} spreads requests over {total} ready pods, {new} of them new"


def _served(view: ClusterView, service: ServiceView, local: bool) -> tuple[list[PodGroup], list[str]]:
    """What a Service's requests reach through one entry: with a Local policy kube-proxy sends them
    only to endpoints on the node that took them, and the container groups run on none (kubernetes.io
    docs "Service Internal/External Traffic Policy")."""
    groups = view.endpoints(service)
    if local and any(not pods.on_node for pods in groups):
        kept = [pods for pods in groups if pods.on_node]
        return kept, [f"{service.label} is Local: the container groups outside the nodes get none of it"]
    return groups, []


def _service_share(
    view: ClusterView, service: ServiceView, entry: str, requested: int, gateway: str | None
) -> EntryShare:
    local = service.external_policy == "Local" if entry != "ClusterIP" else service.internal_policy == "Local"
    groups, reasons = _served(view, service, local)
    new, total = _count(groups, True), sum(pods.count for pods in groups)
    legacy = total - new
    if total == 0:
        low = high = Fraction(0)
        reasons.append(f"{service.label} selects no ready pod: requests to it fail")
    else:
        low = high = Fraction(new, total)
    if local and new and legacy:
        if entry == "LoadBalancer":
            # New pods run on the target pools, legacy ones on the WASI pool: no node has both.
            most_new = min(new, view.new_nodes) if view.new_nodes else new
            low, high = Fraction(1, 1 + legacy), Fraction(most_new, most_new + 1)
            reasons.append(
                "externalTrafficPolicy Local: the load balancer spreads requests over the nodes that run "
                f"a ready pod, not over pods; {new} new pods on 1-{most_new} nodes against {legacy} legacy "
                f"pods on 1-{legacy} nodes give this range, whatever the weight"
            )
        else:
            low, high = Fraction(0), Fraction(1)
            policy = "internalTrafficPolicy" if entry == "ClusterIP" else "externalTrafficPolicy"
            whose = "the client's own node" if entry == "ClusterIP" else "the node a client addresses"
            reasons.append(f"{policy} Local: only pods on {whose} serve it, so the share depends on the node")
    elif total and _percent(low) != requested:
        spread = _pods_phrase(groups, service)
        if gateway:
            reasons.append(f"{spread}, as kube-proxy picks a pod")
        elif 0 < _percent(low) < requested and legacy:
            reasons.append(
                f"{spread}, as kube-proxy picks a pod, not a weight: the legacy pods keep serving until "
                "cutover takes them away, so new ones can only be added beside them; a `gateway:` splits "
                "exactly"
            )
        elif 0 < requested < 100:
            reasons.append(
                f"{spread}, as kube-proxy picks a pod, not a weight; a `gateway:` splits exactly, or "
                f"choose a weight near {_percent(low)}%"
            )
        else:
            reasons.append(f"{spread}, as kube-proxy picks a pod")
    if gateway and (low != high or _percent(low) != requested):
        reasons.insert(0, f"bypasses the split of {gateway}, which covers only requests through it")
    if new and requested == 0:
        matched = ", ".join(f"{k}={v}" for k, v in sorted((service.selector or {}).items()))
        reasons.append(f"its selector {matched} matches labels of the new pods")
    return EntryShare(
        f"{entry} {service.namespace}/{service.name}", _percent(low), _percent(high), tuple(reasons)
    )


def _gateway_share(view: ClusterView, legacy: ExportedWorkload, requested: int) -> EntryShare | None:
    config = legacy.config.gateway
    assert config is not None
    gateway = {"name": config.name, "namespace": config.namespace, "sectionName": config.section_name}
    host = _sample_host(config.hostnames[0]) if config.hostnames else GENERIC_HOST
    shown = f"{config.hostnames[0] if config.hostnames else '*'}{config.path_prefix}"
    entry = f"Gateway {config.namespace}/{config.name} {shown}"
    winner = winning_rule(view.routes_for(config.path_prefix), gateway, Request(host, config.path_prefix))
    if winner is None:
        return None
    namespace, _ = _identity(winner.route)
    reasons: list[str] = []
    own = _identity(migration_route(legacy.config, legacy.service["metadata"]["name"]))
    mine, others = view.registered_routes(own), view.exported_routes()
    conflicts = [found for route in mine for found in route_conflicts(route, others)]
    for found in conflicts:
        reasons.append(
            f"{found.describe()}: Gateway API serves the most specific match, then the oldest route; "
            "delete it once prepare is applied (parallel refuses it)"
        )
    backends = [b for b in winner.rule.get("backendRefs") or [] if b.get("kind", "Service") == "Service"]
    total_weight = sum(int(b.get("weight", 1)) for b in backends)
    share = Fraction(0)
    for backend in backends:
        weight = int(backend.get("weight", 1))
        if not weight:
            continue
        service = view.services.get((backend.get("namespace", namespace), backend["name"]))
        groups = view.endpoints(service) if service else []
        total = sum(pods.count for pods in groups)
        part = Fraction(weight, total_weight)
        name = f"Service {backend.get('namespace', namespace)}/{backend['name']}"
        if not total:
            reasons.append(f"{name} has no ready pod: its {_percent(part)}% of requests fail")
            continue
        new = _count(groups, True)
        share += part * Fraction(new, total)
        if 0 < new < total:
            reasons.append(f"the backend {_pods_phrase(groups, service)}")  # type: ignore[arg-type]
    if not total_weight:
        reasons.append(f"{winner.label} gives every backend weight 0: requests fail")
    low = _percent(share)
    kept = tuple(reasons) if conflicts or low != requested else ()
    return EntryShare(entry, low, low, kept, bool(conflicts))


def entry_shares(view: ClusterView, legacy: ExportedWorkload, requested: int) -> tuple[EntryShare, ...]:
    """Every way in to the workload: its Gateway route when configured, then each Service of the
    export (the legacy one first) that selects its pods: cluster IP, and load balancer or node port."""
    shares: list[EntryShare] = []
    gateway = None
    if legacy.config.gateway is not None:
        found = _gateway_share(view, legacy, requested)
        if found is not None:
            shares.append(found)
            gateway = found.entry
    namespace = legacy.config.namespace
    service_key = _identity(legacy.service, namespace)
    exported = [_identity(obj, namespace) for obj in legacy.exported if obj.get("kind") == "Service"]
    template = (legacy.deployment["spec"]["template"].get("metadata") or {}).get("labels") or {}
    for key in dict.fromkeys([service_key, *exported]):
        service = view.services.get(key)
        # Another exported Service is a way in when it reaches the workload's legacy or new pods.
        if service is None or (
            key != service_key
            and not service_selects(service.selector, template)
            and not any(pods.new for pods in view.endpoints(service))
        ):
            continue
        if service.type in ("LoadBalancer", "NodePort"):
            shares.append(_service_share(view, service, service.type, requested, gateway))
        shares.append(_service_share(view, service, "ClusterIP", requested, gateway))
    return tuple(shares)


def with_entry_points(
    traffic: Sequence[WorkloadTraffic],
    resources: Sequence[ResourceSpec],
    workloads: Sequence[ExportedWorkload],
) -> tuple[WorkloadTraffic, ...]:
    view = ClusterView.of(resources, workloads)
    return tuple(
        replace(share, entry_points=entry_shares(view, legacy, share.requested_percent))
        for share, legacy in zip(traffic, workloads, strict=True)
    )


def analysed(state: DesiredState, workloads: Sequence[ExportedWorkload]) -> DesiredState:
    """A built state with each workload's share per entry point, read off the resources it registers
    (not the plan's request)."""
    return replace(state, traffic=with_entry_points(state.traffic, state.resources, workloads))


def analysed_state(migration: Migration) -> DesiredState:
    """The phase's desired state, analysed (`analysed`)."""
    return analysed(build_desired_state(migration), migration.workloads)
