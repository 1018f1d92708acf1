"""MigrationPhase: one migration phase of one cluster, composed of the public components, and the
program entry point that validates the stack config before anything is registered."""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, TypedDict

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s

from components.aci_workload import AciWorkload
from components.alerts import MigrationAlerts
from components.analysis.traffic import with_entry_points
from components.core.config import CONFIG_KEYS, ConfigError, MigrationConfig
from components.desired import (
    ACI_WORKLOAD_TYPE,
    ADMISSION_POLICY_TYPE,
    ALERTS_TYPE,
    LEGACY_POOL_TYPE,
    LEGACY_WORKLOAD_TYPE,
    PHASE_TYPE,
    SHIM_TYPE,
    STOP_GATE_TYPE,
    TRAFFIC_SPLIT_TYPE,
    VERIFICATION_SCRIPTS_TYPE,
    VERIFICATION_TYPE,
    WASM_POOL_TYPE,
    WASM_WORKLOAD_TYPE,
    UnknownComponentError,
    phase_components,
)
from components.desired.pools import managed_cluster_id
from components.desired.spec import ResourceSpec, WorkloadTraffic
from components.export.migration import Migration
from components.legacy_admission_policy import LegacyAdmissionPolicy
from components.legacy_wasi_pool import LegacyWasiPool
from components.legacy_workload import LegacyWorkload
from components.loading import load_migration, raw_config_from_engine
from components.registration import SpecComponent
from components.spin_shim import SpinShim
from components.stop_gate import StopGate
from components.traffic_split import TrafficSplit
from components.verification_scripts import VerificationScripts
from components.wasm_node_pool import WasmNodePool
from components.wasm_workload import WasmWorkload
from components.workload_verification import WorkloadVerification

# The twin of components.desired.BUILDERS: component type to the class that registers it.
COMPONENT_CLASSES: dict[str, Callable[[str, Any, pulumi.ResourceOptions], SpecComponent]] = {
    LEGACY_POOL_TYPE: LegacyWasiPool,
    WASM_POOL_TYPE: WasmNodePool,
    SHIM_TYPE: SpinShim,
    WASM_WORKLOAD_TYPE: WasmWorkload,
    ACI_WORKLOAD_TYPE: AciWorkload,
    LEGACY_WORKLOAD_TYPE: LegacyWorkload,
    TRAFFIC_SPLIT_TYPE: TrafficSplit,
    VERIFICATION_TYPE: WorkloadVerification,
    VERIFICATION_SCRIPTS_TYPE: VerificationScripts,
    ALERTS_TYPE: MigrationAlerts,
    STOP_GATE_TYPE: StopGate,
    ADMISSION_POLICY_TYPE: LegacyAdmissionPolicy,
}


def azure_provider(config: MigrationConfig, parent: pulumi.Resource) -> azure_native.Provider:
    """Every Azure resource and invoke goes through this provider: azure-native takes the subscription
    for creates, updates and invokes from its provider configuration, never from an import id, so the
    ambient `az` account could otherwise put pools and credentials in another subscription. Adding it
    to an existing stack replaces nothing (azure-native DiffConfig reports no diff)."""
    return azure_native.Provider(
        "azure",
        subscription_id=config.cluster.subscription_id,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def cluster_kubeconfig(config: MigrationConfig, azure: azure_native.Provider) -> pulumi.Output[str]:
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
        opts=pulumi.InvokeOutputOptions(provider=azure),
    )
    return pulumi.Output.secret(
        credentials.kubeconfigs[0].value.apply(lambda encoded: base64.b64decode(encoded).decode())
    )


def kubernetes_provider(
    config: MigrationConfig, azure: azure_native.Provider, parent: pulumi.Resource
) -> k8s.Provider:
    """`cluster_identifier` is the AKS resource id: without it the provider, and with it every
    Kubernetes object, is replaced whenever the kubeconfig's cluster block changes (CA rotation, a new
    API server address; pulumi-kubernetes provider.go DiffConfig, #1148)."""
    return k8s.Provider(
        "cluster",
        kubeconfig=cluster_kubeconfig(config, azure),
        cluster_identifier=managed_cluster_id(
            config.cluster.subscription_id, config.cluster.resource_group, config.cluster.name
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def traffic_output(traffic: WorkloadTraffic) -> dict[str, Any]:
    """One workload's `traffic` stack output: replicas, the share the phase asks for, and per entry
    point the share of its requests that reaches new pods (a min and max when it depends on how pods
    are spread over nodes), with the reasons when it differs."""
    entry_points: dict[str, Any] = {}
    for entry in traffic.entry_points:
        shown: dict[str, Any] = (
            {"newSharePercent": entry.low_percent}
            if entry.low_percent == entry.high_percent
            else {"minSharePercent": entry.low_percent, "maxSharePercent": entry.high_percent}
        )
        if entry.reasons:
            shown["reasons"] = list(entry.reasons)
        entry_points[entry.entry] = shown
    return {
        "legacyReplicas": traffic.legacy_replicas,
        "newReplicas": traffic.new_replicas,
        "requestedPercent": traffic.requested_percent,
        "entryPoints": entry_points,
    }


class MigrationPhaseArgs(TypedDict):
    migration: Migration


class MigrationPhase(pulumi.ComponentResource):
    """Registers the configured phase: the components `components.desired.phase_components` plans, with
    the dependencies it names, through explicit Azure and Kubernetes providers. Its traffic output is
    read off the resources those components register (their `specs`), not off the plan."""

    phase: str
    traffic: dict[str, dict[str, Any]]

    def __init__(self, name: str, args: MigrationPhaseArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(PHASE_TYPE, name, None, opts)
        migration = args["migration"]
        plans, planned = phase_components(migration)
        azure = azure_provider(migration.config, self)
        cluster = kubernetes_provider(migration.config, azure, self)
        providers: dict[str, Any] = {"azure-native": azure, "kubernetes": cluster}
        registered: dict[str, pulumi.Resource] = {}
        specs: list[ResourceSpec] = []
        for plan in plans:
            component_class = COMPONENT_CLASSES.get(plan.type)
            if component_class is None:
                raise UnknownComponentError(f"no component class for type {plan.type!r}")
            component = component_class(
                plan.name,
                plan.args,
                pulumi.ResourceOptions(
                    parent=self,
                    providers=providers,
                    depends_on=[registered[dependency] for dependency in plan.depends_on],
                ),
            )
            registered.update(component.resources)
            specs.extend(component.specs)
        self.phase = migration.config.phase.value
        traffic = with_entry_points(planned, specs, migration.workloads)
        self.traffic = {t.workload: traffic_output(t) for t in traffic}
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
