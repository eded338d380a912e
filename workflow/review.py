"""What the operator's review needs besides the form: the configured rejection reasons, each
meter's reading history and its monthly consumption over the last twelve months."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.i18n import N_
from workflow.consumption import monthly_consumption
from workflow.models import Meter, Reading

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


@dataclass(frozen=True)
class MonthUse:
    month: str  # "2026-03"
    cubic_metres: int | None  # None: no reading that month to compare with


def reading_history(session: Session, meter_id: int, limit: int = 12) -> list[Reading]:
    """The meter's posted readings, newest first."""
    return list(session.scalars(select(Reading).where(Reading.meter_id == meter_id)
                                .order_by(Reading.read_on.desc(), Reading.id.desc()).limit(limit)))


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
    rows = session.execute(
        select(Reading.read_on, Reading.value).where(Reading.meter_id == meter_id, Reading.read_on <= today)
        .order_by(Reading.read_on, Reading.id)).all()
    totals = monthly_consumption([(meter.register_digits, rows)], _months_back(today, months))
    return [MonthUse(month=f"{m:%Y-%m}", cubic_metres=use) for m, use in sorted(totals.items())]
