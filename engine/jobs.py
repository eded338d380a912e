"""The job outbox: jobs are written in the transaction that needs them and sent after commit.

A Redis outage therefore loses nothing: a pending row is sent again by the sweep. Retries
and the terminal ``failed`` state are kept here, in the database, not in the queue.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.models import Job


class Dispatcher(Protocol):
    """Sends committed jobs to whatever runs them (in-process, or an rq queue)."""

    def dispatch(self, job_ids: list[int]) -> None: ...


def enqueue(session: Session, name: str, args: dict, *, queue: str, now: datetime,
            dedupe_key: str | None = None, max_attempts: int = 3, run_after: datetime | None = None) -> Job | None:
    """Add a job to the outbox; with ``dedupe_key``, at most one unfinished job per key."""
    if dedupe_key is not None:
        existing = session.scalar(
            select(Job).where(Job.dedupe_key == dedupe_key, Job.status.in_(("pending", "queued")))
        )
        if existing is not None:
            return None
    job = Job(name=name, args=args, queue=queue, dedupe_key=dedupe_key, max_attempts=max_attempts,
              run_after=run_after or now, created_at=now)
    session.add(job)
    session.flush()
    return job


def claim(session: Session, job_id: int, now: datetime) -> Job | None:
    """Mark a job as running (one attempt more); None when it is done, failed or not yet due."""
    result = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.status.in_(("pending", "queued")), Job.run_after <= now)
        .values(status="running", attempts=Job.attempts + 1, updated_at=now)
    )
    if result.rowcount != 1:
        return None
    return session.get(Job, job_id, populate_existing=True)


def finish(session: Session, job: Job, now: datetime) -> None:
    job.status = "done"
    job.last_error = None
    job.updated_at = now


def fail(session: Session, job: Job, error: str, now: datetime, delays: tuple[int, ...]) -> bool:
    """Record a failed attempt; returns True when the job will be tried again."""
    job.last_error = error[:4000]
    job.updated_at = now
    if job.attempts >= job.max_attempts:
        job.status = "failed"
        return False
    delay = delays[min(job.attempts - 1, len(delays) - 1)] if delays else 0
    job.status = "pending"
    job.run_after = now + timedelta(seconds=delay)
    return True


def mark_queued(session: Session, job_ids: list[int], now: datetime) -> None:
    if job_ids:
        session.execute(
            update(Job).where(Job.id.in_(job_ids), Job.status == "pending").values(status="queued", updated_at=now)
        )


def due_jobs(session: Session, now: datetime, stale_after: timedelta = timedelta(minutes=10), limit: int = 500) -> list[int]:
    """Jobs to send (again): pending and due, after returning to pending those that were queued or
    running so long ago that the queue or the worker must have lost them."""
    session.execute(
        update(Job)
        .where(Job.status.in_(("queued", "running")), Job.updated_at < now - stale_after)
        .values(status="pending", updated_at=now)
    )
    return list(session.scalars(
        select(Job.id).where(Job.status == "pending", Job.run_after <= now).order_by(Job.run_after).limit(limit)
    ))
