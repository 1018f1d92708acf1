"""LegacyWasiPool: the retired WasmWasi pool, adopted read-only until decommission deletes it."""

import pulumi

from components.core import identifiers
from components.desired import LEGACY_POOL_TYPE
from components.desired.pools import LegacyWasiPoolArgs, legacy_pool_specs
from components.registration import SpecComponent, check_arg

__all__ = ["LegacyWasiPool", "LegacyWasiPoolArgs"]


class LegacyWasiPool(SpecComponent):
    """Imported by its ARM id, protected, and never updated (ignore_changes `*`): every property stays
    as AKS holds it. Removing it from a program deletes the pool, after `pulumi state unprotect`."""

    TYPE = LEGACY_POOL_TYPE

    pool_name: pulumi.Output[str]

    def __init__(self, name: str, args: LegacyWasiPoolArgs, opts: pulumi.ResourceOptions | None = None):
        problems: list[str] = []
        check_arg(problems, "pool_name", args.get("pool_name", ""), identifiers.aks_pool_name)
        self._register(name, args, opts, legacy_pool_specs, problems)
        self.pool_name = self.after(self.resources[name], args["pool_name"])
        self.register_outputs({"poolName": self.pool_name})
