"""The audit log: one event for every state change, with who, when, what and from where."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from engine.db import utcnow
from engine.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: an account (role, unit and FIN from the account) or the system itself.

    ``engine.policy`` decides what an actor may do from these facts; ``scopes`` are the API
    scopes of a token (empty for people signed in on the pages)."""

    id: int | None
    role: str
    label: str
    unit_id: int | None = None
    address: str | None = None
    fin: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)


SYSTEM = Actor(id=None, role="system", label="system")


def event_row(
    action: str,
    *,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    instance_id: int | None = None,
    entity: str | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one audit event."""
    return {
        "action": action,
        "actor_id": actor.id,
        "actor_label": actor.label,
        "instance_id": instance_id,
        "entity": entity,
        "detail": detail or {},
        "address": actor.address,
        "at": at or utcnow(),
    }


def record(
    session: Session,
    action: str,
    *,
    actor: Actor = SYSTEM,
    at: datetime | None = None,
    instance_id: int | None = None,
    entity: str | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = AuditEvent(
        **event_row(
            action, actor=actor, at=at, instance_id=instance_id, entity=entity, detail=detail
        )
    )
    session.add(event)
    return event


def record_rows(session: Session, rows: list[dict[str, Any]]) -> None:
    """Several events (from :func:`event_row`) in one INSERT statement, in the given order."""
    if rows:
        session.execute(
            insert(cast(Table, AuditEvent.__table__)), rows
        )  # declared as FromClause by SQLAlchemy


def timeline(session: Session, instance_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.instance_id == instance_id)
            .order_by(AuditEvent.at, AuditEvent.id)
        )
    )
