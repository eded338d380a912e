"""What completing each user task does to the domain's tables, by formKey.

A handler takes the validated form data, stores what must last in the tables (drafts,
decisions, on-site results) and returns the small dict that goes into the task's data for
the diagram's gateways. Task data stays ids and decisions only.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit, eventlog, policy
from engine.audit import Actor
from engine.errors import EngineError, NotFound
from workflow.i18n import Message
from workflow.models import Application, ApplicationMeter, Meter, Subscriber
from workflow.precheck import submission_refusals
from workflow.review import check_decision, is_flagged
from workflow.services import Services
from workflow.status import set_status


@dataclass(frozen=True)
class TaskContext:
    session: Session
    actor: Actor
    instance_id: int
    now: datetime
    services: Services


class SubmissionRefused(EngineError):
    """The draft breaks a rule of the service (a blocking flag, a duplicate); nothing is stored."""

    def __init__(self, messages: list[Message]):
        super().__init__("; ".join(m.render() for m in messages))
        self.messages = messages


Handler = Callable[[TaskContext, dict[str, Any]], dict[str, Any]]
OVERRIDDEN = (
    "overridden"  # the event-log marker of an inspection that replaced the declared reading
)
VISIT_ZONE = "Asia/Baku"  # inspectors type the local time of the visit
HANDLERS: dict[str, Handler] = {}


def handles(form_key: str) -> Callable[[Handler], Handler]:
    def deco(fn: Handler) -> Handler:
        HANDLERS[form_key] = fn
        return fn

    return deco


def application_of(session: Session, instance_id: int) -> Application | None:
    """The instance's application, read once per transaction: a step's handler, operations and
    work-item description all ask for it, and within one transaction it is the same row."""
    found = session.info.setdefault("saygac.application_of", {})
    transaction = session.get_transaction()
    known = found.get(instance_id)
    if known is not None and known[0] is transaction and known[1] in session:
        cached: Application = known[1]
        return cached
    app = session.scalar(select(Application).where(Application.instance_id == instance_id))
    if app is not None:
        found[instance_id] = (transaction, app)
    return app


def _required_app(ctx: TaskContext) -> Application:
    app = application_of(ctx.session, ctx.instance_id)
    if app is None:
        raise NotFound("this application has no subscriber yet")
    return app


@handles("identify_subscriber")
def identify_subscriber(ctx: TaskContext, data: dict[str, Any]) -> dict[str, Any]:
    sub = ctx.session.scalar(select(Subscriber).where(Subscriber.code == data["subscriber_code"]))
    if sub is None:
        raise NotFound("unknown subscriber code")
    app = application_of(ctx.session, ctx.instance_id)
    if app is None:
        app = Application(
            instance_id=ctx.instance_id,
            subscriber_id=sub.id,
            applicant_id=ctx.actor.id,
            status="draft",
            submitted_at=ctx.now,
        )
        ctx.session.add(app)
    elif app.subscriber_id != sub.id:
        app.subscriber_id = sub.id
        for line in list(app.lines):
            ctx.session.delete(line)
    ctx.session.flush()
    return {"application_id": app.id, "subscriber_id": sub.id}


@handles("enter_readings")
def enter_readings(ctx: TaskContext, data: dict[str, Any]) -> dict[str, Any]:
    """Store the draft's meter lines and contact details (replacing any earlier draft lines)."""
    app = _required_app(ctx)
    meters = {
        m.serial: m
        for m in ctx.session.scalars(
            select(Meter).where(Meter.subscriber_id == app.subscriber_id, Meter.active.is_(True))
        )
    }
    for line in list(app.lines):
        ctx.session.delete(line)
    ctx.session.flush()
    for entry in data["meters"]:
        meter = meters.get(entry["serial"])
        if meter is None:
            raise NotFound(f"meter {entry['serial']} is not on record for this subscriber")
        ctx.session.add(
            ApplicationMeter(
                application_id=app.id,
                meter_id=meter.id,
                declared_serial=entry["serial"],
                declared_seal=entry.get("seal") or "",
                value=int(entry["value"]),
                read_on=_date(entry["read_on"]),
                photo_id=entry.get("photo_id"),
                confirmed_flags=list(entry.get("confirmed_flags") or []),
            )
        )
    app.phone = data.get("phone") or None
    app.email = data.get("email") or None
    app.notes = data.get("notes") or ""
    ctx.session.flush()
    ctx.session.expire(app, ["lines"])
    refusals = submission_refusals(
        ctx.session, app, ctx.services.today(), ctx.services.plausibility
    )
    if refusals:
        raise SubmissionRefused(refusals)
    return {"meter_count": len(data["meters"])}


@handles("review_application")
def review_application(ctx: TaskContext, data: dict[str, Any]) -> dict[str, Any]:
    """Store the operator's decision; a flagged application is accepted only with an override.

    The override (a configured reason and the operator's words) is audited as
    ``conflict_overridden``; the diagram's ``conflict_resolved`` gateway reads ``flagged`` and
    ``override_reason`` from the result (see :mod:`workflow.review`).
    """
    app = _required_app(ctx)
    decision = data["decision"]
    flagged = is_flagged(app)
    override_key = (data.get("override_key") or "") if decision == "accept" and flagged else ""
    override_text = (data.get("override_reason") or "").strip() if override_key else ""
    refusal = check_decision(app, decision, override_key, override_text, ctx.services.review)
    if refusal is not None:
        raise SubmissionRefused([Message(refusal)])
    if override_key and not policy.allows(
        ctx.actor, policy.OVERRIDE_CONFLICT, policy.Resource("application", unit_id=app.unit_id)
    ):
        raise policy.Denied(policy.OVERRIDE_CONFLICT, "application")
    app.decision = decision
    app.reject_reason = data.get("reject_reason") or None if decision == "reject" else None
    app.reject_key = data.get("reject_key") or None if decision == "reject" else None
    if decision == "inspect":
        set_status(
            ctx.session, app, "inspection", at=ctx.now, instance_id=ctx.instance_id, actor=ctx.actor
        )
    audit.record(
        ctx.session,
        "review_decided",
        actor=ctx.actor,
        at=ctx.now,
        instance_id=ctx.instance_id,
        entity=f"application:{app.id}",
        detail={
            "decision": decision,
            "reason_key": app.reject_key,
            "reason": app.reject_reason,
            "instruction": data.get("inspection_instruction"),
            "flagged": flagged,
        },
    )
    if override_key:
        audit.record(
            ctx.session,
            "conflict_overridden",
            actor=ctx.actor,
            at=ctx.now,
            instance_id=ctx.instance_id,
            entity=f"application:{app.id}",
            detail={
                "number": app.number,
                "reason_key": override_key,
                "reason": override_text,
                "flags": sorted(
                    {fl.get("code", "") for line in app.lines for fl in line.flags or ()}
                ),
            },
        )
    return {
        "decision": decision,
        "inspection_instruction": data.get("inspection_instruction") or "",
        "flagged": flagged,
        "override_reason": override_text,
    }


@handles("field_inspection")
def field_inspection(ctx: TaskContext, data: dict[str, Any]) -> dict[str, Any]:
    """Record the on-site result; when done, the inspector's readings are the ones posted."""
    app = _required_app(ctx)
    outcome = data["outcome"]
    if outcome == "done":
        by_id = {line.id: line for line in app.lines}
        for entry in data["meters"]:
            line = by_id.get(int(entry["line_id"]))
            if line is None:
                raise NotFound("that meter is not part of this application")
            line.inspected_value = int(entry["value"])
            line.inspected_on = _date(entry["read_on"])
            line.inspected_seal = entry.get("new_seal") or line.meter.seal
            line.inspected_serial_ok = bool(entry.get("serial_confirmed"))
            line.inspected_seal_intact = entry.get("seal_intact", not entry.get("new_seal"))
            line.inspected_photo_id = entry.get("photo_id")
            line.inspected_at = _visit_at(entry, ctx.now)
            line.replaced_serial = entry.get("new_serial") or None
            line.replaced_initial = int(entry["new_initial"]) if line.replaced_serial else None
        if any(line.inspected_value not in (None, line.value) for line in app.lines):
            # the inspector's reading replaced the citizen's: a path of its own in the analytics
            eventlog.record(
                ctx.session,
                eventlog.MARKER,
                ctx.instance_id,
                ctx.now,
                node="field_inspection",
                detail=OVERRIDDEN,
            )
    audit.record(
        ctx.session,
        "inspection_recorded",
        actor=ctx.actor,
        at=ctx.now,
        instance_id=ctx.instance_id,
        entity=f"application:{app.id}",
        detail={"outcome": outcome, "note": data.get("note") or ""},
    )
    return {"outcome": outcome}


@handles("handle_escalation")
def handle_escalation(ctx: TaskContext, data: dict[str, Any]) -> dict[str, Any]:
    app = _required_app(ctx)
    audit.record(
        ctx.session,
        "escalation_handled",
        actor=ctx.actor,
        at=ctx.now,
        instance_id=ctx.instance_id,
        entity=f"application:{app.id}",
        detail={"note": data.get("note") or ""},
    )
    return {"escalation_note": (data.get("note") or "")[:500]}


def _visit_at(entry: dict[str, Any], now: datetime) -> datetime:
    """The visit's date and time as typed on the phone (local time of the utility's zone)."""
    when = entry.get("visit_time")
    if not when:
        return now
    local = datetime.combine(
        _date(entry["read_on"]), time.fromisoformat(when), tzinfo=ZoneInfo(VISIT_ZONE)
    )
    return local.astimezone(UTC)


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)
