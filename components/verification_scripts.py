"""VerificationScripts: the verification script, once per namespace whose workloads are checked."""

import pulumi

from components.desired import VERIFICATION_SCRIPTS_TYPE
from components.desired.verification import VerificationScriptsArgs, verification_scripts_specs
from components.registration import SpecComponent


class VerificationScripts(SpecComponent):
    """ConfigMaps cannot be mounted across namespaces, and a copy per workload would repeat the script
    in every render and diff."""

    TYPE = VERIFICATION_SCRIPTS_TYPE

    def __init__(self, name: str, args: VerificationScriptsArgs, opts: pulumi.ResourceOptions | None = None):
        self._register(name, args, opts, verification_scripts_specs, [])
        self.register_outputs({"objects": sorted(self.resources)})
