"""E-mail never waits behind a long engine queue: a worker listening on every queue takes them in
turn. Real rq worker process, PostgreSQL and Redis."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from engine import jobs as outbox
from engine.models import AuditEvent
from tests.integration import fault_jobs, processes
from worker.connection import redis_client
from worker.dispatch import RqDispatcher
from worker.queues import ENGINE, MAIL


def test_a_message_queued_behind_engine_work_goes_out_after_at_most_one_engine_job(
    pg_system, pg_url, own_redis, tmp_path, running
):
    settings = replace(
        pg_system.settings, redis=replace(pg_system.settings.redis, url=own_redis.url)
    )
    dispatcher = RqDispatcher(pg_system, redis_client(settings))
    with pg_system.sessions() as s:  # a long engine backlog first, then one message
        for n in range(6):
            outbox.enqueue(
                s,
                fault_jobs.SLOW,
                {"seconds": 0.5, "key": f"engine-{n}"},
                queue=ENGINE,
                now=pg_system.services.now(),
            )
        outbox.enqueue(
            s,
            fault_jobs.SLOW,
            {"seconds": 0, "key": "mail"},
            queue=MAIL,
            now=pg_system.services.now(),
        )
        s.commit()
        dispatcher.dispatch(outbox.created_jobs(s))
    running(processes.environment(pg_url, own_redis.url, tmp_path), "work")

    def order() -> list[str]:
        with pg_system.sessions() as s:
            return [
                e.detail["key"]
                for e in s.scalars(
                    select(AuditEvent)
                    .where(AuditEvent.action == fault_jobs.EFFECT)
                    .order_by(AuditEvent.id)
                )
            ]

    assert processes.wait(lambda: len(order()) == 7, timeout=60), order()
    assert order().index("mail") <= 1, order()
