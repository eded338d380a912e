"""Real PostgreSQL and Redis. These tests fail, never skip, when a server is missing:
the test command starts both (see .ci/run and README)."""

from __future__ import annotations

import os
import uuid

import psycopg
import pytest
import redis as redis_lib
from sqlalchemy import text

from engine.db import Base
from engine.schema import upgrade
from tests.conftest import make_settings
from workflow.system import build_system

ADMIN_URL = os.environ.get("SAYGAC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def _redis_url() -> str:
    """The test Redis database, one per xdist worker (gw0 uses 15, gw1 14, ...), so one worker's
    flush never empties another's queues."""
    base, _, db = os.environ.get("SAYGAC_TEST_REDIS", "redis://127.0.0.1:6379/15").rpartition("/")
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    return f"{base}/{int(db) - worker}"


REDIS_URL = _redis_url()


@pytest.fixture(scope="session")
def pg_url():
    name = f"saygac_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as err:
        pytest.fail(f"PostgreSQL is not reachable at {ADMIN_URL}: {err}")
    admin.execute(f'CREATE DATABASE "{name}"')
    url = ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + f"/{name}"
    upgrade(url)  # the real migrations, not create_all
    yield url
    admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    admin.close()


def empty_database(engine) -> None:
    """Every table emptied: tests on the session's PostgreSQL database start from nothing."""
    with engine.begin() as conn:
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
def pg_system(pg_url, tmp_path, clock):
    settings = make_settings(tmp_path, database_url=pg_url)
    system = build_system(settings, clock)
    empty_database(system.db)
    with system.sessions() as session:
        system.deploy_shipped(session)
        session.commit()
    yield system
    system.db.dispose()


@pytest.fixture
def redis_url():
    client = redis_lib.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis_lib.ConnectionError as err:
        pytest.fail(f"Redis is not reachable at {REDIS_URL}: {err}")
    client.flushdb()
    yield REDIS_URL
    client.flushdb()


@pytest.fixture
def running(tmp_path):
    """``running(env, "work")`` starts a worker (``"sweep"`` the sweep) able to run the fault
    jobs of ``fault_jobs.py``; every process is stopped at the end of the test, its output
    kept in ``tmp_path``."""
    from tests.integration import processes

    started = []

    def _start(env, *argv, fault_jobs=True):
        with open(
            tmp_path / f"process-{len(started)}.log", "wb"
        ) as log:  # the child keeps its own copy
            process = processes.start(env, *argv, fault_jobs=fault_jobs, log=log)
        started.append(process)
        return process

    yield _start
    for process in started:
        processes.stop(process)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis server of the test's own on a spare port (no persistence), for tests that stop it
    or whose workers must not meet other test runs' workers on the shared server."""
    from bench.outages import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
