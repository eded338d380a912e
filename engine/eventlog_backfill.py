"""Filling the process event log for instances that ran before it existed.

It reads what the runtime already kept: instances (start, end), work items (ready, completed,
cancelled, SLA due) and the audit log's claims, reassignments, fired timers and worker steps.
Instances that already have events are left alone, so running it twice adds nothing. Domain
markers (such as an inspection overriding a reading) are not recovered.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from xml.etree import ElementTree

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.db import as_utc
from engine.eventlog import (
    ESCALATION,
    INSTANCE_ENDED,
    INSTANCE_STARTED,
    JOB_RUN,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_READY,
    TIMER_FIRED,
    ProcessEvent,
)
from engine.models import AuditEvent, ProcessInstance, ProcessVersion, WorkItem

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"


def _sla_timers(version: ProcessVersion) -> dict[str | None, str | None]:
    """Non-interrupting boundary timers of a version: timer id -> id of the task it is attached to."""
    found: dict[str | None, str | None] = {}
    for name, text in version.files.items():
        if not name.endswith(".bpmn"):
            continue
        for el in ElementTree.fromstring(text.encode()).iter(f"{BPMN}boundaryEvent"):
            if (
                el.get("cancelActivity") == "false"
                and el.find(f"{BPMN}timerEventDefinition") is not None
            ):
                found[el.get("id")] = el.get("attachedToRef")
    return found


def backfill(session: Session, batch: int = 500) -> int:
    """Write events for every instance that has none; returns how many events were written."""
    logged = select(ProcessEvent.instance_id).distinct()
    ids = list(
        session.scalars(
            select(ProcessInstance.id)
            .where(ProcessInstance.id.not_in(logged))
            .order_by(ProcessInstance.id)
        )
    )
    slas = {v.id: _sla_timers(v) for v in session.scalars(select(ProcessVersion))}
    written = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        rows = _rows(session, chunk, slas)
        if rows:
            session.execute(insert(ProcessEvent), rows)
        written += len(rows)
        session.flush()
    return written


def _rows(
    session: Session, ids: list[int], slas: dict[int, dict[str | None, str | None]]
) -> list[dict[str, Any]]:
    instances = {
        i.id: i for i in session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))
    }
    items = list(
        session.scalars(select(WorkItem).where(WorkItem.instance_id.in_(ids)).order_by(WorkItem.id))
    )
    by_id = {item.id: item for item in items}
    last_unit: dict[int, WorkItem] = {}
    for item in items:
        if item.unit_id is not None:
            last_unit[item.instance_id] = item

    def base(kind: str, instance_id: int, at: datetime, **values: Any) -> dict[str, Any]:
        owner = last_unit.get(instance_id)
        row = {
            "at": as_utc(at),
            "kind": kind,
            "instance_id": instance_id,
            "version_id": instances[instance_id].version_id,
            "node": None,
            "role": None,
            "work_item_id": None,
            "due_at": None,
            "detail": None,
            "unit_id": owner.unit_id if owner else None,
            "reference": owner.reference if owner else None,
        }
        row.update(values)
        return row

    def of_item(kind: str, item: WorkItem, at: datetime, **values: Any) -> dict[str, Any]:
        return base(
            kind,
            item.instance_id,
            at,
            **{
                "node": item.task_name,
                "role": item.role,
                "work_item_id": item.id,
                "unit_id": item.unit_id,
                "reference": item.reference,
                **values,
            },
        )

    rows = []
    for inst in instances.values():
        rows.append(base(INSTANCE_STARTED, inst.id, inst.created_at))
    for item in items:
        rows.append(of_item(TASK_READY, item, item.created_at, due_at=as_utc(item.due_at)))
        if item.state in ("completed", "cancelled") and item.completed_at is not None:
            rows.append(
                of_item(
                    TASK_COMPLETED if item.state == "completed" else TASK_CANCELLED,
                    item,
                    item.completed_at,
                )
            )
    audit = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.instance_id.in_(ids),
            AuditEvent.action.in_(
                (
                    "work_item_claimed",
                    "work_item_reassigned",
                    "timer_fired",
                    "task_ran",
                    "instance_completed",
                    "instance_error",
                )
            ),
        )
        .order_by(AuditEvent.id)
    )
    for ev in audit:
        assert ev.instance_id is not None  # the query selects events of these instances
        inst = instances[ev.instance_id]
        if ev.action in ("work_item_claimed", "work_item_reassigned"):
            claimed = by_id.get(int((ev.entity or "work_item:0").split(":")[1]))
            if claimed is not None:
                rows.append(of_item(TASK_CLAIMED, claimed, ev.at))
        elif ev.action == "timer_fired":
            timer = ev.detail.get("timer")
            rows.append(base(TIMER_FIRED, inst.id, ev.at, node=timer))
            attached = slas.get(inst.version_id, {}).get(timer)
            if attached:
                open_then = [
                    i
                    for i in items
                    if i.instance_id == inst.id
                    and i.task_name == attached
                    and as_utc(i.created_at) <= as_utc(ev.at)
                ]
                escalated = open_then[-1] if open_then else None
                if escalated is not None:
                    rows.append(of_item(ESCALATION, escalated, ev.at, detail=timer))
        elif ev.action == "task_ran":
            rows.append(base(JOB_RUN, inst.id, ev.at, node=ev.detail.get("task")))
        else:
            rows.append(
                base(
                    INSTANCE_ENDED,
                    inst.id,
                    ev.at,
                    node=inst.end_event,
                    detail=ev.action.removeprefix("instance_"),
                )
            )
    rows.sort(key=lambda r: (r["instance_id"], r["at"]))
    return rows
