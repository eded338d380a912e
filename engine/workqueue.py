"""Unit work queues: filtered, counted and paged queries, reassignment, leases, the heads' dashboard.

Every query is scoped to what the person may see (their unit, their role) here in the engine,
not in the views. Filters use typed, indexed columns of ``work_item``; nothing reads the
instance state or JSON.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from engine.audit import Actor, record
from engine.errors import NotFound, WorkItemError
from engine.models import Account, WorkItem

VIEWS = ("all", "unclaimed", "mine", "flagged", "overdue")
PER_PAGE_MAX = 100


@dataclass(frozen=True)
class QueueFilter:
    view: str = "all"
    area: str | None = None
    page: int = 1
    per_page: int = 25


@dataclass(frozen=True)
class QueuePage:
    items: list[WorkItem]
    total: int
    counts: dict[str, int]
    page: int
    pages: int


def _scope(actor: Actor, role: str):
    """Open items of ``role`` that ``actor`` may see: their unit's, or assigned to them."""
    if actor.role == "admin":
        return and_(WorkItem.state == "open", WorkItem.role == role)
    if actor.role == "unit_head" or actor.role == role:
        return and_(WorkItem.state == "open", WorkItem.role == role,
                    or_(WorkItem.unit_id == actor.unit_id, WorkItem.assignee_id == actor.id))
    return WorkItem.id.is_(None)  # nothing


def _views(actor: Actor, now: datetime) -> dict[str, object]:
    unclaimed = or_(WorkItem.claimed_by_id.is_(None), WorkItem.lease_until < now)
    return {
        "all": WorkItem.id.is_not(None),
        "unclaimed": unclaimed,
        "mine": and_(WorkItem.claimed_by_id == actor.id, WorkItem.lease_until >= now),
        "flagged": or_(WorkItem.flagged.is_(True), WorkItem.evidence_flagged.is_(True)),
        "overdue": WorkItem.due_at < now,
    }


def unit_queue(session: Session, actor: Actor, flt: QueueFilter, now: datetime, role: str = "operator") -> QueuePage:
    if flt.view not in VIEWS:
        raise ValueError(f"unknown queue view {flt.view}")
    views = _views(actor, now)
    base = [_scope(actor, role)]
    if flt.area:
        base.append(WorkItem.area == flt.area)
    counts_row = session.execute(
        select(*[func.count().filter(cond).label(name) for name, cond in views.items()])
        .select_from(WorkItem).where(*base)
    ).one()
    counts = dict(zip(views, counts_row))
    per_page = max(1, min(flt.per_page, PER_PAGE_MAX))
    total = counts[flt.view]
    pages = max(1, -(-total // per_page))
    page = max(1, min(flt.page, pages))
    items = list(session.scalars(
        select(WorkItem).where(*base, views[flt.view])
        .order_by(WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.id)
        .offset((page - 1) * per_page).limit(per_page)
    ))
    return QueuePage(items=items, total=total, counts=counts, page=page, pages=pages)


def reassign(session: Session, item_id: int, head: Actor, to_account_id: int, now: datetime,
             lease: timedelta) -> WorkItem:
    """A unit head gives an item to a named person of the unit, claimed or not, without stopping anything."""
    if head.role not in ("unit_head", "admin"):
        raise NotFound("no such task")
    conditions = [WorkItem.id == item_id, WorkItem.state == "open", WorkItem.role.in_(("operator", "inspector"))]
    if head.role == "unit_head":
        conditions.append(WorkItem.unit_id == head.unit_id)
    item = session.scalar(select(WorkItem).where(*conditions).with_for_update())
    if item is None:
        raise NotFound("no such task")
    target = session.get(Account, to_account_id)
    if target is None or not target.active or target.role != item.role or target.unit_id != item.unit_id:
        raise WorkItemError("choose a person of this unit who does this kind of task")
    previous = item.claimed_by_id
    item.assignee_id = target.id
    item.claimed_by_id = target.id
    item.lease_until = now + lease
    record(session, "work_item_reassigned", actor=head, at=now, instance_id=item.instance_id,
           entity=f"work_item:{item.id}", detail={"from": previous, "to": target.id, "task": item.task_name})
    return item


def release_expired(session: Session, now: datetime) -> int:
    """Return items whose lease ran out to the queue (the sweep calls this)."""
    result = session.execute(
        update(WorkItem).where(WorkItem.state == "open", WorkItem.lease_until < now,
                               WorkItem.claimed_by_id.is_not(None))
        .values(claimed_by_id=None, lease_until=None).execution_options(synchronize_session=False)
    )
    return result.rowcount


def unit_dashboard(session: Session, head: Actor, now: datetime) -> dict:
    """What a unit head watches: open, claimed, overdue, escalated, done this week, median time to decision."""
    unit = WorkItem.unit_id == head.unit_id
    open_ops = and_(unit, WorkItem.state == "open", WorkItem.role.in_(("operator", "inspector")))
    week_start = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    row = session.execute(select(
        func.count().filter(open_ops),
        func.count().filter(and_(open_ops, WorkItem.lease_until >= now)),
        func.count().filter(and_(open_ops, WorkItem.due_at < now)),
        func.count().filter(and_(unit, WorkItem.state == "open", WorkItem.role == "unit_head")),
        func.count().filter(and_(unit, WorkItem.state == "completed", WorkItem.role == "operator",
                                 WorkItem.completed_at >= week_start)),
    ).select_from(WorkItem)).one()
    durations = [
        (done - created).total_seconds() for created, done in session.execute(
            select(WorkItem.created_at, WorkItem.completed_at).where(
                unit, WorkItem.state == "completed", WorkItem.role == "operator",
                WorkItem.completed_at >= now - timedelta(days=30)))
    ]
    return {
        "open": row[0], "claimed": row[1], "overdue": row[2], "escalated": row[3], "done_this_week": row[4],
        "median_hours_to_decision": round(statistics.median(durations) / 3600, 1) if durations else None,
    }
