"""A worker dies after the SMTP server accepted a message but before it could record the
delivery: the retry sends it once more with the same Message-ID (a receiving system can drop the
copy), the message is flagged "possibly sent" and an incident says so. Real aiosmtpd server,
rq worker processes, the sweep, PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import email
import threading
from email import policy

from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.mail import queue_email
from engine.models import Email, Incident
from tests.integration import processes
from tests.integration.incident_page import incident_rows


class SlowToAnswer:
    """Keeps every message; to the first one it answers only after a long pause, during which
    the test kills the sending worker (so the server has the message, the sender never hears)."""

    def __init__(self):
        self.messages = []
        self.first_arrived = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        if len(self.messages) == 1:
            self.first_arrived.set()
            await asyncio.sleep(20)
        return "250 OK"


def test_a_crash_after_the_server_accepted_a_message_sends_it_again_once_with_the_same_message_id(
    pg_system, pg_url, redis_url, tmp_path, running
):
    inbox = SlowToAnswer()
    server = Controller(inbox, hostname="127.0.0.1", port=processes.free_port())
    server.start()
    try:
        env = processes.environment(
            pg_url,
            redis_url,
            tmp_path,
            **processes.FAST,
            mail__transport="smtp",
            mail__smtp_host="127.0.0.1",
            mail__smtp_port=str(server.port),
        )
        first = running(env, "work")
        running(env, "sweep")
        with pg_system.sessions() as s:
            email_id = queue_email(
                s,
                to="citizen@example.az",
                subject="Hesab-faktura",
                body="...",
                now=pg_system.services.now(),
            ).id
            s.commit()

        assert inbox.first_arrived.wait(timeout=30), "the message never reached the server"
        processes.kill(first)
        running(env, "work")

        def sent():
            with pg_system.sessions() as s:
                return s.get(Email, email_id).status == "sent"

        assert processes.wait(sent, timeout=30)
        assert len(inbox.messages) == 2  # at most one extra delivery
        assert inbox.messages[0]["Message-ID"] == inbox.messages[1]["Message-ID"]
        with pg_system.sessions() as s:
            message = s.get(Email, email_id)
            assert (message.attempts, message.possibly_sent) == (2, True)
            assert message.message_id == inbox.messages[0]["Message-ID"]
            (incident,) = s.scalars(select(Incident).where(Incident.email_id == email_id)).all()
            assert (incident.kind, incident.status) == ("possibly_sent", "open")
        (row,) = incident_rows(pg_system, "possibly_sent")
        assert (
            int(row.get("data-incident")) == incident.id
            and "citizen@example.az" in row.text_content()
        )
    finally:
        server.stop()
