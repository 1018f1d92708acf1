"""The AKS side of init's inputs: the cluster named by --cluster and its node pools as
`az aks nodepool list -o json` prints them, the WASI pools among them and the Kubernetes version they
run."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from components.core.kubernetes import parse_aks_taint
from migrate.init.errors import InventoryError


def read_node_pools(text: str, source: str) -> list[dict[str, Any]]:
    """The pools of `az aks nodepool list -o json`."""
    try:
        pools = json.loads(text)
    except json.JSONDecodeError as error:
        raise InventoryError(f"{source}: not JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(pools, list) or not all(
        isinstance(pool, dict) and isinstance(pool.get("name"), str) for pool in pools
    ):
        raise InventoryError(f"{source}: not the output of `az aks nodepool list -o json` (a list of pools)")
    return pools


@dataclass(frozen=True)
class ClusterRef:
    subscription_id: str
    resource_group: str
    name: str


def parse_cluster(value: str) -> ClusterRef:
    parts = value.split("/")
    if len(parts) != 3 or not all(parts):
        raise InventoryError(f"--cluster {value!r}: expected SUBSCRIPTION/RESOURCE_GROUP/NAME")
    return ClusterRef(*parts)


@dataclass(frozen=True)
class WasiPool:
    name: str
    pool: dict[str, Any]
    taints: tuple[dict[str, str], ...]

    @property
    def vm_size(self) -> str:
        return str(self.pool.get("vmSize") or "")

    @property
    def count(self) -> int:
        count = self.pool.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) and count >= 0 else 0


def wasi_pools(pools: list[dict[str, Any]], source: str) -> list[WasiPool]:
    found = [
        WasiPool(p["name"], p, tuple(parse_aks_taint(str(t)) for t in p.get("nodeTaints") or []))
        for p in sorted(pools, key=lambda p: p["name"])
        if p.get("workloadRuntime") == "WasmWasi"
    ]
    if not found:
        names = ", ".join(f"{p['name']} ({p.get('workloadRuntime') or 'OCIContainer'})" for p in pools)
        raise InventoryError(f"{source}: no pool with workloadRuntime WasmWasi (pools: {names or 'none'})")
    return found


def kubernetes_version(pools: list[dict[str, Any]]) -> str | None:
    """The highest minor any pool runs: nodes are never newer than the control plane."""
    minors = []
    for pool in pools:
        match = re.match(
            r"^1\.([0-9]+)",
            str(pool.get("currentOrchestratorVersion") or pool.get("orchestratorVersion") or ""),
        )
        if match:
            minors.append(int(match.group(1)))
    return f"1.{max(minors)}" if minors else None
