"""Config in, desired state out: pure functions with no Pulumi calls, shared by the Pulumi program and
the offline `migrate` tool so both always agree.

A phase is a list of component plans (type, name, typed args, what they wait for). The program turns
each plan into the public component of that type; `build_desired_state` runs the same builders to get
every resource the components will register, in order, with the options they will carry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from components.core import naming
from components.core.config import PROJECT, MigrationConfig, Phase, Workload
from components.desired.aci import (
    AciWorkloadArgs,
    ExportedServiceArgs,
    ServedPortArgs,
    aci_resource_names,
    aci_workload_specs,
)
from components.desired.admission import admission_policy_args, admission_policy_specs
from components.desired.alerts import AlertsArgs, alert_specs
from components.desired.gates import StopGateArgs, stop_gate_component_name, stop_gate_names, stop_gate_specs
from components.desired.phase_table import (
    Capacity,
    Count,
    Isolation,
    LegacySide,
    Part,
    WorkloadPlan,
    plan_workload,
)
from components.desired.pools import (
    LegacyWasiPoolArgs,
    WasmNodePoolArgs,
    legacy_pool_specs,
    wasm_node_pool_specs,
)
from components.desired.shim import SpinShimArgs, shim_resource_names, shim_specs
from components.desired.spec import ComponentPlan, DesiredState, ResourceSpec, WorkloadTraffic
from components.desired.verification import (
    VERIFICATION_COMPONENT,
    VerificationArgs,
    VerificationScriptsArgs,
    script_spec_name,
    verification_component_name,
    verification_gate,
    verification_scripts_specs,
    verification_specs,
    verifies,
)
from components.desired.workloads import (
    DAPR_RECONCILE_ANNOTATION,
    NEVER_ISOLATED,
    AutoscalerArgs,
    BackendArgs,
    CapacityPatchArgs,
    LegacyWorkloadArgs,
    ProbeArgs,
    ServicePortArgs,
    SpinContainerArgs,
    TrafficSplitArgs,
    WasmWorkloadArgs,
    legacy_resource_names,
    legacy_workload_specs,
    traffic_split_specs,
    wasm_resource_names,
    wasm_workload_specs,
)
from components.export.migration import Migration
from components.export.workload import ExportedWorkload

PHASE_TYPE = f"{PROJECT}:index:MigrationPhase"
LEGACY_POOL_TYPE = f"{PROJECT}:index:LegacyWasiPool"
WASM_POOL_TYPE = f"{PROJECT}:index:WasmNodePool"
SHIM_TYPE = f"{PROJECT}:index:SpinShim"
WASM_WORKLOAD_TYPE = f"{PROJECT}:index:WasmWorkload"
ACI_WORKLOAD_TYPE = f"{PROJECT}:index:AciWorkload"
LEGACY_WORKLOAD_TYPE = f"{PROJECT}:index:LegacyWorkload"
TRAFFIC_SPLIT_TYPE = f"{PROJECT}:index:TrafficSplit"
VERIFICATION_TYPE = f"{PROJECT}:index:WorkloadVerification"
VERIFICATION_SCRIPTS_TYPE = f"{PROJECT}:index:VerificationScripts"
ALERTS_TYPE = f"{PROJECT}:index:MigrationAlerts"
STOP_GATE_TYPE = f"{PROJECT}:index:StopGate"
ADMISSION_POLICY_TYPE = f"{PROJECT}:index:LegacyAdmissionPolicy"
SHIM_COMPONENT = "shim"
ALERTS_COMPONENT = "alerts"
ADMISSION_POLICY_COMPONENT = "admission-policy"

# The one table from component type to the pure builder of its resources; the program has the twin
# table from type to class (components/migration_phase.py), and a test holds them equal.
BUILDERS: dict[str, Callable[[str, Any], list[ResourceSpec]]] = {
    LEGACY_POOL_TYPE: legacy_pool_specs,
    WASM_POOL_TYPE: wasm_node_pool_specs,
    SHIM_TYPE: shim_specs,
    WASM_WORKLOAD_TYPE: wasm_workload_specs,
    ACI_WORKLOAD_TYPE: aci_workload_specs,
    LEGACY_WORKLOAD_TYPE: legacy_workload_specs,
    TRAFFIC_SPLIT_TYPE: traffic_split_specs,
    VERIFICATION_TYPE: verification_specs,
    VERIFICATION_SCRIPTS_TYPE: verification_scripts_specs,
    ALERTS_TYPE: alert_specs,
    STOP_GATE_TYPE: stop_gate_specs,
    ADMISSION_POLICY_TYPE: admission_policy_specs,
}


class UnknownComponentError(LookupError):
    """A plan names a component type nothing registers: a programming error, never skipped."""


def component_specs(plan: ComponentPlan, parent_types: tuple[str, ...] = ()) -> list[ResourceSpec]:
    """The resources a component registers for `plan`: its builder's specs, each also waiting for what
    the whole component waits for (components pass `depends_on` to every child)."""
    try:
        builder = BUILDERS[plan.type]
    except KeyError:
        raise UnknownComponentError(f"no builder for component type {plan.type!r}") from None
    parents = (*parent_types, plan.type)
    return [spec.under(parents, plan.depends_on) for spec in builder(plan.name, plan.args)]


def legacy_pool_components(config: MigrationConfig) -> list[ComponentPlan]:
    cluster = config.cluster
    plans = []
    for pool in config.legacy_pools:
        args: LegacyWasiPoolArgs = {
            "subscription_id": cluster.subscription_id,
            "resource_group_name": cluster.resource_group,
            "cluster_name": cluster.name,
            "pool_name": pool.name,
        }
        plans.append(ComponentPlan(LEGACY_POOL_TYPE, f"legacy-pool-{pool.name}", args))
    return plans


def target_pool_name(pool_name: str) -> str:
    """Logical name of a target pool's component and AgentPool."""
    return f"target-pool-{pool_name}"


def target_pool_components(config: MigrationConfig) -> list[ComponentPlan]:
    plans = []
    label = config.shim.node_label
    for pool in config.target_pools:
        args: WasmNodePoolArgs = {
            "resource_group_name": config.cluster.resource_group,
            "cluster_name": config.cluster.name,
            "pool_name": pool.name,
            "vm_size": pool.vm_size,
            "os_sku": pool.os_sku,
            "count": pool.count,
            "max_surge": pool.max_surge,
            "shim_label": {"key": label.key, "value": label.value},
        }
        if pool.autoscaling:
            args["min_count"] = pool.autoscaling.min_count
            args["max_count"] = pool.autoscaling.max_count
        if pool.zones:
            args["availability_zones"] = list(pool.zones)
        if pool.orchestrator_version:
            args["orchestrator_version"] = pool.orchestrator_version
        if pool.max_pods:
            args["max_pods"] = pool.max_pods
        if pool.node_labels:
            args["node_labels"] = dict(pool.node_labels)
        if pool.taints:
            args["node_taints"] = [taint.as_aks() for taint in pool.taints]
        plans.append(ComponentPlan(WASM_POOL_TYPE, target_pool_name(pool.name), args))
    return plans


def shim_component(config: MigrationConfig) -> ComponentPlan:
    shim = config.shim
    taints = {taint.as_aks(): taint for pool in config.target_pools for taint in pool.taints}
    max_nodes = sum(
        (pool.autoscaling.max_count if pool.autoscaling else pool.count) for pool in config.target_pools
    )
    args: SpinShimArgs = {
        "node_selector": {shim.node_label.key: shim.node_label.value},
        "tolerations": [taints[key].as_toleration() for key in sorted(taints)],  # type: ignore[misc]
        "namespace": shim.namespace,
        "runtime_class_name": shim.runtime_class_name,
        "handler": shim.handler,
        "installer_image": shim.installer_image.reference,
        "architectures": list(shim.installer_image.architectures),
        "shim_path": shim.shim_path,
        "check_interval_seconds": shim.check_interval_seconds,
        "max_nodes": max_nodes,
        "pool_names": [pool.name for pool in config.target_pools],
        "adopt_existing_namespace": shim.adopt_existing.namespace,
        "adopt_existing_runtime_class": shim.adopt_existing.runtime_class,
    }
    # The installer's nodes must exist first.
    pools = tuple(target_pool_name(pool.name) for pool in config.target_pools)
    return ComponentPlan(SHIM_TYPE, SHIM_COMPONENT, args, depends_on=pools)


# KEDA's defaults for a ScaledObject's bounds (keda.sh/v1alpha1 ScaledObjectSpec: minReplicaCount 0,
# maxReplicaCount 100).
KEDA_BOUNDS = (0, 100)


def workload_capacity(legacy: ExportedWorkload) -> Capacity:
    """The legacy side's replicas (or its autoscaler's bounds) and what the new side runs at full
    capacity: `workloads[].replicas`, else the same."""
    if legacy.scaled_object is not None:
        spec = legacy.scaled_object.get("spec") or {}
        bounds = Count(
            int(spec.get("minReplicaCount", KEDA_BOUNDS[0])), int(spec.get("maxReplicaCount", KEDA_BOUNDS[1]))
        )
        return Capacity(bounds, bounds)
    if legacy.autoscaler is not None:
        spec = legacy.autoscaler["spec"]
        bounds = Count(int(spec.get("minReplicas", 1)), int(spec["maxReplicas"]))
        return Capacity(bounds, bounds)
    replicas = legacy.replicas
    return Capacity(Count(replicas), Count(legacy.config.replicas or replicas))


def plan_of(config: MigrationConfig, legacy: ExportedWorkload) -> WorkloadPlan:
    workload = legacy.config
    return plan_workload(
        config.phase,
        config.traffic.weight,
        workload_capacity(legacy),
        gateway=workload.gateway is not None,
        canary=workload.canary_replicas if workload.canary else None,
        stop_then_start=legacy.stop_then_start,
    )


def _legacy_args(legacy: ExportedWorkload, plan: WorkloadPlan, capacity: Capacity) -> LegacyWorkloadArgs:
    args: LegacyWorkloadArgs = {
        "deployment": legacy.deployment,
        "service": legacy.service,
        "keep_deployment": plan.legacy is not LegacySide.DELETED,
    }
    if legacy.autoscaler is not None:
        args["autoscaler"] = legacy.autoscaler
    if legacy.scaled_object is not None:
        args["scaled_object"] = legacy.scaled_object
        args["paused_at_zero"] = plan.legacy is LegacySide.ZERO  # KEDA scales it to 0 itself
    if plan.legacy in (LegacySide.KEPT, LegacySide.ZERO):
        patch: CapacityPatchArgs = {}
        if legacy.scaled_object is None:
            if plan.legacy is LegacySide.ZERO:
                patch["replicas"] = 0
            elif not capacity.legacy.autoscaled:
                patch["replicas"] = capacity.legacy.minimum
        if plan.await_legacy:
            patch["ready_at_least"] = legacy_ready_at_rest(legacy, capacity)
        args["capacity"] = patch
    return args


def legacy_ready_at_rest(legacy: ExportedWorkload, capacity: Capacity) -> int:
    """The legacy pods Ready at rest: the replicas (or the HPA's minimum), no more than the export saw
    Ready, so a WASI pool already degraded when it was exported does not block the way back."""
    at_rest = capacity.legacy.minimum
    return at_rest if legacy.ready is None else min(at_rest, legacy.ready)


def workload_components(
    config: MigrationConfig, legacy: ExportedWorkload
) -> tuple[list[ComponentPlan], WorkloadTraffic]:
    """The new side, the parity check, the route, a stop gate and the legacy side of one workload in
    the configured phase, in registration order, each waiting for what the phase table's row says
    (components/desired/phase_table.py `ordering`). Only cutover lowers anything (the legacy pods);
    every other step only adds capacity or moves traffic while both sides are whole."""
    capacity = workload_capacity(legacy)
    plan = plan_of(config, legacy)
    ordering = plan.ordering
    parts = _workload_parts(config, legacy, plan, capacity)
    waited = _waited(config, legacy, parts)
    plans = []
    for part in ordering.parts:
        if part in parts:
            after = tuple(name for done in ordering.after(part) for name in waited(part, done))
            plans.append(replace(parts[part], depends_on=(*parts[part].depends_on, *after)))
    traffic = WorkloadTraffic(
        workload=legacy.config.key,
        legacy_replicas=capacity.legacy.minimum if plan.legacy.runs else 0,
        new_replicas=plan.new.minimum if plan.new is not None else 0,
        requested_percent=plan.requested_percent,
    )
    return plans, traffic


def _names(legacy: ExportedWorkload) -> dict[str, str]:
    """Logical names of a workload's components."""
    workload = legacy.config
    return {
        "legacy": naming.logical_name(workload.namespace, workload.name, naming.LEGACY),
        "new": naming.logical_name(workload.namespace, workload.name, naming.WASM),
        "route": naming.logical_name(workload.namespace, workload.name, naming.ROUTE),
    }


def _workload_parts(
    config: MigrationConfig, legacy: ExportedWorkload, plan: WorkloadPlan, capacity: Capacity
) -> dict[Part, ComponentPlan]:
    """The components this phase registers for the workload, each with only the dependencies it has
    in every phase (the platform, the scripts); `ordering` adds what the phase makes them wait for."""
    names = _names(legacy)
    parts = {
        Part.LEGACY: ComponentPlan(
            LEGACY_WORKLOAD_TYPE, names["legacy"], _legacy_args(legacy, plan, capacity)
        )
    }
    gate = plan.ordering.gate
    if gate is not None:
        parts[Part.STOP_GATE] = _stop_gate(config, legacy, gate.value)
    if plan.new is not None:
        platform: tuple[str, ...] = tuple(target_pool_name(pool.name) for pool in config.target_pools)
        if legacy.config.target == "shim":
            shim = shim_resource_names(SHIM_COMPONENT)
            platform = (*platform, shim["daemonset"], shim["runtime_class"])
        if legacy.config.target == "aci":
            aci_args = _aci_args(config, legacy, plan)
            parts[Part.NEW] = ComponentPlan(ACI_WORKLOAD_TYPE, names["new"], aci_args)
        else:
            wasm_args = _wasm_args(config, legacy, plan)
            parts[Part.NEW] = ComponentPlan(WASM_WORKLOAD_TYPE, names["new"], wasm_args, depends_on=platform)
    if _checked(config, plan, capacity):
        check_args: VerificationArgs = {"config": config, "legacy": legacy}
        script = (script_spec_name(legacy.config.namespace),)
        name = verification_component_name(legacy)
        parts[Part.CHECK] = ComponentPlan(VERIFICATION_TYPE, name, check_args, depends_on=script)
    if legacy.config.gateway is not None and plan.route_weight is not None:
        route_args = _route_args(legacy.config, legacy, plan)
        parts[Part.ROUTE] = ComponentPlan(TRAFFIC_SPLIT_TYPE, names["route"], route_args)
    return parts


def _checked(config: MigrationConfig, plan: WorkloadPlan, capacity: Capacity) -> bool:
    """The parity check runs where the row asks for it, once both sides have pods to compare."""
    return (
        verifies(config)
        and plan.row.check
        and plan.new is not None
        and plan.new.minimum > 0
        and capacity.legacy.minimum > 0
    )


def _waited(
    config: MigrationConfig, legacy: ExportedWorkload, parts: dict[Part, ComponentPlan]
) -> Callable[[Part, Part], tuple[str, ...]]:
    """What a part waits for when it waits for another: that part's resources that prove it done (a
    stop gate waits for the Deployment whose pods it watches), nothing when it is not registered."""
    names = _names(legacy)
    new = wasm_resource_names(names["new"])
    new_done: tuple[str, ...] = (new["deployment"], new["service"])
    if legacy.config.target == "aci":  # the groups exist and their IPs are in the Service's slice
        new_done = (aci_resource_names(names["new"], 0)["slice"],)
    done = {
        Part.LEGACY: (legacy_resource_names(names["legacy"])["replicas"],),
        Part.NEW: new_done,
        Part.CHECK: verification_gate(config, legacy),
        Part.ROUTE: (names["route"],),
        Part.STOP_GATE: (stop_gate_names(stop_gate_component_name(legacy))["job"],),
    }
    # A stop gate waits for the change to the pods it watches: the legacy patch, the new Deployment.
    watched = {Part.LEGACY: done[Part.LEGACY], Part.NEW: (new["deployment"],)}

    def waited(part: Part, waits_for: Part) -> tuple[str, ...]:
        if part is Part.STOP_GATE:
            return watched[waits_for]
        return done[waits_for] if waits_for in parts else ()

    return waited


def stop_gate_side(config: MigrationConfig, legacy: ExportedWorkload) -> str | None:
    """Which side a single-copy workload's stop gate waits to be gone in this phase (the phase table's
    `ordering`): the legacy one in cutover (then the new pods start), the new one in parallel (where
    the way back from cutover lands: then the legacy pods start again)."""
    gate = plan_of(config, legacy).ordering.gate
    return gate.value if gate is not None else None


def _stop_gate(config: MigrationConfig, legacy: ExportedWorkload, side: str) -> ComponentPlan:
    args: StopGateArgs = {"config": config, "legacy": legacy, "side": side}
    depends_on = (script_spec_name(legacy.config.namespace),)
    return ComponentPlan(STOP_GATE_TYPE, stop_gate_component_name(legacy), args, depends_on=depends_on)


def _route_args(workload: Workload, legacy: ExportedWorkload, plan: WorkloadPlan) -> TrafficSplitArgs:
    assert plan.route_weight is not None
    new_service = naming.new_service_name(legacy.service["metadata"]["name"])
    port = legacy.serving_port["port"]
    backends: list[BackendArgs] = []
    if plan.legacy is not LegacySide.DELETED:
        legacy_service = legacy.service["metadata"]["name"]
        backends.append({"service_name": legacy_service, "port": port, "weight": 100 - plan.route_weight})
    if plan.new is not None:
        backends.append({"service_name": new_service, "port": port, "weight": plan.route_weight})
    return route_args(workload, backends)


def route_args(workload: Workload, backends: list[BackendArgs]) -> TrafficSplitArgs:
    """The TrafficSplit of a workload's gateway config, to `backends`."""
    gateway = workload.gateway
    assert gateway is not None
    args: TrafficSplitArgs = {
        "namespace": workload.namespace,
        "app_name": workload.name,
        "gateway_name": gateway.name,
        "gateway_namespace": gateway.namespace,
        "backends": backends,
        "path_prefix": gateway.path_prefix,
    }
    if gateway.section_name:
        args["section_name"] = gateway.section_name
    if gateway.hostnames:
        args["hostnames"] = list(gateway.hostnames)
    return args


def _isolate_from(legacy: ExportedWorkload, isolation: Isolation) -> list[str]:
    """The export's selectors the new objects stay out of in this phase (see Isolation)."""
    selectors = [s for s in legacy.selectors if s.kind not in NEVER_ISOLATED]
    if isolation is Isolation.ALL:
        return [s.label for s in selectors]
    if isolation is Isolation.SERVICES:  # every Service: one the route does not split must not leak either
        return [s.label for s in selectors if s.kind == "Service"]
    return []


def _wasm_args(config: MigrationConfig, legacy: ExportedWorkload, plan: WorkloadPlan) -> WasmWorkloadArgs:
    workload = legacy.config
    assert plan.new is not None
    args: WasmWorkloadArgs = {
        "namespace": workload.namespace,
        "app_name": workload.name,
        "resources": workload.resources.model_dump(by_alias=True),  # type: ignore[typeddict-item]
        "probe": _probe_args(legacy),
        "legacy_deployment": legacy.source,
        "legacy_pools": [
            {
                "name": pool.name,
                "node_labels": dict(pool.node_labels),
                "node_taints": [taint.as_aks() for taint in pool.node_taints],
            }
            for pool in config.legacy_pools
        ],
        "service_name": naming.new_service_name(legacy.service["metadata"]["name"]),
        "ports": [_port_args(p) for p in legacy.service["spec"]["ports"]],
        "serving_port": legacy.serving_port["port"],
        "legacy_selectors": [
            {"kind": s.kind, "name": s.name, "selects": s.selects, "selector": s.selector}
            for s in legacy.selectors
        ],
        "isolate_from": _isolate_from(legacy, plan.isolation),
    }
    _set_scaling(args, legacy, plan.new)
    if workload.target == "container":
        args["spin_container"] = spin_container_args(config)
    else:
        args["runtime_class_name"] = config.shim.runtime_class_name
    if workload.image:
        args["image"] = workload.image
    if workload.container_port:
        args["listen_port"] = workload.container_port
    if legacy.stop_then_start:
        args["strategy"] = {"type": "Recreate"}  # its own rollouts must never run two copies either
    if (
        legacy.dapr_app
        and workload.dapr_before_serving == "withoutSidecar"
        and plan.isolation is Isolation.ALL
    ):
        args["pod_annotations"] = {"dapr.io/enabled": "false"}
    if legacy.dapr_app and plan.legacy is LegacySide.DELETED:
        args["deployment_annotations"] = {DAPR_RECONCILE_ANNOTATION: legacy.dapr_app}
    return args


def _aci_args(config: MigrationConfig, legacy: ExportedWorkload, plan: WorkloadPlan) -> AciWorkloadArgs:
    """The aci target's groups (one per copy the phase runs), the Service the route and the verification
    reach them by, and the exported Services they join once the new side serves through them."""
    workload, aci = legacy.config, config.aci
    assert plan.new is not None and aci.location and aci.subnet_id  # required for target aci
    args: AciWorkloadArgs = {
        "namespace": workload.namespace,
        "app_name": workload.name,
        "copies": plan.new.minimum,
        "image": config.container.spin_image.reference,
        "app": workload.image or legacy.pod_spec["containers"][0]["image"],
        "listen_port": legacy.listen_port_number,
        "resources": workload.resources.model_dump(by_alias=True),  # type: ignore[typeddict-item]
        "probe_path": legacy.probe_path,
        "resource_group_name": aci.resource_group or config.cluster.resource_group,
        "location": aci.location,
        "subnet_id": aci.subnet_id,
        "service_name": naming.new_service_name(legacy.service["metadata"]["name"]),
        "service_port": _served_port(legacy.serving_port),
        "sku": aci.sku,
    }
    if plan.isolation is Isolation.NONE:
        args["join"] = _joined_services(legacy)
    if aci.identity_id:
        args["identity_id"] = aci.identity_id
    if aci.zones:
        args["zones"] = list(aci.zones)
    return args


def _joined_services(legacy: ExportedWorkload) -> list[ExportedServiceArgs]:
    """Every exported Service of the pods, each with its port that targets the serving container port."""
    joined: list[ExportedServiceArgs] = []
    for service in legacy.services:
        ports = [
            p
            for p in service["spec"].get("ports") or []
            if p.get("targetPort", p["port"]) == legacy.serving_target
        ]
        if ports:
            joined.append({"name": service["metadata"]["name"], "port": _served_port(ports[0])})
    return joined


def _served_port(port: dict[str, Any]) -> ServedPortArgs:
    """A Service port as the groups serve it: its number, and its name where it has one."""
    served: ServedPortArgs = {"port": port["port"]}
    if "name" in port:
        served["name"] = port["name"]
    return served


def _set_scaling(args: WasmWorkloadArgs, legacy: ExportedWorkload, new: Count) -> None:
    """Who owns the new side's replicas: a translated ScaledObject or HPA, else fixed replicas."""
    if new.autoscaled and legacy.scaled_object is not None:
        assert new.maximum is not None
        spec = legacy.scaled_object.get("spec") or {}
        args["scaled_object"] = {"min_replicas": new.minimum, "max_replicas": new.maximum, "spec": spec}
    elif new.autoscaled and legacy.autoscaler is not None:
        assert new.maximum is not None
        hpa = legacy.autoscaler["spec"]
        autoscaler: AutoscalerArgs = {"min_replicas": new.minimum, "max_replicas": new.maximum}
        if hpa.get("metrics"):
            autoscaler["metrics"] = hpa["metrics"]
        if hpa.get("behavior"):
            autoscaler["behavior"] = hpa["behavior"]
        args["autoscaler"] = autoscaler
    else:
        args["replicas"] = new.minimum


def spin_container_args(config: MigrationConfig) -> SpinContainerArgs:
    """The container target's Spin image, registry login and the WASI pools its pods stay off."""
    container = config.container
    args: SpinContainerArgs = {
        "image": container.spin_image.reference,
        "architectures": list(container.spin_image.architectures),
        "avoid_pools": [pool.name for pool in config.legacy_pools],
    }
    if container.pull_secret:
        args["pull_secret"] = container.pull_secret
    return args


def _probe_args(legacy: ExportedWorkload) -> ProbeArgs:
    port = legacy.probe_port
    if isinstance(port, str):
        return {"path": legacy.probe_path, "port_name": port}
    return {"path": legacy.probe_path, "port": port}


def _port_args(port: dict[str, Any]) -> ServicePortArgs:
    """A legacy Service port as the new Service's port (targetPort may be a named container port)."""
    args: ServicePortArgs = {"port": port["port"]}
    target = port.get("targetPort", port["port"])
    if isinstance(target, str):
        args["target_port_name"] = target
    else:
        args["target_port"] = target
    if "name" in port:
        args["name"] = port["name"]
    if "protocol" in port:
        args["protocol"] = port["protocol"]
    if "appProtocol" in port:
        args["app_protocol"] = port["appProtocol"]
    return args


def phase_components(migration: Migration) -> tuple[list[ComponentPlan], list[WorkloadTraffic]]:
    """Every component of the configured phase, in registration order: pools, shim, then workloads."""
    config = migration.config
    phase = config.phase
    plans: list[ComponentPlan] = []
    if phase is not Phase.DECOMMISSION:
        plans.extend(legacy_pool_components(config))
    if phase.at_least(Phase.PREPARE):
        plans.extend(target_pool_components(config))
        if config.uses_shim:  # nothing privileged where no workload needs the shim
            plans.append(shim_component(config))
    scripted = tuple(
        legacy for legacy in migration.workloads if verifies(config) or stop_gate_side(config, legacy)
    )
    if scripted:
        scripts: VerificationScriptsArgs = {"config": config, "workloads": scripted}
        plans.append(ComponentPlan(VERIFICATION_SCRIPTS_TYPE, VERIFICATION_COMPONENT, scripts))
    traffic = []
    for legacy in migration.workloads:
        workload_plans, share = workload_components(config, legacy)
        plans.extend(workload_plans)
        traffic.append(share)
    # From cutover on: refuse new pods on the WASI runtime, the legacy pods of the way back exempt. It
    # waits for nothing: the pods it exempts are admitted whenever they come.
    admission = admission_policy_args(migration)
    if admission is not None:
        plans.append(ComponentPlan(ADMISSION_POLICY_TYPE, ADMISSION_POLICY_COMPONENT, admission))
    alerts: AlertsArgs = {"config": config}
    if alert_specs(ALERTS_COMPONENT, alerts):
        plans.append(ComponentPlan(ALERTS_TYPE, ALERTS_COMPONENT, alerts))
    return plans, traffic


def build_desired_state(migration: Migration) -> DesiredState:
    """Every resource of the phase, with the share of requests each workload is asked to serve; what
    each entry point really gives is analysis (components.analysis.traffic.analysed_state)."""
    plans, planned = phase_components(migration)
    resources = [spec for plan in plans for spec in component_specs(plan, (PHASE_TYPE,))]
    return DesiredState(migration.config.phase.value, tuple(resources), tuple(planned), tuple(plans))
