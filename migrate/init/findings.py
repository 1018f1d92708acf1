"""What init finds out about one Wasm workload, filled in by detection (why it is Wasm, how ready it
is) and by the decisions (whether this stack migrates it, its config entry, what a person must decide
or know)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.export import facts


@dataclass(frozen=True)
class Decision:
    """Something a person must decide before `check` passes: the config key it is made in (relative
    to the workload's entry, or a top-level key), what breaks and the fix."""

    key: str
    text: str


@dataclass
class WorkloadFinding:
    """One Wasm workload: what it is, whether the stack migrates it, and what a person should know."""

    kind: str
    namespace: str
    name: str
    wasi_pool: str
    signals: tuple[str, ...]
    runtime_class: str | None
    classification: str = ""
    migrated: bool = False
    reason: str = ""
    manifest: str | None = None
    service: str | None = None
    services: list[str] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    proposed: dict[str, Any] = field(default_factory=dict)
    # For migrated Deployments: the config entry, the related objects and the replicas to size for.
    entry: dict[str, Any] = field(default_factory=dict)
    objects: tuple[Mapping[str, Any], ...] = ()
    peak_replicas: int = 1

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    def decide(self, key: str, text: str) -> None:
        self.decisions.append(Decision(key, text))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "wasiPool": self.wasi_pool,
            "runtimeClass": self.runtime_class,
            "signals": list(self.signals),
            "classification": self.classification,
            "migrated": self.migrated,
            "reason": self.reason or None,
            "manifest": self.manifest,
            "service": self.service,
            "services": self.services,
            "decisions": [{"key": d.key, "text": d.text} for d in self.decisions],
            "notes": self.notes,
            "proposed": self.proposed,
            "related": [f"{o.get('kind')} {facts.name_of(o)}" for o in self.objects],
        }
