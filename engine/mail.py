"""The e-mail outbox and the transports that deliver it (a folder of .eml files, or SMTP)."""

from __future__ import annotations

import smtplib
import socket
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from engine import incidents, jobs
from engine.calendar import DEFAULT_ZONE
from engine.db import as_utc
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
    def __init__(
        self,
        host: str,
        port: int,
        *,
        starttls: bool = False,
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
    ):
        self.host, self.port, self.starttls = host, port, starttls
        self.user, self.password, self.timeout = user, password, timeout

    def send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.user:
                smtp.login(self.user, self.password)
            smtp.send_message(message)


def queue_email(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    now: datetime,
    attachments: list[int] | None = None,
    max_attempts: int | None = None,
) -> Email:
    """Write a message to the outbox and a job to send it; both commit with the caller's work."""
    email = Email(
        to_addr=to,
        subject=subject,
        body_text=body,
        attachments=list(attachments or []),
        created_at=now,
    )
    session.add(email)
    session.flush()
    jobs.enqueue(
        session,
        SEND_EMAIL_JOB,
        {"email_id": email.id},
        queue=MAIL_QUEUE,
        now=now,
        dedupe_key=f"email:{email.id}",
        max_attempts=max_attempts,
    )
    return email


def build_message(
    session: Session, email: Email, sender: str, files: FileStore, zone: str = DEFAULT_ZONE
) -> EmailMessage:
    """The message as sent: ``Date:`` is when it was written, in the utility's time zone
    (``+0400`` for Baku), and ``Message-ID:`` stays the same on every attempt."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to_addr
    msg["Subject"] = email.subject
    msg["Date"] = format_datetime(as_utc(email.created_at).astimezone(ZoneInfo(zone)))
    msg["Message-ID"] = email.message_id or make_msgid(
        idstring=f"saygac-{email.id}", domain="saygac.invalid"
    )
    msg.set_content(email.body_text)
    for file_id in email.attachments:
        stored = session.get_one(StoredFile, file_id)
        maintype, _, subtype = stored.media_type.partition("/")
        msg.add_attachment(
            files.read(stored),
            maintype=maintype,
            subtype=subtype,
            filename=stored.original_name or f"file-{stored.id}",
        )
    return msg


# Errors after which the server has certainly not taken the message: the next attempt is a
# plain retry. Any other failure (a timeout, a dropped connection, a crash) may come after the
# server accepted it, so the message stays ``sending`` and the retry is flagged "possibly sent".
NOT_DELIVERED = (
    ConnectionRefusedError,
    smtplib.SMTPConnectError,
    smtplib.SMTPHeloError,
    smtplib.SMTPAuthenticationError,
    smtplib.SMTPSenderRefused,
    smtplib.SMTPRecipientsRefused,
    smtplib.SMTPDataError,
    smtplib.SMTPNotSupportedError,
    socket.gaierror,
)


def begin_delivery(
    session: Session,
    email_id: int,
    *,
    sender: str,
    files: FileStore,
    now: datetime,
    zone: str = DEFAULT_ZONE,
) -> EmailMessage | None:
    """Count the attempt and mark the message ``sending`` with its Message-ID; the caller commits
    this before talking to the server. None when it was already sent.

    A message found ``sending`` was being sent by an attempt that never finished: the server may
    have it. It keeps its Message-ID (so a receiving system can drop the copy) and is flagged
    ``possibly_sent`` with an incident.
    """
    email = session.get(Email, email_id, with_for_update=True)
    if email is None or email.status == "sent":
        return None
    if email.status == "sending" and not email.possibly_sent:
        email.possibly_sent = True
        incidents.open_incident(
            session,
            "possibly_sent",
            f"e-mail #{email.id} to {email.to_addr} may go out twice",
            error=email.last_error,
            attempts=email.attempts,
            now=now,
            email_id=email.id,
        )
    email.attempts += 1
    email.status = "sending"
    message = build_message(session, email, sender, files, zone)
    email.message_id = message["Message-ID"]
    return message


def end_delivery(
    session: Session, email_id: int, now: datetime, error: BaseException | None = None
) -> None:
    """Record how the conversation ended: sent, or (for errors that prove nothing was delivered)
    pending again; any other error leaves it ``sending``."""
    email = session.get_one(Email, email_id, with_for_update=True)
    if error is None:
        email.status = "sent"
        email.sent_at = now
        email.last_error = None
        return
    email.last_error = f"{type(error).__name__}: {error}"[:4000]
    if isinstance(error, NOT_DELIVERED):
        email.status = "pending"


def deliver(
    session: Session,
    email_id: int,
    *,
    transport: Transport,
    sender: str,
    files: FileStore,
    now: datetime,
    zone: str = DEFAULT_ZONE,
) -> bool:
    """Send one outbox message, committing before and after the SMTP conversation; returns False
    when it was already sent. Errors propagate (the job retries)."""
    message = begin_delivery(session, email_id, sender=sender, files=files, now=now, zone=zone)
    if message is None:
        return False
    session.commit()
    try:
        transport.send(message)
    except Exception as err:
        session.rollback()
        end_delivery(session, email_id, now, err)
        session.commit()
        raise
    end_delivery(session, email_id, now)
    return True
