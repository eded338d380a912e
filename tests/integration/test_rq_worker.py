"""The async steps run in a real rq worker process against PostgreSQL and Redis."""

from __future__ import annotations

import redis as redis_lib
from sqlalchemy import select

from engine.models import Email, Job, ProcessInstance
from tests.integration import processes
from worker.dispatch import RqDispatcher
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow.models import Invoice


class RqLifecycle(Lifecycle):
    """Like the in-process lifecycle, but jobs go to Redis for the worker process."""

    def __init__(self, system, redis_url):
        super().__init__(system)
        self.dispatcher = RqDispatcher(system, redis_lib.Redis.from_url(redis_url))

    def run_jobs(self) -> None:
        self.dispatcher.dispatch_due()


def test_invoice_and_mail_are_produced_by_the_worker_process(
    pg_system, pg_url, redis_url, tmp_path, running
):
    people = make_people(pg_system)
    life = RqLifecycle(pg_system, redis_url)
    code, serials, seals = new_subscriber(pg_system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)

    with pg_system.sessions() as s:  # nothing ran here: the async steps wait for the worker
        assert s.get(ProcessInstance, iid).status == "running"
        assert s.scalar(select(Invoice)).pdf_id is None

    running(processes.environment(pg_url, redis_url, tmp_path), "work", fault_jobs=False)

    def finished():
        with pg_system.sessions() as s:
            statuses = [email.status for email in s.scalars(select(Email))]
            return s.get(ProcessInstance, iid).status == "completed" and statuses == [
                "sent",
                "sent",
            ]

    assert processes.wait(finished), (
        "the worker did not finish the instance (its output: process-0.log)"
    )
    with pg_system.sessions() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance.end_event == "executed"
        assert s.scalar(select(Invoice)).pdf_id is not None
        assert {j.status for j in s.scalars(select(Job))} == {"done"}
        # the invoice to the holder's address on record, the outcome to the applicant (not the holder)
        assert sorted(email.to_addr for email in s.scalars(select(Email))) == [
            "abonent@example.az",
            "citizen@example.az",
        ]
    assert len(list((tmp_path / "mail").glob("*.eml"))) == 2
