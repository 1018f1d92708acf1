"""SpinShim: containerd-shim-spin installed on the Wasm pools' nodes by a DaemonSet, and its
RuntimeClass."""

import pulumi

from components.core import identifiers
from components.core.config import _label_key, shim_namespace
from components.core.kubernetes import AKS_WASI_RUNTIME_CLASSES
from components.desired import SHIM_TYPE
from components.desired.shim import (
    SpinShimArgs,
    handler_of,
    namespace_of,
    runtime_class_of,
    shim_resource_names,
    shim_specs,
)
from components.registration import SpecComponent, check_arg

__all__ = ["SpinShim", "SpinShimArgs"]


def _not_aks_managed(value: str) -> None:
    identifiers.dns1123_label(value)
    if value in AKS_WASI_RUNTIME_CLASSES or value.startswith(("wasmtime-spin-", "wasmtime-slight-")):
        raise ValueError("collides with the AKS-managed WASI RuntimeClasses (wasmtime-*); use e.g. wasm-spin")


class SpinShim(SpecComponent):
    """A privileged installer DaemonSet in its own namespace (the only privileged one) edits each
    selected node's containerd config and reinstalls after reimages; the RuntimeClass schedules Wasm
    pods onto exactly those nodes."""

    TYPE = SHIM_TYPE

    runtime_class_name: pulumi.Output[str]
    """Set as runtimeClassName on Wasm pods; resolves once the installer has rolled out."""
    node_selector: pulumi.Output[dict[str, str]]
    tolerations: pulumi.Output[list[dict[str, str]]]
    namespace: pulumi.Output[str]

    def __init__(self, name: str, args: SpinShimArgs, opts: pulumi.ResourceOptions | None = None):
        problems: list[str] = []
        check_arg(problems, "namespace", namespace_of(args), shim_namespace)
        check_arg(problems, "runtime_class_name", runtime_class_of(args), _not_aks_managed)
        check_arg(problems, "handler", handler_of(args), identifiers.dns1123_label)
        selector = args.get("node_selector") or {}
        if not selector:
            problems.append("node_selector: name the label the Wasm pools put on their nodes")
        for key, value in selector.items():
            check_arg(problems, f"node_selector[{key!r}]", key, _label_key)
            check_arg(problems, f"node_selector[{key!r}]", value, identifiers.label_value)
        self._register(name, args, opts, shim_specs, problems)
        names = shim_resource_names(name)
        runtime_class = self.resources[names["runtime_class"]]
        self.runtime_class_name = self.after(runtime_class, runtime_class_of(args))
        self.node_selector = self.after(runtime_class, dict(selector))
        self.tolerations = self.after(runtime_class, [dict(t) for t in args.get("tolerations") or []])
        self.namespace = self.after(self.resources[names["namespace"]], namespace_of(args))
        self.register_outputs(
            {
                "runtimeClassName": self.runtime_class_name,
                "nodeSelector": self.node_selector,
                "tolerations": self.tolerations,
                "namespace": self.namespace,
            }
        )
