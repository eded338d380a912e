"""Sending committed outbox jobs to whatever runs them: in-process, or rq queues on Redis."""
from __future__ import annotations

from collections import deque

from engine import jobs as outbox
from workflow.system import System
from worker.jobs import execute


def pending_job_ids(system: System) -> list[int]:
    """Due pending jobs, marked queued in their own commit so they are sent once."""
    with system.sessions() as session:
        ids = outbox.due_jobs(session, system.services.now())
        outbox.mark_queued(session, ids, system.services.now())
        session.commit()
    return ids


class InlineDispatcher:
    """The embedded default: run jobs right after the commit that created them, in this process,
    including the jobs those jobs create, until nothing is due."""

    def __init__(self, system: System, max_rounds: int = 1000):
        self.system = system
        self.max_rounds = max_rounds
        self._running = False

    def dispatch(self, job_ids: list[int] | None = None) -> None:
        if self._running:  # a job's own commit asked again: the running loop will pick it up
            return
        self._running = True
        try:
            queue = deque(job_ids or [])
            for _ in range(self.max_rounds):
                if not queue:
                    queue.extend(pending_job_ids(self.system))
                    if not queue:
                        return
                execute(self.system, queue.popleft())
        finally:
            self._running = False


class RqDispatcher:
    """Production: enqueue ``worker.jobs.run_job(job_id)`` on the job's rq queue."""

    def __init__(self, system: System, redis_connection):
        from rq import Queue

        self.system = system
        self.connection = redis_connection
        self._queues: dict[str, Queue] = {}
        self._queue_cls = Queue

    def _queue(self, name: str):
        if name not in self._queues:
            self._queues[name] = self._queue_cls(name, connection=self.connection)
        return self._queues[name]

    def dispatch(self, job_ids: list[int] | None = None) -> None:
        ids = list(job_ids or []) or pending_job_ids(self.system)
        if not ids:
            return
        with self.system.sessions() as session:
            rows = session.query(outbox.Job.id, outbox.Job.queue).filter(outbox.Job.id.in_(ids)).all()
        for job_id, queue in rows:
            self._queue(queue).enqueue("worker.jobs.run_job", job_id, job_id=f"saygac-job-{job_id}-{_stamp()}")


def _stamp() -> str:
    import uuid

    return uuid.uuid4().hex[:8]
