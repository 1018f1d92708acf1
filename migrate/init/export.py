"""Reading the cluster's export, `kubectl get ... -A -o yaml`: the items of the List, and in kubectl's
layout only those that can matter to init, chosen in passes (migrate/init/kubectl_list.py cuts the
items out by lines; what no pass selects is never parsed)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from components.core import kubernetes
from components.core.inputs import UnsafeInput, load_yaml_documents
from components.export import facts
from components.export.cluster import KUBE_STATE_METRICS, METRICS_SERVER
from migrate.init.detect import KRUSTLET_ARCHES, WORKLOAD_KINDS, wasm_runtime_classes
from migrate.init.errors import InventoryError
from migrate.init.kubectl_list import ExportedObject, ItemText, Pass, read_selected
from migrate.init.node_pools import WasiPool

ITEMS_MESSAGE = "a kubectl List needs `items`, each an object with kind and metadata"
EXPORT_COMMAND = "the `kubectl get $(kubectl api-resources ...) -A -o yaml` of docs/real-clusters.md"
# Kinds read in the namespaces of the Wasm Deployments: what selects, scales or routes to them.
NEIGHBOUR_KINDS = frozenset(
    {
        "HorizontalPodAutoscaler",
        "PodDisruptionBudget",
        "Ingress",
        "HTTPRoute",
        "ScaledObject",
        "NetworkPolicy",
        "ServiceMonitor",
        "PodMonitor",
    }
)
_LABEL_TOKEN = re.compile(r"[A-Za-z0-9][-A-Za-z0-9_.]*")


def read_export(text: str, source: str, pools: list[WasiPool] | None = None) -> list[dict[str, Any]]:
    """The items of a `kubectl get ... -A -o yaml` List. Given the WASI pools and kubectl's layout, only
    what the inventory can use is parsed (migrate/init/kubectl_list.py, `_passes`); the rest is cut out
    by lines and never parsed, so a syntax error inside an object that cannot matter goes unnoticed."""
    try:
        documents = _documents(text, pools)
    except UnsafeInput as error:
        raise InventoryError(f"{source}: {error}") from None
    except ValueError:
        raise InventoryError(f"{source}: {ITEMS_MESSAGE}") from None
    document = documents[0] if len(documents) == 1 else None
    if not isinstance(document, dict) or document.get("kind") != "List":
        raise InventoryError(f"{source}: not a kubectl List; produce it with {EXPORT_COMMAND}")
    items = document.get("items")
    if not isinstance(items, list) or not all(
        isinstance(item, dict)
        and isinstance(item.get("kind"), str)
        and isinstance(item.get("metadata"), dict)
        for item in items
    ):
        raise InventoryError(f"{source}: {ITEMS_MESSAGE}")
    return items


def _documents(text: str, pools: list[WasiPool] | None) -> list[Any]:
    """The export's YAML documents: the List with the selected items in kubectl's layout (given the
    pools), else every document parsed whole."""
    selected = read_selected(text, _passes(pools)) if pools is not None else None
    if selected is not None:
        envelope, parsed = selected
        return [{**envelope, "items": parsed}]
    return [d for d in load_yaml_documents(text) if d is not None]


def _passes(pools: list[WasiPool] | None) -> list[Pass]:
    """What is parsed, in passes that each see what the earlier ones parsed:

    1. every RuntimeClass and Namespace, the Nodes whose text names a WASI pool, the Deployments whose
       text names a metrics add-on (the preflight's), and items of unknown kind;
    2. workloads whose text names a Wasm RuntimeClass, a wasmtime-* label, a WASI pool or a Krustlet
       arch (every signal `wasm_signals` looks for), owned Pods and Jobs left out;
    3. Pods bound to a WASI pool's Node;
    4. in the namespaces of the Deployments found: the Namespace itself, every object of a kind that
       selects, scales or routes (NEIGHBOUR_KINDS), the Services whose text holds a pod label value of
       those Deployments, and everything a Deployment found owns;
    5. and 6. the controllers of what was parsed (a Pod's ReplicaSet, then its Deployment), for the
       controller chains of the pods on WASI nodes."""
    names = {pool.name for pool in pools or []}
    addons = METRICS_SERVER + KUBE_STATE_METRICS

    def cluster(_: list[ExportedObject]) -> Callable[[ItemText], bool]:
        return lambda item: (
            item.kind is None
            or item.kind in ("RuntimeClass", "Namespace")
            or (item.kind == "Node" and any(name in item.text for name in names))
            or (item.kind == "Deployment" and any(name in item.text for name in addons))
        )

    def workloads(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        hints = (kubernetes.WASMTIME_CLASS_PREFIX, *KRUSTLET_ARCHES, *wasm_runtime_classes(parsed), *names)
        return lambda item: (
            item.kind in WORKLOAD_KINDS
            and not (item.kind in ("Pod", "Job") and item.owned)
            and any(hint in item.text for hint in hints)
        )

    def on_wasi_nodes(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
        nodes = {facts.name_of(o) for o in parsed if o.get("kind") == "Node" and facts.node_pool(o) in names}
        return lambda item: item.kind == "Pod" and item.node_name in nodes

    return [cluster, workloads, on_wasi_nodes, _neighbours, _controllers, _controllers]


def _neighbours(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
    """Pass 4: what is in the namespaces of the Deployments parsed and may select, scale, route to or
    belong to them."""
    deployments = [o for o in parsed if o.get("kind") == "Deployment"]
    namespaces = {facts.namespace_of(o) for o in deployments}
    owners = {(facts.namespace_of(o), facts.name_of(o)) for o in deployments}
    values = {value for o in deployments for value in facts.template_labels(o).values()}

    def wanted(item: ItemText) -> bool:
        if item.kind == "Namespace":
            return item.name in namespaces
        if item.namespace not in namespaces:
            return False
        if item.kind in NEIGHBOUR_KINDS:
            return True
        if item.kind == "Service" and not values.isdisjoint(_LABEL_TOKEN.findall(item.text)):
            return True
        return any(kind == "Deployment" and (item.namespace, name) in owners for kind, name in item.owners)

    return wanted


def _controllers(parsed: list[ExportedObject]) -> Callable[[ItemText], bool]:
    """Passes 5 and 6: the controllers of what was parsed."""
    wanted = {
        (controller[0], facts.namespace_of(o), controller[1])
        for o in parsed
        if (controller := facts.controller_of(o)) is not None
    }
    return lambda item: (item.kind, item.namespace, item.name) in wanted
