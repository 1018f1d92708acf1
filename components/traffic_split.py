"""TrafficSplit: an exact, weighted split of one host and path between Services, through a Gateway."""

import pulumi

from components.core import identifiers, naming
from components.desired import TRAFFIC_SPLIT_TYPE
from components.desired.workloads import TrafficSplitArgs, traffic_split_specs
from components.registration import SpecComponent, check_arg

__all__ = ["TrafficSplit", "TrafficSplitArgs"]


class TrafficSplit(SpecComponent):
    """A Gateway API v1 HTTPRoute on a Gateway you run; awaited until the Gateway accepts it."""

    TYPE = TRAFFIC_SPLIT_TYPE

    route_name: pulumi.Output[str]

    def __init__(self, name: str, args: TrafficSplitArgs, opts: pulumi.ResourceOptions | None = None):
        problems: list[str] = []
        for arg in ("namespace", "app_name", "gateway_name", "gateway_namespace"):
            check_arg(problems, arg, args.get(arg, ""), identifiers.dns1123_label)
        for index, backend in enumerate(args.get("backends") or []):
            if not 0 <= backend["weight"] <= 1_000_000:
                problems.append(f"backends[{index}].weight: must be 0-1000000 (got {backend['weight']!r})")
        if not args.get("backends"):
            problems.append("backends: at least one Service to send requests to")
        self._register(name, args, opts, traffic_split_specs, problems)
        self.route_name = self.after(self.resources[name], naming.route_name(args["app_name"]))
        self.register_outputs({"routeName": self.route_name})
