"""One migration as loaded: the validated config and what the exports it names hold."""

from __future__ import annotations

from dataclasses import dataclass, field

from components.core.config import MigrationConfig
from components.export.cluster import ClusterExport, ClusterReads
from components.export.workload import ExportedWorkload


@dataclass(frozen=True)
class Migration:
    config: MigrationConfig
    workloads: tuple[ExportedWorkload, ...]
    cluster: ClusterExport | None = None
    reads: ClusterReads = field(default_factory=ClusterReads)
