"""The incidents board: what the incidents page lists, each entry with the unit it belongs to
(the unit of the application its instance carries) so the policy can decide who sees it and
who may act on it (administrators everything, unit heads their unit's).

Entries are the open incidents (:mod:`engine.incidents`) and, as a live condition rather than
an event, the jobs queued or running longer than ``[jobs] overdue_minutes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import incidents as incident_store
from engine import jobs as outbox
from engine.audit import Actor
from engine.models import Incident, Job
from engine.policy import ACT_ON_INCIDENT, VIEW_INCIDENTS, Resource, allows
from workflow.models import Application


@dataclass(frozen=True)
class Entry:
    incident: Incident
    unit_id: int | None
    application_number: str | None
    job: Job | None
    can_act: bool


@dataclass(frozen=True)
class OverdueJob:
    job: Job
    unit_id: int | None
    application_number: str | None


@dataclass(frozen=True)
class Board:
    entries: list[Entry]
    overdue: list[OverdueJob]


def resource(unit_id: int | None) -> Resource:
    return Resource(kind="incident", unit_id=unit_id)


def may_view_board(actor: Actor) -> bool:
    """Admins and unit heads (for their own unit) see the board."""
    return allows(actor, VIEW_INCIDENTS, resource(actor.unit_id))


def _applications(
    session: Session, instance_ids: set[int]
) -> dict[int | None, tuple[int | None, str | None]]:
    """(unit id, number) by instance id; keyed ``int | None`` so an incident or job without an
    instance looks up nothing."""
    if not instance_ids:
        return {}
    rows = session.execute(
        select(Application.instance_id, Application.unit_id, Application.number).where(
            Application.instance_id.in_(instance_ids)
        )
    )
    return {instance_id: (unit_id, number) for instance_id, unit_id, number in rows}


def board(session: Session, actor: Actor, now: datetime, overdue_after: timedelta) -> Board:
    """What ``actor`` may see: open incidents and overdue jobs, newest incidents first."""
    open_ones = incident_store.open_incidents(session)
    late = outbox.overdue(session, now, overdue_after)
    instance_of_job = {job.id: (job.args or {}).get("instance_id") for job in late}
    apps = _applications(
        session,
        {i.instance_id for i in open_ones if i.instance_id}
        | {v for v in instance_of_job.values() if v},
    )
    jobs: dict[int | None, Job] = {
        job.id: job
        for job in session.scalars(
            select(Job).where(Job.id.in_({i.job_id for i in open_ones if i.job_id}))
        )
    }
    entries = []
    for incident in open_ones:
        unit_id, number = apps.get(incident.instance_id, (None, None))
        if allows(actor, VIEW_INCIDENTS, resource(unit_id)):
            entries.append(
                Entry(
                    incident,
                    unit_id,
                    number,
                    jobs.get(incident.job_id),
                    allows(actor, ACT_ON_INCIDENT, resource(unit_id)),
                )
            )
    overdue = []
    for job in late:
        unit_id, number = apps.get(instance_of_job[job.id], (None, None))
        if allows(actor, VIEW_INCIDENTS, resource(unit_id)):
            overdue.append(OverdueJob(job, unit_id, number))
    return Board(entries, overdue)


def unit_of(session: Session, incident: Incident) -> int | None:
    if incident.instance_id is None:
        return None
    return session.scalar(
        select(Application.unit_id).where(Application.instance_id == incident.instance_id)
    )


def act(session: Session, incident: Incident, action: str, actor: Actor, now: datetime) -> bool:
    """``retry`` (the failed job gets fresh attempts), ``cancel`` (the job never runs again) or
    ``close`` (acknowledged); audited. False when the incident is closed or the job cannot be
    retried or cancelled any more. The caller checks ``ACT_ON_INCIDENT`` first."""
    if incident.status != "open":
        return False
    if action == "retry":
        if incident.job_id is None or not outbox.retry(session, incident.job_id, now):
            return False
        incident_store.resolve(session, incident, "retried", actor, now)
    elif action == "cancel":
        if incident.job_id is None or not outbox.cancel(session, incident.job_id, now):
            return False
        incident_store.resolve(session, incident, "cancelled", actor, now)
    elif action == "close":
        incident_store.resolve(session, incident, "closed", actor, now)
    else:
        raise ValueError(f"unknown incident action {action!r}")
    return True
