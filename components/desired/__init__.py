"""Config in, desired state out: pure functions with no Pulumi calls, shared by the Pulumi program
and the offline `migrate` tool so both always agree."""

from __future__ import annotations

from components.config import PROJECT, Phase
from components.desired.alerts import ALERTS_COMPONENT, alert_specs
from components.desired.pools import LEGACY_POOL_COMPONENT, legacy_pool_spec, target_pool_spec
from components.desired.shim import SHIM_COMPONENT, shim_specs
from components.desired.spec import DesiredState, ResourceSpec, in_dependency_order
from components.desired.verification import gate_cutover, verification_shared_specs, verification_specs
from components.desired.workloads import workload_specs
from components.migration import Migration

PHASE_TYPE = f"{PROJECT}:index:MigrationPhase"
LEGACY_POOL_TYPE = f"{PROJECT}:index:LegacyPool"
TARGET_POOL_TYPE = f"{PROJECT}:index:TargetPool"
SHIM_TYPE = f"{PROJECT}:index:Shim"
WORKLOAD_TYPE = f"{PROJECT}:index:Workload"
ALERTS_TYPE = f"{PROJECT}:index:Alerts"


def component_type(component: str) -> str:
    """The Pulumi component type that owns a spec's `component`; it is part of every URN."""
    if component == LEGACY_POOL_COMPONENT:
        return LEGACY_POOL_TYPE
    if component.startswith("target-pool-"):
        return TARGET_POOL_TYPE
    if component == SHIM_COMPONENT:
        return SHIM_TYPE
    if component == ALERTS_COMPONENT:
        return ALERTS_TYPE
    return WORKLOAD_TYPE


def build_desired_state(migration: Migration) -> DesiredState:
    """Every resource the phase keeps, in registration order: pools, shim, then workloads (each with
    its verification, which in `cutover` gates the workload's legacy and traffic changes), then alerts."""
    config = migration.config
    phase = config.phase
    resources: list[ResourceSpec] = []
    if phase is not Phase.DECOMMISSION:
        resources.append(legacy_pool_spec(config))
    if phase.at_least(Phase.PREPARE):
        resources.extend(target_pool_spec(config, pool) for pool in config.target_pools)
        resources.extend(shim_specs(config))
    traffic = []
    resources.extend(verification_shared_specs(config, migration.workloads))
    for legacy in migration.workloads:
        specs, share = workload_specs(config, legacy)
        checks = verification_specs(config, legacy, specs)
        resources.extend(in_dependency_order(gate_cutover(config, legacy, specs) + checks))
        traffic.append(share)
    resources.extend(alert_specs(config))
    return DesiredState(phase.value, tuple(resources), tuple(traffic))
