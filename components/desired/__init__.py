"""Config in, desired state out: pure functions with no Pulumi calls, shared by the Pulumi program
and the offline `migrate` tool so both always agree."""

from __future__ import annotations

from components.config import Phase
from components.desired.pools import legacy_pool_spec, target_pool_spec
from components.desired.shim import shim_specs
from components.desired.spec import DesiredState, ResourceSpec
from components.desired.workloads import workload_specs
from components.migration import Migration


def build_desired_state(migration: Migration) -> DesiredState:
    """Every resource the phase keeps, in registration order: pools, shim, then workloads."""
    config = migration.config
    phase = config.phase
    resources: list[ResourceSpec] = []
    if phase is not Phase.DECOMMISSION:
        resources.append(legacy_pool_spec(config))
    if phase.at_least(Phase.PREPARE):
        resources.extend(target_pool_spec(config, pool) for pool in config.target_pools)
        resources.extend(shim_specs(config))
    traffic = []
    for legacy in migration.workloads:
        specs, share = workload_specs(config, legacy)
        resources.extend(specs)
        traffic.append(share)
    return DesiredState(phase.value, tuple(resources), tuple(traffic))
