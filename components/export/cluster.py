"""The cluster-level export `migrate init` writes (`cluster.export`): every RuntimeClass, the WASI pools'
Nodes and the Pods on them that are not a migrated workload's. What the planner needs to know about the
cluster beyond its workloads: whether the migration's RuntimeClass name is taken (KWasm and SpinKube's
runtime-class-manager ship `wasm-spin`), and what else deleting the WASI pools would take with them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from components.core.config import MigrationConfig, problem
from components.core.inputs import (
    ECHO_CHARS,
    Project,
    UnsafeInput,
    escape,
    load_yaml_documents,
    read_project_file,
)
from components.export import facts
from components.export.aks import AksFacts
from components.export.guardrails import Guardrail
from components.export.schemas import schema_problems, supported_version

# What init writes there: the controllers above the other pods too, so each is named as init names it.
READ_KINDS = frozenset(
    {"RuntimeClass", "Node", "Pod", "ReplicaSet", "Deployment", "StatefulSet", "Job", "Namespace"}
)
MAX_LINES = 20
# How the metrics add-ons call themselves: AKS's metrics-server (k8s-app), the upstream charts'
# app.kubernetes.io/name (metrics-server, kube-state-metrics, also kube-prometheus-stack's), Azure
# Monitor managed Prometheus's ama-metrics-ksm; the cluster file keeps their Deployments.
METRICS_SERVER = ("metrics-server",)
KUBE_STATE_METRICS = ("kube-state-metrics", "ama-metrics-ksm")


def addon_deployments(objects: Iterable[Mapping[str, Any]], names: Iterable[str]) -> list[Mapping[str, Any]]:
    """The Deployments among `objects` called one of `names` by name or by their standard labels."""
    wanted = set(names)
    found = []
    for obj in objects:
        metadata = obj.get("metadata") or {}
        labels = metadata.get("labels") or {}
        called = {metadata.get("name"), labels.get("app.kubernetes.io/name"), labels.get("k8s-app")}
        if obj.get("kind") == "Deployment" and called & wanted:
            found.append(obj)
    return found


@dataclass(frozen=True)
class OtherPod:
    """A pod on a WASI pool that no migrated workload owns: deleting the pool deletes it."""

    namespace: str
    name: str
    owner: str  # `<namespace>/<name>` of what runs it: its Deployment, other controller, or itself
    owner_kind: str
    node: str

    @property
    def key(self) -> str:
        return self.owner


# The CRDs the preflight reads (the Gateway API's), and what init keeps of each: not the schemas, which
# make a CRD export megabytes long.
CRD_GROUPS = frozenset({"gateway.networking.k8s.io"})


class CrdInputError(ValueError):
    """A CRD export that is not a kubectl List of CustomResourceDefinitions; one line naming the file."""


def read_crds(text: str, source: str) -> tuple[dict[str, Any], ...]:
    """The CRDs of CRD_GROUPS in `kubectl get customresourcedefinitions -o yaml`, trimmed to what the
    preflight reads: name, annotations, group and each version's name and served flag."""
    try:
        documents = [d for d in load_yaml_documents(text) if d]
    except UnsafeInput as error:
        raise CrdInputError(f"{source}: {error}") from None
    items: list[Any] = []
    for document in documents:
        items.extend(
            document.get("items") or []
            if isinstance(document, dict) and document.get("kind") == "List"
            else [document]
        )
    if not all(
        isinstance(i, dict)
        and i.get("kind") == "CustomResourceDefinition"
        and isinstance(i.get("metadata"), dict)
        for i in items
    ):
        raise CrdInputError(
            f"{source}: not the output of `kubectl get customresourcedefinitions -o yaml` "
            "(a List of CustomResourceDefinitions)"
        )
    return tuple(_trimmed_crd(i) for i in items if (i.get("spec") or {}).get("group") in CRD_GROUPS)


def _is_crd(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and item.get("kind") == "CustomResourceDefinition"
        and isinstance(item.get("metadata"), dict)
        and isinstance(item.get("spec") or {}, dict)
    )


def _trimmed_crd(crd: dict[str, Any]) -> dict[str, Any]:
    metadata = crd["metadata"]
    spec = crd.get("spec") or {}
    kept_metadata = {"name": metadata.get("name")}
    if metadata.get("annotations"):
        kept_metadata["annotations"] = {
            k: v for k, v in metadata["annotations"].items() if k.startswith("gateway.networking.k8s.io/")
        }
    return {
        "apiVersion": crd.get("apiVersion", "apiextensions.k8s.io/v1"),
        "kind": "CustomResourceDefinition",
        "metadata": kept_metadata,
        "spec": {
            "group": spec.get("group"),
            "names": spec.get("names"),
            "scope": spec.get("scope"),
            "versions": [
                {"name": v.get("name"), "served": bool(v.get("served")), "storage": bool(v.get("storage"))}
                for v in spec.get("versions") or ()
                if isinstance(v, dict)
            ],
        },
    }


@dataclass(frozen=True)
class ClusterReads:
    """What the optional Azure and CRD exports say (cluster.aks, cluster.policyAssignments,
    cluster.crds): None or empty where the stack names no such export."""

    aks: AksFacts | None = None
    guardrails: tuple[Guardrail, ...] = ()
    policy_assignments: bool = False
    crds: tuple[dict[str, Any], ...] | None = None


@dataclass(frozen=True)
class ClusterExport:
    objects: tuple[dict[str, Any], ...]

    def runtime_class(self, name: str) -> dict[str, Any] | None:
        return next(
            (
                o
                for o in self.objects
                if o.get("kind") == "RuntimeClass" and o["metadata"].get("name") == name
            ),
            None,
        )

    def other_pods(self, config: MigrationConfig) -> list[OtherPod]:
        """Pods on a node of a WASI pool of the config that are neither a migrated workload's nor a
        DaemonSet's (those run on every node and follow it), each named by the top of its controller
        chain as far as the export holds it (a ReplicaSet's Deployment, a Job's CronJob, or the Pod)."""
        pools = {pool.name for pool in config.legacy_pools}
        nodes = [
            facts.name_of(o) for o in self.objects if o.get("kind") == "Node" and facts.node_pool(o) in pools
        ]
        migrated = {workload.key for workload in config.workloads}
        found = []
        for pod in facts.pods_on_nodes(self.objects, nodes):
            namespace = facts.namespace_of(pod.pod) or "default"
            kind, owner = pod.chain[-1] if pod.chain else ("Pod", facts.name_of(pod.pod))
            if pod.daemon_set or (kind == "Deployment" and f"{namespace}/{owner}" in migrated):
                continue
            found.append(OtherPod(namespace, facts.name_of(pod.pod), f"{namespace}/{owner}", kind, pod.node))
        return found


def load_cluster_export(config: MigrationConfig, base_dir: Project) -> tuple[ClusterExport | None, list[str]]:
    """Read `cluster.export`, the objects it holds checked against their strict schemas."""
    relative = config.cluster.export
    if relative is None:
        return None, []
    key = "cluster.export"
    try:
        documents = [d for d in load_yaml_documents(read_project_file(base_dir, relative)) if d]
    except UnsafeInput as error:
        return None, [problem(key, relative, str(error))]
    items: list[dict[str, Any]] = []
    for document in documents:
        found = (
            document.get("items")
            if isinstance(document, dict) and document.get("kind") == "List"
            else [document]
        )
        if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
            return None, [problem(key, relative, "must hold Kubernetes objects (a kubectl List)")]
        items.extend(found)
    version = supported_version(config.cluster.kubernetes_version)
    objects = [item for item in items if item.get("kind") in READ_KINDS]
    invalid = [line for obj in objects for line in schema_problems(obj, version)]
    if invalid:
        lines = [escape(line) for line in invalid[:MAX_LINES]]
        return None, [problem(key, relative, line) for line in lines]
    return ClusterExport(tuple(objects)), []


def runtime_class_problems(
    config: MigrationConfig, cluster: ClusterExport | None, wanted: Mapping[str, Any]
) -> list[str]:
    """The migration's RuntimeClass name must be free, or (adoptExisting.runtimeClass) the existing class
    must be exactly the one the migration needs: adopting is read-only, so a class that schedules
    elsewhere would put the new pods there, and changing it would break its other users (KWasm,
    runtime-class-manager)."""
    shim = config.shim
    name = shim.runtime_class_name
    if cluster is None:
        if shim.adopt_existing.runtime_class:
            return [
                problem(
                    "shim.adoptExisting.runtimeClass",
                    True,
                    f"adopting RuntimeClass {name} read-only needs cluster.export (from `migrate init`) to "
                    "check that it is the one the migration needs",
                )
            ]
        return []
    existing = cluster.runtime_class(name)
    if existing is None:
        if shim.adopt_existing.runtime_class:
            return [
                problem(
                    "shim.adoptExisting.runtimeClass",
                    True,
                    f"no RuntimeClass {name} in cluster.export to adopt",
                )
            ]
        return []
    has = {"handler": existing.get("handler"), "scheduling": existing.get("scheduling") or {}}
    needs = {"handler": wanted.get("handler"), "scheduling": wanted.get("scheduling") or {}}
    if shim.adopt_existing.runtime_class and has == needs:
        return []
    shown = escape(f"handler {has['handler']}, scheduling {has['scheduling']}", ECHO_CHARS * 2)
    if shim.adopt_existing.runtime_class:
        why = (
            f"exists with {shown}, not the migration's; adopting it read-only would run the new pods where "
            "it schedules"
        )
    else:
        why = (
            f"already exists ({shown}), e.g. from KWasm or runtime-class-manager, whose apps use it: "
            "creating it fails and changing it would break them"
        )
    return [
        problem(
            "shim.runtimeClassName",
            name,
            f"{why}; choose another name such as {name}-migration (both can run side by side)",
        )
    ]
