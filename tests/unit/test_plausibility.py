"""Plausibility of a declared meter reading: one test per flag code, and the quiet cases."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from workflow.plausibility import (
    DeclaredReading,
    Flag,
    MeterFacts,
    PlausibilityConfig,
    PlausibilityResult,
    ReadingHistory,
    check_reading,
    monthly_average,
)

TODAY = date(2026, 4, 20)
METER = MeterFacts(register_digits=5, installed_on=date(2020, 1, 10))
CFG = PlausibilityConfig()


def monthly(n=12, per_month=10, start=date(2025, 3, 15), value=1000, source="utility"):
    """n+1 readings one month apart, ``per_month`` m3 each month (last one on 2026-03-15 for n=12)."""
    out = []
    for i in range(n + 1):
        y, m = divmod(start.month - 1 + i, 12)
        out.append((date(start.year + y, m + 1, start.day), value + per_month * i, source))
    return out


HISTORY = ReadingHistory.of(monthly())  # last: 2026-03-15, 1120; 10 m3 a month


def check(value, when=TODAY, history=HISTORY, meter=METER, persons=None, config=CFG):
    return check_reading(DeclaredReading(value, when), meter, history, TODAY, config, persons)


def only(result: PlausibilityResult) -> Flag:
    assert len(result.flags) == 1, result.codes
    return result.flags[0]


# -- the quiet case ----------------------------------------------------------------------------


def test_a_normal_reading_has_no_flags():
    last = HISTORY.readings[-1]
    result = check(last.value + 10, when=last.date + timedelta(days=30))
    assert result.flags == ()
    assert result.consumption_m3 == 10
    assert not result.rollover
    assert not result.blocking and not result.needs_confirmation
    assert not result.conflicts_with_records


def test_monthly_average_is_normalised_to_30_44_day_months():
    assert monthly_average(HISTORY) == pytest.approx(10 * 30.44 / (365 / 12), rel=0.01)


# -- blocking flags ----------------------------------------------------------------------------


def test_too_many_digits_blocks_and_names_the_digit_count():
    flag = only(check(112345))
    assert (flag.code, flag.severity) == ("too_many_digits", "block")
    assert "112345" in flag.message.render() and "5" in flag.message.render()
    assert check(99999).codes != ("too_many_digits",)


def test_date_in_future_blocks():
    result = check(1125, when=TODAY + timedelta(days=1))
    assert "date_in_future" in result.codes
    assert result.blocking[0].message.params["today"] == "2026-04-20"


def test_date_before_last_reading_blocks_including_the_same_day():
    flag = only(check(1125, when=date(2026, 3, 10)))
    assert (flag.code, flag.severity) == ("date_before_last_reading", "block")
    assert flag.message.params["previous_date"] == "2026-03-15"
    assert only(check(1121, when=date(2026, 3, 15))).code == "date_before_last_reading"


def test_date_before_installation_blocks():
    meter = MeterFacts(register_digits=5, installed_on=date(2026, 3, 1))
    result = check(5, when=date(2026, 2, 20), history=ReadingHistory(), meter=meter)
    flag = only(result)
    assert (flag.code, flag.severity) == ("date_before_installation", "block")
    assert flag.message.params["installed_on"] == "2026-03-01"


def test_duplicate_reading_blocks():
    last = HISTORY.readings[-1]
    result = check(last.value, when=last.date)
    assert only(result).code == "duplicate_reading"
    assert result.blocking


# -- confirm flags -----------------------------------------------------------------------------


def test_lower_than_previous_blocks_the_reading_with_the_figures():
    result = check(1100)
    flag = only(result)
    assert (flag.code, flag.severity) == ("lower_than_previous", "block")
    text = flag.message.render()
    assert "1100" in text and "1120" in text and "2026-03-15" in text and "only counts up" in text
    assert result.blocking == (flag,)
    assert result.consumption_m3 is None and not result.rollover


def test_rollover_explains_a_lower_value_on_a_small_register():
    meter = MeterFacts(register_digits=4, installed_on=date(2015, 1, 1))
    history = ReadingHistory.of(monthly(value=9875))  # 9875 .. 9995
    result = check(5, history=history, meter=meter)
    flag = only(result)
    assert (flag.code, flag.severity) == ("rollover", "inspect")
    assert result.rollover and result.consumption_m3 == 10
    assert not result.needs_confirmation and not result.blocking and result.conflicts_with_records
    assert "10 m³" in flag.message.render()


def test_a_lower_value_that_one_rollover_cannot_explain_is_lower_than_previous():
    meter = MeterFacts(register_digits=4, installed_on=date(2015, 1, 1))
    history = ReadingHistory.of(monthly(value=5000))  # ... 5120
    result = check(5110, history=history, meter=meter)
    assert result.codes == ("lower_than_previous",)
    assert result.blocking and not result.rollover


def test_zero_consumption_is_allowed_for_a_short_period_only():
    last = HISTORY.readings[-1]
    assert check(last.value, when=last.date + timedelta(days=20)).flags == ()
    flag = only(check(last.value))  # 36 days since 2026-03-15
    assert (flag.code, flag.severity) == ("zero_consumption", "confirm")
    assert flag.message.params["days"] == 36


def test_zero_consumption_counts_a_run_of_unchanged_readings():
    readings = monthly(n=10, start=date(2025, 3, 15)) + [(date(2026, 3, 25), 1100, "citizen")]
    # 1100 on 2026-01-15 and on 2026-03-25: the last step is 26 days, but nothing moved for 95.
    result = check(1100, history=ReadingHistory.of(readings))
    flag = only(result)
    assert flag.code == "zero_consumption"
    assert flag.message.params["since"] == "2026-01-15"


def test_above_expected_against_own_average():
    last = HISTORY.readings[-1]
    result = check(last.value + 35, when=last.date + timedelta(days=30))
    flag = only(result)
    assert (flag.code, flag.severity) == ("above_expected", "confirm")
    assert flag.message.params["consumption"] == 35
    assert 29 < flag.message.params["limit"] < 31  # 3 x ~10 m3
    # the citizen is told the usual range (the -40 % .. +70 % band around ~10 m³), not the limit
    assert "usually uses about 6 to 17 m³ in that time" in flag.message.render()


def test_below_expected_against_own_average():
    last = HISTORY.readings[-1]
    flag = only(check(last.value + 3, when=last.date + timedelta(days=30)))
    assert (flag.code, flag.severity) == ("below_expected", "confirm")
    assert "only 3 m³ used in 30 days" in flag.message.render()
    assert "about 6 to 17 m³ in that time" in flag.message.render()


def test_outside_tolerance_is_for_staff_only():
    last = HISTORY.readings[-1]
    result = check(last.value + 20, when=last.date + timedelta(days=30))  # +100 %, under 3x
    flag = only(result)
    assert (flag.code, flag.severity) == ("outside_tolerance", "inspect")
    assert not result.needs_confirmation and result.conflicts_with_records
    # within +70 % there is nothing to say
    assert check(last.value + 16, when=last.date + timedelta(days=30)).flags == ()


def test_too_many_unverified_readings_in_a_row():
    base = monthly(n=6, start=date(2025, 9, 15))  # 2025-09-15 .. 2026-03-15, one a month
    unverified = [
        (d, v, "citizen" if i % 2 else "estimate") for i, (d, v, _) in enumerate(base[1:])
    ]
    # utility read, then 5 unverified: this citizen reading is the 6th, still allowed
    five = ReadingHistory.of(base[:1] + unverified[:5])
    assert "too_many_unverified" not in check(1071, history=five).codes
    # utility read, then 6 unverified: this one would be the 7th
    six = ReadingHistory.of(base[:1] + unverified)
    result = check(1072, history=six)
    flag = next(f for f in result.flags if f.code == "too_many_unverified")
    assert flag.severity == "inspect"
    assert (flag.message.params["count"], flag.message.params["since"]) == (7, "2025-10-15")
    assert result.conflicts_with_records and not result.blocking


# -- no usable history: the person band --------------------------------------------------------


def test_no_history_uses_the_person_band():
    history = ReadingHistory.of([(date(2026, 3, 21), 500, "utility")])  # 30 days before TODAY
    assert monthly_average(history) is None
    assert check(510, history=history, persons=3).flags == ()
    above = only(check(530, history=history, persons=3))  # 30 m3 > 3 persons x 8 m3
    assert above.code == "above_expected"
    assert above.message.params["limit"] == pytest.approx(23.7, abs=0.1)
    assert "about 6 to 24 m³ in that time" in above.message.render()  # 3 persons x 2..8 m³
    assert only(check(503, history=history, persons=3)).code == "below_expected"  # < 3 x 2 m3
    # without a household size there is no expectation to compare with
    assert check(530, history=history).flags == ()


def test_short_history_is_not_used_for_the_average():
    history = ReadingHistory.of(monthly(n=2, start=date(2026, 1, 15), per_month=20))
    assert monthly_average(history) is None  # two months < min_history_months
    # 15 m3 in 36 days: normal against the 20 m3/month of the short history, but above what
    # one person uses (8 m3/month): the person band decides.
    flag = only(check(history.readings[-1].value + 15, history=history, persons=1))
    assert flag.code == "above_expected"


# -- estimates -----------------------------------------------------------------------------------


def test_estimates_are_ignored_when_there_is_enough_actual_history():
    actual = monthly()  # 10 m3 a month, 2025-03-15 .. 2026-03-15
    estimates = [(date(2025, 6, 1), 2000, "estimate"), (date(2025, 11, 1), 1300, "estimate")]
    history = ReadingHistory.of(actual + estimates)
    assert monthly_average(history) == pytest.approx(monthly_average(ReadingHistory.of(actual)))


def test_estimates_fill_in_when_actual_history_is_too_short():
    history = ReadingHistory.of(
        [
            (date(2025, 9, 15), 100, "utility"),
            (date(2025, 12, 15), 130, "estimate"),
            (date(2026, 3, 15), 160, "estimate"),
        ]
    )
    assert monthly_average(history) == pytest.approx(10, rel=0.02)


def test_a_real_reading_below_an_over_estimate_is_not_lower_than_previous():
    actual = monthly(n=11, start=date(2025, 2, 15))  # last actual 2026-02-15: 1110
    history = ReadingHistory.of(actual + [(date(2026, 3, 15), 1200, "estimate")])
    result = check(1131, history=history)  # the estimate overshot; 21 m3 in 64 days is normal
    assert result.flags == ()
    assert result.consumption_m3 == 21


# -- serialisation -------------------------------------------------------------------------------


def test_result_round_trips_through_json():
    meter = MeterFacts(register_digits=4, installed_on=date(2015, 1, 1))
    result = check(5, history=ReadingHistory.of(monthly(value=9875)), meter=meter)
    data = json.loads(json.dumps(result.to_dict()))
    again = PlausibilityResult.from_dict(data)
    assert again == result
    assert again.flags[0].message.render() == result.flags[0].message.render()


def test_thresholds_come_from_the_config():
    last = HISTORY.readings[-1]
    strict = PlausibilityConfig(high_factor=1.5)
    assert (
        only(check(last.value + 20, when=last.date + timedelta(days=30), config=strict)).code
        == "above_expected"
    )
    lenient = PlausibilityConfig(zero_allowed_days=60)
    assert check(last.value, config=lenient).flags == ()


def test_a_rollover_in_the_history_counts_its_wrapped_consumption_in_the_average():
    # 30 m³ in the first quarter, then the 4-digit register passes 0: 9930 -> 0060 is 130 m³
    history = ReadingHistory.of(
        [
            (date(2025, 9, 15), 9900, "utility"),
            (date(2025, 12, 15), 9930, "utility"),
            (date(2026, 3, 15), 60, "utility"),
        ]
    )
    days = (date(2026, 3, 15) - date(2025, 9, 15)).days
    assert monthly_average(history, register_digits=4) == pytest.approx(160 / days * 30.44)
    meter = MeterFacts(register_digits=4, installed_on=date(2015, 1, 1))
    # 25 m³ in a month is usual for this household once the wrapped 130 m³ count
    assert check(85, when=date(2026, 4, 14), history=history, meter=meter).flags == ()
