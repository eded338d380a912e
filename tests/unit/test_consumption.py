"""One consumption rule: billing, plausibility and the consumption chart agree, rollover included."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.consumption import consumption, monthly_consumption
from workflow.invoicing import bill_meter
from workflow.plausibility import DeclaredReading, MeterFacts, ReadingHistory, check_reading
from workflow.tariff_table import STANDARD_TARIFFS

PREVIOUS_ON = date(2026, 2, 20)
CURRENT_ON = date(2026, 3, 22)  # 30 days later
PERSONS = 6  # up to 8 m³ a person a month: about 47 m³ in 30 days is still believable


@st.composite
def readings(draw):
    digits = draw(st.integers(min_value=2, max_value=8))
    modulus = 10**digits
    previous = draw(st.integers(min_value=0, max_value=modulus - 1))
    used = draw(st.integers(min_value=0, max_value=min(40, modulus - 1)))
    return digits, previous, (previous + used) % modulus, used


@settings(max_examples=300, deadline=None)
@given(readings())
def test_billing_plausibility_and_chart_agree_on_every_register(case):
    digits, previous, current, used = case
    rolled = current < previous

    own = consumption(previous, current, digits)
    assert (own.m3, own.rollover) == (used, rolled)

    billed, bill = bill_meter(
        previous,
        PREVIOUS_ON,
        current,
        CURRENT_ON,
        digits,
        list(STANDARD_TARIFFS),
        "population",
        "baku",
    )
    assert billed == own and bill.consumption_m3 == used

    checked = check_reading(
        DeclaredReading(current, CURRENT_ON),
        MeterFacts(digits, date(2020, 1, 1)),
        ReadingHistory.of([(PREVIOUS_ON, previous, "utility")]),
        CURRENT_ON,
        persons=PERSONS,
    )
    assert checked.consumption_m3 == used and checked.rollover == rolled
    assert not checked.blocking
    assert ("rollover" in checked.codes) == rolled

    chart = monthly_consumption(
        [(digits, [(PREVIOUS_ON, previous), (CURRENT_ON, current)])],
        [date(2026, 2, 1), date(2026, 3, 1)],
    )
    assert chart == {date(2026, 2, 1): None, date(2026, 3, 1): used}


@settings(max_examples=100, deadline=None)
@given(st.integers(min_value=2, max_value=8), st.data())
def test_a_lower_reading_no_rollover_explains_is_refused(digits, data):
    modulus = 10**digits
    previous = data.draw(st.integers(min_value=modulus // 2, max_value=modulus - 1))
    # at least half the register below: read as a rollover that would be 50+ m³ in 30 days
    current = data.draw(st.integers(min_value=previous - modulus // 2, max_value=previous - 1))
    checked = check_reading(
        DeclaredReading(current, CURRENT_ON),
        MeterFacts(digits, date(2020, 1, 1)),
        ReadingHistory.of([(PREVIOUS_ON, previous, "utility")]),
        CURRENT_ON,
        persons=PERSONS,
    )
    assert [f.code for f in checked.blocking] == ["lower_than_previous"]
    assert checked.consumption_m3 is None


def test_a_year_of_readings_with_a_rollover_is_charted_as_the_invoice_bills_it():
    start = date(2025, 4, 20)
    values = [99_950 + 12 * i for i in range(12)]
    dated = [(start + timedelta(days=30 * i), v % 100_000) for i, v in enumerate(values)]
    months = sorted({d.replace(day=1) for d, _ in dated})
    chart = monthly_consumption([(5, dated)], months)
    billed = [
        bill_meter(a, da, b, db, 5, list(STANDARD_TARIFFS), "population", "baku")[0].m3
        for (da, a), (db, b) in zip(dated, dated[1:], strict=False)
    ]
    assert sum(m3 or 0 for m3 in chart.values()) == sum(billed) == 12 * 11
