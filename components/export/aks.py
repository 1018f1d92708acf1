"""What `az aks show -o json` says that the preflight reads, besides the guardrails (guardrails.py):
the control plane's version, the OIDC issuer and workload identity, and Azure Monitor's managed
kube-state-metrics. Field names as the AKS API (Azure/azure-rest-api-specs `managedClusters.json`,
2024-02-01 and later) and `az aks show` print them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MINOR = re.compile(r"^(\d+)\.(\d+)(?:\.\d+)?$")


@dataclass(frozen=True)
class AksFacts:
    name: str
    version: str | None  # major.minor of the control plane
    oidc_issuer: bool
    workload_identity: bool
    managed_prometheus: bool
    # The labels Azure Monitor's kube-state-metrics (ama-metrics-ksm) exports, as `az aks update
    # --ksm-metric-labels-allow-list` sets them: "pods=[a,b],nodes=[*]".
    ksm_labels: str


def aks_facts(cluster: Mapping[str, Any]) -> AksFacts:
    """The facts of one `az aks show` (its shape already checked by guardrails.safeguards)."""
    version = str(cluster.get("currentKubernetesVersion") or cluster.get("kubernetesVersion") or "")
    minor = _MINOR.match(version)
    metrics = _object(_object(cluster.get("azureMonitorProfile")).get("metrics"))
    return AksFacts(
        name=str(cluster.get("name")),
        version=f"{minor[1]}.{minor[2]}" if minor else None,
        oidc_issuer=bool(_object(cluster.get("oidcIssuerProfile")).get("enabled")),
        workload_identity=bool(
            _object(_object(cluster.get("securityProfile")).get("workloadIdentity")).get("enabled")
        ),
        managed_prometheus=bool(metrics.get("enabled")),
        ksm_labels=str(_object(metrics.get("kubeStateMetrics")).get("metricLabelsAllowlist") or ""),
    )


def _object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}
