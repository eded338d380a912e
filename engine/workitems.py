"""The work queue: ready user tasks projected into ``work_item`` rows, claims and leases.

The runtime keeps the projection in step with the engine in the same transaction; the
queries and claim operations here are what the web layer calls. Claims are single
conditional UPDATEs, so two people claiming at once cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select, update
from sqlalchemy.orm import Session

from engine import eventlog, policy
from engine.audit import Actor, record
from engine.db import as_utc
from engine.errors import NotFound, WorkItemConflict, WorkItemError
from engine.models import Account, WorkItem


@dataclass(frozen=True)
class WorkItemFields:
    """What the domain says about a ready task: who may do it and what the queue shows."""

    unit_id: int | None = None
    assignee_id: int | None = None
    reference: str | None = None
    subject: str | None = None
    area: str | None = None
    item_count: int = 0
    flagged: bool = False
    evidence_flagged: bool = False


def visible_to(actor: Actor) -> ColumnElement[bool]:
    """The SQL condition for items an actor may see and act on: ``engine.policy``'s lane reach as SQL."""
    parts: list[ColumnElement[bool]] = []
    for lane_role in policy.reachable_lanes(actor):
        reach = policy.lane_reach(actor, lane_role)
        in_lane = WorkItem.role == lane_role
        if reach == "all":
            parts.append(in_lane)
        elif reach == "unit_or_assigned":
            parts.append(
                and_(
                    in_lane,
                    or_(WorkItem.unit_id == actor.unit_id, WorkItem.assignee_id == actor.id),
                )
            )
        elif reach == "assigned":
            parts.append(and_(in_lane, WorkItem.assignee_id == actor.id))
    return or_(*parts) if parts else WorkItem.id.is_(None)


def resource_of(item: WorkItem) -> policy.Resource:
    """The item as the policy sees it (a citizen's task is their draft: theirs alone)."""
    citizen = item.role == "citizen"
    return policy.Resource(
        "work_item",
        lane=item.role,
        unit_id=item.unit_id,
        assignee_id=item.assignee_id,
        owner_id=item.assignee_id if citizen else None,
        draft=citizen,
    )


def open_items_for(session: Session, actor: Actor, limit: int = 50) -> list[WorkItem]:
    return list(
        session.scalars(
            select(WorkItem)
            .where(WorkItem.state == "open", visible_to(actor))
            .order_by(WorkItem.due_at.is_(None), WorkItem.due_at, WorkItem.id)
            .limit(limit)
        )
    )


def get_for(session: Session, item_id: int, actor: Actor) -> WorkItem:
    """An item the actor may see, or NotFound (never "forbidden": ids are not to be probed)."""
    item = session.scalar(select(WorkItem).where(WorkItem.id == item_id, visible_to(actor)))
    if item is None:
        raise NotFound("no such task")
    return item


def _holder_label(session: Session, account_id: int | None) -> str | None:
    if account_id is None:
        return None
    account = session.get(Account, account_id)
    return account.display_name if account else None


def claim(
    session: Session, item_id: int, actor: Actor, now: datetime, lease: timedelta
) -> WorkItem:
    """Take an item (or renew one's own lease). Exactly one of two simultaneous claimants wins."""
    item = session.scalar(
        update(WorkItem)
        .where(
            WorkItem.id == item_id,
            visible_to(actor),
            WorkItem.state == "open",
            or_(
                WorkItem.claimed_by_id.is_(None),
                WorkItem.claimed_by_id == actor.id,
                WorkItem.lease_until < now,
            ),
        )
        .values(claimed_by_id=actor.id, lease_until=now + lease)
        .returning(WorkItem)
        .execution_options(synchronize_session=False, populate_existing=True)
    )
    if item is None:  # not visible to the actor (NotFound), completed, or someone else's
        item = get_for(session, item_id, actor)
        session.refresh(item)
        if item.state != "open":
            raise WorkItemConflict("this task has already been completed")
        holder = _holder_label(session, item.claimed_by_id)
        raise WorkItemConflict(f"this task is being worked on by {holder}", holder=holder)
    record(
        session,
        "work_item_claimed",
        actor=actor,
        at=now,
        instance_id=item.instance_id,
        entity=f"work_item:{item.id}",
        detail={"task": item.task_name},
    )
    eventlog.record(session, eventlog.TASK_CLAIMED, item.instance_id, now, item=item)
    return item


def release(session: Session, item_id: int, actor: Actor, now: datetime) -> WorkItem:
    item = get_for(session, item_id, actor)
    if item.claimed_by_id != actor.id:
        raise WorkItemError("you do not hold this task")
    item.claimed_by_id = None
    item.lease_until = None
    record(
        session,
        "work_item_released",
        actor=actor,
        at=now,
        instance_id=item.instance_id,
        entity=f"work_item:{item.id}",
        detail={"task": item.task_name},
    )
    return item


def check_can_complete(item: WorkItem, actor: Actor, now: datetime) -> None:
    """Completing needs the item open and either assigned to the actor or claimed with a live lease."""
    if item.state != "open":
        raise WorkItemConflict("this task has already been completed")
    if item.assignee_id == actor.id and item.claimed_by_id in (None, actor.id):
        return
    if (
        item.claimed_by_id == actor.id
        and item.lease_until is not None
        and as_utc(item.lease_until) > now
    ):
        return
    if (
        item.claimed_by_id not in (None, actor.id)
        and item.lease_until
        and as_utc(item.lease_until) > now
    ):
        raise WorkItemConflict("this task is being worked on by someone else")
    raise WorkItemError("claim this task before completing it")
