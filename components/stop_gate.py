"""StopGate: the Job that waits until one side of a workload that must never run two copies is gone
(components/desired/gates.py)."""

import pulumi

from components.desired import STOP_GATE_TYPE
from components.desired.gates import StopGateArgs, stop_gate_specs
from components.registration import SpecComponent


class StopGate(SpecComponent):
    """A Job (awaited to completion by pulumi-kubernetes) with its ServiceAccount, Role and RoleBinding:
    what depends on it starts only once no pod of the stopped side exists."""

    TYPE = STOP_GATE_TYPE

    def __init__(self, name: str, args: StopGateArgs, opts: pulumi.ResourceOptions | None = None):
        self._register(name, args, opts, stop_gate_specs, [])
        self.register_outputs({"objects": sorted(self.resources)})
