"""Keeping ``work_item`` and ``timer`` rows in step with a workflow, in the same transaction.

The rows are a projection of the saved state: an open work item for every READY user task and a
waiting timer row for every WAITING timer event. Only the runtime changes which items are open
and which timers wait, and always under the instance's row lock, so the workflow as it was loaded
(a :class:`Snapshot`) says which rows exist; a step writes only the differences, without reading
the rows back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from engine import spiff_internals
from engine.errors import EngineError
from engine.models import ProcessInstance, Timer, WorkItem
from engine.workitems import WorkItemFields

Describe = Callable[[Session, ProcessInstance, object, dict[str, str]], WorkItemFields]


@dataclass(frozen=True)
class LaneRules:
    """Lane name → role for human lanes; lanes in ``automatic`` hold no human tasks."""

    roles: Mapping[str, str]
    automatic: frozenset[str] = frozenset({"system"})


def task_properties(task_spec: TaskSpec) -> dict[str, str]:
    properties: dict[str, str] = (getattr(task_spec, "extensions", None) or {}).get(
        "properties", {}
    )
    return properties


def is_async(task_spec: TaskSpec) -> bool:
    return task_properties(task_spec).get("async", "").lower() == "true"


@dataclass(frozen=True)
class Snapshot:
    """What the rows of an instance say before a step: open items (task id → due) and waiting timers."""

    ready: dict[str, datetime | None] = field(default_factory=dict)
    timers: dict[str, tuple[str, datetime]] = field(default_factory=dict)


NEW_INSTANCE = Snapshot()


class Projection:
    def __init__(
        self,
        lanes: LaneRules,
        describe: Describe,
        default_due: Callable[[str, datetime], datetime | None] | None = None,
    ):
        self.lanes = lanes
        self.describe = describe
        self.default_due = default_due or (lambda _role, _created: None)

    def snapshot(self, wf: BpmnWorkflow) -> Snapshot:
        """The rows the last save projected from this (just loaded) workflow."""
        ready, timers = scan(wf)
        return Snapshot(
            ready={task_id: self._due_at(t) for task_id, t in ready.items()}, timers=timers
        )

    def sync(
        self,
        session: Session,
        instance: ProcessInstance,
        wf: BpmnWorkflow,
        now: datetime,
        before: Snapshot,
        completed_task_id: str | None = None,
    ) -> list[WorkItem]:
        """Bring the work items and timers up to date after a step; returns the new work items."""
        ready, timers = scan(wf)
        created = self.sync_work_items(session, instance, ready, now, before, completed_task_id)
        sync_timers(session, instance, timers, before)
        return created

    def sync_work_items(
        self,
        session: Session,
        instance: ProcessInstance,
        ready: dict[str, Task],
        now: datetime,
        before: Snapshot,
        completed_task_id: str | None = None,
    ) -> list[WorkItem]:
        """Cancel the items whose task is no longer ready, move changed SLA due dates, insert the new
        items; ``ready`` holds the READY user tasks by id, ``completed_task_id`` is the item the step
        itself completed."""
        known = {
            task_id: due for task_id, due in before.ready.items() if task_id != completed_task_id
        }
        gone = [task_id for task_id in known if task_id not in ready]
        if gone:
            session.execute(
                update(WorkItem)
                .where(
                    WorkItem.instance_id == instance.id,
                    WorkItem.task_id.in_(gone),
                    WorkItem.state == "open",
                )
                .values(state="cancelled", completed_at=now)
            )
        for task_id, due in known.items():
            new_due = self._due_at(ready[task_id]) if task_id in ready else None
            if (
                new_due is not None and new_due != due
            ):  # an SLA restarted (a migration to a new version)
                session.execute(
                    update(WorkItem)
                    .where(
                        WorkItem.instance_id == instance.id,
                        WorkItem.task_id == task_id,
                        WorkItem.state == "open",
                    )
                    .values(due_at=new_due)
                )
        created = []
        for task_id, task in ready.items():
            if task_id in known:
                continue
            spec = task.task_spec
            lane = spec.lane
            role = self.lanes.roles.get(lane or "")
            if role is None:
                raise EngineError(
                    f"user task '{spec.name}' is in lane '{lane}', which maps to no role"
                )
            fields = self.describe(session, instance, task, {"role": role, "lane": lane})
            item = WorkItem(
                instance_id=instance.id,
                task_id=task_id,
                task_name=spec.name,
                form_key=task_properties(spec).get("formKey", spec.name),
                lane=lane,
                role=role,
                due_at=self._due_at(task) or self.default_due(role, now),
                created_at=now,
                **fields.__dict__,
            )
            session.add(item)
            created.append(item)
        if created:
            session.flush()
        return created

    @staticmethod
    def _due_at(task: Task) -> datetime | None:
        """A task with a boundary timer (an SLA) is due when the timer is; the diagram decides."""
        parent = task.parent
        if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
            return None
        dues = []
        for sibling in parent.children:
            spec = sibling.task_spec
            if isinstance(spec, BoundaryEvent) and isinstance(
                spec.event_definition, TimerEventDefinition
            ):
                value = spiff_internals.event_value(sibling)
                if isinstance(value, str):
                    dues.append(datetime.fromisoformat(value))
        return min(dues) if dues else None


def scan(wf: BpmnWorkflow) -> tuple[dict[str, Task], dict[str, tuple[str, datetime]]]:
    """One walk of the task tree: the READY user tasks by id, and task id → (event name, due
    time) of every timer event the workflow waits for."""
    ready: dict[str, Task] = {}
    timers: dict[str, tuple[str, datetime]] = {}
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
        if task.state == TaskState.READY:
            if task.task_spec.manual:
                ready[str(task.id)] = task
            continue
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            value = spiff_internals.event_value(task)
            if isinstance(value, dict):  # a cycle timer
                value = value.get("next")
            if isinstance(value, str):
                timers[str(task.id)] = (task.task_spec.name, datetime.fromisoformat(value))
    return ready, timers


def sync_timers(
    session: Session,
    instance: ProcessInstance,
    waiting: dict[str, tuple[str, datetime]],
    before: Snapshot,
) -> None:
    """Mark the timers no longer waited for done; insert or re-arm the new and moved ones
    (``waiting``: task id → (event name, due time), from :func:`scan`)."""
    gone = [task_id for task_id in before.timers if task_id not in waiting]
    if gone:
        session.execute(
            update(Timer)
            .where(
                Timer.instance_id == instance.id, Timer.task_id.in_(gone), Timer.state == "waiting"
            )
            .values(state="done")
        )
    changed = [
        {
            "instance_id": instance.id,
            "task_id": task_id,
            "event_name": name,
            "due_at": due,
            "state": "waiting",
        }
        for task_id, (name, due) in waiting.items()
        if before.timers.get(task_id) != (name, due)
    ]
    if changed:  # a row may exist already for the task (a timer re-armed on the same task)
        insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        statement = insert(Timer).values(changed)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[Timer.instance_id, Timer.task_id],
                set_={"state": statement.excluded.state, "due_at": statement.excluded.due_at},
            )
        )
