"""What a task page shows besides its form: the application, its meters, flags and photos.

Read-only queries for the templates; the forms and the task handlers do the writing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from types import SimpleNamespace

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.models import Account, AuditEvent, StoredFile, WorkItem
from forms.citizen import MeterEntryForm
from workflow.i18n import N_
from workflow.models import Application, ApplicationMeter, Reading
from workflow.tasks import application_of

SEVERITY_LABELS = {"block": N_("Refused"), "confirm": N_("Warning"), "inspect": N_("For staff")}


@dataclass
class LineView:
    line: ApplicationMeter
    serial_on_record: str
    seal_on_record: str
    previous: Reading | None
    photo: StoredFile | None
    flags: list[dict]

    @property
    def serial_matches(self) -> bool:
        return self.line.declared_serial == self.serial_on_record

    @property
    def seal_matches(self) -> bool:
        return self.line.declared_seal == self.seal_on_record


def previous_reading(session: Session, line: ApplicationMeter) -> Reading | None:
    """The meter's latest posted reading that did not come from this application."""
    return session.scalar(
        select(Reading)
        .where(
            Reading.meter_id == line.meter_id,
            or_(Reading.application_id.is_(None), Reading.application_id != line.application_id),
        )
        .order_by(Reading.read_on.desc(), Reading.id.desc())
        .limit(1)
    )


def line_views(session: Session, app: Application) -> list[LineView]:
    views = []
    for line in app.lines:
        views.append(
            LineView(
                line=line,
                serial_on_record=line.meter.serial,
                seal_on_record=line.meter.seal,
                previous=previous_reading(session, line),
                photo=session.get(StoredFile, line.photo_id) if line.photo_id else None,
                flags=list(line.flags or []),
            )
        )
    return views


def inspection_instruction(session: Session, instance_id: int) -> str:
    event = session.scalar(
        select(AuditEvent)
        .where(AuditEvent.instance_id == instance_id, AuditEvent.action == "review_decided")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    return ((event.detail or {}).get("instruction") or "") if event else ""


def page_context(session: Session, item: WorkItem) -> dict:
    app = application_of(session, item.instance_id)
    context: dict = {"application": app, "lines": []}
    if app is not None and item.form_key != "identify_subscriber":
        context["lines"] = line_views(session, app)
    if item.form_key == "field_inspection":
        context["instruction"] = inspection_instruction(session, item.instance_id)
    return context


def initial_data(session: Session, item: WorkItem, today: date, account: Account | None) -> dict:
    """What a task's form shows before the person has typed anything."""
    app = application_of(session, item.instance_id)
    if item.form_key == "enter_readings":
        return {
            "meters": [SimpleNamespace(read_on=today.isoformat())],
            "email": _usable_email(account.email if account is not None else None),
        }
    if item.form_key == "review_application" and app is not None and app.conflict:
        return {
            "decision": "inspect"
        }  # a reading that conflicts with the records: a site check first
    if item.form_key == "field_inspection" and app is not None:
        return {
            "meters": [
                SimpleNamespace(line_id=str(line.id), read_on=today.isoformat())
                for line in app.lines
            ]
        }
    return {}


def _usable_email(address: str | None) -> str | None:
    """The account's address as a starting value, unless the form would refuse it (demo ".invalid")."""
    if not address:
        return None
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return None
    return address


def holder_name(session: Session, item: WorkItem) -> str | None:
    if item.claimed_by_id is None:
        return None
    account = session.get(Account, item.claimed_by_id)
    return account.display_name if account else None


BLANK_INDEX = "__i__"  # replaced by the next block index when the page's script adds a block


def blank_meter_block(today: date) -> SimpleNamespace:
    """An empty meter block for the page's <template> ("Digər sayğac əlavə et" without a reload)."""
    name = f"meters-{BLANK_INDEX}"
    return SimpleNamespace(
        form=MeterEntryForm(prefix=f"{name}-", data={"read_on": today.isoformat()}),
        name=name,
        id=name,
    )
