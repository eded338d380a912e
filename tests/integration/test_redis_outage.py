"""Redis stops and starts again (without persistence, as a restart loses its lists) under a
running worker and sweep: the worker survives and works on, and a job committed while Redis
was down runs within one sweep pass of its return; a job that was queued in the Redis that
restarted empty is sent again by the sweep. A Redis server of the test's own, on a spare port,
so the shared one is never stopped."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import redis as redis_lib

from engine import jobs as outbox
from engine.models import AuditEvent, Job
from tests.integration import fault_jobs, processes
from worker.connection import redis_client
from worker.dispatch import RqDispatcher
from worker.queues import ENGINE

SWEEP_SECONDS = 1.0


def _effects(system, key: str) -> int:
    with system.sessions() as s:
        return sum(
            1
            for e in s.query(AuditEvent).filter(AuditEvent.action == fault_jobs.EFFECT)
            if e.detail.get("key") == key
        )


def test_the_worker_survives_a_redis_restart_and_a_job_committed_meanwhile_runs_after_it(
    pg_system, pg_url, own_redis, tmp_path, running
):
    settings = dict(processes.FAST, jobs__timer_sweep_seconds=str(SWEEP_SECONDS))
    env = processes.environment(pg_url, own_redis.url, tmp_path, **settings)
    worker = running(env, "work")
    running(env, "sweep")
    (tmp_path / "marker").write_text("")  # SLOW_EFFECT then records its effect without waiting

    settings_here = replace(
        pg_system.settings, redis=replace(pg_system.settings.redis, url=own_redis.url)
    )
    dispatcher = RqDispatcher(pg_system, redis_client(settings_here))
    marker_args = str(tmp_path / "marker")
    with pg_system.sessions() as s:
        before = outbox.enqueue(
            s,
            fault_jobs.SLOW_EFFECT,
            {"marker": marker_args, "key": "before"},
            queue=ENGINE,
            now=pg_system.services.now(),
        ).id
        s.commit()
        dispatcher.dispatch(outbox.created_jobs(s))
    assert processes.wait(lambda: _effects(pg_system, "before") == 1, timeout=30)

    own_redis.stop()
    time.sleep(3)  # the worker and the sweep meet the outage
    with pg_system.sessions() as s:  # a request commits while Redis is down: its dispatch fails
        during = outbox.enqueue(
            s,
            fault_jobs.SLOW_EFFECT,
            {"marker": marker_args, "key": "during"},
            queue=ENGINE,
            now=pg_system.services.now(),
        ).id
        s.commit()
        created = outbox.created_jobs(s)
    with pytest.raises(redis_lib.ConnectionError):
        dispatcher.dispatch(created)
    with pg_system.sessions() as s:
        assert s.get(Job, during).status == "pending"  # not "queued": the enqueue never happened

    own_redis.start()
    # one sweep pass sends it, plus the worker's reconnection pause (1 s, then 2 s, ...)
    assert processes.wait(lambda: _effects(pg_system, "during") == 1, timeout=SWEEP_SECONDS + 8), (
        "the job committed during the outage did not run within a sweep pass of Redis's return"
    )
    assert worker.poll() is None, "the worker exited on the Redis outage"

    with pg_system.sessions() as s:  # the surviving worker takes the next job too
        after = outbox.enqueue(
            s,
            fault_jobs.SLOW_EFFECT,
            {"marker": marker_args, "key": "after"},
            queue=ENGINE,
            now=pg_system.services.now(),
        ).id
        s.commit()
        dispatcher.dispatch(outbox.created_jobs(s))
    assert processes.wait(lambda: _effects(pg_system, "after") == 1, timeout=30)
    with pg_system.sessions() as s:
        assert {s.get(Job, i).status for i in (before, during, after)} == {"done"}


def test_jobs_queued_in_a_redis_that_restarted_empty_are_sent_again_by_the_sweep(
    pg_system, pg_url, own_redis, tmp_path, running
):
    env = processes.environment(pg_url, own_redis.url, tmp_path, **processes.FAST)
    (tmp_path / "marker").write_text("")
    settings_here = replace(
        pg_system.settings, redis=replace(pg_system.settings.redis, url=own_redis.url)
    )
    dispatcher = RqDispatcher(pg_system, redis_client(settings_here))
    with pg_system.sessions() as s:  # sent to Redis while no worker listens: it waits in the queue
        job_id = outbox.enqueue(
            s,
            fault_jobs.SLOW_EFFECT,
            {"marker": str(tmp_path / "marker"), "key": "kept"},
            queue=ENGINE,
            now=pg_system.services.now(),
        ).id
        s.commit()
        dispatcher.dispatch(outbox.created_jobs(s))
    with pg_system.sessions() as s:
        assert s.get(Job, job_id).status == "queued"

    own_redis.stop()  # no persistence: the queue's entry is gone
    own_redis.start()
    running(env, "work")
    running(env, "sweep")
    assert processes.wait(lambda: _effects(pg_system, "kept") == 1, timeout=20), (
        "the job the queue lost was never sent again"
    )
    with pg_system.sessions() as s:
        assert (s.get(Job, job_id).status, s.get(Job, job_id).attempts) == ("done", 1)
