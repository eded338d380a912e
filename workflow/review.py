"""What the operator's review needs besides the form: the configured rejection reasons, each
meter's reading history and its monthly consumption over the last twelve months."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.i18n import N_
from workflow.models import Reading

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


def _months_back(today: date, count: int) -> list[tuple[int, int]]:
    year, month = today.year, today.month
    out = []
    for _ in range(count):
        out.append((year, month))
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def monthly_consumption(session: Session, meter_id: int, today: date, months: int = 12) -> list[MonthUse]:
    """m³ used in each of the last ``months`` months: the month's last reading minus the one before it."""
    months_list = _months_back(today, months)
    first = date(months_list[0][0], months_list[0][1], 1)
    rows = list(session.execute(
        select(Reading.read_on, Reading.value).where(Reading.meter_id == meter_id, Reading.read_on <= today)
        .order_by(Reading.read_on, Reading.id)))
    last_in_month: dict[tuple[int, int], int] = {}
    before_first: int | None = None
    for read_on, value in rows:
        if read_on < first:
            before_first = value
        else:
            last_in_month[(read_on.year, read_on.month)] = value
    out, previous = [], before_first
    for ym in months_list:
        value = last_in_month.get(ym)
        use = value - previous if value is not None and previous is not None and value >= previous else None
        out.append(MonthUse(month=f"{ym[0]:04d}-{ym[1]:02d}", cubic_metres=use))
        if value is not None:
            previous = value
    return out
