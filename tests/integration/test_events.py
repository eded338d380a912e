"""Signed events reach a real HTTP receiver on loopback once per event id, despite a forced retry."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from engine import webhooks
from engine.models import Incident, Job
from tests.conftest import make_settings, make_system
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit

SECRET = "events-secret-0123456789-abcdefghij"


class Receiver:
    """Answers 500 to the first delivery of every event (a receiver that was down), 204 after."""

    def __init__(self, clock):
        self.deliveries: list[dict] = []
        self.events: dict[str, dict] = {}
        self.clock = clock
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                event_id = self.headers["Saygac-Event-Id"]
                signed = webhooks.verify(SECRET, self.headers, body, receiver.clock())
                receiver.deliveries.append({"id": event_id, "signed": signed})
                first = sum(d["id"] == event_id for d in receiver.deliveries) == 1
                if signed and not first:
                    receiver.events.setdefault(
                        event_id, json.loads(body)
                    )  # de-duplicated by event id
                self.send_response(500 if first else 204)
                self.end_headers()

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(clock):
    receiver = Receiver(clock)
    yield receiver
    receiver.close()


def test_each_event_arrives_signed_and_once_per_id_after_a_forced_retry(tmp_path, clock, receiver):
    settings = make_settings(
        tmp_path,
        events={"subscribers": [receiver.url], "secret": SECRET},
        jobs={"retry_delays_seconds": [0, 0], "max_attempts": 3},
    )
    system = make_system(settings, clock)
    people = make_people(system)
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    for _ in range(3):  # the first attempt of each event failed; the outbox retries it
        life.run_jobs()
    number = life.application(iid).number
    kinds = sorted(event["type"] for event in receiver.events.values())
    assert kinds == ["application.registered", "invoice.formed", "reading.posted"]
    assert all(d["signed"] for d in receiver.deliveries)
    assert len(receiver.deliveries) == 2 * len(receiver.events)  # one refused, one taken, per event
    assert all(event["data"]["application_number"] == number for event in receiver.events.values())
    posted = next(e for e in receiver.events.values() if e["type"] == "reading.posted")
    assert posted["data"]["value"] == 1206 and "Gülməmmədov" not in json.dumps(receiver.events)
    with system.sessions() as s:
        assert {
            j.status for j in s.scalars(select(Job).where(Job.name == webhooks.DELIVER_EVENT_JOB))
        } == {"done"}
    system.db.dispose()


def test_an_event_nobody_takes_ends_as_a_failed_job_with_an_incident(tmp_path, clock):
    settings = make_settings(
        tmp_path,
        events={"subscribers": ["http://127.0.0.1:9/closed"], "secret": SECRET},
        jobs={"retry_delays_seconds": [0, 0], "max_attempts": 2},
    )
    system = make_system(settings, clock)
    people = make_people(system)
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    submit(life, people, code, serials, seals, [1206])
    for _ in range(3):
        life.run_jobs()
    with system.sessions() as s:
        (job,) = s.scalars(select(Job).where(Job.name == webhooks.DELIVER_EVENT_JOB))
        assert (job.status, job.attempts) == ("failed", 2)
        assert s.scalar(select(Incident).where(Incident.kind == "job_failed")) is not None
    system.db.dispose()


def test_a_tampered_body_or_an_old_timestamp_does_not_verify(clock):
    body = b'{"id":"1"}'
    now = clock()
    headers = {
        "Saygac-Timestamp": str(int(now.timestamp())),
        "Saygac-Signature": webhooks.signature(SECRET, int(now.timestamp()), body),
    }
    assert webhooks.verify(SECRET, headers, body, now)
    assert not webhooks.verify(SECRET, headers, body + b" ", now)
    clock.advance(minutes=10)
    assert not webhooks.verify(SECRET, headers, body, clock())
