"""The rules run on a reading while the citizen is still on the form, and again at submission.

:func:`precheck` is the same :func:`workflow.plausibility.check_reading` that
``check_plausibility`` runs after registration, on one meter's posted history: "block" flags
become form errors, "confirm" flags are shown in words and the citizen confirms or corrects
them; "inspect" flags are for staff only.

:func:`open_application_for` is the duplicate rule: a meter that already has an open
application (registered, in review or at the on-site check, i.e. its reading not yet posted)
cannot be sent again, since both would cover the same period since the last posted reading.
The refusal names the open application so the citizen can follow it instead.

:func:`submission_refusals` is what the ``enter_readings`` task handler runs on the stored
draft, so the rules hold for every way in, not only the web form.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.i18n import N_, Message
from workflow.models import Application, ApplicationMeter, Meter, Reading
from workflow.plausibility import (
    DeclaredReading,
    MeterFacts,
    PlausibilityConfig,
    PlausibilityResult,
    ReadingHistory,
    check_reading,
)

OPEN_STATUSES = ("registered", "in_review", "inspection")

DUPLICATE_APPLICATION = N_(
    "Meter %(serial)s already has an open application, number %(number)s, sent on %(date)s, for "
    "this period. Follow it on your status page (/status/%(number)s) instead of sending the "
    "reading again"
)


def meter_history(session: Session, meter_id: int) -> ReadingHistory:
    return ReadingHistory.of(
        session.execute(
            select(Reading.read_on, Reading.value, Reading.source).where(
                Reading.meter_id == meter_id
            )
        ).all()
    )


def precheck(
    session: Session,
    meter: Meter,
    value: int,
    when: date,
    today: date,
    config: PlausibilityConfig,
    persons: int | None,
) -> PlausibilityResult:
    return check_reading(
        DeclaredReading(value, when),
        MeterFacts(meter.register_digits, meter.installed_on),
        meter_history(session, meter.id),
        today,
        config,
        persons=persons,
    )


def open_application_for(
    session: Session, meter_id: int, excluding: int | None
) -> Application | None:
    """The earliest open application (other than ``excluding``) with a line for this meter."""
    return session.scalar(
        select(Application)
        .join(ApplicationMeter, ApplicationMeter.application_id == Application.id)
        .where(
            ApplicationMeter.meter_id == meter_id,
            Application.status.in_(OPEN_STATUSES),
            Application.id != (excluding or 0),
        )
        .order_by(Application.submitted_at, Application.id)
        .limit(1)
    )


def duplicate_message(meter: Meter, open_app: Application) -> Message:
    return Message(
        DUPLICATE_APPLICATION,
        {
            "serial": meter.serial,
            "number": open_app.number or "",
            "date": open_app.submitted_at.date().isoformat(),
        },
    )


def submission_refusals(
    session: Session, app: Application, today: date, config: PlausibilityConfig
) -> list[Message]:
    """Why the draft ``app`` cannot be submitted: blocking plausibility flags and duplicates."""
    refusals: list[Message] = []
    for line in app.lines:
        result = precheck(
            session, line.meter, line.value, line.read_on, today, config, app.subscriber.persons
        )
        refusals.extend(flag.message for flag in result.blocking)
        open_app = open_application_for(session, line.meter_id, app.id)
        if open_app is not None:
            refusals.append(duplicate_message(line.meter, open_app))
    return refusals
