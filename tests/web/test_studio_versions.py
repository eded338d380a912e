"""Versions through the studio: a new SLA applies to new applications; a dry run, then migration."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.db import as_utc
from engine.models import AuditEvent, ProcessInstance, WorkItem
from tests.web.test_studio import BPMN, SHIPPED, Studio, analyst, studio, with_sla  # noqa: F401  (fixtures)
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit


def _review_due(system, instance_id):
    with system.sessions() as s:
        return as_utc(
            s.scalar(
                select(WorkItem.due_at).where(
                    WorkItem.instance_id == instance_id,
                    WorkItem.task_name == "review_application",
                    WorkItem.state == "open",
                )
            )
        )


def _plan(browser) -> dict[int, tuple[str, str]]:
    return {
        int(r.get("data-instance")): (r.get("data-movable"), r.xpath("string(td[4])").strip())
        for r in browser.doc.xpath("//tr[@data-instance]")
    }


def test_a_new_sla_applies_to_new_applications_and_to_migrated_ones(system, clock, studio):  # noqa: F811
    people = make_people(system)
    life = Lifecycle(system)
    before = submit(life, people, *new_subscriber(system), [1206])
    old_due = _review_due(system, before)
    assert old_due == system.services.calendar.add_working_days(
        clock.now, 2
    )  # version 1: two working days

    studio.save(with_sla("P5D"))
    status, body = studio.deploy("review within five days")
    assert (status, body["version"]) == (200, 2)
    after = submit(life, people, *new_subscriber(system), [1206])
    assert (
        _review_due(system, before) == old_due
    )  # the running application keeps its version's due date
    assert _review_due(system, after) == clock.now + timedelta(days=5)

    # dry run: the application on version 1 can move; its SLA timer restarts under version 2
    browser = studio.browser
    browser.get("/studio/migrate?source=1&target=2")
    assert _plan(browser) == {before: ("true", "restarts: review_sla")}
    assert "1 of 1 waiting instances can move from version 1 to version 2." in browser.html
    status, body = studio.call(
        "POST", "/studio/api/migrate", {"source": 1, "target": 2, "ids": [before]}
    )
    assert body == {"results": [{"id": before, "ok": True, "message": ""}]}
    with system.sessions() as s:
        moved = s.get(ProcessInstance, before)
        assert s.get(ProcessInstance, after).version_id == moved.version_id
        event = s.scalar(
            select(AuditEvent).where(
                AuditEvent.action == "instance_migrated", AuditEvent.instance_id == before
            )
        )
        assert (
            event.detail["from"] == 1
            and event.detail["to"] == 2
            and event.actor_label == "Nərmin Cəfərova"
        )
        run = s.scalar(select(AuditEvent).where(AuditEvent.action == "instances_migrated"))
        assert run.detail["moved"] == [before] and run.detail["failed"] == {}
    assert _review_due(system, before) == clock.now + timedelta(days=5)

    # later behaviour follows version 2: no escalation after two days, escalation after five
    clock.advance(days=2, hours=1)
    assert life.sweep() == 0
    assert life.open_tasks(before) == ["review_application"]
    clock.advance(days=3)
    assert life.sweep() == 2
    assert life.open_tasks(before) == ["handle_escalation", "review_application"]


def test_an_instance_that_cannot_move_is_explained_and_left_untouched(system, studio):  # noqa: F811
    people = make_people(system)
    life = Lifecycle(system)
    waiting = submit(life, people, *new_subscriber(system), [1206])
    renamed = (
        SHIPPED[BPMN]
        .replace('id="review_application"', 'id="review_application_2"')
        .replace(">review_application<", ">review_application_2<")
        .replace('"review_application"', '"review_application_2"')
    )
    renamed = renamed.replace('value="review_application_2"', 'value="review_application"')
    scenarios = studio.draft()["scenarios"]
    for sc in scenarios:
        for step in sc["steps"]:
            if step.get("task") == "review_application":
                step["task"] = "review_application_2"
    assert studio.save({**SHIPPED, BPMN: renamed}, scenarios)[0] == 200
    status, body = studio.deploy("review step renamed")
    assert status == 200, body
    studio.browser.get("/studio/migrate?source=1&target=2")
    assert _plan(studio.browser) == {
        waiting: (
            "false",
            "the current step 'review_application' does not exist in the new version",
        )
    }
    assert studio.browser.doc.xpath("//button[@data-action='migrate']") == []
    with system.sessions() as s:
        state = s.get(ProcessInstance, waiting).state
    status, body = studio.call(
        "POST", "/studio/api/migrate", {"source": 1, "target": 2, "ids": [waiting]}
    )
    assert body["results"][0]["ok"] is False
    assert "does not exist in the new version" in body["results"][0]["message"]
    with system.sessions() as s:
        instance = s.get(ProcessInstance, waiting)
        assert instance.state == state and instance.version_id == 1
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "instance_migrated")) is None
        run = s.scalar(select(AuditEvent).where(AuditEvent.action == "instances_migrated"))
        assert run.detail["moved"] == [] and list(run.detail["failed"]) == [str(waiting)]
    assert life.open_tasks(waiting) == ["review_application"]
