"""The proof behind the isolation of new pods: no selector of the export they must stay out of selects
them, read off what each WasmWorkload registers."""

from __future__ import annotations

from typing import Any

from components.core.kubernetes import matches
from components.desired import WASM_WORKLOAD_TYPE
from components.desired.spec import DesiredState
from components.desired.workloads import isolated_selectors
from components.export.migration import Migration


def isolation_problems(migration: Migration, state: DesiredState) -> list[str]:
    """The proof behind the isolation, from what each WasmWorkload registers: none of the export's
    selectors its args keep the new objects out of selects the labels its Deployment's pods (or its
    Service) carry. A selector that needs no label (only NotIn / DoesNotExist) cannot be escaped by
    leaving labels off: it is named."""
    workloads = {(w.config.namespace, w.config.name): w.config for w in migration.workloads}
    # Each component's own Kubernetes objects (not patches), in registration order: one pass, not one
    # per workload.
    by_component: dict[str, list[dict[str, Any]]] = {}
    for spec in state.resources:
        if spec.is_kubernetes and not spec.is_patch:
            by_component.setdefault(spec.component, []).append(spec.inputs)
    problems = []
    for plan in state.components:
        if plan.type != WASM_WORKLOAD_TYPE:
            continue
        workload = workloads[(plan.args["namespace"], plan.args["app_name"])]
        registered = {inputs["kind"]: inputs for inputs in by_component.get(plan.name, ())}
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
