"""init's choice of a target from what the cluster's guardrails allow: the optional Azure exports
(`--aks-cluster`, `--policy-assignments`), copied next to the cluster export so `check` reads the same
files, and the target they leave: the shim where nothing refuses its installer, else the container."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.core.config import Shim, SpinImage
from components.export.aks import AksFacts
from components.export.guardrails import Guardrail, installer_refusals
from migrate.init.files import CLUSTER_EXPORT_DIR, export_list, export_text

# Where each export goes under --out, and the config key that names it.
FILES = {"aks": "aks.json", "policyAssignments": "policy-assignments.json", "crds": "crds.yaml"}


@dataclass(frozen=True)
class AzureExports:
    """The optional exports beside the cluster's: `az aks show`, the policy assignments (copied as they
    are) and the Gateway API CRDs (kept without their schemas)."""

    texts: dict[str, str | None]  # config key -> the file's text, None when not given
    guardrails: list[Guardrail]
    aks: AksFacts | None = None
    crds: tuple[dict[str, Any], ...] | None = None

    def _copies(self) -> dict[str, str]:
        copies = {key: text for key, text in self.texts.items() if text is not None}
        if self.crds is not None:
            copies["crds"] = export_text(export_list(self.crds), "the CRD export", "crds")
        return copies

    def paths(self, stack: str) -> dict[str, str]:
        """Config key -> the copy's path relative to --out (the project root once moved there)."""
        copies = self._copies()
        return {key: f"{CLUSTER_EXPORT_DIR}/{stack}-{name}" for key, name in FILES.items() if key in copies}

    def files(self, stack: str) -> dict[str, str]:
        copies = self._copies()
        return {path: copies[key] for key, path in self.paths(stack).items()}

    def target(self) -> tuple[str, list[dict[str, str]], list[str]]:
        """The target to propose, the decisions it leaves (config key and why) and the notes saying why,
        for the shim's default namespace."""
        namespace = Shim().namespace
        refusals = installer_refusals(self.guardrails, namespace)
        if refusals:
            why = "; ".join(f"{g.source} refuses {g.refuses}" for g in refusals)
            digest: dict[str, str] = {
                "key": "container.spinImage.digest",
                "workload": "",
                "text": f"the cluster refuses the shim's privileged installer in {namespace} ({why}), so the "
                "stack takes target container: Spin in ordinary pods, nothing privileged. Pin the Spin "
                f"image by its multi-arch index digest (crane digest {SpinImage().reference}); or "
                f"{refusals[0].fix} and set target: shim (docs/targets.md)",
            }
            return "container", [digest], [f"target container: {why}"]
        warned = [g for g in self.guardrails if not g.enforced and g.applies_to(namespace)]
        if not any(self.texts.values()):
            note = (
                "target shim: give --aks-cluster and --policy-assignments so init can tell whether the "
                "cluster's guardrails allow the shim's privileged installer (docs/targets.md)"
            )
        elif warned:
            note = "target shim: " + "; ".join(f"{g.source} only warns about {g.refuses}" for g in warned)
        else:
            note = f"target shim: nothing in the Azure exports refuses the installer in {namespace}"
        return "shim", [], [note]


def config_keys(azure: AzureExports, stack: str) -> dict[str, Any]:
    """The cluster config keys that name the copies."""
    return dict(azure.paths(stack))
