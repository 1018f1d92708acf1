"""The shim component: installer namespace, script, DaemonSet and the RuntimeClass pods select."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypedDict

import pulumi

from components.desired.spec import ResourceSpec
from components.registration import register_kubernetes


class ShimArgs(TypedDict):
    specs: tuple[ResourceSpec, ...]
    registered: MutableMapping[str, pulumi.Resource]


class Shim(pulumi.ComponentResource):
    def __init__(self, name: str, args: ShimArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("aks-wasm-migration:index:Shim", name, None, opts)
        registered = args["registered"]
        outputs = {}
        for spec in args["specs"]:
            registered[spec.name] = register_kubernetes(spec, self, registered)
            outputs[spec.inputs["kind"]] = spec.inputs["metadata"]["name"]
        self.register_outputs(
            {
                "namespace": outputs["Namespace"],
                "daemonSet": outputs["DaemonSet"],
                "runtimeClass": outputs["RuntimeClass"],
            }
        )
