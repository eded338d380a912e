"""Figures from the process event log: per flow node, per path, over time, per unit.

Everything here reads ``process_event`` only (never the audit log nor the instances' state) and
shows no personal data: application reference numbers, units and times.

Definitions used throughout:

* A *visit* is one user task's work item: ready → (first claim) → completed or cancelled.
  *Waiting* is ready → first claim (ready → completion when nobody claimed it, e.g. a citizen's
  own task); *working* is first claim → completion (zero when never claimed).
* A visit *broke its SLA* when it has a due time and was completed after it.
* A visit counts for a range when it became ready in the range; an instance (a *case*) counts
  for paths and cycle time when it ended in the range, and for "applications per day" when it
  started in it. A case's unit is the last unit its events name.
* Percentiles interpolate linearly between ranks (as PostgreSQL's ``percentile_cont``).
"""
from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select
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

CYCLE_BUCKETS_DAYS = (1, 2, 3, 5, 10, 20)  # cycle-time histogram edges; the last bucket is open


@dataclass(frozen=True)
class Scope:
    """Which events count: versions of one process, a half-open time range, and units (None: all)."""

    version_ids: tuple[int, ...]
    start: datetime
    end: datetime
    unit_ids: tuple[int, ...] | None = None


@dataclass
class Visit:
    work_item_id: int
    instance_id: int
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
        if not self.completed:
            return None
        return (self.ended_at - self.claimed_at).total_seconds() if self.claimed_at else 0.0

    @property
    def breached(self) -> bool:
        return self.completed and self.due_at is not None and self.ended_at > self.due_at


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


def _events(session: Session, scope: Scope, kinds: Iterable[str], *conditions) -> list[ProcessEvent]:
    stmt = select(ProcessEvent).where(ProcessEvent.version_id.in_(scope.version_ids),
                                      ProcessEvent.kind.in_(tuple(kinds)), *conditions)
    return list(session.scalars(stmt.order_by(ProcessEvent.id)))


def visits(session: Session, scope: Scope, node: str | None = None) -> list[Visit]:
    """User-task visits that became ready in the scope's range (and unit)."""
    ready = [ProcessEvent.kind == TASK_READY, ProcessEvent.at >= scope.start, ProcessEvent.at < scope.end]
    if scope.unit_ids is not None:
        ready.append(ProcessEvent.unit_id.in_(scope.unit_ids))
    if node is not None:
        ready.append(ProcessEvent.node == node)
    ids = select(ProcessEvent.work_item_id).where(ProcessEvent.version_id.in_(scope.version_ids), *ready)
    found: dict[int, Visit] = {}
    for ev in _events(session, scope, (TASK_READY, TASK_CLAIMED, TASK_COMPLETED, TASK_CANCELLED),
                      ProcessEvent.work_item_id.in_(ids)):
        at = as_utc(ev.at)
        if ev.kind == TASK_READY:
            found[ev.work_item_id] = Visit(ev.work_item_id, ev.instance_id, ev.node, ev.unit_id, ev.reference,
                                           at, due_at=as_utc(ev.due_at))
            continue
        visit = found.get(ev.work_item_id)
        if visit is None:
            continue
        if ev.kind == TASK_CLAIMED and visit.claimed_at is None and visit.ended_at is None:
            visit.claimed_at = at
        elif ev.kind in (TASK_COMPLETED, TASK_CANCELLED) and visit.ended_at is None:
            visit.ended_at, visit.completed = at, ev.kind == TASK_COMPLETED
    return list(found.values())


def node_stats(session: Session, scope: Scope) -> dict[str, dict]:
    """Per user-task node: visits passed (completed), waiting now, median and p90 waiting and
    working seconds, and the share of passed visits that broke their SLA."""
    by_node: dict[str, list[Visit]] = defaultdict(list)
    for visit in visits(session, scope):
        by_node[visit.node].append(visit)
    stats = {}
    for node, group in sorted(by_node.items()):
        done = [v for v in group if v.completed]
        waits = [v.waiting for v in done]
        works = [v.working for v in done]
        breached = sum(v.breached for v in done)
        stats[node] = {
            "passed": len(done),
            "open": sum(v.ended_at is None for v in group),
            "wait_median": percentile(waits, 0.5), "wait_p90": percentile(waits, 0.9),
            "work_median": percentile(works, 0.5), "work_p90": percentile(works, 0.9),
            "breached": breached, "breach_share": breached / len(done) if done else None,
        }
    return stats


def node_instances(session: Session, scope: Scope, node: str, now: datetime, slowest: int = 10) -> dict:
    """Instances waiting at ``node`` now (oldest first) and the slowest that passed it in the range."""
    ended = select(ProcessEvent.work_item_id).where(
        ProcessEvent.kind.in_((TASK_COMPLETED, TASK_CANCELLED)), ProcessEvent.node == node,
        ProcessEvent.version_id.in_(scope.version_ids))
    units = [ProcessEvent.unit_id.in_(scope.unit_ids)] if scope.unit_ids is not None else []
    waiting = session.execute(
        select(ProcessEvent.instance_id, ProcessEvent.reference, ProcessEvent.unit_id, ProcessEvent.at)
        .where(ProcessEvent.version_id.in_(scope.version_ids), ProcessEvent.kind == TASK_READY,
               ProcessEvent.node == node, ProcessEvent.work_item_id.not_in(ended), *units)
        .order_by(ProcessEvent.at, ProcessEvent.id).limit(50)).all()
    done = sorted((v for v in visits(session, scope, node) if v.completed),
                  key=lambda v: (-(v.ended_at - v.ready_at).total_seconds(), v.instance_id))[:slowest]
    return {
        "waiting": [{"instance_id": r[0], "reference": r[1], "unit_id": r[2],
                     "seconds": (now - as_utc(r[3])).total_seconds()} for r in waiting],
        "slowest": [{"instance_id": v.instance_id, "reference": v.reference, "unit_id": v.unit_id,
                     "seconds": (v.ended_at - v.ready_at).total_seconds()} for v in done],
    }


def cases(session: Session, scope: Scope, by: str = "ended") -> list[Case]:
    """Instances that ended (``by="ended"``) or started (``"started"``) in the range, with their
    unit, the user tasks they visited, markers and escalations."""
    kind = INSTANCE_ENDED if by == "ended" else INSTANCE_STARTED
    ids = select(ProcessEvent.instance_id).where(
        ProcessEvent.version_id.in_(scope.version_ids), ProcessEvent.kind == kind,
        ProcessEvent.at >= scope.start, ProcessEvent.at < scope.end)
    found: dict[int, Case] = {}
    for ev in _events(session, scope, (INSTANCE_STARTED, INSTANCE_ENDED, TASK_READY, ESCALATION, MARKER),
                      ProcessEvent.instance_id.in_(ids)):
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
    picked = found.values()
    if scope.unit_ids is not None:
        picked = [c for c in picked if c.unit_id in scope.unit_ids]
    return sorted(picked, key=lambda c: c.instance_id)


def _duration_summary(seconds: list[float]) -> dict:
    return {"median": percentile(seconds, 0.5), "p90": percentile(seconds, 0.9),
            "max": max(seconds) if seconds else None, "histogram": cycle_histogram(seconds)}


def cycle_histogram(seconds: Iterable[float]) -> list[int]:
    """Counts per cycle-time bucket: < 1 day, 1-2, 2-3, 3-5, 5-10, 10-20, 20 days and more."""
    counts = [0] * (len(CYCLE_BUCKETS_DAYS) + 1)
    for value in seconds:
        days = value / 86400
        counts[next((i for i, edge in enumerate(CYCLE_BUCKETS_DAYS) if days < edge), len(CYCLE_BUCKETS_DAYS))] += 1
    return counts


def paths(session: Session, scope: Scope, classify: Callable[[Case], str]) -> list[dict]:
    """Distinct paths of the instances that ended in the range: count, share, cycle-time summary and
    the nodes they visited (to highlight on the diagram), most frequent first."""
    groups: dict[str, list[Case]] = defaultdict(list)
    for case in cases(session, scope):
        groups[classify(case)].append(case)
    total = sum(len(g) for g in groups.values())
    result = []
    for name, group in groups.items():
        nodes = sorted({n for c in group for n in c.nodes} | {c.end_node for c in group if c.end_node})
        result.append({"path": name, "count": len(group), "share": len(group) / total,
                       "nodes": nodes, **_duration_summary([c.cycle_seconds for c in group])})
    return sorted(result, key=lambda p: (-p["count"], p["path"]))


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def charts(session: Session, scope: Scope, classify: Callable[[Case], str], direct_path: str) -> dict:
    """The figures behind the charts: applications per day and week, cycle-time histogram, backlog
    per unit at the end of each day, accepted directly out of finished per week (week, direct,
    finished), SLA breaches per unit."""
    started = cases(session, scope, by="started")
    per_day = Counter(c.started_at.date() for c in started if c.started_at)
    per_week = Counter(_week(d) for d in per_day.elements())
    ended = cases(session, scope)
    direct: dict[date, list[bool]] = defaultdict(list)
    for case in ended:
        if case.end_node is not None:
            direct[_week(case.ended_at.date())].append(classify(case) == direct_path)
    breaches: Counter = Counter()
    for visit in visits(session, scope):
        if visit.breached:
            breaches[visit.unit_id] += 1
    return {
        "per_day": sorted(per_day.items()), "per_week": sorted(per_week.items()),
        "cycle_histogram": cycle_histogram(c.cycle_seconds for c in ended if c.cycle_seconds is not None),
        "backlog": backlog(session, scope),
        "direct_share": [(week, sum(flags), len(flags)) for week, flags in sorted(direct.items())],
        "breaches_per_unit": sorted(breaches.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)),
    }


def backlog(session: Session, scope: Scope) -> dict[int | None, list[tuple[date, int]]]:
    """Per unit, how many instances were open at the end of each day of the range."""
    alive = or_(and_(ProcessEvent.kind == INSTANCE_STARTED, ProcessEvent.at < scope.end),
                and_(ProcessEvent.kind == INSTANCE_ENDED, ProcessEvent.at >= scope.start))
    starts, ends, units = {}, {}, {}
    ids = select(ProcessEvent.instance_id).where(ProcessEvent.version_id.in_(scope.version_ids), alive)
    for ev in _events(session, scope, (INSTANCE_STARTED, INSTANCE_ENDED, TASK_READY),
                      ProcessEvent.instance_id.in_(ids)):
        if ev.unit_id is not None:
            units[ev.instance_id] = ev.unit_id
        if ev.kind == INSTANCE_STARTED:
            starts[ev.instance_id] = as_utc(ev.at)
        elif ev.kind == INSTANCE_ENDED:
            ends[ev.instance_id] = as_utc(ev.at)
    days = []
    day = scope.start
    while day < scope.end:
        days.append(min(day + timedelta(days=1), scope.end))
        day += timedelta(days=1)
    result: dict[int | None, list[tuple[date, int]]] = {}
    for unit in sorted({units.get(i) for i in starts}, key=lambda u: (u is None, u or 0)):
        if scope.unit_ids is not None and unit not in scope.unit_ids:
            continue
        mine = [i for i in starts if units.get(i) == unit]
        result[unit] = [((cut - timedelta(seconds=1)).date(),
                         sum(starts[i] < cut and (i not in ends or ends[i] >= cut) for i in mine)) for cut in days]
    return result
