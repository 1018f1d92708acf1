"""What the cluster's own guardrails refuse, read from read-only Azure exports: `az aks show -o json`
(Deployment Safeguards, AKS Automatic) and `az policy assignment list -o json` (Azure Policy for AKS).
The shim installer needs a privileged, hostPID pod with a hostPath volume in its own namespace; where a
guardrail refuses that, the migration must take the `container` target (docs/targets.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

# Built-in Azure Policy definitions for AKS (Azure Policy add-on, Gatekeeper) that refuse what the
# installer's pod has, by definition GUID (learn.microsoft.com "Azure Policy built-in definitions for
# AKS"; the same ids in Azure/Enterprise-Scale and the Azure Security Benchmark initiatives).
INSTALLER_POLICIES = {
    "95edb821-ddaf-4404-9732-666045e056b4": "privileged containers",
    "098fc59e-46c7-4d99-9b16-64990e543d75": "hostPath volumes",
    "47a1ee2f-2a2a-4576-bf2a-e0e36709c2b8": "the host's process ID namespace",
}
# The namespaces those definitions leave out unless an assignment says otherwise (their
# `excludedNamespaces` parameter's default).
POLICY_DEFAULT_EXCLUDED = frozenset(
    {"kube-system", "gatekeeper-system", "azure-arc", "azure-extensions-usage-system"}
)
# Deployment Safeguards apply Pod Security "baseline" (no privileged, hostPID or hostPath pods) in every
# namespace they do not exclude (reference: AKS docs "Use deployment safeguards"); AKS Automatic turns
# them on at Enforcement and they cannot be turned off there.
SAFEGUARDS_REFUSE = "privileged, hostPID and hostPath pods (Pod Security baseline)"


class GuardrailInputError(ValueError):
    """An export that is not what its command prints; one line naming the file."""


@dataclass(frozen=True)
class Guardrail:
    """One guardrail that refuses (enforced) or only warns about the installer's pod, and the
    namespaces it leaves alone (None: it applies only to the namespaces in `only`)."""

    source: str
    refuses: str
    enforced: bool
    excluded: frozenset[str] = frozenset()
    only: frozenset[str] | None = None
    fix: str = ""
    # Deployment Safeguards enforce Pod Security baseline on every pod, not only the installer's.
    pod_security_baseline: bool = False

    def applies_to(self, namespace: str) -> bool:
        if self.only is not None and namespace not in self.only:
            return False
        return namespace not in self.excluded


def safeguards(cluster: Any, source: str) -> list[Guardrail]:
    """Deployment Safeguards of `az aks show -o json` (`safeguardsProfile`, `sku.name`)."""
    if not isinstance(cluster, dict) or not isinstance(cluster.get("name"), str):
        raise GuardrailInputError(
            f"{source}: not the output of `az aks show -o json` (an object with a name)"
        )
    profile = cluster.get("safeguardsProfile") or {}
    automatic = (cluster.get("sku") or {}).get("name") == "Automatic"
    level = "Enforcement" if automatic else profile.get("level")
    if level not in ("Warning", "Enforcement"):
        return []
    excluded = frozenset(_strings(profile.get("excludedNamespaces"))) | frozenset(
        _strings(profile.get("systemExcludedNamespaces"))
    )
    what = "AKS Automatic's Deployment Safeguards" if automatic else f"Deployment Safeguards at {level}"
    fix = (
        "exclude the shim's namespace: az aks safeguards update --excluded-ns <namespace>"
        if level == "Enforcement"
        else ""
    )
    return [Guardrail(what, SAFEGUARDS_REFUSE, level == "Enforcement", excluded, None, fix, True)]


def policy_assignments(assignments: Any, source: str) -> list[Guardrail]:
    """Assignments of `az policy assignment list -o json` of the definitions in INSTALLER_POLICIES: an
    effect of deny (case as Azure takes it) in the Default enforcement mode refuses; audit warns."""
    if not isinstance(assignments, list) or not all(isinstance(a, dict) for a in assignments):
        raise GuardrailInputError(f"{source}: not the output of `az policy assignment list -o json` (a list)")
    found = []
    for assignment in assignments:
        definition = str(assignment.get("policyDefinitionId") or "").rsplit("/", 1)[-1].lower()
        if definition not in INSTALLER_POLICIES:
            continue
        parameters = assignment.get("parameters") or {}
        effect = str(_parameter(parameters, "effect") or "Audit")
        excluded = _parameter(parameters, "excludedNamespaces")
        only = _parameter(parameters, "namespaces")
        name = assignment.get("displayName") or assignment.get("name") or definition
        found.append(
            Guardrail(
                f"Azure Policy assignment {name!s} ({effect})",
                INSTALLER_POLICIES[definition],
                effect.lower() == "deny" and assignment.get("enforcementMode", "Default") == "Default",
                frozenset(_strings(excluded)) if excluded is not None else POLICY_DEFAULT_EXCLUDED,
                frozenset(_strings(only)) if only else None,
                "add the shim's namespace to the assignment's excludedNamespaces parameter",
            )
        )
    return found


def read_guardrails(aks: str | None, assignments: str | None, sources: tuple[str, str]) -> list[Guardrail]:
    """Both exports' guardrails (either may be missing); GuardrailInputError for one that is not JSON."""
    found = []
    if aks is not None:
        found += safeguards(export_json(aks, sources[0]), sources[0])
    if assignments is not None:
        found += policy_assignments(export_json(assignments, sources[1]), sources[1])
    return found


def installer_refusals(guardrails: list[Guardrail], namespace: str) -> list[Guardrail]:
    """The enforced guardrails that would refuse the installer's pod in `namespace`."""
    return [g for g in guardrails if g.enforced and g.applies_to(namespace)]


def export_json(text: str, source: str) -> Any:
    """One Azure CLI export's JSON; GuardrailInputError naming the file where it is not JSON."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise GuardrailInputError(f"{source}: not JSON ({error.msg} at line {error.lineno})") from None


def _parameter(parameters: Any, name: str) -> Any:
    value = parameters.get(name) if isinstance(parameters, dict) else None
    return value.get("value") if isinstance(value, dict) else None


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []
