"""WasmWorkload: a Spin app on the shim's RuntimeClass or in a Spin container, from an exported legacy
Deployment or from scratch."""

import pulumi

from components.core import identifiers
from components.desired import WASM_WORKLOAD_TYPE
from components.desired.workloads import (
    WasmWorkloadArgs,
    new_selector,
    port_target,
    wasm_object_names,
    wasm_resource_names,
    wasm_workload_specs,
)
from components.registration import SpecComponent, check_arg

__all__ = ["WasmWorkload", "WasmWorkloadArgs"]


class WasmWorkload(SpecComponent):
    """A Deployment (awaited until its pods are Ready, which proves the shim works on their nodes), a
    ClusterIP Service, a PodDisruptionBudget (unless a legacy one covers the pods) and, with
    `autoscaler`, an HPA, selecting only the new pods."""

    TYPE = WASM_WORKLOAD_TYPE

    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    selector: pulumi.Output[dict[str, str]]

    def __init__(self, name: str, args: WasmWorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        problems: list[str] = []
        check_arg(problems, "namespace", args.get("namespace", ""), identifiers.dns1123_label)
        check_arg(problems, "app_name", args.get("app_name", ""), identifiers.dns1123_label)
        if ("runtime_class_name" in args) == ("spin_container" in args):
            problems.append(
                "runtime_class_name: give one of runtime_class_name (the shim's RuntimeClass) or "
                "spin_container (Spin in an ordinary container)"
            )
        if "spin_container" in args and "legacy_deployment" not in args and "listen_port" not in args:
            targets = [port_target(p) for p in args.get("ports") or []]
            if any(isinstance(target, str) for target in targets):
                problems.append(
                    "listen_port: required for spin_container when a port targets a named container port "
                    "and no legacy_deployment declares it: Spin must be told a port number to listen on"
                )
        if "legacy_deployment" not in args and "image" not in args:
            problems.append("image: required when no legacy_deployment is given to translate")
        if "legacy_deployment" not in args and not args.get("ports"):
            problems.append("ports: required when no legacy_deployment is given to translate")
        probe = args.get("probe") or {}
        if not str(probe.get("path", "")).startswith("/") or ("port" in probe) == ("port_name" in probe):
            problems.append(
                "probe: required, a path the app serves (starting with /) and one of port or port_name: "
                "a Spin app answers only its routes, so a guessed path never gets the pods Ready"
            )
        scalers = [key for key in ("autoscaler", "scaled_object") if key in args]
        if ("replicas" in args) == bool(scalers) or len(scalers) > 1:
            problems.append(
                "replicas: give one of replicas, autoscaler or scaled_object (an HPA or KEDA then owns "
                "the replicas)"
            )
        self._register(name, args, opts, wasm_workload_specs, problems)
        resources = wasm_resource_names(name)
        objects = wasm_object_names(args)
        self.deployment_name = self.after(self.resources[resources["deployment"]], objects["deployment"])
        self.service_name = self.after(self.resources[resources["service"]], objects["service"])
        self.selector = self.after(self.resources[resources["deployment"]], new_selector(args["app_name"]))
        self.register_outputs(
            {
                "deploymentName": self.deployment_name,
                "serviceName": self.service_name,
                "selector": self.selector,
            }
        )
