"""WasmNodePool: an OCIContainer agent pool on an existing AKS cluster for containerd-shim-spin."""

import pulumi

from components.core import identifiers
from components.core.config import _label_key
from components.desired import WASM_POOL_TYPE
from components.desired.pools import (
    DEFAULT_SHIM_LABEL,
    OCI_CONTAINER,
    WasmNodePoolArgs,
    pool_node_labels,
    wasm_node_pool_specs,
)
from components.registration import SpecComponent, check_arg

__all__ = ["WasmNodePool", "WasmNodePoolArgs"]


def _oci_container(value: str) -> None:
    if value != OCI_CONTAINER:
        raise ValueError("must be OCIContainer: WasmWasi pools are retired; Wasm runs through the shim")


class WasmNodePool(SpecComponent):
    """A user node pool whose every node, including autoscaled and reimaged ones, carries the shim
    selection label (set on the pool, so AKS applies it) and the pool's taints."""

    TYPE = WASM_POOL_TYPE

    pool_name: pulumi.Output[str]
    """The agent pool's name, once it exists."""
    node_selector: pulumi.Output[dict[str, str]]
    """The shim selection label as a node selector, for SpinShim."""
    node_labels: pulumi.Output[dict[str, str]]
    node_taints: pulumi.Output[list[str]]

    def __init__(self, name: str, args: WasmNodePoolArgs, opts: pulumi.ResourceOptions | None = None):
        problems: list[str] = []
        check_arg(problems, "pool_name", args.get("pool_name", ""), identifiers.aks_pool_name)
        check_arg(problems, "workload_runtime", args.get("workload_runtime", OCI_CONTAINER), _oci_container)
        label = args.get("shim_label") or DEFAULT_SHIM_LABEL
        check_arg(problems, "shim_label.key", label["key"], _label_key)
        check_arg(problems, "shim_label.value", label["value"], identifiers.label_value)
        if ("min_count" in args) != ("max_count" in args):
            problems.append("min_count, max_count: give both to turn the autoscaler on, or neither")
        self._register(name, args, opts, wasm_node_pool_specs, problems)
        pool = self.resources[name]
        self.pool_name = self.after(pool, args["pool_name"])
        self.node_selector = self.after(pool, {label["key"]: label["value"]})
        self.node_labels = self.after(pool, pool_node_labels(args))
        self.node_taints = self.after(pool, list(args.get("node_taints") or []))
        self.register_outputs(
            {
                "poolName": self.pool_name,
                "nodeSelector": self.node_selector,
                "nodeLabels": self.node_labels,
                "nodeTaints": self.node_taints,
            }
        )
