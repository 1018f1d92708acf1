"""WorkloadVerification: the in-cluster parity and performance check of one workload's legacy and new
pods (components/desired/verification.py); in cutover its Job gates every legacy change."""

import pulumi

from components.desired import VERIFICATION_TYPE
from components.desired.verification import VerificationArgs, verification_specs
from components.registration import SpecComponent


class WorkloadVerification(SpecComponent):
    """A Job (awaited to completion by pulumi-kubernetes; a failed one fails `pulumi up`), its
    ServiceAccount, Role and RoleBinding, and the ConfigMap it writes its summary to."""

    TYPE = VERIFICATION_TYPE

    def __init__(self, name: str, args: VerificationArgs, opts: pulumi.ResourceOptions | None = None):
        self._register(name, args, opts, verification_specs, [])
        self.register_outputs({"objects": sorted(self.resources)})
