"""Working days: due dates skip weekends and configured public holidays."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta


class WorkingCalendar:
    def __init__(self, holidays: Iterable[str | date] = (), weekend: tuple[int, ...] = (5, 6)):
        self.holidays = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in holidays)
        self.weekend = weekend

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """The same time of day, ``days`` working days after ``start`` (a weekend start counts from Monday)."""
        current = start
        added = 0
        while added < days:
            current += timedelta(days=1)
            if self.is_working_day(current.date()):
                added += 1
        return current
