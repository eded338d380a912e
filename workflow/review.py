"""What the operator's review needs besides the form: the conflict rule, the configured rejection
and override reasons, each meter's reading history and its monthly consumption.

The conflict rule: an application is *flagged* when its reading conflicts with the records
(a plausibility flag the citizen confirmed or staff must weigh, a register rollover, a serial or
seal that differs from the record) or a photo carries an evidence flag. A flagged application
reaches "post reading" from the review only with an override that names a configured reason
and says why in words (:func:`check_decision`); otherwise the operator sends it to an inspector,
whose reading is the one posted. The diagram's gateway ``conflict_resolved`` holds the same
condition (``not flagged or override_reason != ""``) on the data the review task hands over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.calendar import WorkingCalendar
from engine.db import as_utc
from engine.models import AuditEvent, WorkItem
from workflow.consumption import monthly_consumption
from workflow.i18n import N_
from workflow.models import Application, Meter, Reading

DEFAULT_OVERRIDE_REASONS = (
    N_("The meter was replaced and the register started again"),
    N_("The household's use changed (guests, a leak repaired, a new resident)"),
    N_("The photo clearly shows the declared reading"),
    N_("The utility's own read confirms the reading"),
)

DEFAULT_REJECT_REASONS = (
    N_("The photo does not show the meter's register"),
    N_("The meter on the photo is not the subscriber's meter"),
    N_("The reading is lower than the last posted reading"),
    N_("The photo is unreadable or too dark"),
    N_("The application repeats one already submitted for this period"),
)


@dataclass(frozen=True)
class ReviewSettings:
    """``[review]`` in config.toml: the reasons an operator may choose when rejecting (message ids,
    translated where shown; a reason not in the catalogues is shown as written)."""

    reject_reasons: tuple[str, ...] = DEFAULT_REJECT_REASONS
    history_rows: int = 12
    # reasons an operator may give for accepting a flagged application without a site visit
    override_reasons: tuple[str, ...] = DEFAULT_OVERRIDE_REASONS


FLAG_SEVERITIES = frozenset({"confirm", "inspect"})
OVERRIDE_NEEDED = N_(
    "This application conflicts with the records. Send it to an inspector, or accept it with an "
    "override: choose the reason and say why"
)


def is_flagged(app: Application) -> bool:
    """True when ``app`` conflicts with the records or its photos (see the module docstring)."""
    return app.conflict or any(
        flag.get("severity") in FLAG_SEVERITIES for line in app.lines for flag in line.flags or ()
    )


def check_decision(
    app: Application, decision: str, override_key: str, override_text: str, settings: ReviewSettings
) -> str | None:
    """The refusal (a message id) for accepting ``app`` this way, or None when allowed."""
    if decision != "accept" or not is_flagged(app):
        return None
    if override_key not in settings.override_reasons or not override_text.strip():
        return OVERRIDE_NEEDED
    return None


def review_due_on(session: Session, instance_id: int, calendar: WorkingCalendar) -> date | None:
    """The day the open review is due, in the utility's zone: the date its escalation timer fires on."""
    due = session.scalar(
        select(WorkItem.due_at).where(
            WorkItem.instance_id == instance_id,
            WorkItem.task_name == "review_application",
            WorkItem.state == "open",
        )
    )
    moment = as_utc(due) if due else None
    return calendar.local_date(moment) if moment else None


@dataclass(frozen=True)
class Override:
    """An accepted flagged application, as the unit head's dashboard lists it."""

    at: datetime
    number: str
    instance_id: int
    operator: str
    reason_key: str
    reason: str


def recent_overrides(
    session: Session, unit_id: int | None, since: datetime, limit: int = 50
) -> list[Override]:
    """The unit's conflict overrides (audit ``conflict_overridden``) since ``since``, newest first."""
    rows = session.execute(
        select(AuditEvent, Application.number, Application.instance_id)
        .join(Application, Application.instance_id == AuditEvent.instance_id)
        .where(
            AuditEvent.action == "conflict_overridden",
            AuditEvent.at >= since,
            Application.unit_id == unit_id,
        )
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        Override(
            at=event.at,
            number=number or "",
            instance_id=instance_id,
            operator=event.actor_label,
            reason_key=event.detail.get("reason_key", ""),
            reason=event.detail.get("reason", ""),
        )
        for event, number, instance_id in rows
    ]


@dataclass(frozen=True)
class MonthUse:
    month: str  # "2026-03"
    cubic_metres: int | None  # None: no reading that month to compare with


def reading_history(session: Session, meter_id: int, limit: int = 12) -> list[Reading]:
    """The meter's posted readings, newest first."""
    return list(
        session.scalars(
            select(Reading)
            .where(Reading.meter_id == meter_id)
            .order_by(Reading.read_on.desc(), Reading.id.desc())
            .limit(limit)
        )
    )


def _months_back(today: date, count: int) -> list[date]:
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append(date(year, month, 1))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def monthly_use(session: Session, meter_id: int, today: date, months: int = 12) -> list[MonthUse]:
    """m³ used in each of the last ``months`` months (:func:`workflow.consumption.monthly_consumption`)."""
    meter = session.get(Meter, meter_id)
    assert meter is not None  # callers pass a meter of an application they loaded
    rows = session.execute(
        select(Reading.read_on, Reading.value)
        .where(Reading.meter_id == meter_id, Reading.read_on <= today)
        .order_by(Reading.read_on, Reading.id)
    ).all()
    totals = monthly_consumption([(meter.register_digits, rows)], _months_back(today, months))
    return [MonthUse(month=f"{m:%Y-%m}", cubic_metres=use) for m, use in sorted(totals.items())]
