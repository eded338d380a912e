"""Incidents: failures a person must look at, kept until an administrator resolves them.

Opened by the runtime and the worker (a job out of attempts, an instance in ``error``, a
message possibly delivered twice) and by the web layer (a step that raised in front of an
operator). Each incident names the instance, job or message concerned; retrying or cancelling
the job it points to resolves it, and every resolution is written to the audit log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.audit import Actor, record
from engine.models import Incident

KINDS = ("job_failed", "instance_error", "possibly_sent", "step_failed")


def open_incident(
    session: Session,
    kind: str,
    summary: str,
    *,
    now: datetime,
    error: str | None = None,
    attempts: int = 0,
    instance_id: int | None = None,
    job_id: int | None = None,
    email_id: int | None = None,
) -> Incident:
    if kind not in KINDS:
        raise ValueError(f"unknown incident kind {kind!r}")
    incident = Incident(
        kind=kind,
        summary=summary[:300],
        error=(error or "")[:8000] or None,
        attempts=attempts,
        instance_id=instance_id,
        job_id=job_id,
        email_id=email_id,
        created_at=now,
    )
    session.add(incident)
    session.flush()
    return incident


def open_incidents(
    session: Session, instance_ids: list[int] | None = None, limit: int = 500
) -> list[Incident]:
    """Open incidents, newest first; ``instance_ids`` narrows them to those instances."""
    query = select(Incident).where(Incident.status == "open")
    if instance_ids is not None:
        query = query.where(Incident.instance_id.in_(instance_ids))
    return list(
        session.scalars(query.order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit))
    )


def for_instance(session: Session, instance_id: int) -> list[Incident]:
    return list(
        session.scalars(
            select(Incident)
            .where(Incident.instance_id == instance_id)
            .order_by(Incident.created_at, Incident.id)
        )
    )


def resolve(
    session: Session, incident: Incident, resolution: str, actor: Actor, now: datetime
) -> None:
    """Close an incident (``retried``, ``cancelled`` or ``closed``) and audit who did it."""
    incident.status = "resolved"
    incident.resolution = resolution
    incident.resolved_at = now
    incident.resolved_by_id = actor.id
    record(
        session,
        f"incident_{resolution}",
        actor=actor,
        at=now,
        instance_id=incident.instance_id,
        entity=f"incident:{incident.id}",
        detail={"kind": incident.kind, "job_id": incident.job_id, "email_id": incident.email_id},
    )
