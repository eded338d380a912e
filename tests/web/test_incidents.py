"""The incidents page: administrators see every open incident, a unit head their unit's, anyone
else nothing (404); retry and cancel act on the failed job and are audited."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import incidents
from engine import jobs as outbox
from engine.models import AuditEvent, Incident, Job
from tests.web.staffing import submit_via_engine
from worker.dispatch import InlineDispatcher
from worker.jobs import HANDLERS
from workflow import factories as f

FAILS = "test_always_fails"


def _fails(system, session, args):
    raise RuntimeError("the invoice printer is on fire")


@pytest.fixture
def failing_handler():
    HANDLERS[FAILS] = _fails
    yield FAILS
    del HANDLERS[FAILS]


@pytest.fixture
def admin(system):
    with system.sessions() as s:
        f.account(s, "admin", username="admin", name="Admin")
        s.commit()
    return "admin"


def _failed_job(system, instance_id: int) -> int:
    """A job of ``instance_id`` that fails every attempt, run until it is failed for good."""
    with system.sessions() as s:
        job = outbox.enqueue(
            s,
            FAILS,
            {"instance_id": instance_id},
            queue="engine",
            now=system.services.now(),
            max_attempts=1,
        )
        s.commit()
    InlineDispatcher(system).dispatch([job.id])
    return job.id


def test_an_admin_sees_a_failed_job_with_its_error_and_retries_it_audited(
    system, people, subscriber, admin, auth, failing_handler
):
    sub = submit_via_engine(system, people, subscriber)
    job_id = _failed_job(system, sub.instance_id)
    browser = auth.login(admin)
    browser.get("/admin/incidents")
    (row,) = browser.doc.xpath("//tr[@data-kind='job_failed']")
    assert "the invoice printer is on fire" in row.text_content()
    assert browser.submit(action=row.xpath(".//form")[0].action).status_code == 302

    with system.sessions() as s:
        incident = s.scalar(select(Incident).where(Incident.job_id == job_id))
        assert (incident.status, incident.resolution) == ("resolved", "retried")
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "incident_retried"))
        assert event.entity == f"incident:{incident.id}" and event.actor_label == "Admin"
        job = s.get(Job, job_id)
        assert (job.status, job.attempts) == ("failed", 1)  # it ran again at once, and failed again
        assert (
            len(
                s.scalars(
                    select(Incident).where(Incident.job_id == job_id, Incident.status == "open")
                ).all()
            )
            == 1
        )


def test_cancelling_a_failed_job_stops_it_for_good(
    system, people, subscriber, admin, auth, failing_handler
):
    sub = submit_via_engine(system, people, subscriber)
    job_id = _failed_job(system, sub.instance_id)
    browser = auth.login(admin)
    browser.get("/admin/incidents")
    (row,) = browser.doc.xpath("//tr[@data-kind='job_failed']")
    cancel = next(form for form in row.xpath(".//form") if form.action.endswith("/cancel"))
    browser.submit(action=cancel.action)
    browser.follow()
    assert browser.doc.xpath("//p[@data-no-incidents]")
    with system.sessions() as s:
        assert s.get(Job, job_id).status == "cancelled"
        assert (
            s.scalar(select(AuditEvent.action).where(AuditEvent.entity.like("incident:%")))
            == "incident_cancelled"
        )


def test_a_unit_head_sees_only_their_units_incidents_and_others_see_no_page(
    system, people, subscriber, auth, admin
):
    sub = submit_via_engine(system, people, subscriber)
    with system.sessions() as s:
        mine = incidents.open_incident(
            s, "instance_error", "stopped", now=system.services.now(), instance_id=sub.instance_id
        ).id
        elsewhere = incidents.open_incident(
            s, "possibly_sent", "an e-mail with no application", now=system.services.now()
        ).id
        s.commit()
    head = auth.login(people["unit_head"])
    head.get("/admin/incidents")
    assert [int(r.get("data-incident")) for r in head.doc.xpath("//tr[@data-incident]")] == [mine]
    token = head.doc.xpath("//input[@name='csrf_token']/@value")[0]
    assert (
        head.client.post(
            f"/admin/incidents/{elsewhere}/close", data={"csrf_token": token}
        ).status_code
        == 404
    )
    with system.sessions() as s:
        assert s.get(Incident, elsewhere).status == "open"

    admin_browser = auth.login(admin)
    admin_browser.get("/admin/incidents")
    assert {
        int(r.get("data-incident")) for r in admin_browser.doc.xpath("//tr[@data-incident]")
    } == {mine, elsewhere}

    for role in ("operator", "citizen", "inspector"):
        assert auth.login(people[role]).get("/admin/incidents").status_code == 404
