"""The async steps run in a real rq worker process against PostgreSQL and Redis."""
from __future__ import annotations

import os
import subprocess
import sys
import time

import redis as redis_lib
from sqlalchemy import select

from engine.models import Email, Job, ProcessInstance
from engine.settings import PROJECT_ROOT
from tests.workflow.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow.models import Invoice
from worker.dispatch import RqDispatcher


class RqLifecycle(Lifecycle):
    """Like the in-process lifecycle, but jobs go to Redis for the worker process."""

    def __init__(self, system, redis_url):
        super().__init__(system)
        self.dispatcher = RqDispatcher(system, redis_lib.Redis.from_url(redis_url))

    def run_jobs(self) -> None:
        self.dispatcher.dispatch_due()


def _worker(pg_url, redis_url, tmp_path):
    env = dict(os.environ)
    env.update({
        "SAYGAC_DATABASE__URL": pg_url, "SAYGAC_REDIS__URL": redis_url, "SAYGAC_JOBS__RUNNER": "rq",
        "SAYGAC_FILES__ROOT": str(tmp_path / "files"), "SAYGAC_MAIL__OUTBOX_DIR": str(tmp_path / "mail"),
        "SAYGAC_APP__SECRET_KEY": "x" * 40,
    })
    return subprocess.Popen([sys.executable, "-m", "worker", "work"], cwd=PROJECT_ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _wait(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_invoice_and_mail_are_produced_by_the_worker_process(pg_system, pg_url, redis_url, tmp_path):
    people = make_people(pg_system)
    life = RqLifecycle(pg_system, redis_url)
    code, serials, seals = new_subscriber(pg_system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)

    with pg_system.sessions() as s:  # nothing ran here: the async steps wait for the worker
        assert s.get(ProcessInstance, iid).status == "running"
        assert s.scalar(select(Invoice)).pdf_id is None

    worker = _worker(pg_url, redis_url, tmp_path)
    try:
        def finished():
            with pg_system.sessions() as s:
                email = s.scalar(select(Email))
                return s.get(ProcessInstance, iid).status == "completed" and email and email.status == "sent"

        if not _wait(finished):
            worker.terminate()
            raise AssertionError("the worker did not finish the instance:\n" + worker.communicate()[0].decode())
        with pg_system.sessions() as s:
            instance = s.get(ProcessInstance, iid)
            assert instance.end_event == "executed"
            assert s.scalar(select(Invoice)).pdf_id is not None
            assert {j.status for j in s.scalars(select(Job))} == {"done"}
            assert s.scalar(select(Email)).status == "sent"
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 1
    finally:
        worker.terminate()
        worker.communicate(timeout=10)
