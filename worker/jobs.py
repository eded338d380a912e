"""Thin jobs: each takes ids, reloads the rows, delegates, and records the outcome in the outbox.

``execute`` is the whole life of one outbox job in its own unit of work. A job that raises is
rolled back, its attempt recorded, and tried again later until ``max_attempts``; then it is
``failed`` for good (and an e-mail it was sending is marked failed too).
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from engine import jobs as outbox
from engine.mail import SEND_EMAIL_JOB, OutboxDirTransport, SmtpTransport, Transport, deliver
from engine.models import Email
from engine.runtime import RUN_TASK_JOB, describe_failure
from workflow.photo_evidence import PROCESS_PHOTO_JOB, process_photo
from workflow.system import System

log = logging.getLogger(__name__)
WAKE_TIMERS_JOB = "wake_timers"


def mail_transport(system: System) -> Transport:
    mail = system.settings.mail
    if mail.transport == "smtp":
        return SmtpTransport(mail.smtp_host, mail.smtp_port, starttls=mail.smtp_starttls,
                             user=mail.smtp_user, password=mail.smtp_password)
    return OutboxDirTransport(system.settings.path(mail.outbox_dir))


def _run_task(system: System, session, args: dict) -> None:
    system.runtime.run_task(session, args["instance_id"], args["task_id"])


def _send_email(system: System, session, args: dict) -> None:
    deliver(session, args["email_id"], transport=mail_transport(system), sender=system.settings.mail.sender,
            files=system.services.files, now=system.services.now())


def _wake_timers(system: System, session, args: dict) -> None:
    system.runtime.wake_timers(session, args["instance_id"])


def _process_photo(system: System, session, args: dict) -> None:
    process_photo(session, args["file_id"], system.services.files, system.services.photos)


HANDLERS: dict[str, Callable] = {
    RUN_TASK_JOB: _run_task,
    SEND_EMAIL_JOB: _send_email,
    WAKE_TIMERS_JOB: _wake_timers,
    PROCESS_PHOTO_JOB: _process_photo,
}


def execute(system: System, job_id: int) -> str:
    """Run one outbox job; returns its status afterwards ("done", "pending", "failed" or "skipped")."""
    with system.sessions() as session:
        job = outbox.claim(session, job_id, system.services.now())
        if job is None:
            session.rollback()
            return "skipped"
        session.commit()
        name, args = job.name, dict(job.args)
    try:
        with system.sessions() as session:
            HANDLERS[name](system, session, args)
            outbox.finish(session, session.get(outbox.Job, job_id), system.services.now())
            session.commit()
        return "done"
    except Exception as err:  # every failure is recorded; the job is retried or fails for good
        log.exception("job %s (%s) failed", job_id, name)
        with system.sessions() as session:
            job = session.get(outbox.Job, job_id)
            again = outbox.fail(session, job, describe_failure(err), system.services.now(),
                                system.settings.jobs.retry_delays_seconds)
            if not again and name == SEND_EMAIL_JOB:
                email = session.get(Email, args["email_id"])
                if email is not None:
                    email.status = "failed"
                    email.last_error = describe_failure(err)[:4000]
            session.commit()
            return "pending" if again else "failed"


_system: System | None = None
_dispatcher = None


def prepare(system: System) -> None:
    """Build the system once in the worker's main process; forked job processes inherit it
    (the connection pool is still empty then, so no connection is shared across a fork)."""
    global _system, _dispatcher
    from redis import Redis

    from worker.dispatch import RqDispatcher

    _system = system
    _dispatcher = RqDispatcher(system, Redis.from_url(system.settings.redis.url))


def run_job(job_id: int) -> str:
    """The rq entry point: run the job, then send on the jobs it created (the next async step)."""
    if _system is None:
        from engine.settings import load_settings
        from workflow.system import build_system

        prepare(build_system(load_settings()))
    status = execute(_system, job_id)
    if status == "done":
        _dispatcher.dispatch()
    return status
