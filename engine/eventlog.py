"""The process event log: what happened to each instance and when, kept for analysis.

The audit log answers "who did what" for accountability; this table answers "where do instances
wait and which way do they go". It holds no personal data: instance, diagram version, flow node,
unit, role, the application's reference number and times.

Kinds of event (``kind``):

``instance_started`` / ``instance_ended``
    ``node`` is the end event (``instance_ended``); ``detail`` is ``completed`` or ``error``.
``task_ready`` / ``task_claimed`` / ``task_completed`` / ``task_cancelled``
    one user task's visit, tied together by ``work_item_id``; ``due_at`` is its SLA.
``timer_fired`` / ``escalation``
    a timer event fired; a non-interrupting boundary timer (an SLA running out) also writes an
    ``escalation`` on the task it is attached to.
``job_run``
    an asynchronous service task ran in a worker.
``marker``
    a domain fact worth a path of its own (``detail`` names it, e.g. ``overridden``).

Rows are written in the same transaction as the change they describe: the runtime writes each
step's events in one statement (:func:`record_step`); claims and domain markers, which happen
outside a step, write theirs with :func:`record`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.task import Task
from sqlalchemy import BigInteger, DateTime, Index, Integer, Row, String, Table, insert, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, utcnow
from engine.models import ProcessInstance, WorkItem

TZ = DateTime(timezone=True)

INSTANCE_STARTED = "instance_started"
INSTANCE_ENDED = "instance_ended"
TASK_READY = "task_ready"
TASK_CLAIMED = "task_claimed"
TASK_COMPLETED = "task_completed"
TASK_CANCELLED = "task_cancelled"
TIMER_FIRED = "timer_fired"
ESCALATION = "escalation"
JOB_RUN = "job_run"
MARKER = "marker"
KINDS = (
    INSTANCE_STARTED,
    INSTANCE_ENDED,
    TASK_READY,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_CANCELLED,
    TIMER_FIRED,
    ESCALATION,
    JOB_RUN,
    MARKER,
)


class ProcessEvent(Base):
    """One thing that happened to one instance (append-only)."""

    __tablename__ = "process_event"
    __table_args__ = (
        Index("ix_process_event_instance", "instance_id", "id"),
        Index("ix_process_event_work_item", "work_item_id"),
        Index("ix_process_event_kind_at", "kind", "at"),
        Index("ix_process_event_unit_at", "unit_id", "at"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    kind: Mapped[str] = mapped_column(String(24))
    instance_id: Mapped[int] = mapped_column(Integer)  # no foreign key: the log outlives purges
    version_id: Mapped[int] = mapped_column(Integer)
    node: Mapped[str | None] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str | None] = mapped_column(String(16))
    work_item_id: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime | None] = mapped_column(TZ)
    detail: Mapped[str | None] = mapped_column(String(64))


_TABLE = cast(
    Table, ProcessEvent.__table__
)  # SQLAlchemy declares a mapped class's table as a FromClause


def event(
    kind: str,
    at: datetime,
    *,
    node: str | None = None,
    detail: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """One event a runtime step will write (see :func:`record_step`); ``task_id`` ties it to the
    work item of that user task."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind}")
    return {"kind": kind, "at": at, "node": node, "detail": detail, "task_id": task_id}


def timer_events(task: Task, at: datetime) -> list[dict[str, Any]]:
    """A timer fired; a non-interrupting boundary timer is an SLA running out, so it is also an
    ``escalation`` of the task it is attached to."""
    spec = task.task_spec
    events = [event(TIMER_FIRED, at, node=spec.name)]
    if isinstance(spec, BoundaryEvent) and not spec.cancel_activity and task.parent is not None:
        for sibling in task.parent.children:
            if not isinstance(sibling.task_spec, BoundaryEvent):
                events.append(
                    event(
                        ESCALATION,
                        at,
                        node=sibling.task_spec.name,
                        detail=spec.name,
                        task_id=str(sibling.id),
                    )
                )
    return events


def record_step(
    session: Session,
    instance: ProcessInstance,
    now: datetime,
    previous_status: str | None,
    open_before: Iterable[str],
    new_items: list[WorkItem],
    events: list[dict[str, Any]],
) -> None:
    """Write the events of one runtime step in one INSERT: the instance's start (``previous_status``
    None) and end, the work items that opened, those of ``open_before`` (task ids) that closed, and
    the step's own ``events``."""
    items = list(
        session.execute(
            select(
                WorkItem.id,
                WorkItem.task_id,
                WorkItem.task_name,
                WorkItem.unit_id,
                WorkItem.role,
                WorkItem.reference,
                WorkItem.state,
                WorkItem.completed_at,
            )
            .where(WorkItem.instance_id == instance.id)
            .order_by(WorkItem.id)
        )
    )
    by_task = {row.task_id: row for row in items}  # the latest item of each task
    owner = next((row for row in reversed(items) if row.unit_id is not None), None)
    base = {
        "instance_id": instance.id,
        "version_id": instance.version_id,
        "role": None,
        "work_item_id": None,
        "due_at": None,
        "unit_id": owner.unit_id if owner else None,
        "reference": owner.reference if owner else None,
    }

    def of_item(
        row: Row[*tuple[Any, ...]], kind: str, at: datetime | None, **values: Any
    ) -> dict[str, Any]:
        return {
            **base,
            "kind": kind,
            "at": at,
            "node": row.task_name,
            "detail": None,
            "unit_id": row.unit_id,
            "role": row.role,
            "work_item_id": row.id,
            "reference": row.reference,
            **values,
        }

    rows = []
    if previous_status is None:
        rows.append(
            {
                **base,
                "kind": INSTANCE_STARTED,
                "at": instance.created_at,
                "node": None,
                "detail": None,
            }
        )
    for ev in events:
        row = by_task.get(ev["task_id"]) if ev["task_id"] else None
        values = {"node": ev["node"], "detail": ev["detail"]}
        if row is not None:
            rows.append(of_item(row, ev["kind"], ev["at"], **values))
        else:
            rows.append({**base, "kind": ev["kind"], "at": ev["at"], **values})
    for task_id in open_before:
        row = by_task.get(task_id)
        if row is not None and row.state in ("completed", "cancelled"):
            kind = TASK_COMPLETED if row.state == "completed" else TASK_CANCELLED
            rows.append(of_item(row, kind, row.completed_at or now))
    new_ids = {item.id for item in new_items}
    for row in items:
        if row.id in new_ids:
            due = next(item.due_at for item in new_items if item.id == row.id)
            rows.append(of_item(row, TASK_READY, now, due_at=due))
    if instance.status != previous_status and instance.status in ("completed", "error"):
        rows.append(
            {
                **base,
                "kind": INSTANCE_ENDED,
                "at": now,
                "node": instance.end_event,
                "detail": instance.status,
            }
        )
    if rows:
        session.execute(insert(_TABLE), rows)


def record(
    session: Session,
    kind: str,
    instance_id: int,
    at: datetime,
    *,
    node: str | None = None,
    item: WorkItem | None = None,
    detail: str | None = None,
) -> None:
    """One event outside a runtime step (a claim, a domain marker), in one INSERT; version, unit and
    reference come from ``item`` or from the instance and its latest work item with a unit."""
    if kind not in KINDS:
        raise ValueError(f"unknown event kind {kind}")
    latest = (
        select(WorkItem)
        .where(WorkItem.instance_id == instance_id, WorkItem.unit_id.is_not(None))
        .order_by(WorkItem.id.desc())
        .limit(1)
        .subquery()
    )
    values = {
        "kind": kind,
        "at": at,
        "instance_id": instance_id,
        "node": node,
        "detail": detail,
        "version_id": select(ProcessInstance.version_id)
        .where(ProcessInstance.id == instance_id)
        .scalar_subquery(),
    }
    if item is not None:
        values.update(
            node=node or item.task_name,
            unit_id=item.unit_id,
            role=item.role,
            work_item_id=item.id,
            reference=item.reference,
        )
    else:
        values.update(
            unit_id=select(latest.c.unit_id).scalar_subquery(),
            reference=select(latest.c.reference).scalar_subquery(),
        )
    session.execute(insert(_TABLE).values(**values))
