"""Unit work queues: filtered, counted and paged queries, reassignment, leases, the heads' dashboard.

Every query is scoped to what the person may see (their unit, their role) here in the engine,
not in the views. Filters use typed, indexed columns of ``work_item``; nothing reads the
instance state or JSON.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    UnaryExpression,
    and_,
    func,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from engine import eventlog, policy
from engine.audit import Actor, record
from engine.db import as_utc, rowcount
from engine.errors import NotFound, WorkItemError
from engine.models import Account, WorkItem
from engine.workitems import get_for, resource_of

VIEWS = ("all", "unclaimed", "mine", "flagged", "overdue", "flagged_overdue")
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


def _scope(actor: Actor, role: str) -> ColumnElement[bool]:
    """Open items of ``role`` that ``actor`` may see: their unit's, or assigned to them."""
    return or_(*_scope_parts(actor, role))


def _scope_parts(actor: Actor, role: str) -> list[ColumnElement[bool]]:
    """The scope as disjoint parts, each served by one index: the unit's items (the partial index in
    due-date order) and items of other units assigned to the person (the assignee index; rare). Who may see
    which queue is ``engine.policy``'s ``see_queue``."""
    if not policy.allows(
        actor, policy.SEE_QUEUE, policy.Resource("queue", lane=role, unit_id=actor.unit_id)
    ):
        return [WorkItem.id.is_(None)]  # nothing
    if policy.lane_reach(actor, role) == "all":
        return [and_(WorkItem.state == "open", WorkItem.role == role)]
    return [
        and_(WorkItem.state == "open", WorkItem.role == role, WorkItem.unit_id == actor.unit_id),
        and_(
            WorkItem.assignee_id == actor.id,
            WorkItem.state == "open",
            WorkItem.role == role,
            or_(WorkItem.unit_id.is_(None), WorkItem.unit_id != actor.unit_id),
        ),
    ]


def _views(
    actor: Actor, now: datetime, w: type[WorkItem] = WorkItem
) -> dict[str, ColumnElement[bool]]:
    """The filter tabs as conditions on ``w``: the work item table, or a subquery's columns."""
    flagged = or_(w.flagged, w.evidence_flagged)  # as the partial index says it
    return {
        "all": w.id.is_not(None),
        "unclaimed": or_(w.claimed_by_id.is_(None), w.lease_until < now),
        "mine": and_(w.claimed_by_id == actor.id, w.lease_until >= now),
        "flagged": flagged,
        "overdue": w.due_at < now,
        "flagged_overdue": and_(flagged, w.due_at < now),
    }


def queue_order() -> tuple[UnaryExpression[datetime | None], InstrumentedAttribute[int]]:
    """Due date first (items without one last), then oldest: the order of the partial index."""
    return (WorkItem.due_at.asc().nulls_last(), WorkItem.id)


def _base(
    actor: Actor, flt: QueueFilter, role: str, part: ColumnElement[bool]
) -> list[ColumnElement[bool]]:
    base = [part]
    if flt.area:
        base.append(WorkItem.area == flt.area)
    return base


def counts_statement(
    actor: Actor, flt: QueueFilter, now: datetime, role: str = "operator"
) -> Select[*tuple[int, ...]] | CompoundSelect[*tuple[int, ...]]:
    """One row per part of the scope with the number of items behind each filter tab (sum them). The
    unit's part is an index-only scan of ``ix_work_item_open_page``, which carries the columns counted;
    one aggregate per part (not one over their union) keeps that scan feeding the aggregate directly."""
    views = _views(actor, now)
    rows = [
        select(*[func.count().filter(cond).label(name) for name, cond in views.items()])
        .select_from(WorkItem)
        .where(*_base(actor, flt, role, part))
        for part in _scope_parts(actor, role)
    ]
    return rows[0] if len(rows) == 1 else union_all(*rows)


def page_statement(
    actor: Actor,
    flt: QueueFilter,
    now: datetime,
    role: str = "operator",
    page: int = 1,
    per_page: int = 25,
    part: int = 0,
) -> Select[WorkItem]:
    """The items of one page of one view over one part of the scope, in due-date order (the unit's part
    is read in index order from ``ix_work_item_open_page``: no sort of the unit's items)."""
    return (
        select(WorkItem)
        .where(
            *_base(actor, flt, role, _scope_parts(actor, role)[part]), _views(actor, now)[flt.view]
        )
        .order_by(*queue_order())
        .offset((page - 1) * per_page)
        .limit(per_page)
    )


def _sort_key(item: WorkItem) -> tuple[bool, datetime | None, int]:
    return (item.due_at is None, as_utc(item.due_at) if item.due_at else None, item.id)


def unit_queue(
    session: Session, actor: Actor, flt: QueueFilter, now: datetime, role: str = "operator"
) -> QueuePage:
    if flt.view not in VIEWS:
        raise ValueError(f"unknown queue view {flt.view}")
    parts = range(len(_scope_parts(actor, role)))
    rows = session.execute(counts_statement(actor, flt, now, role)).all()
    counts = {name: sum(row[i] for row in rows) for i, name in enumerate(VIEWS)}
    per_page = max(1, min(flt.per_page, PER_PAGE_MAX))
    total = counts[flt.view]
    pages = max(1, -(-total // per_page))
    page = max(1, min(flt.page, pages))
    extra = (
        []
        if len(parts) == 1
        else list(
            session.scalars(page_statement(actor, flt, now, role, 1, page * per_page, part=1))
        )
    )
    if not extra:  # the usual case: one indexed page of the unit's items
        items = list(session.scalars(page_statement(actor, flt, now, role, page, per_page)))
    else:  # merge the few items assigned from elsewhere into the unit's first pages
        first = list(session.scalars(page_statement(actor, flt, now, role, 1, page * per_page)))
        items = sorted(first + extra, key=_sort_key)[(page - 1) * per_page : page * per_page]
    return QueuePage(items=items, total=total, counts=counts, page=page, pages=pages)


def reassign(
    session: Session, item_id: int, head: Actor, to_account_id: int, now: datetime, lease: timedelta
) -> WorkItem:
    """A unit head gives an item to a named person of the unit, claimed or not, without stopping anything."""
    item = session.scalar(
        select(WorkItem).where(WorkItem.id == item_id, WorkItem.state == "open").with_for_update()
    )
    if item is None or not policy.allows(head, policy.REASSIGN, resource_of(item)):
        raise NotFound("no such task")
    target = session.get(Account, to_account_id)
    if (
        target is None
        or not target.active
        or target.role != item.role
        or target.unit_id != item.unit_id
    ):
        raise WorkItemError("choose a person of this unit who does this kind of task")
    previous = item.claimed_by_id
    item.assignee_id = target.id
    item.claimed_by_id = target.id
    item.lease_until = now + lease
    record(
        session,
        "work_item_reassigned",
        actor=head,
        at=now,
        instance_id=item.instance_id,
        entity=f"work_item:{item.id}",
        detail={"from": previous, "to": target.id, "task": item.task_name},
    )
    eventlog.record(session, eventlog.TASK_CLAIMED, item.instance_id, now, item=item)
    return item


def renew_lease(
    session: Session, item_id: int, actor: Actor, now: datetime, lease: timedelta
) -> WorkItem:
    """Extend the holder's lease while their page is open; anyone else is told they do not hold it."""
    item = get_for(session, item_id, actor)
    result = session.execute(
        update(WorkItem)
        .where(
            WorkItem.id == item.id,
            WorkItem.state == "open",
            WorkItem.claimed_by_id == actor.id,
            WorkItem.lease_until >= now,
        )
        .values(lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    session.refresh(item)
    if rowcount(result) != 1:
        raise WorkItemError("you do not hold this task")
    return item


def unit_people(session: Session, head: Actor, role: str) -> list[Account]:
    """Active people of the head's unit who do tasks of ``role`` (whom a head may give an item to)."""
    if not policy.allows(
        head, policy.REASSIGN, policy.Resource("work_item", lane=role, unit_id=head.unit_id)
    ):
        return []
    return list(
        session.scalars(
            select(Account)
            .where(Account.unit_id == head.unit_id, Account.role == role, Account.active.is_(True))
            .order_by(Account.display_name)
        )
    )


def queue_areas(session: Session, actor: Actor, role: str = "operator") -> list[str]:
    """The districts that have open items in the actor's queue (the district filter's choices)."""
    return list(
        session.scalars(
            select(WorkItem.area)
            .where(_scope(actor, role), WorkItem.area.is_not(None))
            .distinct()
            .order_by(WorkItem.area)
        )
    )


def instance_visible(session: Session, actor: Actor, instance_id: int) -> bool:
    """Staff see an instance's diagram and history when one of its staff steps was their unit's (``view_instance``)."""
    if policy.allows(actor, policy.VIEW_INSTANCE, policy.Resource("instance")):
        return True  # no unit needed (admins)
    units = session.scalars(
        select(WorkItem.unit_id)
        .where(WorkItem.instance_id == instance_id, WorkItem.role.in_(policy.STAFF_LANES))
        .distinct()
    )
    return any(
        policy.allows(actor, policy.VIEW_INSTANCE, policy.Resource("instance", unit_id=u))
        for u in units
    )


def release_expired(session: Session, now: datetime) -> int:
    """Return items whose lease ran out to the queue (the sweep calls this)."""
    result = session.execute(
        update(WorkItem)
        .where(
            WorkItem.state == "open",
            WorkItem.lease_until < now,
            WorkItem.claimed_by_id.is_not(None),
        )
        .values(claimed_by_id=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def unit_dashboard(session: Session, head: Actor, now: datetime) -> dict[str, Any]:
    """What a unit head watches: open, claimed, overdue, escalated, done this week, median time to decision."""
    unit = WorkItem.unit_id == head.unit_id
    open_ops = and_(unit, WorkItem.state == "open", WorkItem.role.in_(("operator", "inspector")))
    week_start = (now - timedelta(days=now.weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    row = session.execute(
        select(
            func.count().filter(open_ops),
            func.count().filter(and_(open_ops, WorkItem.lease_until >= now)),
            func.count().filter(and_(open_ops, WorkItem.due_at < now)),
            func.count().filter(and_(unit, WorkItem.state == "open", WorkItem.role == "unit_head")),
            func.count().filter(
                and_(
                    unit,
                    WorkItem.state == "completed",
                    WorkItem.role == "operator",
                    WorkItem.completed_at >= week_start,
                )
            ),
        ).select_from(WorkItem)
    ).one()
    durations = [
        (done - created).total_seconds()
        for created, done in session.execute(
            select(WorkItem.created_at, WorkItem.completed_at).where(
                unit,
                WorkItem.state == "completed",
                WorkItem.role == "operator",
                WorkItem.completed_at >= now - timedelta(days=30),
            )
        )
        if done is not None  # never None: the query compares it (the column is nullable)
    ]
    return {
        "open": row[0],
        "claimed": row[1],
        "overdue": row[2],
        "escalated": row[3],
        "done_this_week": row[4],
        "median_hours_to_decision": round(statistics.median(durations) / 3600, 1)
        if durations
        else None,
    }
