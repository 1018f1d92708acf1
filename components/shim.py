"""The shim component: installer namespace, script, DaemonSet and the RuntimeClass pods select."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypedDict

import pulumi

from components.desired import SHIM_TYPE
from components.desired.spec import ResourceSpec
from components.registration import register_all_kubernetes


class ShimArgs(TypedDict):
    specs: tuple[ResourceSpec, ...]
    registered: MutableMapping[str, pulumi.Resource]


class Shim(pulumi.ComponentResource):
    def __init__(self, name: str, args: ShimArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(SHIM_TYPE, name, None, opts)
        register_all_kubernetes(args["specs"], self, args["registered"])
        names = {spec.inputs["kind"]: spec.inputs["metadata"]["name"] for spec in args["specs"]}
        self.register_outputs(
            {
                "namespace": names["Namespace"],
                "daemonSet": names["DaemonSet"],
                "runtimeClass": names["RuntimeClass"],
            }
        )
