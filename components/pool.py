"""Agent pool components: the adopted legacy WASI pool and the OCIContainer target pools."""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import TypedDict

import pulumi
import pulumi_azure_native as azure_native

from components.desired import LEGACY_POOL_TYPE, TARGET_POOL_TYPE
from components.desired.spec import ResourceSpec
from components.registration import options_for, snake_case

# Wire names whose Python argument is not the plain snake_case form.
_ARGUMENT_NAMES = {"resourceName": "resource_name_", "osSKU": "os_sku"}


class PoolArgs(TypedDict):
    spec: ResourceSpec
    registered: MutableMapping[str, pulumi.Resource]


def _agent_pool(
    spec: ResourceSpec, parent: pulumi.Resource, registered: MutableMapping[str, pulumi.Resource]
) -> azure_native.containerservice.AgentPool:
    arguments = {_ARGUMENT_NAMES.get(key, snake_case(key)): value for key, value in spec.inputs.items()}
    pool = azure_native.containerservice.AgentPool(
        spec.name, opts=options_for(spec, parent, registered), **arguments
    )
    registered[spec.name] = pool
    return pool


class LegacyPool(pulumi.ComponentResource):
    """The retired WASI pool, imported as AKS holds it and protected until decommission."""

    def __init__(self, name: str, args: PoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(LEGACY_POOL_TYPE, name, None, opts)
        self.pool = _agent_pool(args["spec"], self, args["registered"])
        self.register_outputs({"poolName": self.pool.name})


class TargetPool(pulumi.ComponentResource):
    """A standard OCIContainer pool whose every node carries the shim selection label."""

    def __init__(self, name: str, args: PoolArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TARGET_POOL_TYPE, name, None, opts)
        self.pool = _agent_pool(args["spec"], self, args["registered"])
        self.register_outputs({"poolName": self.pool.name})
