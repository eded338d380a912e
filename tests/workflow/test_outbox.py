"""The outbox's rules on the embedded database: dispatch claims only what it was given and only
once, attempts and ``[jobs] max_attempts`` decide when a job fails for good, a message found
``sending`` is flagged possibly sent and keeps its Message-ID."""

from __future__ import annotations

import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select

from engine import jobs as outbox
from engine.db import as_utc
from engine.mail import begin_delivery, deliver, queue_email
from engine.models import Email, Incident, Job
from tests.conftest import make_settings, make_system
from worker.dispatch import InlineDispatcher
from worker.jobs import HANDLERS, execute
from worker.sweep import sweep


def _job(system, name="noop", **kwargs) -> int:
    with system.sessions() as s:
        job = outbox.enqueue(s, name, {}, queue="engine", now=system.services.now(), **kwargs)
        s.commit()
        return job.id


def test_dispatch_claims_only_the_given_due_jobs_and_each_only_once(system):
    mine, other = _job(system), _job(system)
    with system.sessions() as s:
        assert outbox.claim_for_dispatch(s, system.services.now(), ids=[mine]) == [(mine, "engine")]
        assert outbox.claim_for_dispatch(s, system.services.now(), ids=[mine]) == []
        s.commit()
        assert (s.get(Job, mine).status, s.get(Job, other).status) == ("queued", "pending")


def test_a_session_hands_over_the_ids_of_the_jobs_it_created_once(system):
    with system.sessions() as s:
        first = outbox.enqueue(s, "noop", {}, queue="engine", now=system.services.now()).id
        s.commit()
        assert outbox.created_jobs(s) == [first]
        assert outbox.created_jobs(s) == []


def _fails(system, session, args):
    raise RuntimeError("no luck")


@pytest.fixture
def failing_job():
    HANDLERS["test_fails"] = _fails
    yield "test_fails"
    del HANDLERS["test_fails"]


def test_the_max_attempts_setting_decides_when_a_job_fails_for_good(tmp_path, clock, failing_job):
    system = make_system(
        make_settings(tmp_path, jobs={"max_attempts": 2, "retry_delays_seconds": [30]}), clock
    )
    job_id = _job(system, failing_job)
    runner = InlineDispatcher(system)
    runner.dispatch([job_id])
    with system.sessions() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.attempts) == ("pending", 1)
        assert as_utc(job.run_after) == clock.now + timedelta(seconds=30)
    runner.dispatch_due()  # not due yet
    clock.advance(seconds=31)
    runner.dispatch_due()
    with system.sessions() as s:
        assert (s.get(Job, job_id).status, s.get(Job, job_id).attempts) == ("failed", 2)
        (incident,) = s.scalars(select(Incident)).all()
        assert (incident.kind, incident.job_id, incident.attempts) == ("job_failed", job_id, 2)
    system.db.dispose()


def test_a_job_whose_lease_expired_is_due_again_then_failed_when_out_of_attempts(system, clock):
    job_id = _job(system, max_attempts=2)
    lease = timedelta(seconds=system.settings.jobs.lease_seconds)
    for attempt in (1, 2):
        with system.sessions() as s:  # a worker claims it and dies: nobody renews the lease
            assert outbox.claim(s, job_id, clock.now, lease).attempts == attempt
            s.commit()
        clock.advance(seconds=system.settings.jobs.lease_seconds + 1)
        done = sweep(system, _NoRunner())
        assert (done.expired, done.failed) == ((1, 0) if attempt == 1 else (0, 1))
        clock.advance(seconds=max(system.settings.jobs.retry_delays_seconds) + 1)
    with system.sessions() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.attempts) == ("failed", 2)
        assert "lease expired" in job.last_error


class _NoRunner:
    def dispatch(self, job_ids):
        pass

    def dispatch_due(self):
        return 0

    def recover_lost(self):
        return 0


class _Refusing:
    def send(self, message):
        raise smtplib.SMTPRecipientsRefused({"x@example.az": (550, b"no such user")})


def test_a_message_interrupted_while_sending_keeps_its_message_id_and_is_flagged(system):
    with system.sessions() as s:
        email_id = queue_email(
            s, to="a@example.az", subject="s", body="b", now=system.services.now()
        ).id
        s.commit()
    files, now = system.services.files, system.services.now()
    with system.sessions() as s:
        first = begin_delivery(s, email_id, sender="x@saygac.invalid", files=files, now=now)
        s.commit()  # and the process dies here, mid-conversation
    with system.sessions() as s:
        again = begin_delivery(s, email_id, sender="x@saygac.invalid", files=files, now=now)
        s.commit()
        message = s.get(Email, email_id)
        assert again["Message-ID"] == first["Message-ID"] == message.message_id
        assert (message.status, message.attempts, message.possibly_sent) == ("sending", 2, True)
        assert (
            s.scalar(select(Incident.kind).where(Incident.email_id == email_id)) == "possibly_sent"
        )


def test_a_refused_message_is_not_flagged_as_possibly_sent(system):
    with system.sessions() as s:
        email_id = queue_email(
            s, to="a@example.az", subject="s", body="b", now=system.services.now()
        ).id
        s.commit()
    with system.sessions() as s, pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(
            s,
            email_id,
            transport=_Refusing(),
            sender="x@saygac.invalid",
            files=system.services.files,
            now=system.services.now(),
        )
    with system.sessions() as s:
        message = s.get(Email, email_id)
        assert (message.status, message.attempts, message.possibly_sent) == ("pending", 1, False)
        assert "no such user" in message.last_error


def _taken_over(raises: bool):
    """A handler during which the lease passes to another attempt (its worker was cut off from
    the database for longer than the lease, the sweep made the job due, another worker claimed it)."""

    def handler(system, session, args):
        clock = system.services.clock
        with system.sessions() as other:
            other.get(Job, args["me"]).status = "pending"  # the sweep: its lease expired
            other.commit()
            assert (
                outbox.claim(other, args["me"], clock(), timedelta(seconds=60)) is not None
            )  # another worker
            other.commit()
        if raises:
            raise RuntimeError("the first attempt fails late")

    return handler


@pytest.mark.parametrize("raises", [False, True])
def test_an_attempt_that_lost_its_lease_leaves_the_job_to_the_attempt_that_holds_it(system, raises):
    HANDLERS["test_taken_over"] = _taken_over(raises)
    try:
        with system.sessions() as s:
            job = outbox.enqueue(
                s, "test_taken_over", {}, queue="engine", now=system.services.now()
            )
            job.args = {"me": job.id}
            s.commit()
            job_id = job.id
        status, _created = execute(system, job_id)
    finally:
        del HANDLERS["test_taken_over"]
    assert status == ("skipped" if raises else "done")
    with system.sessions() as s:
        job = s.get(Job, job_id)
        assert (job.status, job.attempts) == ("running", 2)  # the second attempt's, untouched
