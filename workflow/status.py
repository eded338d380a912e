"""The one way an application's status changes: every change is written to the audit log.

Statuses, in the order a case moves: ``draft`` → ``registered`` → ``in_review`` →
(``inspection``) → ``posted`` → ``executed``; or ``rejected``; a draft left too long is
``abandoned``. The citizen's status page and the timeline read these audit events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import audit
from engine.audit import SYSTEM, Actor
from workflow.models import Application

STATUSES = (
    "draft",
    "registered",
    "in_review",
    "inspection",
    "posted",
    "executed",
    "rejected",
    "abandoned",
)


def set_status(
    session: Session,
    app: Application,
    status: str,
    *,
    at: datetime,
    instance_id: int,
    actor: Actor = SYSTEM,
    **detail: Any,
) -> None:
    """Move ``app`` to ``status`` and record ``application_status`` (from, to, detail) in the audit log."""
    if status not in STATUSES:
        raise ValueError(f"unknown application status {status!r}")
    previous, app.status = app.status, status
    audit.record(
        session,
        "application_status",
        actor=actor,
        at=at,
        instance_id=instance_id,
        entity=f"application:{app.id}",
        detail={"from": previous, "to": status, **detail},
    )
