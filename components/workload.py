"""One workload's objects in a phase: the adopted legacy Deployment and Service, and the new side."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypedDict

import pulumi

from components.desired import WORKLOAD_TYPE
from components.desired.spec import ResourceSpec
from components.registration import register_all_kubernetes


class WorkloadArgs(TypedDict):
    specs: tuple[ResourceSpec, ...]
    registered: MutableMapping[str, pulumi.Resource]


class Workload(pulumi.ComponentResource):
    def __init__(self, name: str, args: WorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(WORKLOAD_TYPE, name, None, opts)
        register_all_kubernetes(args["specs"], self, args["registered"])
        self.register_outputs({"objects": [spec.label for spec in args["specs"]]})
