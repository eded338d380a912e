"""The service operations that ``meter_reading.bpmn`` calls, by the names its service tasks give.

Each operation takes the engine's :class:`OperationContext` (session, data, clock, services)
and its diagram parameters, flushes its changes (the edge commits) and returns a small
JSON-safe dict that the engine stores in the task's result variable. Large values stay in
the tables; task data carries ids only.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine import audit
from engine.errors import NotFound
from engine.mail import queue_email
from engine.models import StoredFile, Unit
from engine.operations import OperationContext, OperationRegistry
from workflow import events, invoicing, notifications, privacy
from workflow.documents import format_amount, format_date
from workflow.findings import record_findings
from workflow.i18n import in_language
from workflow.identifiers import new_application_number
from workflow.models import Application, Invoice, Reading
from workflow.photo_evidence import earlier_photos, ensure_phash, evidence_flags, lookback_start
from workflow.plausibility import DeclaredReading, MeterFacts, ReadingHistory, check_reading
from workflow.status import set_status

OPERATIONS = OperationRegistry()
APP_ID = {"application_id": "int"}


def _application(ctx: OperationContext, application_id: int | None = None) -> Application:
    app_id = application_id if application_id is not None else ctx.data.get("application_id")
    app = ctx.session.get(Application, app_id)
    if app is None or app.instance_id != ctx.instance_id:
        raise NotFound(f"application {app_id} does not belong to instance {ctx.instance_id}")
    return app


def _status(ctx: OperationContext, app: Application, status: str, **detail: Any) -> None:
    set_status(ctx.session, app, status, at=ctx.now, instance_id=ctx.instance_id, **detail)
    if status == "registered":
        events.application_registered(ctx.session, ctx.services, app, ctx.now)
    elif status == "rejected":
        events.application_rejected(ctx.session, ctx.services, app, ctx.now)


def _status_url(ctx: OperationContext, app: Application) -> str:
    return f"{ctx.services.settings.app.base_url.rstrip('/')}/status/{app.number}"


def _number(app: Application) -> str:
    """The application's number: given at registration, before any step that writes to people."""
    assert app.number is not None, f"application {app.id} is not registered"
    return app.number


@OPERATIONS.register("discard_draft", {"instance_note": "str"})
def discard_draft(ctx: OperationContext, instance_note: str) -> dict[str, Any]:
    app = ctx.session.scalar(select(Application).where(Application.instance_id == ctx.instance_id))
    if app is not None:
        _status(ctx, app, "abandoned", note=instance_note)
    return {"discarded": True}


@OPERATIONS.register("register_application")
def register_application(ctx: OperationContext) -> dict[str, Any]:
    """Give the draft its number, mark it registered and check the photos as evidence."""
    app = _application(ctx)
    if not app.lines:
        raise ValueError("an application needs at least one meter reading")
    today = ctx.services.today()
    while True:
        number = new_application_number(today, secrets)
        if ctx.session.scalar(select(Application.id).where(Application.number == number)) is None:
            break
    app.number = number
    app.submitted_at = ctx.now
    limits = ctx.services.photos
    earlier = earlier_photos(ctx.session, app, lookback_start(ctx.now, limits))
    for line in app.lines:
        if line.photo_id is None:
            continue
        photo = ctx.session.get(StoredFile, line.photo_id)
        assert photo is not None  # the line's photo (foreign key)
        phash = ensure_phash(photo, ctx.services.files, limits)  # normally the photo's job made it
        flags = evidence_flags(photo.sha256, phash, photo.taken_at, line.read_on, earlier, limits)
        line.flags = [f.to_dict() for f in flags]
    _status(ctx, app, "registered", number=number)
    return {"application_id": app.id, "number": number, "district": app.subscriber.district}


@OPERATIONS.register("check_plausibility", APP_ID)
def check_plausibility(ctx: OperationContext, application_id: int) -> dict[str, Any]:
    """Check every meter line against the meter's history; conflicts send the case to an inspector."""
    app = _application(ctx, application_id)
    today = ctx.services.today()
    conflict = False
    count = 0
    for line in app.lines:
        history = ReadingHistory.of(
            ctx.session.execute(
                select(Reading.read_on, Reading.value, Reading.source).where(
                    Reading.meter_id == line.meter_id
                )
            ).all()
        )
        result = check_reading(
            DeclaredReading(line.value, line.read_on),
            MeterFacts(line.meter.register_digits, line.meter.installed_on),
            history,
            today,
            ctx.services.plausibility,
            persons=app.subscriber.persons,
        )
        evidence = [f for f in line.flags if f.get("code", "").startswith("photo_")]
        line.flags = evidence + [f.to_dict() for f in result.flags]
        conflict = conflict or result.conflicts_with_records
        if line.declared_serial != line.meter.serial or line.declared_seal != line.meter.seal:
            conflict = True
        count += len(result.flags)
    app.conflict = conflict
    _status(ctx, app, "in_review", conflict=conflict)
    return {"conflict": conflict, "flag_count": count}


@OPERATIONS.register("assign_unit", {"application_id": "int", "unit_code": "str"})
def assign_unit(ctx: OperationContext, application_id: int, unit_code: str) -> dict[str, Any]:
    app = _application(ctx, application_id)
    unit = ctx.session.scalar(select(Unit).where(Unit.code == unit_code))
    if unit is None:
        raise NotFound(f"the routing table names unit {unit_code}, which does not exist")
    app.unit_id = unit.id
    review_due = ctx.services.calendar.add_working_days(
        ctx.now, ctx.services.settings.work.review_due_working_days
    )
    audit.record(
        ctx.session,
        "application_routed",
        at=ctx.now,
        instance_id=ctx.instance_id,
        entity=f"application:{app.id}",
        detail={"unit": unit.code, "review_due": review_due.isoformat()},
    )
    # the diagram's review SLA timer fires at ``review_due`` (working days in Baku, engine.calendar)
    return {"unit_id": unit.id, "review_due": review_due.isoformat()}


def _review_due(ctx: OperationContext) -> date:
    """The review's due date in Baku, as the timer fired on it (``assign_unit``'s ``review_due``)."""
    due = (ctx.data.get("assignment") or {}).get("review_due")
    moment = datetime.fromisoformat(due) if due else ctx.now
    local: date = ctx.services.calendar.local_date(moment)
    return local


@OPERATIONS.register("escalate_review", APP_ID)
def escalate_review(ctx: OperationContext, application_id: int) -> dict[str, Any]:
    """The review's deadline passed: tell the unit head (the diagram adds the head's task)."""
    app = _application(ctx, application_id)
    unit = ctx.session.get(Unit, app.unit_id) if app.unit_id else None
    email_id = None
    if unit is not None and unit.head_email:
        letter = notifications.review_overdue(
            number=_number(app),
            unit_name=unit.name,
            due=format_date(_review_due(ctx)),
            queue_url=f"{ctx.services.settings.app.base_url.rstrip('/')}/staff/dashboard",
        )
        email_id = queue_email(
            ctx.session,
            to=unit.head_email,
            subject=letter.subject,
            body=letter.body,
            now=ctx.now,
            max_attempts=ctx.services.settings.mail.max_attempts,
        ).id
    audit.record(
        ctx.session,
        "review_escalated",
        at=ctx.now,
        instance_id=ctx.instance_id,
        entity=f"application:{app.id}",
        detail={"unit": unit.code if unit else None},
    )
    return {"escalated_at": ctx.now.isoformat(), "email_id": email_id}


@OPERATIONS.register("post_reading", APP_ID)
def post_reading(ctx: OperationContext, application_id: int) -> dict[str, Any]:
    """Post each meter's reading; after an on-site check the inspector's reading is the one posted."""
    app = _application(ctx, application_id)
    posted = []
    for line in app.lines:
        if line.posted_reading_id is not None:
            continue
        inspected = line.inspected_value is not None
        reading = Reading(
            meter_id=line.meter_id,
            value=line.inspected_value if inspected else line.value,
            read_on=line.inspected_on if inspected and line.inspected_on else line.read_on,
            source="inspector" if inspected else "citizen",
            application_id=app.id,
            created_at=ctx.now,
        )
        ctx.session.add(reading)
        ctx.session.flush()
        line.posted_reading_id = reading.id
        posted.append(reading.id)
        events.reading_posted(ctx.session, ctx.services, app, reading, ctx.now)
        if inspected:
            record_findings(ctx.session, line, at=ctx.now, instance_id=ctx.instance_id)
    _status(ctx, app, "posted", readings=posted)
    return {"readings": len(posted)}


@OPERATIONS.register("compute_invoice", APP_ID)
def compute_invoice(ctx: OperationContext, application_id: int) -> dict[str, Any]:
    app = _application(ctx, application_id)
    today = ctx.services.today()
    invoice = invoicing.create_invoice(
        ctx.session, app, issued_on=today, due_on=today + timedelta(days=10)
    )
    audit.record(
        ctx.session,
        "invoice_computed",
        at=ctx.now,
        instance_id=ctx.instance_id,
        entity=f"invoice:{invoice.id}",
        detail={"number": invoice.number, "gross": str(invoice.gross)},
    )
    return {"invoice_id": invoice.id}


@OPERATIONS.register("render_invoice", {"invoice_id": "int"})
def render_invoice(ctx: OperationContext, invoice_id: int) -> dict[str, Any]:
    invoice = ctx.session.get(Invoice, invoice_id)
    first_time = invoice is not None and invoice.pdf_id is None
    stored = invoicing.render_invoice(ctx.session, invoice_id, ctx.services)
    if invoice is not None and first_time:
        events.invoice_formed(ctx.session, ctx.services, invoice, ctx.now)
    return {"pdf_id": stored.id}


@OPERATIONS.register("notify_subscriber", APP_ID)
def notify_subscriber(ctx: OperationContext, application_id: int) -> dict[str, Any]:
    """The invoice goes to the holder: their e-mail on record, and the address typed in the form when
    the applicant is the holder; an applicant who is not the holder gets a status e-mail without holder data."""
    app = _application(ctx, application_id)
    invoice = invoicing.invoice_of(ctx.session, app)
    holder_applied = privacy.applicant_is_holder(ctx.session, app)
    to_holder = list(
        dict.fromkeys(a for a in (app.email if holder_applied else None, app.subscriber.email) if a)
    )
    email_ids = []
    if to_holder:
        letter = notifications.invoice_ready(
            number=_number(app),
            full_name=app.subscriber.full_name,
            invoice_number=invoice.number,
            gross=format_amount(invoice.gross),
            due_on=format_date(invoice.due_on),
            status_url=_status_url(ctx, app),
        )
        email_ids += [
            _send(ctx, to, letter, [invoice.pdf_id] if invoice.pdf_id else []) for to in to_holder
        ]
    if app.email and not holder_applied:
        letter = notifications.status_changed(
            number=_number(app), executed=True, status_url=_status_url(ctx, app)
        )
        email_ids.append(_send(ctx, app.email, letter))
    app.decided_at = app.decided_at or ctx.now
    _status(ctx, app, "executed", email=bool(email_ids))
    return {"email_id": email_ids[0] if email_ids else None, "email_ids": email_ids}


@OPERATIONS.register("notify_rejection", APP_ID)
def notify_rejection(ctx: OperationContext, application_id: int) -> dict[str, Any]:
    """The rejection goes to the applicant; the holder's name only when the applicant is the holder."""
    app = _application(ctx, application_id)
    holder_applied = privacy.applicant_is_holder(ctx.session, app)
    to = app.email or (app.subscriber.email if holder_applied else None)
    email_ids = []
    if to:
        letter = notifications.application_rejected(
            number=_number(app),
            full_name=app.subscriber.full_name if holder_applied else None,
            reason="\n".join(
                part
                for part in (
                    in_language(app.reject_key) if app.reject_key else "",
                    app.reject_reason or "",
                )
                if part
            ),
            status_url=_status_url(ctx, app),
        )
        email_ids.append(_send(ctx, to, letter))
    app.decided_at = app.decided_at or ctx.now
    _status(ctx, app, "rejected", reason=app.reject_reason)
    return {"email_id": email_ids[0] if email_ids else None, "email_ids": email_ids}


def _send(
    ctx: OperationContext,
    to: str,
    letter: notifications.Letter,
    attachments: list[int] | None = None,
) -> int:
    return queue_email(
        ctx.session,
        to=to,
        subject=letter.subject,
        body=letter.body,
        now=ctx.now,
        attachments=attachments or [],
        max_attempts=ctx.services.settings.mail.max_attempts,
    ).id
