"""Thin jobs: each takes ids, reloads the rows, delegates, and records the outcome in the outbox.

``execute`` is the whole life of one outbox job. The attempt is counted and the lease taken in
their own commit before the work starts; while the work runs a heartbeat thread renews the
lease, so a worker that dies (even by SIGKILL) leaves a lease that expires within
``[jobs] lease_seconds`` and the sweep makes the job due again. A job that raises is rolled
back, its failure recorded, and tried again after the ``[jobs] retry_delays_seconds`` until its
attempts are spent; then it is ``failed`` for good with an incident (and an e-mail it was
sending is marked failed too, see :func:`engine.jobs.fail`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Self

from engine import jobs as outbox
from engine import logs, webhooks
from engine.mail import (
    SEND_EMAIL_JOB,
    OutboxDirTransport,
    SmtpTransport,
    Transport,
    deliver,
)
from engine.models import Job
from engine.runtime import RUN_TASK_JOB, describe_failure
from engine.webhooks import DELIVER_EVENT_JOB
from worker import metrics
from workflow.photo_evidence import PROCESS_PHOTO_JOB, process_photo
from workflow.system import System

log = logging.getLogger(__name__)
WAKE_TIMERS_JOB = "wake_timers"


def mail_transport(system: System) -> Transport:
    mail = system.settings.mail
    if mail.transport == "smtp":
        return SmtpTransport(
            mail.smtp_host,
            mail.smtp_port,
            starttls=mail.smtp_starttls,
            user=mail.smtp_user,
            password=mail.smtp_password,
        )
    return OutboxDirTransport(system.settings.path(mail.outbox_dir))


def _run_task(system: System, session, args: dict) -> None:
    system.runtime.run_task(session, args["instance_id"], args["task_id"])


def _send_email(system: System, session, args: dict) -> None:
    deliver(
        session,
        args["email_id"],
        transport=mail_transport(system),
        sender=system.settings.mail.sender,
        files=system.services.files,
        now=system.services.now(),
        zone=system.settings.app.timezone,
    )


def _wake_timers(system: System, session, args: dict) -> None:
    system.runtime.wake_timers(session, args["instance_id"])


def _deliver_event(system: System, session, args: dict) -> None:
    webhooks.deliver(system.services.events, args, system.services.now())


def _process_photo(system: System, session, args: dict) -> None:
    process_photo(session, args["file_id"], system.services.files, system.services.photos)


HANDLERS: dict[str, Callable] = {
    RUN_TASK_JOB: _run_task,
    SEND_EMAIL_JOB: _send_email,
    WAKE_TIMERS_JOB: _wake_timers,
    PROCESS_PHOTO_JOB: _process_photo,
    DELIVER_EVENT_JOB: _deliver_event,
}


class LeaseKeeper:
    """Renews a running job's lease every third of its length until the work ends."""

    def __init__(self, system: System, job_id: int, attempt: int, lease: timedelta):
        self.system, self.job_id, self.attempt, self.lease = system, job_id, attempt, lease
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"lease-{job_id}")

    def _run(self) -> None:
        while not self._stop.wait(max(self.lease.total_seconds() / 3, 0.2)):
            try:
                with self.system.sessions() as session:
                    outbox.renew(
                        session, self.job_id, self.attempt, self.system.services.now(), self.lease
                    )
                    session.commit()
            except Exception:  # a missed renewal is retried; the lease is three renewals long
                log.warning("renewing the lease of job %s failed", self.job_id, exc_info=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._stop.set()
        self._thread.join()


def execute(system: System, job_id: int) -> tuple[str, list[int]]:
    """Run one outbox job. Returns its status afterwards ("done", "pending", "failed" or
    "skipped") and the ids of the jobs it created (to dispatch next)."""
    jobs_settings = system.settings.jobs
    lease = timedelta(seconds=jobs_settings.lease_seconds)
    with system.sessions() as session:
        job = outbox.claim(session, job_id, system.services.now(), lease)
        if job is None:
            session.rollback()
            return "skipped", []
        session.commit()  # the attempt is counted before the work starts, whatever happens next
        name, args, attempt = job.name, dict(job.args), job.attempts
    logs.clear()
    logs.bind(job_id=job_id, job=name, attempt=attempt, **logs.carried(args))
    started = time.perf_counter()
    with LeaseKeeper(system, job_id, attempt, lease):
        try:
            with system.sessions() as session:
                HANDLERS[name](system, session, args)
                if not outbox.finish(session, job_id, system.services.now(), attempt):
                    log.warning(
                        "job %s: attempt %s ended after its lease passed to another attempt",
                        job_id,
                        attempt,
                    )
                session.commit()
                metrics.observe(name, "done", time.perf_counter() - started)
                return "done", outbox.created_jobs(session)
        except Exception as err:  # every failure is recorded; the job is retried or fails for good
            log.exception("job %s (%s) failed", job_id, name)
            outcome = _record_failure(system, job_id, attempt, err)
            metrics.observe(name, outcome, time.perf_counter() - started)
            return outcome, []


def _still_ours(session, job_id: int, attempt: int) -> Job | None:
    """The job row, locked, if this attempt still holds it. A worker cut off from the database
    longer than its lease finds another attempt running: it leaves the row to that attempt (its
    own effects are safe to commit: every handler checks what already happened)."""
    job = session.get(Job, job_id, with_for_update=True, populate_existing=True)
    if job.status == "running" and job.attempts == attempt:
        return job
    log.warning(
        "job %s: attempt %s ended after its lease passed to another attempt (now %s, %s)",
        job_id,
        attempt,
        job.attempts,
        job.status,
    )
    return None


def _record_failure(system: System, job_id: int, attempt: int, err: Exception) -> str:
    jobs_settings = system.settings.jobs
    with system.sessions() as session:
        job = _still_ours(session, job_id, attempt)
        if job is None:
            session.rollback()
            return "skipped"
        again = outbox.fail(
            session,
            job,
            describe_failure(err),
            system.services.now(),
            jobs_settings.retry_delays_seconds,
            jobs_settings.max_attempts,
        )
        session.commit()
        return "pending" if again else "failed"
