"""Working days in Baku: weekends, Azerbaijani public holidays and the settings' decree days."""

from __future__ import annotations

from datetime import UTC, date, datetime

from engine.calendar import WorkingCalendar

UTC = UTC


def test_public_holidays_of_azerbaijan_are_days_off():
    cal = WorkingCalendar()
    assert not cal.is_working_day(date(2026, 3, 20))  # Novruz
    assert not cal.is_working_day(date(2026, 3, 26))  # a Novruz day moved from the weekend
    assert not cal.is_working_day(date(2026, 11, 9))  # National Flag Day
    assert not cal.is_working_day(date(2026, 3, 14))  # a Saturday
    assert cal.is_working_day(date(2026, 3, 31))


def test_thursday_evening_in_baku_counts_from_the_local_date():
    # 16:00 UTC on Thursday 12 March is 20:00 in Baku, the same Thursday; Friday is day one
    cal = WorkingCalendar()
    due = cal.add_working_days(datetime(2026, 3, 12, 16, 0, tzinfo=UTC), 2)
    assert due == datetime(2026, 3, 16, 16, 0, tzinfo=UTC)  # Monday, 20:00 in Baku
    # 21:00 UTC on Thursday is already Friday 01:00 in Baku: Monday is day one, Tuesday 01:00 the due
    due = cal.add_working_days(datetime(2026, 3, 12, 21, 0, tzinfo=UTC), 2)
    assert cal.local_date(due) == date(2026, 3, 17) and due.date() == date(2026, 3, 16)


def test_a_submission_before_novruz_is_due_after_the_holidays():
    cal = WorkingCalendar()
    due = cal.add_working_days(
        datetime(2026, 3, 19, 16, 0, tzinfo=UTC), 2
    )  # Thursday 20:00 in Baku
    assert due == datetime(
        2026, 4, 1, 16, 0, tzinfo=UTC
    )  # 20–30 March are days off: Tue 31, Wed 1 April


def test_settings_add_days_off_and_make_days_working():
    decree = WorkingCalendar(holidays=["2026-03-16"], working_days=["2026-03-14"])
    assert not decree.is_working_day(date(2026, 3, 16))
    assert decree.is_working_day(date(2026, 3, 14))  # a Saturday worked by decree
    assert decree.add_working_days(datetime(2026, 3, 13, 6, 0, tzinfo=UTC), 2).date() == date(
        2026, 3, 17
    )


def test_without_a_country_only_weekends_and_listed_days_are_off():
    plain = WorkingCalendar(holidays=["2026-03-23"], country=None)
    assert plain.is_working_day(date(2026, 3, 20))
    assert plain.add_working_days(datetime(2026, 3, 20, 6, 0, tzinfo=UTC), 1).date() == date(
        2026, 3, 24
    )
