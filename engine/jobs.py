"""The job outbox: jobs are written in the transaction that needs them and sent after commit.

A Redis outage therefore loses nothing: a pending row is sent again by the sweep. Retries,
leases and the terminal ``failed`` state are kept here, in the database, not in the queue.

The life of a row (see :class:`engine.models.Job`):

- :func:`enqueue` writes it ``pending`` and remembers its id on the session, so the edge that
  commits dispatches exactly the jobs its unit of work created (:func:`created_jobs`) instead
  of scanning the whole outbox.
- :func:`claim_for_dispatch` moves due ``pending`` rows to ``queued`` with one atomic
  ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING``; the dispatcher
  commits that only after the queue accepted every claimed row, so a failed enqueue rolls back
  and leaves them ``pending`` for the next sweep pass. Two dispatchers never claim one row.
- :func:`claim` (the worker) counts the attempt and takes a lease in its own commit before the
  work starts; :func:`renew` extends the lease while the work runs (a heartbeat).
- :func:`recover_expired` (the sweep) turns the jobs of dead workers — lease expired — into a
  retry or, once the attempts are spent, ``failed`` with an incident: a job that kills its
  process cannot loop for ever.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine import incidents, logs
from engine.db import rowcount
from engine.models import Email, Job

NEW_JOBS_KEY = "saygac.new_jobs"
LEASE_EXPIRED = "the worker stopped while running this job (its lease expired)"


class Dispatcher(Protocol):
    """Sends committed jobs to whatever runs them (in-process, or an rq queue).

    ``dispatch`` sends the given job ids (those a unit of work just committed); ``dispatch_due``
    sends every due pending job (the sweep); ``recover_lost`` returns to pending the queued jobs
    the queue no longer holds.
    """

    def dispatch(self, job_ids: list[int]) -> None: ...

    def dispatch_due(self) -> int: ...

    def recover_lost(self) -> int: ...


def enqueue(
    session: Session,
    name: str,
    args: dict[str, Any],
    *,
    queue: str,
    now: datetime,
    dedupe_key: str | None = None,
    max_attempts: int | None = None,
    run_after: datetime | None = None,
) -> Job | None:
    """Add a job to the outbox; with ``dedupe_key``, at most one unfinished job per key.

    ``max_attempts`` None means the ``[jobs] max_attempts`` setting.
    """
    if dedupe_key is not None:
        existing = session.scalar(
            select(Job).where(
                Job.dedupe_key == dedupe_key, Job.status.in_(("pending", "queued", "running"))
            )
        )
        if existing is not None:
            return None
    context = logs.context_for_job()
    if context:
        args = {**args, "_log": context}  # the request's ids, for the worker's log lines
    job = Job(
        name=name,
        args=args,
        queue=queue,
        dedupe_key=dedupe_key,
        max_attempts=max_attempts,
        run_after=run_after or now,
        created_at=now,
    )
    session.add(job)
    session.flush()
    session.info.setdefault(NEW_JOBS_KEY, []).append(job.id)
    return job


def created_jobs(session: Session) -> list[int]:
    """The ids of the jobs this session created since the last call; call it after the commit."""
    created: list[int] = session.info.pop(NEW_JOBS_KEY, [])
    return created


def claim_for_dispatch(
    session: Session, now: datetime, *, ids: list[int] | None = None, limit: int = 100
) -> list[tuple[int, str]]:
    """Atomically move due pending jobs (of ``ids`` when given) to ``queued``; returns (id, queue).

    The caller sends them, then commits (or rolls back when sending failed). Rows another
    dispatcher holds are skipped, not waited for (on SQLite, writers are serialised anyway).
    """
    if ids is not None and not ids:
        return []
    chosen = select(Job.id).where(Job.status == "pending", Job.run_after <= now)
    if ids is not None:
        chosen = chosen.where(Job.id.in_(ids))
    chosen = chosen.order_by(Job.run_after, Job.id).limit(limit).with_for_update(skip_locked=True)
    rows = session.execute(
        update(Job)
        .where(Job.id.in_(chosen.scalar_subquery()))
        .values(status="queued", updated_at=now)
        .returning(Job.id, Job.queue)
        .execution_options(synchronize_session=False)
    ).all()
    return [(job_id, queue) for job_id, queue in rows]


def set_queue_refs(session: Session, refs: dict[int, str]) -> None:
    """Remember the queue's entry for each queued job (to notice when the queue lost it)."""
    if refs:
        session.execute(
            update(Job), [{"id": job_id, "queue_ref": ref} for job_id, ref in refs.items()]
        )


def queued_refs(
    session: Session, older_than: datetime, limit: int = 1000
) -> list[tuple[int, str | None, datetime]]:
    """(id, queue_ref, queued at) of jobs queued before ``older_than``."""
    return [
        row._tuple()
        for row in session.execute(
            select(Job.id, Job.queue_ref, Job.updated_at)
            .where(Job.status == "queued", Job.updated_at < older_than)
            .order_by(Job.id)
            .limit(limit)
        )
    ]


def requeue(session: Session, job_ids: list[int], now: datetime) -> int:
    """Queued jobs the queue lost go back to pending (due now)."""
    if not job_ids:
        return 0
    result = session.execute(
        update(Job)
        .where(Job.id.in_(job_ids), Job.status == "queued")
        .values(status="pending", run_after=now, queue_ref=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result)


def due_ids(session: Session, now: datetime, limit: int = 500) -> list[int]:
    """Due pending jobs (the in-process runner claims them one by one as it runs them)."""
    return list(
        session.scalars(
            select(Job.id)
            .where(Job.status == "pending", Job.run_after <= now)
            .order_by(Job.run_after, Job.id)
            .limit(limit)
        )
    )


def claim(session: Session, job_id: int, now: datetime, lease: timedelta) -> Job | None:
    """Mark a job running with one attempt more and a lease; None when it is not due, already
    running elsewhere, done, failed or cancelled. Commit before starting the work."""
    return session.scalar(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("pending", "queued")), Job.run_after <= now)
        .values(
            status="running", attempts=Job.attempts + 1, lease_until=now + lease, updated_at=now
        )
        .returning(Job)
        .execution_options(synchronize_session=False, populate_existing=True)
    )


def renew(session: Session, job_id: int, attempt: int, now: datetime, lease: timedelta) -> bool:
    """Extend the lease of the attempt still running; False when the job is no longer ours."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "running", Job.attempts == attempt)
        .values(
            lease_until=now + lease, updated_at=Job.updated_at
        )  # updated_at: when the attempt started
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def finish(session: Session, job_id: int, now: datetime, attempt: int | None = None) -> bool:
    """Mark the job done (one UPDATE, in the transaction of the work it did). With ``attempt``,
    only while that attempt still holds the job: False when its lease passed to another attempt."""
    query = update(Job).where(Job.id == job_id)
    if attempt is not None:
        query = query.where(Job.status == "running", Job.attempts == attempt)
    result = session.execute(
        query.values(
            status="done", last_error=None, lease_until=None, updated_at=now
        ).execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def fail(
    session: Session,
    job: Job,
    error: str,
    now: datetime,
    delays: tuple[int, ...],
    default_max_attempts: int,
) -> bool:
    """Record a failed attempt; returns True when the job will be tried again. A job out of
    attempts becomes ``failed`` and opens an incident."""
    job.last_error = error[:4000]
    job.updated_at = now
    job.lease_until = None
    if job.attempts >= (job.max_attempts or default_max_attempts):
        job.status = "failed"
        _fail_email(session, (job.args or {}).get("email_id"), job.last_error)
        incidents.open_incident(
            session,
            "job_failed",
            f"job {job.name} #{job.id} failed {job.attempts} times",
            error=job.last_error,
            attempts=job.attempts,
            now=now,
            instance_id=(job.args or {}).get("instance_id"),
            job_id=job.id,
            email_id=(job.args or {}).get("email_id"),
        )
        return False
    delay = delays[min(job.attempts - 1, len(delays) - 1)] if delays else 0
    job.status = "pending"
    job.queue_ref = None
    job.run_after = now + timedelta(seconds=delay)
    return True


def _fail_email(session: Session, email_id: int | None, error: str) -> None:
    """The message of a send job that failed for good is failed too (unless it did go out)."""
    email = session.get(Email, email_id) if email_id is not None else None
    if email is not None and email.status != "sent":
        email.status = "failed"
        email.last_error = error


def recover_expired(
    session: Session,
    now: datetime,
    delays: tuple[int, ...],
    default_max_attempts: int,
    limit: int = 500,
) -> tuple[int, int]:
    """Jobs whose worker died (lease expired): retry or fail. Returns (retried, failed)."""
    expired = list(
        session.scalars(
            select(Job)
            .where(Job.status == "running", Job.lease_until < now)
            .order_by(Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    )
    retried = sum(
        fail(session, job, LEASE_EXPIRED, now, delays, default_max_attempts) for job in expired
    )
    return retried, len(expired) - retried


def retry(session: Session, job_id: int, now: datetime) -> bool:
    """An administrator gives a failed job a fresh set of attempts, due now."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status == "failed")
        .values(status="pending", attempts=0, run_after=now, queue_ref=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(result) == 1:
        session.info.setdefault(NEW_JOBS_KEY, []).append(job_id)
    return rowcount(result) == 1


def cancel(session: Session, job_id: int, now: datetime) -> bool:
    """An administrator gives up a job that has not finished; it never runs again."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("failed", "pending", "queued", "running")))
        .values(status="cancelled", lease_until=None, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def overdue(session: Session, now: datetime, after: timedelta, limit: int = 200) -> list[Job]:
    """Jobs queued or running for longer than ``after`` (shown on the incidents page)."""
    return list(
        session.scalars(
            select(Job)
            .where(Job.status.in_(("queued", "running")), Job.updated_at < now - after)
            .order_by(Job.updated_at)
            .limit(limit)
        )
    )
