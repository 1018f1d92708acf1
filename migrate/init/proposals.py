"""What a migrated Deployment's config entry proposes from the export: the Service users reach it
through, its requests and limits, its probe and the `gateway:` of an HTTPRoute to its Service. Where the
export has no usable value, the finding says what was proposed or what a person must decide."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from components.core.config import Gateway, Probe, ResourceQuantity
from components.export import facts
from migrate.init.findings import WorkloadFinding

# Proposed when the export declares none: the AKS WASI documentation's example app (100m / 128Mi).
DEFAULT_REQUESTS = {"cpu": "100m", "memory": "128Mi"}
_QUANTITY = TypeAdapter(ResourceQuantity)


def primary_service(
    name: str, services: list[Mapping[str, Any]], related: list[Mapping[str, Any]]
) -> tuple[Mapping[str, Any] | None, str]:
    """The Service users reach the workload through, and why: the one named like the workload, else the
    only one an HTTPRoute or Ingress of the export routes to, else the only one."""
    named = [s for s in services if facts.name_of(s) == name]
    if named:
        return named[0], "named like the workload"
    routed = set()
    for obj in related:
        if obj.get("kind") == "HTTPRoute":
            routed |= facts.route_backends(obj)
        elif obj.get("kind") == "Ingress":
            routed |= facts.ingress_backends(obj)
    reached = [s for s in services if facts.name_of(s) in routed]
    if len(reached) == 1:
        return reached[0], "the one an HTTPRoute or Ingress routes to"
    if len(services) == 1:
        return services[0], "the only one"
    return None, ""


def resources(finding: WorkloadFinding, container: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """Requests and limits for the config, from the export, with proposals where it has none."""
    declared = container.get("resources") or {}
    requests = dict(declared.get("requests") or {})
    limits = dict(declared.get("limits") or {})
    result: dict[str, dict[str, str]] = {"requests": {}, "limits": {}}
    proposed = []
    for resource in ("cpu", "memory"):
        request = _valid_quantity(requests.get(resource))
        limit = _valid_quantity(limits.get(resource))
        if request is None:
            request = limit or DEFAULT_REQUESTS[resource]
            proposed.append(f"requests.{resource} {request}")
        if limit is None:
            limit = request
            proposed.append(f"limits.{resource} {limit}")
        result["requests"][resource], result["limits"][resource] = request, limit
    if proposed:
        finding.notes.append(
            f"no resource {'requests' if any(p.startswith('requests') for p in proposed) else 'limits'} "
            f"in the export; proposed {', '.join(proposed)} (from the limits where set, else the AKS "
            "example's 100m/128Mi): measure and adjust"
        )
        finding.proposed["resources"] = result
    return result


def _valid_quantity(value: Any) -> str | None:
    if value is None:
        return None
    try:
        return _QUANTITY.validate_python(str(value))
    except ValidationError:
        return None


def probe(finding: WorkloadFinding, container: Mapping[str, Any]) -> dict[str, Any] | None:
    """The first HTTP readiness or liveness probe of the container as the config's `probe:`; without one,
    a decision."""
    for kind in ("readinessProbe", "livenessProbe"):
        http = (container.get(kind) or {}).get("httpGet") or {}
        if isinstance(http.get("path"), str) and http["path"].startswith("/"):
            found = _http_probe(http, container)
            try:
                Probe.model_validate(found)
            except ValidationError:
                finding.notes.append(
                    f"the export's probe path {http['path']!r} is not one the config accepts"
                )
                break
            return found
    finding.decide(
        "probe.path",
        "no HTTP readiness or liveness probe in the export: a Spin app answers only the routes in its "
        "spin.toml, so a guessed / may be 404 and the new pods never get Ready; set `probe.path` to a route "
        "the app serves",
    )
    return None


def _http_probe(http: Mapping[str, Any], container: Mapping[str, Any]) -> dict[str, Any]:
    """An httpGet's path, and its port where it is a number or names one of the container's ports."""
    found: dict[str, Any] = {"path": http["path"]}
    port = http.get("port")
    if isinstance(port, str):
        port = next(
            (p.get("containerPort") for p in container.get("ports") or [] if p.get("name") == port),
            None,
        )
    if isinstance(port, int) and 1 <= port <= 65535:
        found["port"] = port
    return found


def gateway_from_route(route: Mapping[str, Any], service_name: str, namespace: str) -> dict[str, Any] | None:
    """The config's `gateway:` from an HTTPRoute to the Service: its first parentRef, its hostnames and
    the first PathPrefix of its first rule to the Service; None when the route does not route to it or
    the config would refuse what it says."""
    spec = route.get("spec") or {}
    rules = [
        rule
        for rule in spec.get("rules") or []
        if any(
            ref.get("name") == service_name and ref.get("kind", "Service") == "Service"
            for ref in rule.get("backendRefs") or []
        )
    ]
    parents = spec.get("parentRefs") or []
    if not rules or not parents:
        return None
    parent = parents[0]
    gateway: dict[str, Any] = {"name": parent.get("name"), "namespace": parent.get("namespace") or namespace}
    if parent.get("sectionName"):
        gateway["sectionName"] = parent["sectionName"]
    if spec.get("hostnames"):
        gateway["hostnames"] = list(spec["hostnames"])
    path = next(
        (
            (match.get("path") or {}).get("value")
            for match in rules[0].get("matches") or []
            if (match.get("path") or {}).get("type", "PathPrefix") == "PathPrefix"
        ),
        None,
    )
    if path:
        gateway["pathPrefix"] = path
    try:
        Gateway.model_validate(gateway)
    except ValidationError:
        return None
    return gateway
