"""Tables of the generic runtime: who works, which process versions run, what waits.

The meter-reading domain keeps its own tables in ``workflow/models.py``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from engine.db import Base, utcnow

TZ = DateTime(timezone=True)


class Unit(Base):
    """A structural unit of the utility that applications are routed to."""

    __tablename__ = "unit"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(16), default="baku")
    head_email: Mapped[str | None] = mapped_column(String(254))


class Account(Base):
    """A person who signs in: citizen or staff. Role and unit come from here, never a request."""

    __tablename__ = "account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    fin: Mapped[str | None] = mapped_column(String(7), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(16), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    totp_secret: Mapped[str | None] = mapped_column(String(64))  # base32; staff second factor
    totp_last_counter: Mapped[int | None] = mapped_column(BigInteger)  # a code is accepted once
    password_changed_at: Mapped[datetime | None] = mapped_column(TZ)


class LoginSession(Base):
    """A signed-in browser: the cookie carries a random token, the table its SHA-256.

    Ending the row (logout, "log out everywhere", time-outs) ends the session on the next request.
    """

    __tablename__ = "login_session"
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # password, card, egov, asan, staff_oidc
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(TZ)
    end_reason: Mapped[str | None] = mapped_column(String(16))  # logout, everywhere, idle, absolute


class ProcessVersion(Base):
    """An immutable deployed set of diagram files; running instances keep theirs."""

    __tablename__ = "process_version"
    __table_args__ = (UniqueConstraint("process_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[dict[str, str]] = mapped_column()  # file name -> XML text
    deployed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    deployed_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    reason: Mapped[str] = mapped_column(Text, default="")
    scenarios: Mapped[list[Any]] = mapped_column(
        default=list
    )  # the scenario tests it passed at deploy


class Draft(Base):
    """An analyst's working copy of a process's files and scenarios, until deployed."""

    __tablename__ = "process_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    process_id: Mapped[str] = mapped_column(String(64), unique=True)
    files: Mapped[dict[str, str]] = mapped_column()  # file name -> XML text
    scenarios: Mapped[list[Any]] = mapped_column(default=list)
    based_on_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)


class ProcessInstance(Base):
    """The persisted state of one running diagram (state only; the spec comes from its version)."""

    __tablename__ = "process_instance"
    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("process_version.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    end_event: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(Text)
    serializer_version: Mapped[str] = mapped_column(String(32))
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)


class WorkItem(Base):
    """A ready user task, projected from the engine into a queryable row in the same transaction.

    The business columns (reference, subject, area, item_count, flagged, evidence_flagged) are
    typed and indexed so queues filter without reading the instance state.
    """

    __tablename__ = "work_item"
    __table_args__ = (
        Index("ix_work_item_queue", "state", "unit_id", "role", "due_at"),
        Index("ix_work_item_instance_task", "instance_id", "task_id"),
        # the unit queue's page and its "flagged" views at a million open items: partial, in page order
        Index(
            "ix_work_item_open_page",
            "unit_id",
            "role",
            "due_at",
            "id",
            postgresql_where=text("state = 'open'"),
            sqlite_where=text("state = 'open'"),
            postgresql_include=[
                "flagged",
                "evidence_flagged",
                "claimed_by_id",
                "lease_until",
                "area",
            ],
        ),
        Index(
            "ix_work_item_open_flagged",
            "unit_id",
            "role",
            "due_at",
            "id",
            postgresql_where=text("state = 'open' AND (flagged OR evidence_flagged)"),
            sqlite_where=text("state = 'open' AND (flagged OR evidence_flagged)"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    task_name: Mapped[str] = mapped_column(String(64))
    form_key: Mapped[str] = mapped_column(String(64))
    lane: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    lease_until: Mapped[datetime | None] = mapped_column(TZ)
    due_at: Mapped[datetime | None] = mapped_column(TZ)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open, completed, cancelled
    reference: Mapped[str | None] = mapped_column(String(32), index=True)
    subject: Mapped[str | None] = mapped_column(String(32))
    area: Mapped[str | None] = mapped_column(String(32))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    evidence_flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(TZ)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))


class Timer(Base):
    """A waiting timer event with its due time, woken by the sweep."""

    __tablename__ = "timer"
    __table_args__ = (
        UniqueConstraint("instance_id", "task_id"),
        Index("ix_timer_due", "state", "due_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("process_instance.id"))
    task_id: Mapped[str] = mapped_column(String(36))
    event_name: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(TZ)
    state: Mapped[str] = mapped_column(String(16), default="waiting")  # waiting, fired, cancelled


class Job(Base):
    """The job outbox: written in the transaction that needs the job, sent to the queue after commit.

    ``pending`` (due at ``run_after``) → ``queued`` (committed only after the queue accepted it,
    ``queue_ref`` names the queue's entry) → ``running`` (one attempt counted and committed
    before the work starts; the worker renews ``lease_until`` while it runs) → ``done``, or back
    to ``pending`` after a failure or an expired lease, or ``failed`` once ``max_attempts`` are
    spent (``None``: the ``[jobs] max_attempts`` setting), or ``cancelled`` by an administrator.
    """

    __tablename__ = "job_outbox"
    __table_args__ = (Index("ix_job_outbox_due", "status", "run_after"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(32))
    args: Mapped[dict[str, Any]] = mapped_column()
    dedupe_key: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int | None] = mapped_column(Integer)
    run_after: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(TZ)
    queue_ref: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow, onupdate=utcnow)


class Email(Base):
    """The e-mail outbox: a message is written here first and delivered by a job.

    ``pending`` → ``sending`` (``message_id`` and one attempt committed before the SMTP
    conversation) → ``sent``; a retry that finds ``sending`` cannot know whether the server took
    the message, reuses the ``message_id`` and sets ``possibly_sent``.
    """

    __tablename__ = "email_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    to_addr: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(default=list)  # stored_file ids
    status: Mapped[str] = mapped_column(
        String(16), default="pending", index=True
    )  # pending, sending, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    possibly_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(TZ)


class Incident(Base):
    """Something failed that a person must look at: a job out of attempts, an instance in
    ``error``, a message possibly sent twice, a step that raised in front of an operator."""

    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_open", "status", "created_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # job_failed, instance_error, possibly_sent, step_failed
    status: Mapped[str] = mapped_column(String(16), default="open")  # open, resolved
    summary: Mapped[str] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job_outbox.id"))
    email_id: Mapped[int | None] = mapped_column(ForeignKey("email_outbox.id"))
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(TZ)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    resolution: Mapped[str | None] = mapped_column(String(16))  # retried, cancelled, closed


class Heartbeat(Base):
    """The last time a long-running service (the sweep) completed a pass, for health checks."""

    __tablename__ = "service_heartbeat"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class AuditEvent(Base):
    """Who did what to which instance or record, when, and from which address."""

    __tablename__ = "audit_event"
    # one account's events of one kind in a time window (the subscriber-code lookup throttle asks
    # on every lookup): an index range, not a scan of the window's events of every account
    __table_args__ = (Index("ix_audit_event_actor_action_at", "actor_id", "action", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(TZ, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"))
    actor_label: Mapped[str] = mapped_column(String(200), default="system")
    action: Mapped[str] = mapped_column(String(64))
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"), index=True)
    entity: Mapped[str | None] = mapped_column(String(64), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
    address: Mapped[str | None] = mapped_column(String(64))


class StoredFile(Base):
    """An uploaded or generated file kept on disk (or shared storage) by content hash."""

    __tablename__ = "stored_file"
    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    phash: Mapped[int | None] = mapped_column(BigInteger)
    media_type: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # photo, photo_sanitized, invoice, receipt
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str | None] = mapped_column(String(200))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), index=True)
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(TZ)
    created_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
    # An uploaded photo's copy without metadata, the only one served (made by the photo's job).
    sanitized_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))


__all__ = [
    "Account",
    "AuditEvent",
    "Draft",
    "Email",
    "Job",
    "LoginSession",
    "ProcessInstance",
    "ProcessVersion",
    "StoredFile",
    "Timer",
    "Unit",
    "WorkItem",
]


class FormDraft(Base):
    """What a person has typed into a task's form so far, kept as they go (one row per work item).

    The page fills the form from it on a reload, a language switch, "continue draft" or a new
    sign-in, so nothing typed or uploaded is lost before the task is completed; ``fields`` are
    the posted ``[name, value]`` pairs (uploaded photos by their stored-file id).
    """

    __tablename__ = "form_draft"
    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(
        ForeignKey("work_item.id", ondelete="CASCADE"), unique=True
    )
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    fields: Mapped[list[Any]] = mapped_column(default=list)
    updated_at: Mapped[datetime] = mapped_column(TZ, default=utcnow)
