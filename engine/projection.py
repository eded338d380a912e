"""Keeping ``work_item`` and ``timer`` rows in step with a workflow, in the same transaction."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import EngineError
from engine.models import ProcessInstance, Timer, WorkItem
from engine.workitems import WorkItemFields

Describe = Callable[[Session, ProcessInstance, object, dict], WorkItemFields]


@dataclass(frozen=True)
class LaneRules:
    """Lane name → role for human lanes; lanes in ``automatic`` hold no human tasks."""

    roles: Mapping[str, str]
    automatic: frozenset[str] = frozenset({"system"})


def task_properties(task_spec) -> dict:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def is_async(task_spec) -> bool:
    return task_properties(task_spec).get("async", "").lower() == "true"


class Projection:
    def __init__(self, lanes: LaneRules, describe: Describe,
                 default_due: Callable[[str, datetime], datetime | None] | None = None):
        self.lanes = lanes
        self.describe = describe
        self.default_due = default_due or (lambda _role, _created: None)

    def sync_work_items(self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow,
                         now: datetime) -> list[WorkItem]:
        ready = {str(t.id): t for t in wf.get_tasks(state=TaskState.READY, manual=True)}
        open_items = session.scalars(
            select(WorkItem).where(WorkItem.instance_id == instance.id, WorkItem.state == "open")).all()
        for item in open_items:
            if item.task_id not in ready:
                item.state = "cancelled"
                item.completed_at = now
            else:  # an SLA may have restarted (a migration to a new version)
                item.due_at = self._due_at(ready[item.task_id]) or item.due_at
        known = {item.task_id for item in open_items}
        created = []
        for task_id, task in ready.items():
            if task_id in known:
                continue
            spec = task.task_spec
            lane = spec.lane
            role = self.lanes.roles.get(lane or "")
            if role is None:
                raise EngineError(f"user task '{spec.name}' is in lane '{lane}', which maps to no role")
            fields = self.describe(session, instance, task, {"role": role, "lane": lane})
            item = WorkItem(
                instance_id=instance.id, task_id=task_id, task_name=spec.name,
                form_key=task_properties(spec).get("formKey", spec.name), lane=lane, role=role,
                due_at=self._due_at(task) or self.default_due(role, now), created_at=now, **fields.__dict__,
            )
            session.add(item)
            created.append(item)
        session.flush()
        return created

    @staticmethod
    def _due_at(task) -> datetime | None:
        """A task with a boundary timer (an SLA) is due when the timer is; the diagram decides."""
        parent = task.parent
        if parent is None or not isinstance(parent.task_spec, BoundaryEventSplit):
            return None
        dues = []
        for sibling in parent.children:
            spec = sibling.task_spec
            if isinstance(spec, BoundaryEvent) and isinstance(spec.event_definition, TimerEventDefinition):
                value = sibling._get_internal_data("event_value")
                if isinstance(value, str):
                    dues.append(datetime.fromisoformat(value))
        return min(dues) if dues else None


def sync_timers(session: Session, instance: ProcessInstance, wf: BpmnWorkflow) -> None:
    waiting = {}
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if isinstance(definition, TimerEventDefinition):
            value = task._get_internal_data("event_value")
            if isinstance(value, dict):  # a cycle timer
                value = value.get("next")
            if isinstance(value, str):
                waiting[str(task.id)] = (task.task_spec.name, datetime.fromisoformat(value))
    rows = {t.task_id: t for t in session.scalars(select(Timer).where(Timer.instance_id == instance.id))}
    for task_id, row in rows.items():
        if task_id not in waiting and row.state == "waiting":
            row.state = "done"
    for task_id, (name, due) in waiting.items():
        row = rows.get(task_id)
        if row is None:
            session.add(Timer(instance_id=instance.id, task_id=task_id, event_name=name, due_at=due))
        else:
            row.state, row.due_at = "waiting", due
    session.flush()
