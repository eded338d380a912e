"""Drives the meter-reading process as the web layer and the worker do, one unit of work per step.

Every step opens a new session, so the instance is reloaded from the database each time.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from engine.audit import Actor
from engine.models import ProcessInstance, WorkItem
from workflow.models import Application
from workflow.system import System
from worker.dispatch import InlineDispatcher
from worker.sweep import sweep


@dataclass
class Lifecycle:
    system: System

    def start(self, citizen: Actor) -> int:
        with self.system.sessions() as s:
            result = self.system.start_application(s, citizen)
            s.commit()
            return result.instance.id

    def item(self, instance_id: int, task_name: str) -> WorkItem:
        with self.system.sessions() as s:
            item = s.scalar(select(WorkItem).where(WorkItem.instance_id == instance_id,
                                                   WorkItem.task_name == task_name, WorkItem.state == "open"))
            assert item is not None, f"no open {task_name} item; open: {self.open_tasks(instance_id)}"
            s.expunge(item)
            return item

    def open_tasks(self, instance_id: int) -> list[str]:
        with self.system.sessions() as s:
            return sorted(s.scalars(select(WorkItem.task_name).where(
                WorkItem.instance_id == instance_id, WorkItem.state == "open")))

    def complete(self, instance_id: int, task_name: str, actor: Actor, data: dict, claim: bool = False) -> None:
        item = self.item(instance_id, task_name)
        with self.system.sessions() as s:
            if claim:
                from datetime import timedelta

                from engine.workitems import claim as claim_item
                claim_item(s, item.id, actor, self.system.services.now(), timedelta(minutes=30))
            self.system.complete_task(s, item.id, actor, data)
            s.commit()
        self.run_jobs()

    def run_jobs(self) -> None:
        InlineDispatcher(self.system).dispatch()

    def sweep(self) -> int:
        return sweep(self.system, InlineDispatcher(self.system))

    def instance(self, instance_id: int) -> ProcessInstance:
        with self.system.sessions() as s:
            return s.get(ProcessInstance, instance_id)

    def application(self, instance_id: int) -> Application:
        with self.system.sessions() as s:
            app = s.scalar(select(Application).where(Application.instance_id == instance_id))
            _ = app.lines, app.subscriber
            for line in app.lines:
                _ = line.meter
            return app
