"""Figures from the process event log: per flow node, per path, over time, per unit.

Everything here reads ``process_event`` only (never the audit log nor the instances' state) and
shows no personal data: application reference numbers, units and times.

Definitions used throughout:

* A *visit* is one user task's work item: ready → (first claim) → completed or cancelled.
  *Waiting* is ready → first claim (ready → completion when nobody claimed it, e.g. a citizen's
  own task); *working* is first claim → completion (zero when never claimed).
* A visit *broke its SLA* when it has a due time and was completed after it.
* A visit counts for a range when it was completed in the range ("passed"); what waits now comes
  from the open work items. An instance (a *case*) counts for paths and cycle time when it ended
  in the range, and for "applications per day" when it was submitted in it (its first event with
  a unit: the step that routed it). A case's unit is the last unit its events name.
* Percentiles interpolate linearly between ranks (as PostgreSQL's ``percentile_cont``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypedDict

from sqlalchemy import ColumnElement, Row, func, select
from sqlalchemy.orm import Session

from engine.db import as_utc
from engine.eventlog import (
    ESCALATION,
    INSTANCE_ENDED,
    INSTANCE_STARTED,
    MARKER,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_READY,
    ProcessEvent,
)
from engine.models import ProcessInstance, ProcessVersion, WorkItem

CYCLE_BUCKETS_DAYS = (1, 2, 3, 5, 10, 20)  # cycle-time histogram edges; the last bucket is open


@dataclass(frozen=True)
class Scope:
    """Which events count: versions of one process, a half-open time range, and units (None: all)."""

    version_ids: tuple[int, ...]
    start: datetime
    end: datetime
    unit_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        # bounds in UTC: SQLite compares the stored UTC text with the bound's own wall time
        object.__setattr__(self, "start", self.start.astimezone(UTC))
        object.__setattr__(self, "end", self.end.astimezone(UTC))


@dataclass
class Visit:
    work_item_id: int
    instance_id: int
    version_id: int
    node: str
    unit_id: int | None
    reference: str | None
    ready_at: datetime
    claimed_at: datetime | None = None
    ended_at: datetime | None = None
    completed: bool = False
    due_at: datetime | None = None

    @property
    def waiting(self) -> float | None:
        end = self.claimed_at or self.ended_at
        return (end - self.ready_at).total_seconds() if end else None

    @property
    def working(self) -> float | None:
        if not self.completed or self.ended_at is None:  # a completed visit always has its end time
            return None
        return (self.ended_at - self.claimed_at).total_seconds() if self.claimed_at else 0.0

    @property
    def elapsed(self) -> float | None:
        """Seconds from ready to completion or cancellation (None while the visit is open)."""
        return (self.ended_at - self.ready_at).total_seconds() if self.ended_at else None

    @property
    def breached(self) -> bool:
        return (
            self.completed
            and self.due_at is not None
            and self.ended_at is not None
            and self.ended_at > self.due_at
        )


@dataclass
class Case:
    instance_id: int
    version_id: int
    started_at: datetime | None = None
    ended_at: datetime | None = None
    end_node: str | None = None
    unit_id: int | None = None
    reference: str | None = None
    nodes: list[str] = field(default_factory=list)  # user tasks in the order they became ready
    markers: set[str] = field(default_factory=set)
    escalated: bool = False

    @property
    def cycle_seconds(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) of ``values``, interpolated linearly between ranks."""
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _events(
    session: Session, scope: Scope, kinds: Iterable[str], *conditions: ColumnElement[bool]
) -> list[Row[Any]]:
    """Event rows (plain rows, not ORM objects: a year is millions of them) in log order."""
    stmt = select(ProcessEvent.__table__).where(
        ProcessEvent.version_id.in_(scope.version_ids),
        ProcessEvent.kind.in_(tuple(kinds)),
        *conditions,
    )
    return list(session.execute(stmt.order_by(ProcessEvent.id)))


def visits(session: Session, scope: Scope, node: str | None = None) -> list[Visit]:
    """User-task visits completed in the scope's range (and unit)."""
    ready = [
        ProcessEvent.kind == TASK_COMPLETED,
        ProcessEvent.at >= scope.start,
        ProcessEvent.at < scope.end,
    ]
    if scope.unit_ids is not None:
        ready.append(ProcessEvent.unit_id.in_(scope.unit_ids))
    if node is not None:
        ready.append(ProcessEvent.node == node)
    ids = select(ProcessEvent.work_item_id).where(
        ProcessEvent.version_id.in_(scope.version_ids), *ready
    )
    found: dict[int, Visit] = {}
    for ev in _events(
        session,
        scope,
        (TASK_READY, TASK_CLAIMED, TASK_COMPLETED, TASK_CANCELLED),
        ProcessEvent.work_item_id.in_(ids),
    ):
        at = as_utc(ev.at)
        if ev.kind == TASK_READY:
            found[ev.work_item_id] = Visit(
                ev.work_item_id,
                ev.instance_id,
                ev.version_id,
                ev.node,
                ev.unit_id,
                ev.reference,
                at,
                due_at=as_utc(ev.due_at),
            )
            continue
        visit = found.get(ev.work_item_id)
        if visit is None:
            continue
        if ev.kind == TASK_CLAIMED and visit.claimed_at is None and visit.ended_at is None:
            visit.claimed_at = at
        elif ev.kind in (TASK_COMPLETED, TASK_CANCELLED) and visit.ended_at is None:
            visit.ended_at, visit.completed = at, ev.kind == TASK_COMPLETED
    return [v for v in found.values() if v.completed]


def _of_versions(session: Session, version_ids: tuple[int, ...]) -> list[ColumnElement[bool]]:
    """The condition that an open work item belongs to one of ``version_ids`` (none when they are all
    the versions there are: joining every open item to its instance is the slow part)."""
    every = set(session.scalars(select(ProcessVersion.id)))
    if every <= set(version_ids):
        return []
    return [
        select(ProcessInstance.id)
        .where(
            ProcessInstance.id == WorkItem.instance_id, ProcessInstance.version_id.in_(version_ids)
        )
        .exists()
    ]


def open_counts(session: Session, scope: Scope) -> dict[str, int]:
    """User tasks waiting now, per node (from the open work items, whatever the range)."""
    stmt = (
        select(WorkItem.task_name, func.count())
        .where(WorkItem.state == "open", *_of_versions(session, scope.version_ids))
        .group_by(WorkItem.task_name)
    )
    if scope.unit_ids is not None:
        stmt = stmt.where(WorkItem.unit_id.in_(scope.unit_ids))
    return dict(session.execute(stmt).all())


def summarise(group: list[Visit]) -> dict[str, float | None]:
    """Passed, median and p90 waiting and working seconds, breaches and their share of a node's visits.
    ``group`` holds completed visits, whose waiting and working times are known."""
    waits = [w for v in group if (w := v.waiting) is not None]
    works = [w for v in group if (w := v.working) is not None]
    breached = sum(v.breached for v in group)
    return {
        "passed": len(group),
        "wait_median": percentile(waits, 0.5),
        "wait_p90": percentile(waits, 0.9),
        "work_median": percentile(works, 0.5),
        "work_p90": percentile(works, 0.9),
        "breached": breached,
        "breach_share": breached / len(group) if group else None,
    }


def node_stats(session: Session, scope: Scope) -> dict[str, dict[str, float | None]]:
    """Per user-task node: visits passed (completed) in the range with their median and p90 waiting
    and working seconds and the share that broke their SLA, and how many wait there now."""
    by_node: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits(session, scope):
        by_node[visit.node].append(visit)
    waiting = open_counts(session, scope)
    return {
        node: {**summarise(by_node.get(node, [])), "open": waiting.get(node, 0)}
        for node in sorted(set(by_node) | set(waiting))
    }


def node_instances(
    session: Session, scope: Scope, node: str, now: datetime, slowest: int = 10
) -> dict[str, list[dict[str, Any]]]:
    """Instances waiting at ``node`` now (oldest first) and the slowest that passed it in the range."""
    stmt = (
        select(WorkItem.instance_id, WorkItem.reference, WorkItem.unit_id, WorkItem.created_at)
        .where(
            WorkItem.state == "open",
            WorkItem.task_name == node,
            *_of_versions(session, scope.version_ids),
        )
        .order_by(WorkItem.created_at, WorkItem.id)
        .limit(50)
    )
    if scope.unit_ids is not None:
        stmt = stmt.where(WorkItem.unit_id.in_(scope.unit_ids))
    timed = [
        (seconds, v) for v in visits(session, scope, node) if (seconds := v.elapsed) is not None
    ]
    done = sorted(timed, key=lambda pair: (-pair[0], pair[1].instance_id))[:slowest]
    return {
        "waiting": [
            {
                "instance_id": r[0],
                "reference": r[1],
                "unit_id": r[2],
                "seconds": (now - as_utc(r[3])).total_seconds(),
            }
            for r in session.execute(stmt)
        ],
        "slowest": [
            {
                "instance_id": v.instance_id,
                "reference": v.reference,
                "unit_id": v.unit_id,
                "seconds": seconds,
            }
            for seconds, v in done
        ],
    }


def cases(session: Session, scope: Scope) -> list[Case]:
    """Instances that ended in the range, with their unit, the user tasks they visited, markers
    and escalations."""
    ids = select(ProcessEvent.instance_id).where(
        ProcessEvent.version_id.in_(scope.version_ids),
        ProcessEvent.kind == INSTANCE_ENDED,
        ProcessEvent.at >= scope.start,
        ProcessEvent.at < scope.end,
    )
    found: dict[int, Case] = {}
    for ev in _events(
        session,
        scope,
        (INSTANCE_STARTED, INSTANCE_ENDED, TASK_READY, ESCALATION, MARKER),
        ProcessEvent.instance_id.in_(ids),
    ):
        case = found.setdefault(ev.instance_id, Case(ev.instance_id, ev.version_id))
        if ev.unit_id is not None:
            case.unit_id = ev.unit_id
        if ev.reference:
            case.reference = ev.reference
        if ev.kind == INSTANCE_STARTED:
            case.started_at = as_utc(ev.at)
        elif ev.kind == INSTANCE_ENDED:
            case.ended_at, case.end_node = as_utc(ev.at), ev.node
        elif ev.kind == TASK_READY:
            case.nodes.append(ev.node)
        elif ev.kind == ESCALATION:
            case.escalated = True
        else:
            case.markers.add(ev.detail)
    picked = list(found.values())
    if scope.unit_ids is not None:
        picked = [c for c in picked if c.unit_id in scope.unit_ids]
    return sorted(picked, key=lambda c: c.instance_id)


class DurationSummary(TypedDict):
    median: float | None
    p90: float | None
    max: float | None
    histogram: list[int]


class PathRow(DurationSummary):
    """One distinct path: its name, cases, share of all cases, and the nodes it visited."""

    path: str
    count: int
    share: float
    nodes: list[str]


def _duration_summary(seconds: list[float]) -> DurationSummary:
    return {
        "median": percentile(seconds, 0.5),
        "p90": percentile(seconds, 0.9),
        "max": max(seconds) if seconds else None,
        "histogram": cycle_histogram(seconds),
    }


def cycle_histogram(seconds: Iterable[float]) -> list[int]:
    """Counts per cycle-time bucket: < 1 day, 1-2, 2-3, 3-5, 5-10, 10-20, 20 days and more."""
    counts = [0] * (len(CYCLE_BUCKETS_DAYS) + 1)
    for value in seconds:
        days = value / 86400
        counts[
            next(
                (i for i, edge in enumerate(CYCLE_BUCKETS_DAYS) if days < edge),
                len(CYCLE_BUCKETS_DAYS),
            )
        ] += 1
    return counts


def paths(session: Session, scope: Scope, classify: Callable[[Case], str]) -> list[PathRow]:
    """Distinct paths of the instances that ended in the range: count, share, cycle-time summary and
    the nodes they visited (to highlight on the diagram), most frequent first."""
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases(session, scope):
        groups[classify(case)].append(case)
    total = sum(len(g) for g in groups.values())
    result: list[PathRow] = []
    for name, group in groups.items():
        nodes = sorted(
            {n for c in group for n in c.nodes} | {c.end_node for c in group if c.end_node}
        )
        # an ended case that routed has its start (a case without one has no cycle time and is left out)
        summary = _duration_summary([s for c in group if (s := c.cycle_seconds) is not None])
        result.append(
            {
                "path": name,
                "count": len(group),
                "share": len(group) / total,
                "nodes": nodes,
                "median": summary["median"],
                "p90": summary["p90"],
                "max": summary["max"],
                "histogram": summary["histogram"],
            }
        )
    return sorted(result, key=lambda p: (-p["count"], p["path"]))


def submissions(session: Session, scope: Scope) -> list[tuple[int, int, int, datetime]]:
    """Instances submitted in the range, i.e. whose first event with a unit (the step that routed
    them) falls in it: (instance, version, unit, time)."""
    candidates = select(ProcessEvent.instance_id).where(
        ProcessEvent.version_id.in_(scope.version_ids),
        ProcessEvent.kind == TASK_READY,
        ProcessEvent.unit_id.is_not(None),
        ProcessEvent.at >= scope.start,
        ProcessEvent.at < scope.end,
    )
    first: dict[int, tuple[int, int, int, datetime]] = {}
    for ev in session.execute(
        select(
            ProcessEvent.instance_id, ProcessEvent.version_id, ProcessEvent.unit_id, ProcessEvent.at
        )
        .where(ProcessEvent.instance_id.in_(candidates), ProcessEvent.unit_id.is_not(None))
        .order_by(ProcessEvent.instance_id, ProcessEvent.id)
    ):
        if ev[2] is not None:  # the query asks for events with a unit
            first.setdefault(ev[0], (ev[0], ev[1], ev[2], as_utc(ev[3])))
    return [
        row
        for row in first.values()
        if scope.start <= row[3] < scope.end
        and (scope.unit_ids is None or row[2] in scope.unit_ids)
    ]
