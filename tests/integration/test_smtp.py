"""E-mail goes through a real SMTP server on loopback; a server that stays down fails the message for good."""

from __future__ import annotations

import email
import socket
from email import policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.models import Email, Job
from tests.conftest import make_settings, make_system
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _system(tmp_path, clock, port, **jobs):
    mail = {"transport": "smtp", "smtp_host": "127.0.0.1", "smtp_port": port}
    return make_system(make_settings(tmp_path, mail=mail, jobs=jobs), clock)


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


def test_the_invoice_arrives_by_smtp_with_the_pdf_attached(tmp_path, clock, smtp_server):
    controller, inbox = smtp_server
    system = _system(tmp_path, clock, controller.port)
    people = make_people(system)
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    # The citizen applied for a meter that is not theirs: the invoice goes to the holder's address on
    # record, the applicant gets the outcome without the holder's data.
    by_recipient = {message["To"]: message for message in inbox.messages}
    assert sorted(by_recipient) == ["abonent@example.az", "citizen@example.az"]
    invoice = by_recipient["abonent@example.az"]
    assert "hesab-faktura" in invoice["Subject"]
    body = invoice.get_body(("plain",)).get_content()
    assert "Gülməmmədov" in body and "Ödəniləcək məbləğ: 6,00 AZN (ƏDV daxil)" in body
    (pdf,) = list(invoice.iter_attachments())
    assert pdf.get_content_type() == "application/pdf" and pdf.get_content().startswith(b"%PDF")
    status = by_recipient["citizen@example.az"]
    assert "Gülməmmədov" not in status.get_body(("plain",)).get_content()
    assert list(status.iter_attachments()) == []
    system.db.dispose()


def test_mail_that_cannot_be_delivered_is_retried_then_failed(tmp_path, clock):
    port = _free_port()  # nothing listens here
    system = _system(tmp_path, clock, port, retry_delays_seconds=[60, 60])
    people = make_people(system)
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    assert life.instance(iid).end_event == "executed"  # the application does not wait for the mail
    with system.sessions() as s:
        job = s.scalar(select(Job).where(Job.name == "send_email"))
        assert (job.status, job.attempts) == (
            "pending",
            1,
        ) and "Connection refused" in job.last_error
    for _ in range(4):
        clock.advance(minutes=2)
        life.run_jobs()
    with system.sessions() as s:
        job = s.scalar(select(Job).where(Job.name == "send_email"))
        mail = s.scalar(select(Email))
        assert (job.status, job.attempts) == ("failed", 5)
        assert mail.status == "failed" and "Connection refused" in mail.last_error
    system.db.dispose()
