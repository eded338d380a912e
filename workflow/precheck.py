"""The plausibility rules run on a reading while the citizen is still on the form.

The same :func:`workflow.plausibility.check_reading` that ``check_plausibility`` runs after
registration, on one meter's posted history: "block" flags become form errors, "confirm" flags
are shown in words and the citizen confirms or corrects them; "inspect" flags are for staff only.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Meter, Reading
from workflow.plausibility import (
    DeclaredReading,
    MeterFacts,
    PlausibilityConfig,
    PlausibilityResult,
    ReadingHistory,
    check_reading,
)


def meter_history(session: Session, meter_id: int) -> ReadingHistory:
    return ReadingHistory.of(session.execute(
        select(Reading.read_on, Reading.value, Reading.source).where(Reading.meter_id == meter_id)).all())


def precheck(session: Session, meter: Meter, value: int, when: date, today: date,
             config: PlausibilityConfig, persons: int | None) -> PlausibilityResult:
    return check_reading(DeclaredReading(value, when), MeterFacts(meter.register_digits, meter.installed_on),
                         meter_history(session, meter.id), today, config, persons=persons)
