"""The target side the stack proposes, and how it adopts the legacy side: each WASI pool as the config
knows it, one OCIContainer pool per architecture sized from Azure VM size names, and a free name for
the migration's RuntimeClass where the cluster already has one of the default name."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from components.core.config import LegacyPool, Shim
from components.core.identifiers import vm_architecture
from components.export import facts
from migrate.init.detect import ARCH_LABEL, ClusterView
from migrate.init.errors import InventoryError
from migrate.init.findings import WorkloadFinding
from migrate.init.node_pools import WasiPool

# Share of a node's vCPUs and memory left for pods after AKS's kube-reserved, eviction threshold and
# system DaemonSets (including the shim installer); an estimate, stated in the report.
ALLOCATABLE_SHARE = 0.7
# GiB per vCPU of common Azure VM families (Dv3+/Dsv4/Dsv5/Dasv5: 4, Ev*: 8, Fsv2: 2, B2s: 2, DSv2: 3.5).
GIB_PER_VCPU = {"D": 4.0, "DS": 3.5, "E": 8.0, "F": 2.0, "B": 2.0, "A": 2.0}
# One proposed OCIContainer pool per architecture of the WASI pools.
TARGET_POOL_NAMES = {"amd64": "spinpool", "arm64": "spinarm"}
MIN_TARGET_NODES = 2
SHIM_DEFAULTS = Shim()
FREE_RUNTIME_CLASS_BASE = "wasm-spin-migration"

_VM_SIZE = re.compile(r"^Standard_([A-Z]+?)(\d+)")


def vm_capacity(vm_size: str) -> tuple[int, float] | None:
    """(vCPUs, GiB) read from an Azure VM size name such as Standard_D4s_v5; None for unknown families."""
    match = _VM_SIZE.match(vm_size)
    if not match or match.group(1) not in GIB_PER_VCPU:
        return None
    vcpus = int(match.group(2))
    return vcpus, vcpus * GIB_PER_VCPU[match.group(1)]


def pool_arch(view: ClusterView, pool: WasiPool) -> str:
    """The pool's architecture: its exported Nodes' kubernetes.io/arch, else its VM size's."""
    return view.pool_labels.get(pool.name, {}).get(ARCH_LABEL) or vm_architecture(pool.vm_size)


def free_name(base: str, taken: set[str]) -> str:
    return next(c for c in [base, *(f"{base}{i}" for i in range(2, 1000))] if c not in taken)


# ---------------------------------------------------------------------------------------------------
# The legacy side


def legacy_pool_config(pool: WasiPool, index: int) -> dict[str, Any]:
    """A WASI pool as the config knows it: adopted read-only, so its name identifies it, and its labels
    and taints tell the scheduling proof where legacy pods may run; AKS keeps everything else."""
    config: dict[str, Any] = {"name": pool.name}
    if pool.pool.get("nodeLabels"):
        config["nodeLabels"] = dict(pool.pool["nodeLabels"])
    if pool.taints:
        config["nodeTaints"] = [
            {k: v for k, v in taint.items() if v or k != "value"} for taint in pool.taints
        ]
    try:
        LegacyPool.model_validate(config)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InventoryError(
            f"WASI pool {pool.name}: the config model cannot describe legacyPools[{index}].{where} "
            f"({first['msg']}; got {first.get('input')!r})"
        ) from None
    return config


# ---------------------------------------------------------------------------------------------------
# Target pools


@dataclass(frozen=True)
class _Demand:
    """What the migrated workloads of one architecture's WASI pools request at their peak replicas."""

    workloads: list[WorkloadFinding]
    cpu: float
    memory_gib: float


def _demand(
    group: list[WasiPool], migrated: list[WorkloadFinding], requests: dict[str, dict[str, float]]
) -> _Demand:
    workloads = [f for f in migrated if f.wasi_pool in {p.name for p in group}]
    cpu = sum(requests[f.key]["cpu"] * f.peak_replicas for f in workloads)
    memory_gib = sum(requests[f.key]["memory"] * f.peak_replicas for f in workloads) / 2**30
    return _Demand(workloads, cpu, memory_gib)


def _node_count(sizing: dict[str, Any], group: list[WasiPool], source: WasiPool, demand: _Demand) -> int:
    """Enough nodes of the source's size for the demand and never fewer vCPUs than the WASI pools have
    (nor fewer than MIN_TARGET_NODES); the figures go into `sizing`."""
    capacity = vm_capacity(source.vm_size)
    if capacity:
        vcpus, gib = capacity
        needed = math.ceil(
            max(demand.cpu / (vcpus * ALLOCATABLE_SHARE), demand.memory_gib / (gib * ALLOCATABLE_SHARE))
        )
        legacy_vcpus = sum(p.count * (vm_capacity(p.vm_size) or (vcpus, gib))[0] for p in group)
        equivalent = math.ceil(legacy_vcpus / vcpus)
        sizing.update(nodeVcpus=vcpus, nodeMemoryGiB=gib, nodesForRequests=needed, legacyVcpus=legacy_vcpus)
    else:
        needed, equivalent = 0, sizing["legacyNodes"]
        sizing["nodesForRequests"] = None
    return max(MIN_TARGET_NODES, needed, equivalent)


def _proposal(name: str, source: WasiPool, count: int, group: list[WasiPool]) -> dict[str, Any]:
    legacy_max = sum(int(p.pool.get("maxCount") or 0) for p in group if p.pool.get("enableAutoScaling"))
    proposal: dict[str, Any] = {
        "name": name,
        "vmSize": source.vm_size,
        "osSku": "AzureLinux",
        "count": count,
        "autoscaling": {"minCount": count, "maxCount": max(2 * count, legacy_max)},
    }
    if source.pool.get("availabilityZones"):
        proposal["zones"] = [str(zone) for zone in source.pool["availabilityZones"]]
    if source.pool.get("maxPods"):
        proposal["maxPods"] = source.pool["maxPods"]
    proposal["maxSurge"] = "33%"
    return proposal


def _target_pool(
    arch: str,
    group: list[WasiPool],
    migrated: list[WorkloadFinding],
    requests: dict[str, dict[str, float]],
    taken: set[str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The proposal for one architecture's WASI pools and how it was sized; its name joins `taken`."""
    source = max(group, key=lambda p: (*(vm_capacity(p.vm_size) or (0, 0.0)), p.name))
    demand = _demand(group, migrated, requests)
    sizing: dict[str, Any] = {
        "arch": arch,
        "vmSize": source.vm_size,
        "legacyPools": [p.name for p in group],
        "workloads": [f.key for f in demand.workloads],
        "requestedCpu": round(demand.cpu, 3),
        "requestedMemoryGiB": round(demand.memory_gib, 3),
        "legacyNodes": sum(p.count for p in group),
        "allocatableShare": ALLOCATABLE_SHARE,
    }
    count = _node_count(sizing, group, source, demand)
    name = free_name(TARGET_POOL_NAMES.get(arch, "spinpool"), taken)
    taken.add(name)
    sizing["count"] = count
    return _proposal(name, source, count, group), {"name": name, **sizing}


def target_pools(
    view: ClusterView,
    all_pools: list[dict[str, Any]],
    migrated: list[WorkloadFinding],
    requests: dict[str, dict[str, float]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One OCIContainer pool per architecture of the WASI pools the migrated workloads run on: the VM
    size of the largest such WASI pool (an Arm64 pool keeps its Arm64 size), its zones and maxPods,
    enough nodes for the workloads' requests at their peak replicas and never less capacity (vCPUs)
    than those WASI pools have."""
    by_name = {pool.name: pool for pool in view.pools}
    groups: dict[str, list[WasiPool]] = {}
    for pool in view.pools:
        groups.setdefault(pool_arch(view, pool), []).append(pool)
    used = {pool_arch(view, by_name[f.wasi_pool]) for f in migrated if f.wasi_pool in by_name}
    archs = [arch for arch in sorted(groups) if arch in used] or [pool_arch(view, view.pools[0])]
    taken = {str(pool.get("name")) for pool in all_pools}
    proposals, sizings = [], []
    for arch in archs:
        proposal, sizing = _target_pool(arch, groups[arch], migrated, requests, taken)
        proposals.append(proposal)
        sizings.append(sizing)
    return proposals, sizings


# ---------------------------------------------------------------------------------------------------
# The migration's RuntimeClass


def runtime_class_proposal(view: ClusterView) -> tuple[str | None, str | None]:
    """A RuntimeClass already named like the shim's default (KWasm and runtime-class-manager install
    `wasm-spin`) with another definition: a free name for the migration's, and the note saying so."""
    name = SHIM_DEFAULTS.runtime_class_name
    existing = view.index.named("RuntimeClass", None, name)
    if existing is None:
        return None, None
    ours = {
        "handler": SHIM_DEFAULTS.handler,
        "nodeSelector": {SHIM_DEFAULTS.node_label.key: SHIM_DEFAULTS.node_label.value},
    }
    theirs = {
        "handler": existing.get("handler"),
        "nodeSelector": dict((existing.get("scheduling") or {}).get("nodeSelector") or {}),
    }
    taken = {facts.name_of(o) for o in view.index.of("RuntimeClass", None)}
    if theirs == ours:
        return None, (
            f"RuntimeClass {name} exists with the definition the migration gives it (handler "
            f"{ours['handler']}, the shim label's node selector): set "
            "`shim.adoptExisting.runtimeClass: true` to import it"
        )
    free = free_name(FREE_RUNTIME_CLASS_BASE, taken)
    return free, (
        f"RuntimeClass {name} already exists with another definition (handler {theirs['handler']}, "
        f"nodeSelector {json.dumps(theirs['nodeSelector'], sort_keys=True)}), as KWasm or "
        f"runtime-class-manager install it; the stack names the migration's class {free} "
        "(`shim.runtimeClassName`) so both coexist: the existing class and what runs on it are left as they "
        "are"
    )
