"""Workers die, jobs fail: the outbox's leases and attempts recover in seconds, effects happen
once, and what cannot succeed ends ``failed`` with an incident. Real rq worker processes, the
real sweep process, PostgreSQL and Redis."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from engine import jobs as outbox
from engine.models import AuditEvent, Incident, Job
from tests.integration import fault_jobs, processes
from tests.integration.incident_page import incident_rows
from worker.queues import ENGINE


@pytest.fixture
def env(pg_url, redis_url, tmp_path):
    return processes.environment(pg_url, redis_url, tmp_path, **processes.FAST)


def _enqueue(system, name: str, args: dict) -> int:
    with system.sessions() as s:
        job = outbox.enqueue(s, name, args, queue=ENGINE, now=system.services.now())
        s.commit()
        return job.id


def _job(system, job_id: int) -> Job:
    with system.sessions() as s:
        return s.get(Job, job_id)


def test_a_job_whose_worker_is_killed_runs_again_within_seconds_and_its_effect_happens_once(
    pg_system, env, running, tmp_path
):
    first, second = running(env, "work"), running(env, "work")
    running(env, "sweep")
    marker = tmp_path / "started"
    job_id = _enqueue(pg_system, fault_jobs.SLOW_EFFECT, {"marker": str(marker), "key": "once"})

    assert processes.wait(marker.exists, timeout=30), "no worker started the job"
    horse = int(marker.read_text())
    victim = first if horse in processes.children(first.pid) else second
    survivor = second if victim is first else first
    processes.kill(victim)

    assert processes.wait(lambda: _job(pg_system, job_id).status == "done", timeout=30), (
        f"the job did not run again within 30 s of the kill: {_job(pg_system, job_id).status}"
    )
    job = _job(pg_system, job_id)
    assert job.attempts == 2
    with pg_system.sessions() as s:
        effects = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == fault_jobs.EFFECT)
        )
    assert effects == 1
    assert survivor.poll() is None


def test_jobs_that_always_fail_or_kill_their_process_end_failed_with_an_incident(
    pg_system, env, running
):
    worker = running(env, "work")
    running(env, "sweep")
    failing = _enqueue(pg_system, fault_jobs.ALWAYS_FAILS, {})
    killing = _enqueue(pg_system, fault_jobs.ALWAYS_KILLS, {})

    def both_failed():
        return {_job(pg_system, failing).status, _job(pg_system, killing).status} == {"failed"}

    assert processes.wait(both_failed, timeout=60), (
        _job(pg_system, failing).status,
        _job(pg_system, killing).status,
    )
    assert (_job(pg_system, failing).attempts, _job(pg_system, killing).attempts) == (3, 3)
    assert "this job always fails" in _job(pg_system, failing).last_error
    assert "lease expired" in _job(pg_system, killing).last_error
    with pg_system.sessions() as s:
        incidents = {
            i.job_id: i for i in s.scalars(select(Incident).where(Incident.kind == "job_failed"))
        }
    assert set(incidents) == {failing, killing}
    assert incidents[failing].attempts == 3 and incidents[failing].status == "open"
    time.sleep(2)  # failed for good: nothing runs them again
    assert (_job(pg_system, failing).attempts, _job(pg_system, killing).attempts) == (3, 3)
    assert worker.poll() is None  # a job killing its work horse does not take the worker down

    rows = incident_rows(
        pg_system, "job_failed"
    )  # and an administrator finds both on the incidents page
    assert {int(r.get("data-incident")) for r in rows} == {
        incidents[failing].id,
        incidents[killing].id,
    }
    assert any("lease expired" in r.text_content() for r in rows)
