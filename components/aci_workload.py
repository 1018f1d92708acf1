"""AciWorkload: a Spin app in Azure Container Instances, reachable from the cluster like its pods."""

import pulumi

from components.core import identifiers
from components.desired import ACI_WORKLOAD_TYPE
from components.desired.aci import AciWorkloadArgs, aci_resource_names, aci_workload_specs
from components.registration import SpecComponent, check_arg

__all__ = ["AciWorkload", "AciWorkloadArgs"]


class AciWorkload(SpecComponent):
    """`copies` container groups of the Spin image in a subnet of the cluster's VNet, a Service without
    a selector and EndpointSlices that list the groups' private IPs (for the Service, and for each
    exported Service in `join`)."""

    TYPE = ACI_WORKLOAD_TYPE

    service_name: pulumi.Output[str]
    addresses: pulumi.Output[list[str]]

    def __init__(self, name: str, args: AciWorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        problems: list[str] = []
        check_arg(problems, "namespace", args.get("namespace", ""), identifiers.dns1123_label)
        check_arg(problems, "app_name", args.get("app_name", ""), identifiers.dns1123_label)
        check_arg(problems, "image", args.get("image", ""), identifiers.oci_image_reference)
        check_arg(problems, "app", args.get("app", ""), identifiers.oci_image_reference)
        if not 0 <= args.get("copies", -1) <= 100:
            problems.append(f"copies: 0-100 container groups (got {args.get('copies')!r})")
        self._register(name, args, opts, aci_workload_specs, problems)
        names = aci_resource_names(name, args["copies"])
        self.service_name = self.after(self.resources[names["service"]], args["service_name"])
        groups = [self.resources[group] for group in names["groups"]]
        self.addresses = pulumi.Output.all(
            *(group.ip_address.apply(lambda address: address.ip if address else None) for group in groups)  # type: ignore[attr-defined]
        ).apply(list)
        self.register_outputs({"serviceName": self.service_name, "addresses": self.addresses})
