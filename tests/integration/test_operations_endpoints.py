"""``/readyz`` against real PostgreSQL and Redis, and ``/metrics`` adding up an rq worker's figures."""

from __future__ import annotations

import redis as redis_lib
from sqlalchemy import select

from engine import heartbeats
from engine.models import Job
from tests.conftest import make_settings
from tests.integration import processes
from tests.integration.test_production_safety import SAFE
from web import create_app
from worker.dispatch import RqDispatcher
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow.system import build_system

TOKEN = "scrape-secret-0123456789"


class ToRedis(Lifecycle):
    """Jobs go to Redis for the worker process instead of running here."""

    def __init__(self, system, redis_url):
        super().__init__(system)
        self.dispatcher = RqDispatcher(system, redis_lib.Redis.from_url(redis_url))

    def run_jobs(self) -> None:
        self.dispatcher.dispatch_due()


def test_readyz_is_ready_with_database_migrations_redis_and_a_recent_sweep(
    pg_system, redis_url, tmp_path, clock
):
    settings = make_settings(
        tmp_path,
        database_url=str(pg_system.db.url.render_as_string(hide_password=False)),
        jobs={"runner": "rq"},
        redis={"url": redis_url},
    )
    system = build_system(settings, clock)
    client = create_app(system=system, config={"TESTING": True}).test_client()
    stale = client.get("/readyz")
    assert stale.status_code == 503 and stale.get_json()["checks"] == {
        "database": "ok",
        "migrations": "ok",
        "sweep": "stale",
        "redis": "ok",
    }
    with system.sessions() as s:
        heartbeats.beat(s, heartbeats.SWEEP, clock())
        s.commit()
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["status"] == "ready"
    system.db.dispose()


def test_readyz_fails_when_the_database_is_down_and_the_app_still_boots(tmp_path, clock):
    dead = f"postgresql+psycopg://postgres@127.0.0.1:{processes.free_port()}/saygac"
    settings = make_settings(tmp_path, database_url=dead, **SAFE)  # production: no simulators
    client = create_app(settings, clock=clock, config={"TESTING": True}).test_client()
    assert client.get("/healthz").status_code == 200
    response = client.get("/readyz")
    assert (
        response.status_code == 503 and response.get_json()["checks"]["database"] == "unavailable"
    )


def test_metrics_show_the_duration_of_a_job_an_rq_worker_ran(
    pg_system, pg_url, redis_url, tmp_path, running, monkeypatch
):
    shared = tmp_path / "prometheus"
    shared.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(shared))
    env = processes.environment(pg_url, redis_url, tmp_path)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(shared)
    people = make_people(pg_system)
    life = ToRedis(pg_system, redis_url)
    code, serials, seals = new_subscriber(pg_system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    running(env, "work", fault_jobs=False)

    def all_done():
        with pg_system.sessions() as s:
            statuses = {job.status for job in s.scalars(select(Job))}
            return statuses == {"done"}

    assert processes.wait(all_done), "the worker did not run the jobs"
    settings = make_settings(tmp_path, database_url=pg_url, operations={"metrics_token": TOKEN})
    web = build_system(settings, pg_system.services.now)
    client = create_app(system=web, config={"TESTING": True}).test_client()
    text = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
        as_text=True
    )
    assert 'saygac_job_duration_seconds_count{job="send_email",outcome="done"}' in text
    assert 'saygac_job_duration_seconds_count{job="run_task",outcome="done"}' in text
    web.db.dispose()
