"""LegacyAdmissionPolicy: from cutover on, a ValidatingAdmissionPolicy and its binding that refuse new
pods on the retired WASI runtime (components/desired/admission.py builds both)."""

import pulumi

from components.desired import ADMISSION_POLICY_TYPE
from components.desired.admission import AdmissionPolicyArgs, admission_policy_specs
from components.registration import SpecComponent


class LegacyAdmissionPolicy(SpecComponent):
    """Refuses new pods on an AKS WASI RuntimeClass or a WASI pool; the legacy pods a rollback
    recreates, the other pods still on the pools and DaemonSet pods are exempt."""

    TYPE = ADMISSION_POLICY_TYPE

    def __init__(self, name: str, args: AdmissionPolicyArgs, opts: pulumi.ResourceOptions | None = None):
        self._register(name, args, opts, admission_policy_specs, [])
        self.register_outputs({"policy": sorted(self.resources)})
