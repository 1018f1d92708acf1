"""What each phase does to one workload: the phase table, read like the README's, as pure data.

The walk is built so that no step ever changes the legacy side and the new side at once, and whichever
side changes, the other alone still carries the workload at full capacity:

- the legacy side runs as exported (its replicas, its autoscaler) from baseline through the last
  parallel step, loses its pods only in cutover and is deleted in decommission;
- the new side grows while the legacy side is whole: a canary (prepare), one pod outside traffic
  (parallel at 0 %), its share of ready pods (parallel at w %), full capacity (parallel at 100 %), and
  stays whole from then on;
- a Gateway route's weight moves only while both sides are whole.

So each step is one kind of change (new side up or down, traffic, legacy side down or up), and every
ordering the engine may choose inside one `pulumi up`, forward or back, keeps each entry point at least
at its baseline capacity. `components.analysis.capacity` proves it per transition; the walk's shape
(parallel starts at 0 % and ends at 100 %) is `Traffic.walk`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction

from components.core.config import Phase


class LegacySide(StrEnum):
    """What a phase does to the legacy Deployment (and its autoscaler)."""

    ADOPTED = "adopted"  # imported read-only: nothing of it is owned yet
    KEPT = "kept"  # runs as exported; the patch owns the fields cutover will change
    ZERO = "zero"  # no legacy pod runs; the Deployment stays for the way back
    DELETED = "deleted"  # decommission: gone with its autoscaler


class Isolation(StrEnum):
    """Which of the export's selectors the new pods (and Service) stay out of."""

    ALL = "all"  # not serving yet: out of every selector of the export
    SERVICES = "services"  # a Gateway route splits exactly: out of the exported Services only
    NONE = "none"  # serving through every entry point: every exported label carried


# `migrate check` warns when a share of requests misses the phase's weight by more than this (points).
SHARE_TOLERANCE_PERCENT = 10


@dataclass(frozen=True)
class Count:
    """Replicas (`maximum` None) or an autoscaler's bounds."""

    minimum: int
    maximum: int | None = None

    @property
    def autoscaled(self) -> bool:
        return self.maximum is not None

    def __str__(self) -> str:
        return f"{self.minimum}" if self.maximum is None else f"{self.minimum}..{self.maximum}"


@dataclass(frozen=True)
class WorkloadPlan:
    """One workload in one phase. `new` None: the new side is not registered. `await_legacy`: the
    legacy patch waits for the legacy pods to be Ready (the way back from cutover lands here)."""

    legacy: LegacySide
    new: Count | None
    isolation: Isolation
    route_weight: int | None
    requested_percent: int
    await_legacy: bool = False
    stop_then_start: bool = False


@dataclass(frozen=True)
class Capacity:
    """A workload's exported capacity (`legacy`) and what the new side runs at full capacity
    (`target`): replicas, or an autoscaler's bounds."""

    legacy: Count
    target: Count


def requested_share(phase: Phase, weight: int) -> int:
    """The share of requests a phase asks the new pods to serve."""
    if phase is Phase.PARALLEL:
        return weight
    return 100 if phase.at_least(Phase.CUTOVER) else 0


def _half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


def toward(weight: int, legacy: int, target: int) -> int:
    """New pods beside `legacy` whole legacy pods for a share of `weight` percent of the ready pods,
    at most `target` (full capacity): none when the legacy side has none; at 0 % one pod for the check
    (outside traffic); at 100 % the target."""
    if weight >= 100:
        return target
    if legacy == 0:
        return 0
    if weight == 0:
        return min(1, target)
    return min(target, max(1, _half_up(Fraction(legacy * weight, 100 - weight))))


def scaled(weight: int, capacity: Capacity) -> Count:
    """The new side's replicas or bounds at `weight` percent."""
    legacy, target = capacity.legacy, capacity.target
    low = toward(weight, legacy.minimum, target.minimum)
    if target.maximum is None:
        return Count(low)
    high = toward(weight, legacy.maximum or legacy.minimum, target.maximum)
    return Count(low, max(low, high, 1))


def new_share_percent(legacy: int, new: int) -> int:
    """The share of ready pods that are new, when a Service spreads requests over both sides."""
    return _half_up(Fraction(100 * new, new + legacy)) if new + legacy else 0


def plan_workload(
    phase: Phase,
    weight: int,
    capacity: Capacity,
    *,
    gateway: bool,
    canary: int | None,
    stop_then_start: bool,
) -> WorkloadPlan:
    """The phase table. `canary`: the canary's replicas in prepare (None: no canary).
    `stop_then_start`: a workload that must never run twice (Recreate, a volume holding state) has no
    new pods before cutover, where the legacy pods stop before the new ones start."""
    requested = requested_share(phase, weight)
    route = None if not gateway else (0 if phase is Phase.PREPARE else requested)
    if phase is Phase.BASELINE:
        return WorkloadPlan(LegacySide.ADOPTED, None, Isolation.ALL, None, 0)
    if stop_then_start:
        if phase.at_least(Phase.CUTOVER):
            legacy = LegacySide.ZERO if phase is Phase.CUTOVER else LegacySide.DELETED
            return WorkloadPlan(
                legacy, capacity.target, Isolation.NONE, route, requested, stop_then_start=True
            )
        # Registered at zero, so that a rollback from cutover stops the new pods before legacy ones start.
        zero = Count(0, 0) if capacity.target.autoscaled else Count(0)
        return WorkloadPlan(
            LegacySide.KEPT, zero, Isolation.ALL, route, 0, phase is Phase.PARALLEL, stop_then_start=True
        )
    if phase is Phase.PREPARE:
        new = None
        if canary is not None:
            new = Count(canary, canary) if capacity.target.autoscaled else Count(canary)
        return WorkloadPlan(LegacySide.KEPT, new, Isolation.ALL, route, 0)
    if phase is Phase.PARALLEL:
        if gateway:
            isolation = {0: Isolation.ALL, 100: Isolation.NONE}.get(weight, Isolation.SERVICES)
            return WorkloadPlan(LegacySide.KEPT, capacity.target, isolation, route, requested, True)
        isolation = Isolation.ALL if weight == 0 else Isolation.NONE
        return WorkloadPlan(LegacySide.KEPT, scaled(weight, capacity), isolation, None, requested, True)
    legacy = LegacySide.ZERO if phase is Phase.CUTOVER else LegacySide.DELETED
    return WorkloadPlan(legacy, capacity.target, Isolation.NONE, route, requested)
