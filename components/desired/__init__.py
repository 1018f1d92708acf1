"""Config in, desired state out: pure functions with no Pulumi calls, shared by the Pulumi program and
the offline `migrate` tool so both always agree.

A phase is a list of component plans (type, name, typed args, what they wait for). The program turns
each plan into the public component of that type; `build_desired_state` runs the same builders to get
every resource the components will register, in order, with the options they will carry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from components import naming
from components.config import PROJECT, MigrationConfig, Phase
from components.desired.alerts import AlertsArgs, alert_specs
from components.desired.pools import (
    LegacyWasiPoolArgs,
    WasmNodePoolArgs,
    legacy_pool_specs,
    wasm_node_pool_specs,
)
from components.desired.shim import SpinShimArgs, shim_resource_names, shim_specs
from components.desired.spec import ComponentPlan, DesiredState, ResourceSpec, WorkloadTraffic
from components.desired.traffic import with_entry_points
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
    ISOLATE_ALL,
    ISOLATE_SERVICE,
    AutoscalerArgs,
    BackendArgs,
    LegacyWorkloadArgs,
    ProbeArgs,
    ServicePortArgs,
    TrafficSplitArgs,
    WasmWorkloadArgs,
    WorkloadPlan,
    isolated_selectors,
    legacy_resource_names,
    legacy_workload_specs,
    new_selector,
    plan_workload,
    requested_share,
    traffic_split_specs,
    wasm_resource_names,
    wasm_workload_specs,
)
from components.legacy import LegacyWorkload
from components.selectors import matches

if TYPE_CHECKING:  # components.migration checks the export with components.desired.traffic
    from components.migration import Migration

PHASE_TYPE = f"{PROJECT}:index:MigrationPhase"
LEGACY_POOL_TYPE = f"{PROJECT}:index:LegacyWasiPool"
WASM_POOL_TYPE = f"{PROJECT}:index:WasmNodePool"
SHIM_TYPE = f"{PROJECT}:index:SpinShim"
WASM_WORKLOAD_TYPE = f"{PROJECT}:index:WasmWorkload"
LEGACY_WORKLOAD_TYPE = f"{PROJECT}:index:LegacyWorkload"
TRAFFIC_SPLIT_TYPE = f"{PROJECT}:index:TrafficSplit"
VERIFICATION_TYPE = f"{PROJECT}:index:WorkloadVerification"
VERIFICATION_SCRIPTS_TYPE = f"{PROJECT}:index:VerificationScripts"
ALERTS_TYPE = f"{PROJECT}:index:MigrationAlerts"
SHIM_COMPONENT = "shim"
ALERTS_COMPONENT = "alerts"

# The one table from component type to the pure builder of its resources; the program has the twin
# table from type to class (components/migration_phase.py), and a test holds them equal.
BUILDERS: dict[str, Callable[[str, Any], list[ResourceSpec]]] = {
    LEGACY_POOL_TYPE: legacy_pool_specs,
    WASM_POOL_TYPE: wasm_node_pool_specs,
    SHIM_TYPE: shim_specs,
    WASM_WORKLOAD_TYPE: wasm_workload_specs,
    LEGACY_WORKLOAD_TYPE: legacy_workload_specs,
    TRAFFIC_SPLIT_TYPE: traffic_split_specs,
    VERIFICATION_TYPE: verification_specs,
    VERIFICATION_SCRIPTS_TYPE: verification_scripts_specs,
    ALERTS_TYPE: alert_specs,
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
    return [
        replace(
            spec,
            depends_on=(*spec.depends_on, *plan.depends_on),
            parent_types=(*parent_types, plan.type),
        )
        for spec in builder(plan.name, plan.args)
    ]


def legacy_pool_component(config: MigrationConfig) -> ComponentPlan:
    cluster = config.cluster
    args: LegacyWasiPoolArgs = {
        "subscription_id": cluster.subscription_id,
        "resource_group_name": cluster.resource_group,
        "cluster_name": cluster.name,
        "pool_name": config.legacy_pool.name,
    }
    return ComponentPlan(LEGACY_POOL_TYPE, f"legacy-pool-{config.legacy_pool.name}", args)


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


def workload_components(
    config: MigrationConfig, legacy: LegacyWorkload
) -> tuple[list[ComponentPlan], WorkloadTraffic]:
    """The legacy side, the new side and the route of one workload in the configured phase, in the
    order the engine must meet them: capacity comes up before traffic moves, and goes down after."""
    phase = config.phase
    plan = plan_workload(phase, legacy, config.traffic.weight)
    workload = legacy.config
    legacy_name = naming.logical_name(workload.namespace, workload.name, naming.LEGACY)
    legacy_names = legacy_resource_names(legacy_name)
    new_name = naming.logical_name(workload.namespace, workload.name, naming.WASM)
    new_names = wasm_resource_names(new_name)
    new_service = naming.new_service_name(legacy.service["metadata"]["name"])
    port = legacy.serving_port["port"]

    # In prepare the legacy side only keeps (or, rolling back, gets back) its capacity: everything new
    # waits for it. In parallel the bounded split may scale it down, so that waits for the new pods to be
    # Ready (no capacity dip); the route and the check wait for the split to settle. Rolling back into
    # parallel, the selector patch still moves traffic back only after the legacy replicas return.
    legacy_first = phase is Phase.PREPARE
    capacity = legacy_names["bounds"] if legacy.autoscaler is not None else legacy_names["replicas"]
    settled = (capacity,) if phase in (Phase.PREPARE, Phase.PARALLEL) else ()
    legacy_args: LegacyWorkloadArgs = {
        "deployment": legacy.deployment,
        "service": legacy.service,
        "keep_deployment": plan.legacy_replicas is not None,
    }
    if legacy.autoscaler is not None:
        legacy_args["autoscaler"] = legacy.autoscaler
        if plan.legacy_bounds is not None:
            legacy_args["autoscaler_bounds"] = plan.legacy_bounds
    if phase is not Phase.BASELINE:
        if plan.legacy_replicas is not None and legacy.autoscaler is None:
            legacy_args["replicas"] = plan.legacy_replicas
        legacy_args["service_selector"] = (
            new_selector(workload.name) if plan.service_selects_new else legacy.service_selector
        )
    new_after = (capacity,) if legacy_first else ()

    plans: list[ComponentPlan] = []
    if plan.new_replicas is not None:
        wasm_args = _wasm_args(config, legacy, plan, new_service)
        shim = shim_resource_names(SHIM_COMPONENT)
        platform = (
            *(target_pool_name(pool.name) for pool in config.target_pools),
            shim["daemonset"],
            shim["runtime_class"],
        )
        plans.append(
            ComponentPlan(WASM_WORKLOAD_TYPE, new_name, wasm_args, depends_on=(*platform, *new_after))
        )

    # The parity check: after the new side (and, before cutover, after the legacy side's capacity); in
    # cutover every legacy and traffic change waits for it, so a failing check stops `pulumi up` first.
    gate: tuple[str, ...] = ()
    if verifies(config) and plan.new_replicas is not None:
        check_args: VerificationArgs = {"config": config, "legacy": legacy}
        check_after = (
            script_spec_name(workload.namespace),
            new_names["deployment"],
            new_names["service"],
            *settled,
        )
        plans.append(
            ComponentPlan(
                VERIFICATION_TYPE, verification_component_name(legacy), check_args, depends_on=check_after
            )
        )
        if phase is Phase.CUTOVER:
            gate = verification_gate(config, legacy)

    gateway = workload.gateway
    route_name = naming.logical_name(workload.namespace, workload.name, naming.ROUTE)
    if gateway is not None and plan.route_weight is not None:
        backends: list[BackendArgs] = []
        if plan.legacy_replicas is not None:
            legacy_service = legacy.service["metadata"]["name"]
            backends.append({"service_name": legacy_service, "port": port, "weight": 100 - plan.route_weight})
        if plan.new_replicas is not None:
            backends.append({"service_name": new_service, "port": port, "weight": plan.route_weight})
        route_args: TrafficSplitArgs = {
            "namespace": workload.namespace,
            "app_name": workload.name,
            "gateway_name": gateway.name,
            "gateway_namespace": gateway.namespace,
            "backends": backends,
            "path_prefix": gateway.path_prefix,
        }
        if gateway.section_name:
            route_args["section_name"] = gateway.section_name
        if gateway.hostnames:
            route_args["hostnames"] = list(gateway.hostnames)
        new_side = (new_names["deployment"], new_names["service"]) if plan.new_replicas is not None else ()
        plans.append(
            ComponentPlan(TRAFFIC_SPLIT_TYPE, route_name, route_args, depends_on=(*new_side, *settled, *gate))
        )

    # In parallel the legacy side changes once the new pods serve; from cutover on also once the route
    # has moved and the check has passed.
    legacy_after: tuple[str, ...] = ()
    if phase is Phase.PARALLEL and plan.new_replicas is not None:
        legacy_after = (new_names["deployment"],)
    elif phase.at_least(Phase.CUTOVER) and plan.new_replicas is not None:
        legacy_after = (
            new_names["deployment"],
            *((route_name,) if any(component.name == route_name for component in plans) else ()),
            *gate,
        )
    legacy_plan = ComponentPlan(LEGACY_WORKLOAD_TYPE, legacy_name, legacy_args, depends_on=legacy_after)
    if legacy_first or phase is Phase.BASELINE:
        plans.insert(0, legacy_plan)
    elif phase is Phase.PARALLEL:  # after the new side, before the check and the route that wait for it
        plans.insert(1 if plan.new_replicas is not None else 0, legacy_plan)
    else:
        plans.append(legacy_plan)

    traffic = WorkloadTraffic(
        workload=workload.key,
        legacy_replicas=plan.legacy_replicas or 0,
        new_replicas=plan.new_replicas or 0,
        requested_percent=requested_share(phase, config.traffic.weight),
    )
    return plans, traffic


def _isolate_from(legacy: LegacyWorkload, isolation: str) -> list[str]:
    """The export's selectors the new objects stay out of in this phase (see WorkloadPlan)."""
    selectors = legacy.selectors
    if isolation == ISOLATE_ALL:
        return [s.label for s in selectors]
    if isolation == ISOLATE_SERVICE:  # every Service: one the route does not split must not leak either
        return [s.label for s in selectors if s.kind == "Service"]
    return []


def _wasm_args(
    config: MigrationConfig, legacy: LegacyWorkload, plan: WorkloadPlan, service: str
) -> WasmWorkloadArgs:
    workload = legacy.config
    pool = config.legacy_pool
    args: WasmWorkloadArgs = {
        "namespace": workload.namespace,
        "app_name": workload.name,
        "runtime_class_name": config.shim.runtime_class_name,
        "resources": workload.resources.model_dump(by_alias=True),  # type: ignore[typeddict-item]
        "probe": _probe_args(legacy),
        "legacy_deployment": legacy.deployment,
        "legacy_pool": {
            "name": pool.name,
            "node_labels": dict(pool.node_labels),
            "node_taints": [taint.as_aks() for taint in pool.node_taints],
        },
        "service_name": service,
        "ports": [_port_args(p) for p in legacy.service["spec"]["ports"]],
        "serving_port": legacy.serving_port["port"],
        "legacy_selectors": [
            {"kind": s.kind, "name": s.name, "selects": s.selects, "selector": s.selector}
            for s in legacy.selectors
        ],
        "isolate_from": _isolate_from(legacy, plan.isolation),
    }
    if plan.new_bounds is not None and legacy.autoscaler is not None:
        hpa = legacy.autoscaler["spec"]
        autoscaler: AutoscalerArgs = {"min_replicas": plan.new_bounds[0], "max_replicas": plan.new_bounds[1]}
        if hpa.get("metrics"):
            autoscaler["metrics"] = hpa["metrics"]
        if hpa.get("behavior"):
            autoscaler["behavior"] = hpa["behavior"]
        args["autoscaler"] = autoscaler
    else:
        args["replicas"] = plan.new_replicas  # type: ignore[typeddict-item]
    if workload.image:
        args["image"] = workload.image
    if workload.container_port:
        args["listen_port"] = workload.container_port
    return args


def _probe_args(legacy: LegacyWorkload) -> ProbeArgs:
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


def isolation_problems(migration: Migration, state: DesiredState) -> list[str]:
    """The proof behind the isolation, from what each WasmWorkload registers: none of the export's
    selectors its args keep the new objects out of selects the labels its Deployment's pods (or its
    Service) carry. A selector that needs no label (only NotIn / DoesNotExist) cannot be escaped by
    leaving labels off: it is named."""
    workloads = {(w.config.namespace, w.config.name): w.config for w in migration.workloads}
    problems = []
    for plan in state.components:
        if plan.type != WASM_WORKLOAD_TYPE:
            continue
        workload = workloads[(plan.args["namespace"], plan.args["app_name"])]
        registered = {
            spec.inputs["kind"]: spec.inputs
            for spec in state.resources
            if spec.component == plan.name and spec.is_kubernetes and not spec.is_patch
        }
        carried = {
            "pods": registered["Deployment"]["spec"]["template"]["metadata"]["labels"],
            "services": registered["Service"]["metadata"]["labels"],
        }
        for selects, labels in carried.items():
            for selector in isolated_selectors(plan.args, selects):
                if matches(selector.selector, labels):
                    what = "pods" if selects == "pods" else "Service"
                    problems.append(
                        f"{workload.key}: {selector.label} in {workload.manifest} selects the new {what} in "
                        f"phase {state.phase}, before they may join it (it needs no label they could leave "
                        "off); narrow it to the legacy pods first"
                    )
    return problems


def phase_components(migration: Migration) -> tuple[list[ComponentPlan], list[WorkloadTraffic]]:
    """Every component of the configured phase, in registration order: pools, shim, then workloads."""
    config = migration.config
    phase = config.phase
    plans: list[ComponentPlan] = []
    if phase is not Phase.DECOMMISSION:
        plans.append(legacy_pool_component(config))
    if phase.at_least(Phase.PREPARE):
        plans.extend(target_pool_components(config))
        plans.append(shim_component(config))
    if verifies(config):
        scripts: VerificationScriptsArgs = {"config": config, "workloads": migration.workloads}
        plans.append(ComponentPlan(VERIFICATION_SCRIPTS_TYPE, VERIFICATION_COMPONENT, scripts))
    traffic = []
    for legacy in migration.workloads:
        workload_plans, share = workload_components(config, legacy)
        plans.extend(workload_plans)
        traffic.append(share)
    alerts: AlertsArgs = {"config": config}
    if alert_specs(ALERTS_COMPONENT, alerts):
        plans.append(ComponentPlan(ALERTS_TYPE, ALERTS_COMPONENT, alerts))
    return plans, traffic


def build_desired_state(migration: Migration) -> DesiredState:
    """The traffic each workload really gets is read off the resources, not the plan."""
    plans, planned = phase_components(migration)
    resources = [spec for plan in plans for spec in component_specs(plan, (PHASE_TYPE,))]
    traffic = with_entry_points(planned, resources, migration.workloads)
    return DesiredState(migration.config.phase.value, tuple(resources), traffic, tuple(plans))
