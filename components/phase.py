"""The top-level component: one migration phase of one cluster, and the program entry point."""

from __future__ import annotations

import base64
from typing import TypedDict

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s

from components.alerts import Alerts
from components.config import CONFIG_KEYS, ConfigError, MigrationConfig
from components.desired import (
    ALERTS_TYPE,
    LEGACY_POOL_TYPE,
    PHASE_TYPE,
    SHIM_TYPE,
    TARGET_POOL_TYPE,
    build_desired_state,
    component_type,
)
from components.migration import Migration, load_migration, raw_config_from_engine
from components.pool import LegacyPool, TargetPool
from components.shim import Shim
from components.workload import Workload


def cluster_kubeconfig(config: MigrationConfig) -> pulumi.Output[str]:
    """The explicit kubeconfig when given, else the cluster's user credentials; always a secret.
    Cluster name and resource group are plain config, so previews know the provider and do not
    plan every Kubernetes object as a replace."""
    cluster = config.cluster
    if cluster.kubeconfig is not None:
        return pulumi.Output.secret(cluster.kubeconfig.get_secret_value())
    credentials = azure_native.containerservice.list_managed_cluster_user_credentials_output(
        resource_group_name=cluster.resource_group,
        resource_name=cluster.name,
        format=cluster.credential_format,
    )
    return pulumi.Output.secret(
        credentials.kubeconfigs[0].value.apply(lambda encoded: base64.b64decode(encoded).decode())
    )


class MigrationPhaseArgs(TypedDict):
    migration: Migration


class MigrationPhase(pulumi.ComponentResource):
    """Registers exactly the desired state of the configured phase; see components.desired."""

    def __init__(self, name: str, args: MigrationPhaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(PHASE_TYPE, name, None, opts)
        config = args["migration"].config
        state = build_desired_state(args["migration"])
        provider = k8s.Provider(
            "cluster", kubeconfig=cluster_kubeconfig(config), opts=pulumi.ResourceOptions(parent=self)
        )
        in_cluster = pulumi.ResourceOptions(parent=self, providers={"kubernetes": provider})
        registered: dict[str, pulumi.Resource] = {}
        pools = pulumi.ResourceOptions(parent=self)
        for component in state.components():
            specs = state.for_component(component)
            kind = component_type(component)
            if kind == LEGACY_POOL_TYPE:
                LegacyPool(component, {"spec": specs[0], "registered": registered}, pools)
            elif kind == TARGET_POOL_TYPE:
                TargetPool(component, {"spec": specs[0], "registered": registered}, pools)
            elif kind == SHIM_TYPE:
                Shim(component, {"specs": specs, "registered": registered}, in_cluster)
            elif kind == ALERTS_TYPE:  # Azure rule groups ignore the Kubernetes provider
                Alerts(component, {"specs": specs, "registered": registered}, in_cluster)
            else:
                Workload(component, {"specs": specs, "registered": registered}, in_cluster)
        self.phase = state.phase
        self.traffic = {
            t.workload: {
                "legacyReplicas": t.legacy_replicas,
                "newReplicas": t.new_replicas,
                "newSharePercent": t.new_share_percent,
            }
            for t in state.traffic
        }
        self.register_outputs({"phase": self.phase, "traffic": self.traffic})


def program() -> MigrationPhase:
    """Validate the whole stack config first; on any problem stop cleanly, with nothing registered."""
    try:
        migration = load_migration(raw_config_from_engine(CONFIG_KEYS))
    except ConfigError as error:
        lines = "\n".join(f"  - {line}" for line in error.problems)
        raise pulumi.RunError(f"invalid stack configuration, nothing was changed:\n{lines}") from None
    phase = MigrationPhase("migration", {"migration": migration})
    # `pulumi stack output` tells an operator which phase the stack is in and how traffic is shared.
    pulumi.export("phase", phase.phase)
    pulumi.export("traffic", phase.traffic)
    return phase
