"""What the component package exposes to other Pulumi languages (package/__main__.py hosts it)."""

from __future__ import annotations

import pulumi

from components.aci_workload import AciWorkload
from components.core.config import PROJECT
from components.spin_shim import SpinShim
from components.traffic_split import TrafficSplit
from components.wasm_node_pool import WasmNodePool
from components.wasm_workload import WasmWorkload

PACKAGE = PROJECT
VERSION = "0.4.0"  # pyproject.toml [project] version; tests/test_package.py holds them equal
# The building blocks a platform team composes; the migration's own adoption components take exported
# manifests and are meant for the phase program.
PUBLIC_COMPONENTS: list[type[pulumi.ComponentResource]] = [
    WasmNodePool,
    SpinShim,
    WasmWorkload,
    AciWorkload,
    TrafficSplit,
]
