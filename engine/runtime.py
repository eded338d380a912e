"""Starting, advancing and persisting process instances: the one module that drives BpmnWorkflow.

Each public method is one step of one instance inside the caller's unit of work: it takes the
instance's row lock, restores the workflow onto the cached spec of the instance's own version,
attaches the safe script engine, runs automatic tasks until the instance waits (user task,
timer, or a service task marked ``async``, which becomes an outbox job for the worker), then
saves the state and brings the work items, timers and audit log up to date. The caller commits.

The save path writes with few statements: the instance row once (inserted with its first state
by ``start``, updated with a Core statement afterwards), only the work-item and timer rows that
changed (see ``engine.projection``), and the step's audit events in one INSERT.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import eventlog, incidents, jobs, migration, spiff_internals
from engine.audit import SYSTEM, Actor, event_row, record_rows
from engine.db import as_utc
from engine.errors import EngineError, NotFound, OperationFailed, WorkItemConflict
from engine.migration import Assessment
from engine.models import ProcessInstance, ProcessVersion, Timer, WorkItem
from engine.operations import OperationContext, OperationRegistry
from engine.projection import (
    NEW_INSTANCE,
    Describe,
    LaneRules,
    Projection,
    Snapshot,
    is_async,
)
from engine.scripting import SafeScriptEngine
from engine.serialization import STATE_FORMAT, StateSerializer
from engine.specs import SpecRegistry
from engine.workitems import check_can_complete

ENGINE_QUEUE = "engine"
RUN_TASK_JOB = "run_task"
MAX_STEPS = 10_000


@dataclass
class StepResult:
    instance: ProcessInstance
    new_items: list[WorkItem] = field(default_factory=list)
    jobs: list[int] = field(default_factory=list)


@dataclass
class _Step:
    """One step's bookkeeping: when, who, the rows as they were, and the audit events to write."""

    now: datetime
    actor: Actor
    before: Snapshot
    audit: list[dict[str, Any]] = field(default_factory=list)
    completed_task_id: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # for the process event log

    def note(self, action: str, actor: Actor | None = None, **kwargs: Any) -> None:
        self.audit.append(event_row(action, actor=actor or self.actor, at=self.now, **kwargs))


class Runtime:
    def __init__(
        self,
        specs: SpecRegistry,
        operations: OperationRegistry,
        lanes: LaneRules,
        *,
        describe: Describe,
        services: object = None,
        clock: Callable[[], datetime] | None = None,
        default_due: Callable[[str, datetime], datetime | None] | None = None,
    ):
        self.specs = specs
        self.operations = operations
        self.lanes = lanes
        self.describe = describe
        self.services = services
        self.clock = clock or (lambda: datetime.now(UTC))
        self.projection = Projection(lanes, describe, default_due)
        self.serializer = StateSerializer()

    # -- public steps -------------------------------------------------------------------------

    def start(
        self,
        session: Session,
        process_id: str,
        actor: Actor = SYSTEM,
        data: dict[str, Any] | None = None,
    ) -> StepResult:
        version_id, version_number = self.specs.latest_id(session, process_id)
        parsed = self.specs.parsed_by_id(session, version_id)
        now = self.clock()
        # inserted with its first state at the save (or earlier, when an operation needs its id)
        instance = ProcessInstance(
            version_id=version_id,
            status="running",
            state="{}",
            serializer_version=STATE_FORMAT,
            started_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
        self._attach(wf, session, instance, actor)
        if data:
            wf.data.update(data)
            wf.task_tree.data.update(data)
        step = _Step(now, actor, NEW_INSTANCE)
        step.note("instance_started", detail={"process": process_id, "version": version_number})
        return self._advance_and_save(session, instance, wf, step)

    def complete(
        self,
        session: Session,
        work_item_id: int,
        actor: Actor,
        data: dict[str, Any] | Callable[[WorkItem], dict[str, Any]],
    ) -> StepResult:
        """Complete a user task. Two people completing one item: exactly one wins.

        ``data`` is the task's new data, or a function that computes it from the item once the
        instance is locked and the claim checked (the domain stores its rows there).
        """
        now = self.clock()
        instance = self._lock_item_instance(session, work_item_id)
        # read after the lock: someone may have completed it meanwhile
        item = session.get_one(WorkItem, work_item_id, populate_existing=True)
        check_can_complete(item, actor, now)
        wf = self._load(session, instance, actor)
        step = _Step(now, actor, self.projection.snapshot(wf), completed_task_id=item.task_id)
        task = wf.get_task_from_id(UUID(item.task_id))
        if task is None or task.state != TaskState.READY:
            raise WorkItemConflict("this task is no longer waiting for input")
        if callable(data):
            data = data(item)
        task.data.update(data)
        task.run()
        item.state = "completed"
        item.completed_at = now
        item.completed_by_id = actor.id
        step.note(
            "task_completed",
            instance_id=instance.id,
            entity=f"work_item:{item.id}",
            detail={"task": item.task_name, "data": _audit_data(data)},
        )
        return self._advance_and_save(session, instance, wf, step)

    def run_task(self, session: Session, instance_id: int, task_id: str) -> StepResult | None:
        """Run one async service task (the worker's job); a no-op when it already ran."""
        instance = self._lock(session, instance_id)
        wf = self._load(session, instance, SYSTEM)
        task = wf.get_task_from_id(UUID(task_id))
        if task is None or task.state != TaskState.READY:
            return None
        step = _Step(self.clock(), SYSTEM, self.projection.snapshot(wf))
        self._run(task, session, instance)
        step.note("task_ran", instance_id=instance.id, detail={"task": task.task_spec.name})
        step.events.append(eventlog.event(eventlog.JOB_RUN, step.now, node=task.task_spec.name))
        # already in the worker: async steps that follow run in this job too, not in another one
        return self._advance_and_save(session, instance, wf, step, run_async=True)

    def due_timer_instances(
        self, session: Session, now: datetime | None = None, limit: int = 500
    ) -> list[int]:
        now = now or self.clock()
        return list(
            session.scalars(
                select(Timer.instance_id)
                .where(Timer.state == "waiting", Timer.due_at <= now)
                .group_by(Timer.instance_id)
                .order_by(Timer.instance_id)
                .limit(limit)
            )
        )

    def wake_timers(
        self, session: Session, instance_id: int, now: datetime | None = None
    ) -> StepResult | None:
        """Fire the instance's timers that are due by the engine's clock, then advance it."""
        now = now or self.clock()
        instance = self._lock(session, instance_id)
        due = session.scalars(
            select(Timer).where(
                Timer.instance_id == instance_id, Timer.state == "waiting", Timer.due_at <= now
            )
        ).all()
        if not due:
            return None
        wf = self._load(session, instance, SYSTEM)
        step = _Step(now, SYSTEM, self.projection.snapshot(wf))
        for timer in due:
            task = wf.get_task_from_id(UUID(timer.task_id))
            if task is not None and task.state == TaskState.WAITING:
                spiff_internals.fire_event(task)
                step.note(
                    "timer_fired",
                    instance_id=instance.id,
                    detail={"timer": timer.event_name, "due": as_utc(timer.due_at).isoformat()},
                )
                step.events += eventlog.timer_events(task, now)
        return self._advance_and_save(session, instance, wf, step, run_async=True)  # a worker job

    def check_migration(
        self, session: Session, instance: ProcessInstance, target: ProcessVersion
    ) -> Assessment:
        """Dry run: could this instance move to ``target``, and which waiting steps would restart?"""
        wf = self._load(session, instance, SYSTEM)
        return migration.assess(self.serializer.registry, wf, self.specs.parsed(target))

    def migrate(
        self, session: Session, instance_id: int, target: ProcessVersion, actor: Actor
    ) -> StepResult:
        """Move a waiting instance onto another version; raises (leaving it untouched) when it cannot."""
        now = self.clock()
        instance = self._lock(session, instance_id)
        if instance.status not in ("waiting", "running"):
            raise EngineError(f"instance {instance_id} has ended and cannot move")
        source = session.get_one(ProcessVersion, instance.version_id)
        if source.process_id != target.process_id:
            raise EngineError("an instance can only move to a version of its own process")
        wf = self._load(session, instance, actor)
        step = _Step(now, actor, self.projection.snapshot(wf))
        parsed = self.specs.parsed(target)
        assessment = migration.assess(self.serializer.registry, wf, parsed)
        if not assessment.movable:
            raise EngineError("; ".join(assessment.reasons))
        migration.apply(wf, assessment, parsed)
        instance.version_id = target.id
        self._attach(wf, session, instance, actor)
        step.note(
            "instance_migrated",
            instance_id=instance.id,
            detail={"from": source.version, "to": target.version, "restarted": assessment.restarts},
        )
        return self._advance_and_save(session, instance, wf, step)

    def load_workflow(self, session: Session, instance: ProcessInstance) -> BpmnWorkflow:
        """A read-only view of an instance's workflow (for tests and instance views)."""
        return self._load(session, instance, SYSTEM)

    # -- internals ----------------------------------------------------------------------------

    def _lock(self, session: Session, instance_id: int) -> ProcessInstance:
        if session.get_bind().dialect.name == "sqlite":
            # SQLite has no row locks: a write takes the database's write lock until commit.
            session.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == instance_id)
                .values(status=ProcessInstance.status)
                .execution_options(synchronize_session=False)
            )
        instance = session.scalar(
            select(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if instance is None:
            raise NotFound(f"process instance {instance_id} does not exist")
        return instance

    def _lock_item_instance(self, session: Session, work_item_id: int) -> ProcessInstance:
        """Lock the instance a work item belongs to, in one statement."""
        owner = select(WorkItem.instance_id).where(WorkItem.id == work_item_id).scalar_subquery()
        if session.get_bind().dialect.name == "sqlite":
            instance_id = session.scalar(select(owner))
            if instance_id is None:
                raise NotFound("no such task")
            return self._lock(session, instance_id)
        instance = session.scalar(
            select(ProcessInstance)
            .where(ProcessInstance.id == owner)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if instance is None:
            raise NotFound("no such task")
        return instance

    def _load(self, session: Session, instance: ProcessInstance, actor: Actor) -> BpmnWorkflow:
        parsed = self.specs.parsed_by_id(session, instance.version_id)
        wf = self.serializer.loads(
            instance.state, instance.serializer_version, parsed.spec, parsed.subprocess_specs
        )
        self._attach(wf, session, instance, actor)  # the library does not restore the script engine
        return wf

    def _attach(
        self, wf: BpmnWorkflow, session: Session, instance: ProcessInstance, actor: Actor
    ) -> None:
        def context_factory(task: Task) -> OperationContext:
            if instance.id is None:  # a new instance: an operation needs its id before the save
                session.add(instance)
                session.flush()
            return OperationContext(
                session=session,
                instance_id=instance.id,
                task_name=task.task_spec.name,
                data=task.data,
                now=self.clock(),
                services=self.services,
                actor_id=actor.id,
            )

        wf.script_engine = SafeScriptEngine(self.operations, context_factory)

    def _run(self, task: Task, session: Session, instance: ProcessInstance) -> None:
        try:
            task.run()
        except SpiffWorkflowException as err:
            raise OperationFailed(
                f"step '{task.task_spec.name}' of instance {instance.id} failed: {err}"
            ) from err

    def _ready_automatic(
        self, wf: BpmnWorkflow
    ) -> Iterator[tuple[BpmnWorkflow | BpmnSubWorkflow, Task]]:
        """READY non-manual tasks, deepest subprocess first, as the library's own engine loop does."""
        workflows = sorted(wf.get_active_subprocesses(), key=lambda w: w.depth, reverse=True) + [wf]
        for sub in workflows:
            for task in sub.get_tasks(state=TaskState.READY, manual=False, skip_subprocesses=True):
                yield sub, task

    def _advance(
        self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow, run_async: bool = False
    ) -> list[Task]:
        """Run automatic tasks until none is ready; returns the READY async tasks left for the worker
        (none when ``run_async``: the caller is the worker)."""
        steps = 0
        while True:
            ran = False
            waiting_async: list[Task] = []
            for sub, task in list(self._ready_automatic(wf)):
                if task.state != TaskState.READY:
                    continue
                if is_async(task.task_spec) and not run_async:
                    waiting_async.append(task)
                    continue
                self._run(task, session, instance)
                ran = True
                steps += 1
                if sub is not wf and sub.parent_task_id is not None:
                    parent = wf.get_task_from_id(sub.parent_task_id)
                    spiff_internals.update_parent(parent)
            if steps > MAX_STEPS:
                raise EngineError(
                    f"instance {instance.id} ran more than {MAX_STEPS} steps without waiting"
                )
            if not ran:
                wf.refresh_timers()
                if not any(
                    run_async or not is_async(t.task_spec) for _s, t in self._ready_automatic(wf)
                ):
                    return waiting_async

    def _advance_and_save(
        self,
        session: Session,
        instance: ProcessInstance,
        wf: BpmnWorkflow,
        step: _Step,
        run_async: bool = False,
    ) -> StepResult:
        waiting_async = self._advance(session, instance, wf, run_async)
        previous = instance.status if instance.id is not None else None
        values: dict[str, Any] = {
            "state": self.serializer.dumps(wf),
            "serializer_version": STATE_FORMAT,
            "updated_at": step.now,
        }
        if wf.is_completed():
            end = self._end_event(wf)
            values.update(status="completed" if end else "error", end_event=end)
            if end is None:
                values["error"] = "the workflow stopped without reaching an end event"
        else:
            values["status"] = "running" if waiting_async else "waiting"
        self._save(session, instance, values)
        result = StepResult(instance=instance)
        for task in waiting_async:
            job = jobs.enqueue(
                session,
                RUN_TASK_JOB,
                {"instance_id": instance.id, "task_id": str(task.id)},
                queue=ENGINE_QUEUE,
                now=step.now,
                dedupe_key=f"task:{task.id}",
            )
            if job is not None:
                result.jobs.append(job.id)
        result.new_items = self.projection.sync(
            session, instance, wf, step.now, step.before, step.completed_task_id
        )
        if instance.status != previous and instance.status in ("completed", "error"):
            step.note(f"instance_{instance.status}", detail={"end_event": instance.end_event})
            if instance.status == "error":
                incidents.open_incident(
                    session,
                    "instance_error",
                    f"instance {instance.id} stopped in error",
                    error=values.get("error"),
                    now=step.now,
                    instance_id=instance.id,
                )
        for row in step.audit:
            row["instance_id"] = instance.id
        record_rows(session, step.audit)
        eventlog.record_step(
            session, instance, step.now, previous, step.before.ready, result.new_items, step.events
        )
        return result

    @staticmethod
    def _save(session: Session, instance: ProcessInstance, values: dict[str, Any]) -> None:
        """Write the instance row: inserted with its first state, or one UPDATE of what a step changes."""
        if instance.id is None:
            for key, value in values.items():
                setattr(instance, key, value)
            session.add(instance)
            session.flush()
            return
        changed = {key: value for key, value in values.items() if getattr(instance, key) != value}
        # ORM changes made earlier in the step (a migration's version) are flushed before it
        session.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance.id)
            .values(**changed)
            .execution_options(synchronize_session="evaluate")
        )

    @staticmethod
    def _end_event(wf: BpmnWorkflow) -> str | None:
        ends = [
            t
            for t in wf.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True)
            if isinstance(t.task_spec, EndEvent)
        ]
        if not ends:
            return None
        name: str = max(ends, key=lambda t: t.last_state_change).task_spec.name
        return name


def _audit_data(data: dict[str, Any]) -> dict[str, Any]:
    """Form data as the audit log keeps it: short values only."""
    return {
        k: (v if isinstance(v, (int, float, bool)) or v is None else str(v)[:200])
        for k, v in data.items()
    }


def describe_failure(err: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(err), err)).strip()
