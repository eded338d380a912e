"""Working days in the utility's time zone: every due date, SLA timer and escalation uses this.

Rules:

- Dates are the *local* dates of ``zone`` (Asia/Baku for the utility): a submission at 20:00 on
  a Thursday in Baku is on Thursday even though it is 16:00 UTC.
- A working day is Monday to Friday and not a public holiday. Public holidays come from the
  ``holidays`` package for ``country`` (AZ: Novruz, Ramazan and Qurban bayramı, Victory Day …,
  with the days off moved from a weekend as the package knows them); the government also moves
  working days by decree, so settings add days off (``extra_holidays``) and make days working
  (``extra_working_days``, e.g. a Saturday worked in exchange).
- ``add_working_days(start, n)`` is the same local time of day ``n`` working days after the
  local date of ``start`` (a start on a day off counts from the next working day), returned in
  UTC. The diagram's review timer fires at that moment (the ``assign_unit`` operation computes it
  and the timer's ``timeDate`` reads it), and the queue and the e-mails show the same due date.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holiday_data

from engine.settings import Settings

DEFAULT_ZONE = "Asia/Baku"


def _dates(values: Iterable[str | date]) -> frozenset[date]:
    return frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in values)


class WorkingCalendar:
    def __init__(
        self,
        holidays: Iterable[str | date] = (),
        working_days: Iterable[str | date] = (),
        *,
        country: str | None = "AZ",
        zone: str = DEFAULT_ZONE,
        weekend: tuple[int, ...] = (5, 6),
    ):
        self.extra_holidays = _dates(holidays)
        self.extra_working_days = _dates(working_days)
        self.country = country
        self.zone = ZoneInfo(zone)
        self.weekend = weekend
        self._public: dict[int, frozenset[date]] = {}

    def public_holidays(self, year: int) -> frozenset[date]:
        if year not in self._public:
            days = holiday_data.country_holidays(self.country, years=year) if self.country else {}
            self._public[year] = frozenset(days)
        return self._public[year]

    def is_working_day(self, day: date) -> bool:
        if day in self.extra_working_days:
            return True
        if day in self.extra_holidays or day in self.public_holidays(day.year):
            return False
        return day.weekday() not in self.weekend

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same local time of day, ``days`` working days after the local date of ``start`` (in UTC)."""
        local = start.astimezone(self.zone)
        day, added = local.date(), 0
        while added < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                added += 1
        due = datetime.combine(day, time(local.hour, local.minute, local.second), tzinfo=self.zone)
        return due.astimezone(UTC)


def working_calendar(settings: Settings) -> WorkingCalendar:
    """The utility's working days: public holidays and the ``[work]`` settings' extra days."""
    return WorkingCalendar(
        settings.work.holidays,
        settings.work.working_days,
        country=settings.work.holiday_country or None,
        zone=settings.app.timezone,
    )
