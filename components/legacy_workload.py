"""LegacyWorkload: a Deployment and Service running on the WASI pool, adopted read-only, with the
replicas and the Service selector set by field-level patches."""

import pulumi

from components.desired import LEGACY_WORKLOAD_TYPE
from components.desired.workloads import LegacyWorkloadArgs, legacy_resource_names, legacy_workload_specs
from components.registration import SpecComponent

__all__ = ["LegacyWorkload", "LegacyWorkloadArgs"]


class LegacyWorkload(SpecComponent):
    """Pulumi owns only the fields it changes: the exported objects are never applied, replicas and
    the selector go through server-side apply patches that are retained when removed."""

    TYPE = LEGACY_WORKLOAD_TYPE

    service_name: pulumi.Output[str]

    def __init__(self, name: str, args: LegacyWorkloadArgs, opts: pulumi.ResourceOptions | None = None):
        problems = []
        for key in ("deployment", "service"):
            metadata = (args.get(key) or {}).get("metadata") or {}  # type: ignore[attr-defined]
            if not metadata.get("name") or not metadata.get("namespace"):
                problems.append(f"{key}: an exported object with metadata.name and metadata.namespace")
        self._register(name, args, opts, legacy_workload_specs, problems)
        service = self.resources[legacy_resource_names(name)["service"]]
        self.service_name = self.after(service, args["service"]["metadata"]["name"])
        self.register_outputs({"serviceName": self.service_name})
