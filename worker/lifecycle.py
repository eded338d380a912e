"""Drives the meter-reading process as the web layer and the worker do, one unit of work per step
(the workflow scenarios in the tests and the benchmarks use it).

Every step opens a new session, so the instance is reloaded from the database each time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from engine.audit import Actor
from engine.models import ProcessInstance, WorkItem
from worker.dispatch import InlineDispatcher
from worker.sweep import sweep
from workflow import factories as f
from workflow.models import Application
from workflow.system import System


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
            item = s.scalar(
                select(WorkItem).where(
                    WorkItem.instance_id == instance_id,
                    WorkItem.task_name == task_name,
                    WorkItem.state == "open",
                )
            )
            assert item is not None, (
                f"no open {task_name} item; open: {self.open_tasks(instance_id)}"
            )
            s.expunge(item)
            return item

    def open_tasks(self, instance_id: int) -> list[str]:
        with self.system.sessions() as s:
            return sorted(
                s.scalars(
                    select(WorkItem.task_name).where(
                        WorkItem.instance_id == instance_id, WorkItem.state == "open"
                    )
                )
            )

    def complete(
        self, instance_id: int, task_name: str, actor: Actor, data: dict, claim: bool = False
    ) -> None:
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
        InlineDispatcher(self.system).dispatch_due()

    def sweep(self) -> int:
        return sweep(self.system, InlineDispatcher(self.system)).timers

    def instance(self, instance_id: int) -> ProcessInstance:
        with self.system.sessions() as s:
            instance = s.get(ProcessInstance, instance_id)
            assert instance is not None, f"no process instance {instance_id}"
            return instance

    def application(self, instance_id: int) -> Application:
        with self.system.sessions() as s:
            app = s.scalar(select(Application).where(Application.instance_id == instance_id))
            assert app is not None, f"no application for instance {instance_id}"
            _ = app.lines, app.subscriber
            for line in app.lines:
                _ = line.meter
            return app


def make_people(system: System) -> dict[str, Actor]:
    """A Yasamal unit with an operator, inspector and head, a central unit, a citizen, and the tariffs."""
    with system.sessions() as s:
        f.tariffs(s)
        ysm = f.unit(s)
        f.unit(s, code="U-CTR", name="Mərkəzi dispetçer xidməti", head_email=None)
        people = {
            "citizen": f.actor(f.account(s, "citizen", fin="5ABC123")),
            "operator": f.actor(f.account(s, "operator", ysm)),
            "inspector": f.actor(f.account(s, "inspector", ysm)),
            "unit_head": f.actor(f.account(s, "unit_head", ysm)),
        }
        s.commit()
    return people


def make_team(system: System) -> dict[str, Actor]:
    """``make_people`` plus a second Yasamal operator and an operator and inspector of Nəsimi."""
    from sqlalchemy import select as _select

    from engine.models import Unit

    people = make_people(system)
    with system.sessions() as s:
        ysm = s.scalar(_select(Unit).where(Unit.code == "U-YSM"))
        nsm = f.unit(s, code="U-NSM", name="Nəsimi", head_email=None)
        people["operator2"] = f.actor(f.account(s, "operator", ysm, name="Leyla Məmmədova"))
        people["foreign_operator"] = f.actor(f.account(s, "operator", nsm))
        people["foreign_inspector"] = f.actor(f.account(s, "inspector", nsm))
        s.commit()
    return people


def new_subscriber(system: System, **kwargs) -> tuple[str, list[str], list[str]]:
    """A subscriber whose last reading was 30 days ago; returns code, meter serials and seals."""
    with system.sessions() as s:
        sub = f.subscriber(s, last_read=system.services.today() - timedelta(days=30), **kwargs)
        s.commit()
        return sub.code, [m.serial for m in sub.meters], [m.seal for m in sub.meters]


def submit(
    life: Lifecycle,
    people: dict,
    code: str,
    serials,
    seals,
    values,
    read_on: date | None = None,
    photo_ids=None,
    citizen: str = "citizen",
) -> int:
    """The citizen's part: start, identify the subscriber, enter every meter's reading."""
    iid = life.start(people[citizen])
    assert life.open_tasks(iid) == ["identify_subscriber"]
    life.complete(iid, "identify_subscriber", people[citizen], {"subscriber_code": code})
    read_on_text = (read_on or life.system.services.today()).isoformat()
    photo_ids = photo_ids or [None] * len(serials)
    meters = [
        {"serial": s, "seal": p, "value": v, "read_on": read_on_text, "photo_id": photo}
        for s, p, v, photo in zip(serials, seals, values, photo_ids, strict=False)
    ]
    life.complete(
        iid,
        "enter_readings",
        people[citizen],
        {"meters": meters, "phone": "+994501234567", "email": "citizen@example.az", "notes": ""},
    )
    return iid
