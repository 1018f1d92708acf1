"""What each phase does to one workload: the phase table, read like the README's, as keyword data.

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
(parallel starts at 0 % and ends at 100 %) is `Traffic.walk`; the reasons are docs/design/walk.md.

`TABLE` holds one `Row` per phase (parallel: per traffic step) and workload kind; `plan_workload` looks
the row up and does the count arithmetic (`scaled`, `toward`); `ordering` derives from a row's `awaits`
what waits for what, forward and on the way back, for components.desired to register."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from components.core.config import Phase


class LegacySide(StrEnum):
    """What a phase does to the legacy Deployment (and its autoscaler)."""

    ADOPTED = "adopted"  # imported read-only: nothing of it is owned yet
    KEPT = "kept"  # runs as exported; the patch owns the fields cutover will change
    ZERO = "zero"  # no legacy pod runs; the Deployment stays for the way back
    DELETED = "deleted"  # decommission: gone with its autoscaler

    @property
    def runs(self) -> bool:
        """Its pods run (as exported)."""
        return self in (LegacySide.ADOPTED, LegacySide.KEPT)


class Isolation(StrEnum):
    """Which of the export's selectors the new pods (and Service) stay out of."""

    ALL = "all"  # not serving yet: out of every selector of the export
    SERVICES = "services"  # a Gateway route splits exactly: out of the exported Services only
    NONE = "none"  # serving through every entry point: every exported label carried


class Kind(StrEnum):
    """How a workload moves, from what the export says of it."""

    SPREAD = "spread"  # its Services spread requests over the Ready pods of both sides
    ROUTED = "routed"  # a Gateway route the migration adds splits requests exactly
    SINGLE_COPY = "single copy"  # never runs twice (Recreate, a volume holding state): stop-then-start


class At(StrEnum):
    """Which traffic steps of a phase a row covers: parallel has one row per kind of step."""

    ANY = "any weight"  # every phase but parallel
    ZERO = "0 %"  # parallel is entered here: the new side appears outside traffic
    SHARE = "w %"  # every step between
    FULL = "100 %"  # parallel is left here: the new side is whole and serves everything


class New(StrEnum):
    """The new side's pods (replicas, or an autoscaler's bounds)."""

    NONE = "none"  # not registered
    CANARY = "canary"  # the canary's replicas when the workload asks for one; else not registered
    ZERO = "zero"  # registered at 0, so that a rollback from cutover stops them before legacy ones start
    SCALED = "scaled"  # its share of the Ready pods beside the whole legacy side (`scaled`)
    TARGET = "target"  # full capacity


class Share(StrEnum):
    """A share of requests: none, the phase's traffic weight, or all."""

    NONE = "0 %"
    WEIGHT = "w %"
    ALL = "100 %"


class Await(StrEnum):
    """What waits for what inside one `pulumi up` (forward, and on the way back to the row's phase)."""

    # The legacy patch waits for the legacy pods to be Ready: the way back from cutover lands here, so
    # no later step lowers the new side before the legacy pods are back.
    LEGACY_READY = "legacy Ready"
    # The route's weight and the legacy scale-down wait for the verification Job.
    VERIFIED = "verified"
    # The legacy side is lowered last: after the new side, the route and the check.
    LEGACY_LAST = "legacy last"
    # Stop gate: the legacy pods stop first; the new ones start once every legacy pod is gone.
    LEGACY_GONE_FIRST = "legacy gone first"
    # Stop gate (the way back from cutover): the legacy pods start once every new pod is gone.
    NEW_GONE_FIRST = "new gone first"


@dataclass(frozen=True)
class Row:
    """What one phase (at one kind of traffic step) does to one kind of workload."""

    phase: Phase
    kind: Kind
    legacy: LegacySide
    new: New
    isolation: Isolation
    route: Share | None  # the route's weight to the new side, when the workload has a Gateway route
    asked: Share  # the share of requests the new pods are asked to serve
    awaits: tuple[Await, ...] = ()
    check: bool = False  # the parity check runs (when verification is on and both sides have pods)
    at: At = At.ANY


# fmt: off
TABLE: tuple[Row, ...] = (
    # baseline: everything adopted read-only, nothing new
    Row(phase=Phase.BASELINE, kind=Kind.SPREAD,
        legacy=LegacySide.ADOPTED, new=New.NONE, isolation=Isolation.ALL,
        route=None, asked=Share.NONE),
    Row(phase=Phase.BASELINE, kind=Kind.ROUTED,
        legacy=LegacySide.ADOPTED, new=New.NONE, isolation=Isolation.ALL,
        route=None, asked=Share.NONE),
    Row(phase=Phase.BASELINE, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.ADOPTED, new=New.NONE, isolation=Isolation.ALL,
        route=None, asked=Share.NONE),
    # prepare: the patch owns what cutover changes; an optional canary outside every selector; a route at 0 %
    Row(phase=Phase.PREPARE, kind=Kind.SPREAD,
        legacy=LegacySide.KEPT, new=New.CANARY, isolation=Isolation.ALL,
        route=None, asked=Share.NONE),
    Row(phase=Phase.PREPARE, kind=Kind.ROUTED,
        legacy=LegacySide.KEPT, new=New.CANARY, isolation=Isolation.ALL,
        route=Share.NONE, asked=Share.NONE),
    Row(phase=Phase.PREPARE, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.KEPT, new=New.ZERO, isolation=Isolation.ALL,
        route=Share.NONE, asked=Share.NONE),
    # parallel at 0 %: the new side outside traffic, checked; legacy pods awaited (the way back lands here)
    Row(phase=Phase.PARALLEL, at=At.ZERO, kind=Kind.SPREAD,
        legacy=LegacySide.KEPT, new=New.SCALED, isolation=Isolation.ALL,
        route=None, asked=Share.WEIGHT, awaits=(Await.LEGACY_READY,), check=True),
    Row(phase=Phase.PARALLEL, at=At.ZERO, kind=Kind.ROUTED,
        legacy=LegacySide.KEPT, new=New.TARGET, isolation=Isolation.ALL,
        route=Share.WEIGHT, asked=Share.WEIGHT, awaits=(Await.LEGACY_READY,), check=True),
    Row(phase=Phase.PARALLEL, at=At.ZERO, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.KEPT, new=New.ZERO, isolation=Isolation.ALL,
        route=Share.NONE, asked=Share.NONE, awaits=(Await.LEGACY_READY, Await.NEW_GONE_FIRST)),
    # parallel at w %: the new pods join the Services (spread), or only the route's weight moves (routed)
    Row(phase=Phase.PARALLEL, at=At.SHARE, kind=Kind.SPREAD,
        legacy=LegacySide.KEPT, new=New.SCALED, isolation=Isolation.NONE,
        route=None, asked=Share.WEIGHT, awaits=(Await.LEGACY_READY,), check=True),
    Row(phase=Phase.PARALLEL, at=At.SHARE, kind=Kind.ROUTED,
        legacy=LegacySide.KEPT, new=New.TARGET, isolation=Isolation.SERVICES,
        route=Share.WEIGHT, asked=Share.WEIGHT, awaits=(Await.LEGACY_READY,), check=True),
    Row(phase=Phase.PARALLEL, at=At.SHARE, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.KEPT, new=New.ZERO, isolation=Isolation.ALL,
        route=Share.NONE, asked=Share.NONE, awaits=(Await.LEGACY_READY, Await.NEW_GONE_FIRST)),
    # parallel at 100 %: the new side whole, in every selector
    Row(phase=Phase.PARALLEL, at=At.FULL, kind=Kind.SPREAD,
        legacy=LegacySide.KEPT, new=New.SCALED, isolation=Isolation.NONE,
        route=None, asked=Share.WEIGHT, awaits=(Await.LEGACY_READY,), check=True),
    Row(phase=Phase.PARALLEL, at=At.FULL, kind=Kind.ROUTED,
        legacy=LegacySide.KEPT, new=New.TARGET, isolation=Isolation.NONE,
        route=Share.WEIGHT, asked=Share.WEIGHT, awaits=(Await.LEGACY_READY,), check=True),
    Row(phase=Phase.PARALLEL, at=At.FULL, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.KEPT, new=New.ZERO, isolation=Isolation.ALL,
        route=Share.NONE, asked=Share.NONE, awaits=(Await.LEGACY_READY, Await.NEW_GONE_FIRST)),
    # cutover: the legacy pods go once verified, after the new side and the route; a single copy stops first
    Row(phase=Phase.CUTOVER, kind=Kind.SPREAD,
        legacy=LegacySide.ZERO, new=New.TARGET, isolation=Isolation.NONE,
        route=None, asked=Share.ALL, awaits=(Await.VERIFIED, Await.LEGACY_LAST), check=True),
    Row(phase=Phase.CUTOVER, kind=Kind.ROUTED,
        legacy=LegacySide.ZERO, new=New.TARGET, isolation=Isolation.NONE,
        route=Share.ALL, asked=Share.ALL, awaits=(Await.VERIFIED, Await.LEGACY_LAST), check=True),
    Row(phase=Phase.CUTOVER, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.ZERO, new=New.TARGET, isolation=Isolation.NONE,
        route=Share.ALL, asked=Share.ALL, awaits=(Await.LEGACY_GONE_FIRST,)),
    # decommission: the legacy Deployment deleted with its autoscaler
    Row(phase=Phase.DECOMMISSION, kind=Kind.SPREAD,
        legacy=LegacySide.DELETED, new=New.TARGET, isolation=Isolation.NONE,
        route=None, asked=Share.ALL),
    Row(phase=Phase.DECOMMISSION, kind=Kind.ROUTED,
        legacy=LegacySide.DELETED, new=New.TARGET, isolation=Isolation.NONE,
        route=Share.ALL, asked=Share.ALL),
    Row(phase=Phase.DECOMMISSION, kind=Kind.SINGLE_COPY,
        legacy=LegacySide.DELETED, new=New.TARGET, isolation=Isolation.NONE,
        route=Share.ALL, asked=Share.ALL),
)
# fmt: on

_ROWS: dict[tuple[Phase, At, Kind], Row] = {(row.phase, row.at, row.kind): row for row in TABLE}
# The phases whose parity check runs (components.desired.verification.verifies).
CHECKED_PHASES = frozenset(row.phase for row in TABLE if row.check)

# `migrate check` warns when a share of requests misses the phase's weight by more than this (points).
SHARE_TOLERANCE_PERCENT = 10


def kind_of(*, gateway: bool, stop_then_start: bool) -> Kind:
    """A single-copy workload moves stop-then-start whether or not it has a route (the row's `route`
    then applies to it); otherwise a route splits exactly, else the Services spread."""
    if stop_then_start:  # its route sends nothing to the new Service until cutover: it has no pods
        return Kind.SINGLE_COPY
    return Kind.ROUTED if gateway else Kind.SPREAD


def at(phase: Phase, weight: int) -> At:
    """Which rows of `phase` a traffic weight selects."""
    if phase is not Phase.PARALLEL:
        return At.ANY
    return {0: At.ZERO, 100: At.FULL}.get(weight, At.SHARE)


def row_of(phase: Phase, kind: Kind, weight: int) -> Row:
    return _ROWS[(phase, at(phase, weight), kind)]


class Part(StrEnum):
    """The components of one workload in a phase."""

    LEGACY = "legacy"
    STOP_GATE = "stop gate"
    NEW = "new"
    CHECK = "check"
    ROUTE = "route"


@dataclass(frozen=True)
class Ordering:
    """A workload's parts in registration order and what each waits for (beyond the platform and the
    scripts every new side and Job waits for). `gate`: the side a stop gate waits to be gone."""

    parts: tuple[Part, ...]
    waits: Mapping[Part, tuple[Part, ...]] = field(default_factory=dict)
    gate: Part | None = None

    def after(self, part: Part) -> tuple[Part, ...]:
        return self.waits.get(part, ())


def ordering(awaits: Iterable[Await]) -> Ordering:
    """What waits for what, forward and on the way back, from a row's `awaits`: the one place rollback
    ordering is decided. The check and the route always follow the new side; cutover lowers the legacy
    side last, verified; a stop gate puts the side that stops first, and the other side after it."""
    awaits = frozenset(awaits)
    waits: dict[Part, tuple[Part, ...]] = {Part.CHECK: (Part.NEW,), Part.ROUTE: (Part.NEW,)}
    if Await.VERIFIED in awaits:
        waits[Part.ROUTE] = (Part.NEW, Part.CHECK)
    if Await.LEGACY_LAST in awaits:
        waits[Part.LEGACY] = (Part.NEW, Part.ROUTE, Part.CHECK)
    if Await.LEGACY_GONE_FIRST in awaits:
        waits |= {Part.STOP_GATE: (Part.LEGACY,), Part.NEW: (Part.STOP_GATE,)}
        order = (Part.LEGACY, Part.STOP_GATE, Part.NEW, Part.CHECK, Part.ROUTE)
        return Ordering(order, waits, gate=Part.LEGACY)
    if Await.NEW_GONE_FIRST in awaits:
        waits |= {Part.STOP_GATE: (Part.NEW,), Part.LEGACY: (Part.STOP_GATE,)}
        order = (Part.NEW, Part.STOP_GATE, Part.CHECK, Part.ROUTE, Part.LEGACY)
        return Ordering(order, waits, gate=Part.NEW)
    return Ordering((Part.NEW, Part.CHECK, Part.ROUTE, Part.LEGACY), waits)


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
    """One workload in one phase: its row of the table with the counts worked out. `new` None: the new
    side is not registered; `route_weight` None: no route."""

    row: Row
    new: Count | None
    route_weight: int | None
    requested_percent: int

    @property
    def legacy(self) -> LegacySide:
        return self.row.legacy

    @property
    def isolation(self) -> Isolation:
        return self.row.isolation

    @property
    def await_legacy(self) -> bool:
        """The legacy patch waits for the legacy pods to be Ready (the way back from cutover lands here)."""
        return Await.LEGACY_READY in self.row.awaits

    @property
    def stop_then_start(self) -> bool:
        """It moves stop-then-start (baseline moves nothing)."""
        return self.row.kind is Kind.SINGLE_COPY and self.row.phase is not Phase.BASELINE

    @property
    def ordering(self) -> Ordering:
        return ordering(self.row.awaits)


@dataclass(frozen=True)
class Capacity:
    """A workload's exported capacity (`legacy`) and what the new side runs at full capacity
    (`target`): replicas, or an autoscaler's bounds."""

    legacy: Count
    target: Count


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


def percent(share: Share, weight: int) -> int:
    return {Share.NONE: 0, Share.WEIGHT: weight, Share.ALL: 100}[share]


def _fixed(replicas: int, capacity: Capacity) -> Count:
    """`replicas` as the target's shape: replicas, or both bounds of an autoscaler."""
    return Count(replicas, replicas) if capacity.target.autoscaled else Count(replicas)


def new_count(new: New, weight: int, capacity: Capacity, canary: int | None) -> Count | None:
    if new is New.CANARY:
        return None if canary is None else _fixed(canary, capacity)
    counts = {New.NONE: None, New.ZERO: _fixed(0, capacity), New.TARGET: capacity.target}
    return scaled(weight, capacity) if new is New.SCALED else counts[new]


def plan_workload(
    phase: Phase,
    weight: int,
    capacity: Capacity,
    *,
    gateway: bool,
    canary: int | None,
    stop_then_start: bool,
) -> WorkloadPlan:
    """The phase table's row for this workload, its counts worked out. `canary`: the canary's replicas
    in prepare (None: no canary). `stop_then_start`: a workload that must never run twice (Recreate, a
    volume holding state) has no new pods before cutover, where the legacy pods stop before the new ones
    start."""
    row = row_of(phase, kind_of(gateway=gateway, stop_then_start=stop_then_start), weight)
    route = percent(row.route, weight) if gateway and row.route is not None else None
    return WorkloadPlan(row, new_count(row.new, weight, capacity, canary), route, percent(row.asked, weight))
