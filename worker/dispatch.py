"""Sending committed outbox jobs to whatever runs them: in-process, or rq queues on Redis.

Both dispatchers implement :class:`engine.jobs.Dispatcher`. ``dispatch(ids)`` sends only the
jobs a unit of work just created; the sweep calls ``recover_lost`` and ``dispatch_due`` for
everything else (retries that became due, jobs whose enqueue failed, jobs a Redis restart lost).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import deque
from datetime import timedelta

from redis import Redis

from engine import jobs as outbox
from engine.db import as_utc
from worker.jobs import execute
from workflow.system import System

log = logging.getLogger(__name__)
RUN_JOB = "worker.rq_entry.run_job"
LOST_STATES = {
    "failed",
    "finished",
    "stopped",
    "canceled",
}  # the queue's entry ended, the row did not


class InlineDispatcher:
    """The embedded default: run jobs right after the commit that created them, in this process,
    including the jobs those jobs create, until none is left."""

    def __init__(self, system: System, max_rounds: int = 1000):
        self.system = system
        self.max_rounds = max_rounds
        self._local = threading.local()  # per thread: each request thread runs its own jobs

    def dispatch(self, job_ids: list[int]) -> None:
        self._run(deque(job_ids))

    def dispatch_due(self) -> int:
        with self.system.sessions() as session:
            ids = outbox.due_ids(session, self.system.services.now())
        return self._run(deque(ids))

    def recover_lost(self) -> int:
        return 0  # nothing stands between the outbox and the runner

    def _run(self, queue: deque) -> int:
        if (
            getattr(self._local, "running", False) or not queue
        ):  # asked again from inside a job of this thread
            return 0
        self._local.running = True
        ran = 0
        try:
            while queue and ran < self.max_rounds:
                _status, created = execute(self.system, queue.popleft())
                queue.extend(created)
                ran += 1
        finally:
            self._local.running = False
        return ran


class RqDispatcher:
    """Production: claim due rows atomically, enqueue ``worker.rq_entry.run_job(job_id)`` on each
    row's rq queue, and commit ``queued`` only once Redis accepted them all."""

    def __init__(self, system: System, redis_connection: Redis):
        from rq import Queue

        self.system = system
        self.connection = redis_connection
        self._queues: dict[str, Queue] = {}
        self._queue_cls = Queue

    def _queue(self, name: str):
        if name not in self._queues:
            self._queues[name] = self._queue_cls(name, connection=self.connection)
        return self._queues[name]

    def dispatch(self, job_ids: list[int]) -> None:
        if job_ids:
            self._send(list(job_ids))

    def dispatch_due(self) -> int:
        sent = 0
        while True:
            batch = self._send(None)
            sent += batch
            if batch < self.system.settings.jobs.dispatch_batch:
                return sent

    def _send(self, ids: list[int] | None) -> int:
        jobs_settings = self.system.settings.jobs
        with self.system.sessions() as session:
            claimed = outbox.claim_for_dispatch(
                session, self.system.services.now(), ids=ids, limit=jobs_settings.dispatch_batch
            )
            if not claimed:
                session.rollback()
                return 0
            refs = {}
            for (
                job_id,
                queue,
            ) in claimed:  # an error here rolls the claim back: the rows stay pending
                ref = f"saygac-job-{job_id}-{uuid.uuid4().hex[:8]}"
                self._queue(queue).enqueue(
                    RUN_JOB,
                    job_id,
                    job_id=ref,
                    job_timeout=jobs_settings.job_timeout_seconds,
                    result_ttl=600,
                    failure_ttl=3600,
                )
                refs[job_id] = ref
            outbox.set_queue_refs(session, refs)
            session.commit()
        return len(claimed)

    def recover_lost(self) -> int:
        """Queued rows whose rq entry is gone (Redis restarted without persistence) or ended
        without running them (a worker died before the claim) become pending again."""
        from rq.job import Job as RqJob

        now = self.system.services.now()
        with self.system.sessions() as session:
            refs = outbox.queued_refs(session, older_than=now - timedelta(seconds=2))
            if not refs:
                session.rollback()
                return 0
            found = RqJob.fetch_many(
                [ref or "" for _id, ref, _at in refs], connection=self.connection
            )
            # a worker that took the entry claims the row within moments; "started" long ago and
            # still queued means the worker died between taking the entry and claiming the row
            started_long_ago = now - timedelta(seconds=self.system.settings.jobs.lease_seconds)
            lost = [
                job_id
                for (job_id, _ref, queued_at), rq_job in zip(refs, found, strict=False)
                if rq_job is None
                or rq_job.get_status(refresh=False) in LOST_STATES
                or (
                    rq_job.get_status(refresh=False) == "started"
                    and as_utc(queued_at) < started_long_ago
                )
            ]
            count = outbox.requeue(session, lost, now)
            session.commit()
        if count:
            log.warning("%d queued job(s) were lost by the queue and will be sent again", count)
        return count
