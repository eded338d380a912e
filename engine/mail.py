"""The e-mail outbox and the transports that deliver it (a folder of .eml files, or SMTP)."""
from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session

from engine import jobs
from engine.files import FileStore
from engine.models import Email, StoredFile

MAIL_QUEUE = "mail"
SEND_EMAIL_JOB = "send_email"


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class OutboxDirTransport:
    """Writes each message as an .eml file: the embedded default, readable with any mail client."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)

    def send(self, message: EmailMessage) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = message["Message-ID"].strip("<>").replace("@", "_at_").replace("/", "_")
        (self.directory / f"{name}.eml").write_bytes(bytes(message))


class SmtpTransport:
    def __init__(self, host: str, port: int, *, starttls: bool = False, user: str = "", password: str = "",
                 timeout: float = 30.0):
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password, self.timeout = user, password, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def queue_email(session: Session, *, to: str, subject: str, body: str, now: datetime,
                attachments: list[int] | None = None, max_attempts: int = 5) -> Email:
    """Write a message to the outbox and a job to send it; both commit with the caller's work."""
    email = Email(to_addr=to, subject=subject, body_text=body, attachments=list(attachments or []), created_at=now)
    session.add(email)
    session.flush()
    jobs.enqueue(session, SEND_EMAIL_JOB, {"email_id": email.id}, queue=MAIL_QUEUE, now=now,
                 dedupe_key=f"email:{email.id}", max_attempts=max_attempts)
    return email


def build_message(session: Session, email: Email, sender: str, files: FileStore) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to_addr
    msg["Subject"] = email.subject
    msg["Message-ID"] = email.message_id or make_msgid(idstring=f"saygac-{email.id}", domain="saygac.invalid")
    msg.set_content(email.body_text)
    for file_id in email.attachments:
        stored = session.get(StoredFile, file_id)
        maintype, _, subtype = stored.media_type.partition("/")
        msg.add_attachment(files.read(stored), maintype=maintype, subtype=subtype,
                           filename=stored.original_name or f"file-{stored.id}")
    return msg


def deliver(session: Session, email_id: int, *, transport: Transport, sender: str, files: FileStore,
            now: datetime) -> bool:
    """Send one outbox message; returns False when it was already sent. Errors propagate (job retries)."""
    email = session.get(Email, email_id, with_for_update=True)
    if email is None or email.status == "sent":
        return False
    email.attempts += 1
    message = build_message(session, email, sender, files)
    email.message_id = message["Message-ID"]
    transport.send(message)
    email.status = "sent"
    email.sent_at = now
    return True
