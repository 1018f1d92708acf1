"""Where requests go, modelled independently of components/analysis/traffic.py, for tests.

It takes what the program registered under mocks (recorded inputs and import ids: Deployments and
their replicas patches, Services and their selector patches, HTTPRoutes, target agent pools) and the
legacy exports the stack file names (read here with PyYAML, not the project's loader), puts every
ready pod in a list, and answers per entry point what share of the requests reaches a new one:

- a Service's cluster IP, and its load balancer or node port under externalTrafficPolicy Cluster:
  new pods / selected pods (kube-proxy picks a ready endpoint at random);
- a load balancer under externalTrafficPolicy Local: every way of putting the new pods on 1..n shim
  nodes and the legacy pods on 1..l WASI nodes, each node with a pod getting an equal share; the min
  and max over them (a range);
- pods at rest: a replicas patch, else an HPA's minimum (or its patch's), else a KEDA ScaledObject's
  paused-replicas or minReplicaCount, else the Deployment's replicas;
- a Gateway: the route that wins the configured host and path (an exported route with the same match
  wins, as the older one), each backend Service its weight's share, spread over its pods;
- EndpointSlices the program registers (the aci target's container groups; kubernetes.io docs
  "EndpointSlices" and "Services without selectors"): kube-proxy sends a Service's requests to the
  ready endpoints of every slice labelled `kubernetes.io/service-name: <Service>` in its namespace,
  beside the pods its selector selects; a Service without a selector reaches only its slices'
  endpoints. Each ready endpoint is one new backend, like a new Ready pod, except that it runs on no
  node (it names no nodeName), so a Local traffic policy never sends it anything."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"
ROUTE = "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute"
POOL = "azure-native:containerservice:AgentPool"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"
ENDPOINT_SLICE = "kubernetes:discovery.k8s.io/v1:EndpointSlice"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    new: bool
    on_node: bool = True  # False: an EndpointSlice's endpoint that names no node (a container group)


def slice_service(inputs: dict[str, Any]) -> tuple[str, str] | None:
    """The (namespace, Service) an EndpointSlice adds its endpoints to: its `kubernetes.io/service-name`
    label, in the slice's own namespace (kubernetes.io docs "EndpointSlices": "you can link an
    EndpointSlice to a Service by setting the kubernetes.io/service-name label"); None without it."""
    metadata = inputs.get("metadata") or {}
    service = (metadata.get("labels") or {}).get(SERVICE_NAME_LABEL)
    return (metadata.get("namespace", ""), service) if service else None


def ready_endpoints(inputs: dict[str, Any]) -> list[dict[str, Any]]:
    """The endpoints of an EndpointSlice kube-proxy sends requests to: every endpoint whose
    `conditions.ready` is not false (discovery.k8s.io/v1 EndpointConditions: an unset, unknown ready
    condition is to be read as ready), one backend each however many addresses it lists (they are
    fungible). Only IP slices are programmed: an FQDN slice serves nothing."""
    if inputs.get("addressType", "IPv4") not in ("IPv4", "IPv6"):
        return []
    return [e for e in inputs.get("endpoints") or [] if (e.get("conditions") or {}).get("ready") is not False]


def export(path: Path) -> list[dict[str, Any]]:
    objects = []
    for document in yaml.safe_load_all(path.read_text()):
        if document:
            objects.extend(document["items"] if document.get("kind") == "List" else [document])
    return objects


def _key(obj: dict[str, Any], namespace: str) -> tuple[str, str]:
    return obj["metadata"].get("namespace", namespace), obj["metadata"]["name"]


def percent(value: Fraction) -> int:
    return int(value * 100 + Fraction(1, 2))


def _replicas(registrations: list[Any]) -> dict[tuple[str, str], int]:
    """Each Deployment's replicas at rest, where something other than its own spec says them."""
    # A replicas patch overrides what the Deployment or its HPA says (0 switches an HPA off); a patch
    # that sends no replicas owns none.
    replicas = {
        _key(r.inputs, ""): int(r.inputs["spec"]["replicas"])
        for r in registrations
        if r.type == DEPLOYMENT + "Patch" and "replicas" in (r.inputs.get("spec") or {})
    }
    # A Deployment that sends no replicas is its HPA's: at rest it runs the HPA's minReplicas, which a
    # HorizontalPodAutoscalerPatch on an adopted HPA overrides.
    minimums = {
        _key(r.inputs, ""): int(r.inputs["spec"]["minReplicas"])
        for r in registrations
        if r.type == HPA + "Patch"
    }
    # A KEDA ScaledObject keeps its Deployment at its paused-replicas annotation (set by a
    # ScaledObjectPatch or on itself), else at its minReplicaCount (KEDA's default: 0).
    paused = {
        _key(r.inputs, ""): int(annotations[PAUSED_REPLICAS])
        for r in registrations
        if r.type in (SCALED_OBJECT, SCALED_OBJECT + "Patch")
        and PAUSED_REPLICAS in (annotations := (r.inputs.get("metadata") or {}).get("annotations") or {})
    }
    for r in registrations:
        if r.type == HPA:
            namespace, name = _key(r.inputs, "")
            target = (namespace, r.inputs["spec"]["scaleTargetRef"]["name"])
            replicas.setdefault(
                target, minimums.get((namespace, name), int(r.inputs["spec"].get("minReplicas", 1)))
            )
        elif r.type == SCALED_OBJECT:
            namespace, name = _key(r.inputs, "")
            target = (namespace, r.inputs["spec"]["scaleTargetRef"]["name"])
            replicas.setdefault(
                target, paused.get((namespace, name), int(r.inputs["spec"].get("minReplicaCount", 0)))
            )
    return replicas


class Cluster:
    def __init__(self, registrations: list[Any], raw: dict[str, Any], root: Path):
        self.raw = raw
        replicas = _replicas(registrations)
        selectors = {
            _key(r.inputs, ""): r.inputs["spec"]["selector"]
            for r in registrations
            if r.type == SERVICE + "Patch"
        }
        self.pods: list[Pod] = []
        for r in registrations:
            if r.type == DEPLOYMENT:
                key = _key(r.inputs, "")
                count = replicas.get(key, int(r.inputs["spec"].get("replicas", 1)))
                labels = r.inputs["spec"]["template"]["metadata"]["labels"]
                self.pods += [Pod(key[0], labels, new=not r.import_id)] * count
        self.services: dict[tuple[str, str], dict[str, Any]] = {}
        for r in registrations:
            if r.type == SERVICE:
                key = _key(r.inputs, "")
                spec = {**r.inputs["spec"], "selector": selectors.get(key, r.inputs["spec"].get("selector"))}
                self.services[key] = spec
        # (namespace, Service) -> the ready endpoints of the EndpointSlices labelled with its name.
        self.sliced: dict[tuple[str, str], list[Pod]] = {}
        for r in registrations:
            if r.type == ENDPOINT_SLICE and (service := slice_service(r.inputs)) is not None:
                self.sliced.setdefault(service, []).extend(
                    Pod(service[0], {}, new=True, on_node=bool(e.get("nodeName")))
                    for e in ready_endpoints(r.inputs)
                )
        self.routes = [(r.inputs, True) for r in registrations if r.type == ROUTE]
        self.exports: dict[str, list[dict[str, Any]]] = {}
        self._add_exports(raw, root)
        self.shim_nodes = sum(
            int(r.inputs["maxCount"] if r.inputs.get("enableAutoScaling") else r.inputs["count"])
            for r in registrations
            if r.type == POOL and not r.import_id
        )

    def _add_exports(self, raw: dict[str, Any], root: Path) -> None:
        """Each workload's export; its Services and HTTPRoutes the program does not register stay."""
        registered_routes = {_key(route, "") for route, _ in self.routes}
        for workload in raw["workloads"]:
            namespace = workload.get("namespace", "default")
            objects = export(root / workload["manifest"])
            self.exports[f"{namespace}/{workload['name']}"] = objects
            for obj in objects:
                if obj["kind"] == "Service":
                    self.services.setdefault(_key(obj, namespace), obj["spec"])
                elif obj["kind"] == "HTTPRoute" and _key(obj, namespace) not in registered_routes:
                    self.routes.append(
                        ({**obj, "metadata": {"namespace": namespace, **obj["metadata"]}}, False)
                    )

    def selected(self, namespace: str, selector: dict[str, str] | None) -> list[Pod]:
        if not selector:
            return []
        return [p for p in self.pods if p.namespace == namespace and selector.items() <= p.labels.items()]

    def backends(self, namespace: str, name: str) -> list[Pod]:
        """Where kube-proxy sends a Service's requests: the pods its selector selects (the EndpointSlice
        controller lists them in its own slices) and the ready endpoints of every other EndpointSlice
        labelled with its name; a Service without a selector has only the latter (kubernetes.io docs
        "Services without selectors")."""
        spec = self.services.get((namespace, name)) or {}
        return self.selected(namespace, spec.get("selector")) + self.sliced.get((namespace, name), [])

    def service_share(
        self, namespace: str, spec: dict[str, Any], external: bool, name: str = ""
    ) -> tuple[int, int]:
        """The new share of a Service's requests (`name` adds its EndpointSlices' endpoints). Under a
        Local policy kube-proxy sends requests only to endpoints on the node that received them, and an
        endpoint that names no node is local to none: it gets nothing."""
        pods = self.selected(namespace, spec.get("selector")) + self.sliced.get((namespace, name), [])
        policy = spec.get("externalTrafficPolicy" if external else "internalTrafficPolicy", "Cluster")
        if policy == "Local":
            pods = [p for p in pods if p.on_node]
        new = sum(p.new for p in pods)
        legacy = len(pods) - new
        if policy == "Local" and new and legacy:
            if not external or spec.get("type") == "NodePort":
                return 0, 100
            shares = [
                Fraction(n, n + m)
                for n in range(1, min(new, self.shim_nodes or new) + 1)
                for m in range(1, legacy + 1)
            ]
            return percent(min(shares)), percent(max(shares))
        share = percent(Fraction(new, len(pods))) if pods else 0
        return share, share

    def gateway_share(self, namespace: str, gateway: dict[str, Any]) -> tuple[str, tuple[int, int]] | None:
        hosts = gateway.get("hostnames") or []
        path = gateway.get("pathPrefix", "/")
        entry = f"Gateway {gateway['namespace']}/{gateway['name']} {hosts[0] if hosts else '*'}{path}"
        candidates = []
        for route, registered in self.routes:
            spec = route["spec"]
            attached = any(
                p["name"] == gateway["name"]
                and p.get("namespace", route["metadata"]["namespace"]) == gateway["namespace"]
                for p in spec["parentRefs"]
            )
            serves_host = not spec.get("hostnames") or not hosts or hosts[0] in spec["hostnames"]
            for rule in spec.get("rules") or []:
                for match in rule.get("matches") or [{}]:
                    same_path = (match.get("path") or {}).get("value", "/") == path
                    if attached and serves_host and same_path:
                        candidates.append((registered, route["metadata"]["name"], route, rule))
        if not candidates:
            return None
        _, _, route, rule = min(candidates, key=lambda c: (c[0], c[1]))
        weights = sum(int(b.get("weight", 1)) for b in rule["backendRefs"])
        share = Fraction(0)
        for backend in rule["backendRefs"]:
            pods = self.backends(route["metadata"]["namespace"], backend["name"])
            if pods and weights:
                share += Fraction(int(backend.get("weight", 1)), weights) * Fraction(
                    sum(p.new for p in pods), len(pods)
                )
        return entry, (percent(share), percent(share))

    def unserved(self, namespace: str, gateway: dict[str, Any]) -> Fraction:
        """The share of the requests the winning route sends to a backend Service with no pod (nor ready
        EndpointSlice endpoint): a
        Gateway answers those with an error ("When a HTTPBackendRef refers to a Service that has no ready
        endpoints, implementations SHOULD return a 503", the HTTPRoute CRD in components/assets/crds/)."""
        hosts = gateway.get("hostnames") or []
        path = gateway.get("pathPrefix", "/")
        lost = Fraction(0)
        for route, _ in self.routes:
            spec = route["spec"]
            if not any(p["name"] == gateway["name"] for p in spec["parentRefs"]):
                continue
            if spec.get("hostnames") and hosts and hosts[0] not in spec["hostnames"]:
                continue
            for rule in spec.get("rules") or []:
                paths = {(m.get("path") or {}).get("value", "/") for m in rule.get("matches") or [{}]}
                if path not in paths:
                    continue
                weights = sum(int(b.get("weight", 1)) for b in rule["backendRefs"])
                for backend in rule["backendRefs"]:
                    empty = not self.backends(route["metadata"]["namespace"], backend["name"])
                    if empty and weights:
                        lost += Fraction(int(backend.get("weight", 1)), weights)
        return lost

    def entry_points(self, workload: dict[str, Any]) -> dict[str, tuple[int, int]]:
        namespace = workload.get("namespace", "default")
        found: dict[str, tuple[int, int]] = {}
        if workload.get("gateway"):
            gateway = self.gateway_share(namespace, workload["gateway"])
            if gateway:
                found[gateway[0]] = gateway[1]
        for obj in self.exports[f"{namespace}/{workload['name']}"]:
            if obj["kind"] != "Service":
                continue
            key = _key(obj, namespace)
            spec = self.services[key]
            if spec.get("type") in ("LoadBalancer", "NodePort"):
                found[f"{spec['type']} {key[0]}/{key[1]}"] = self.service_share(namespace, spec, True, key[1])
            found[f"ClusterIP {key[0]}/{key[1]}"] = self.service_share(namespace, spec, False, key[1])
        return found


def reported(outputs: dict[str, Any]) -> dict[str, dict[str, tuple[int, int]]]:
    """The `traffic` output of the MigrationPhase (the stack exports it as is) as (min, max) percent per
    workload and entry point."""
    return {
        workload: {
            entry: (shown["newSharePercent"], shown["newSharePercent"])
            if "newSharePercent" in shown
            else (shown["minSharePercent"], shown["maxSharePercent"])
            for entry, shown in traffic["entryPoints"].items()
        }
        for workload, traffic in outputs["traffic"].items()
    }
