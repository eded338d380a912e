"""Billing: consumption from readings, tariffs in force, pro-rata bills, VAT, JSON round trip.

Expected figures are worked out by hand in the comments and written as literals.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from workflow.billing import (
    Bill,
    BillLine,
    TariffBlock,
    TariffError,
    TariffRate,
    compute_bill,
    select_tariffs,
)
from workflow.consumption import Consumption, consumption
from workflow.tariff_table import STANDARD_TARIFFS

D = Decimal


def baku(consumption_m3: int, start: date, end: date, tariffs=STANDARD_TARIFFS) -> Bill:
    return compute_bill(consumption_m3, start, end, tariffs, "population", "baku")


def amounts(line: BillLine) -> tuple:
    return (
        line.date_from,
        line.date_to,
        line.days,
        line.m3,
        line.water_price,
        line.sewer_price,
        line.water_amount,
        line.sewer_amount,
        line.gross,
    )


# --------------------------------------------------------------------------- consumption


def test_consumption_is_current_minus_previous():
    assert consumption(1200, 1212, 5) == Consumption(12, False)


def test_consumption_with_one_register_rollover():
    # 99 995 → 100 000 is 5 m³, then 00 007 is 7 more.
    result = consumption(99_995, 7, 5)
    assert result.m3 == 12
    assert result.rollover is True


def test_equal_readings_are_zero_consumption_without_rollover():
    assert consumption(500, 500, 5) == Consumption(0, False)


@pytest.mark.parametrize("previous, current", [(1200, 100_000), (100_000, 5)])
def test_reading_with_more_digits_than_the_register_is_an_error(previous, current):
    with pytest.raises(ValueError, match="more digits than the 5-digit register"):
        consumption(previous, current, 5)


def test_negative_reading_is_an_error():
    with pytest.raises(ValueError):
        consumption(-1, 5, 5)


# --------------------------------------------------------------------------- flat periods


def test_flat_period_2022_population_baku():
    # 31 days in March 2022, one tariff (0.70 water + 0.30 sewerage):
    # water 12 × 0.70 = 8.40, sewerage 12 × 0.30 = 3.60, gross 12.00;
    # VAT = 12.00 × 0.18 / 1.18 = 1.8305… → 1.83, net 12.00 − 1.83 = 10.17.
    bill = baku(12, date(2022, 3, 1), date(2022, 4, 1))
    assert [amounts(line) for line in bill.lines] == [
        (
            date(2022, 3, 2),
            date(2022, 4, 1),
            31,
            D("12.000"),
            D("0.70"),
            D("0.30"),
            D("8.40"),
            D("3.60"),
            D("12.00"),
        ),
    ]
    assert (bill.gross, bill.vat, bill.net) == (D("12.00"), D("1.83"), D("10.17"))
    assert bill.consumption_m3 == 12


def test_region_other_uses_its_own_water_price():
    # 2022, other regions: water 0.60, sewerage 0.30. 10 m³ → 6.00 + 3.00 = 9.00;
    # VAT 9.00 × 18/118 = 1.3728… → 1.37, net 7.63.
    bill = compute_bill(
        10, date(2022, 5, 10), date(2022, 6, 10), STANDARD_TARIFFS, "population", "other"
    )
    (line,) = bill.lines
    assert (line.water_price, line.water_amount, line.sewer_amount) == (
        D("0.60"),
        D("6.00"),
        D("3.00"),
    )
    assert (bill.gross, bill.vat, bill.net) == (D("9.00"), D("1.37"), D("7.63"))


def test_non_population_tariff_applies_to_any_region():
    # 1.00 + 1.00 per m³: 7 m³ → 14.00; VAT 14.00 × 18/118 = 2.1355… → 2.14, net 11.86.
    for region in ("baku", "other", "any"):
        bill = compute_bill(
            7, date(2022, 1, 1), date(2022, 2, 1), STANDARD_TARIFFS, "non_population", region
        )
        assert (bill.gross, bill.vat, bill.net) == (D("14.00"), D("2.14"), D("11.86")), region


def test_zero_consumption_gives_a_zero_bill():
    bill = baku(0, date(2021, 1, 15), date(2021, 2, 14))
    assert (bill.gross, bill.vat, bill.net) == (D("0.00"), D("0.00"), D("0.00"))
    assert all(line.m3 == 0 and line.gross == 0 for line in bill.lines)


@pytest.mark.parametrize(
    "gross_m3, vat, net",
    [
        # 1 m³ × 1.00 (0.70 + 0.30) = 1.00; 1.00 × 0.18 / 1.18 = 0.15254 → 0.15
        (1, D("0.15"), D("0.85")),
        # 59 m³ → 59.00; 59 × 18 / 118 = 9.00 exactly
        (59, D("9.00"), D("50.00")),
        # 100 m³ → 100.00; 100 × 18 / 118 = 15.2542… → 15.25
        (100, D("15.25"), D("84.75")),
    ],
)
def test_vat_is_broken_out_of_the_gross_not_added(gross_m3, vat, net):
    bill = baku(gross_m3, date(2023, 1, 1), date(2023, 2, 1))
    assert bill.gross == D(gross_m3)
    assert (bill.vat, bill.net) == (vat, net)


# --------------------------------------------------------------------------- pro rata


def test_period_spanning_1_february_2021_is_billed_pro_rata_by_days():
    # Readings on 15 Jan and 14 Feb 2021: 30 billed days, 16 Jan – 14 Feb.
    #   16–31 Jan: 16 days at the 2016 tariff (water 0.35, sewerage 0.15)
    #   1–14 Feb:  14 days at the 2021 tariff (water 0.70, sewerage 0.30)
    # 25 m³ spread evenly: 25 × 16 / 30 = 13.3333… → 13.333 m³ in January,
    # 25 − 13.333 = 11.667 m³ in February (the segments add up to exactly 25).
    # January:  water 13.333 × 0.35 = 4.66655 → 4.67; sewerage 13.333 × 0.15 = 1.99995 → 2.00; 6.67
    # February: water 11.667 × 0.70 = 8.1669 → 8.17;  sewerage 11.667 × 0.30 = 3.5001 → 3.50; 11.67
    # Gross 6.67 + 11.67 = 18.34; VAT 18.34 × 0.18 / 1.18 = 2.7976… → 2.80; net 15.54.
    bill = baku(25, date(2021, 1, 15), date(2021, 2, 14))
    assert [amounts(line) for line in bill.lines] == [
        (
            date(2021, 1, 16),
            date(2021, 1, 31),
            16,
            D("13.333"),
            D("0.35"),
            D("0.15"),
            D("4.67"),
            D("2.00"),
            D("6.67"),
        ),
        (
            date(2021, 2, 1),
            date(2021, 2, 14),
            14,
            D("11.667"),
            D("0.70"),
            D("0.30"),
            D("8.17"),
            D("3.50"),
            D("11.67"),
        ),
    ]
    assert (bill.gross, bill.vat, bill.net) == (D("18.34"), D("2.80"), D("15.54"))


def test_line_amounts_round_half_up_to_the_qepik():
    # Readings 16 Jan and 15 Feb 2021: 15 days each side of 1 Feb, 3 m³ → 1.500 m³ each.
    # January: 1.5 × 0.35 = 0.525 → 0.53 (half up; banker's rounding would give 0.52)
    #          1.5 × 0.15 = 0.225 → 0.23 (banker's: 0.22)
    # February: 1.5 × 0.70 = 1.05, 1.5 × 0.30 = 0.45. Gross 0.76 + 1.50 = 2.26;
    # VAT 2.26 × 18 / 118 = 0.3447… → 0.34; net 1.92.
    bill = baku(3, date(2021, 1, 16), date(2021, 2, 15))
    assert [(line.m3, line.water_amount, line.sewer_amount) for line in bill.lines] == [
        (D("1.500"), D("0.53"), D("0.23")),
        (D("1.500"), D("1.05"), D("0.45")),
    ]
    assert (bill.gross, bill.vat, bill.net) == (D("2.26"), D("0.34"), D("1.92"))


def test_period_spanning_two_tariff_changes_has_three_segments():
    # Readings on 14 May 2016 and 2 Feb 2021: the first billed day, 15 May 2016, is the last day
    # of the 2011 prices; 2016 prices run from 16 May 2016 to 31 Jan 2021; 2021 prices on 1–2 Feb.
    bill = baku(1000, date(2016, 5, 14), date(2021, 2, 2))
    assert [(line.date_from, line.date_to, line.water_price) for line in bill.lines] == [
        (date(2016, 5, 15), date(2016, 5, 15), D("0.30")),
        (date(2016, 5, 16), date(2021, 1, 31), D("0.35")),
        (date(2021, 2, 1), date(2021, 2, 2), D("0.70")),
    ]
    assert (
        sum(line.days for line in bill.lines)
        == bill.days
        == (date(2021, 2, 2) - date(2016, 5, 14)).days
    )
    assert sum(line.m3 for line in bill.lines) == 1000


def test_totals_are_the_sum_of_the_lines_in_many_cases():
    """Deterministic sweep: volumes, period lengths and starts around both tariff changes."""
    starts = [date(2016, 4, 1) + timedelta(days=37 * k) for k in range(8)]
    starts += [date(2020, 12, 1) + timedelta(days=9 * k) for k in range(10)]
    checked = 0
    for start in starts:
        for length in (1, 7, 29, 31, 45, 92):
            end = start + timedelta(days=length)
            for m3 in (0, 1, 2, 3, 7, 13, 29, 97, 1234):
                for group, region in (
                    ("population", "baku"),
                    ("population", "other"),
                    ("non_population", "any"),
                ):
                    bill = compute_bill(m3, start, end, STANDARD_TARIFFS, group, region)
                    gross = sum(line.gross for line in bill.lines)
                    assert bill.gross == gross
                    assert all(
                        line.gross == line.water_amount + line.sewer_amount for line in bill.lines
                    )
                    assert sum(line.m3 for line in bill.lines) == m3
                    assert sum(line.days for line in bill.lines) == length
                    # each segment's volume is its exact day share, to the litre
                    for line in bill.lines:
                        assert abs(line.m3 - D(m3) * line.days / length) <= D("0.001")
                    exact_vat = gross * D("0.18") / D("1.18")
                    assert abs(bill.vat - exact_vat) <= D("0.005")
                    assert bill.net == bill.gross - bill.vat
                    assert bill.vat.as_tuple().exponent == -2
                    checked += 1
    assert checked == 18 * 6 * 9 * 3


# --------------------------------------------------------------------------- tariffs


def test_select_tariffs_returns_those_in_force_sorted():
    rates = select_tariffs(
        reversed(STANDARD_TARIFFS), "population", "other", date(2016, 1, 1), date(2021, 3, 1)
    )
    assert [(r.valid_from, r.water_price) for r in rates] == [
        (date(2011, 2, 1), D("0.25")),
        (date(2016, 5, 16), D("0.30")),
        (date(2021, 2, 1), D("0.60")),
    ]


def test_a_day_before_the_first_tariff_is_an_error():
    with pytest.raises(TariffError, match="from 2011-01-20 to 2011-01-31"):
        baku(10, date(2011, 1, 19), date(2011, 2, 20))


def test_a_gap_between_tariffs_is_an_error():
    tariffs = [
        TariffRate(
            "population",
            "baku",
            D("0.35"),
            D("0.15"),
            D("0.18"),
            date(2020, 1, 1),
            date(2020, 1, 31),
        ),
        TariffRate("population", "baku", D("0.70"), D("0.30"), D("0.18"), date(2020, 2, 3), None),
    ]
    with pytest.raises(TariffError, match="from 2020-02-01 to 2020-02-02"):
        baku(10, date(2020, 1, 15), date(2020, 2, 15), tariffs)


def test_a_tariff_ending_inside_the_period_is_an_error():
    tariffs = [
        TariffRate(
            "population",
            "baku",
            D("0.35"),
            D("0.15"),
            D("0.18"),
            date(2020, 1, 1),
            date(2020, 1, 31),
        )
    ]
    with pytest.raises(TariffError, match="from 2020-02-01 to 2020-02-15"):
        baku(10, date(2020, 1, 15), date(2020, 2, 15), tariffs)


def test_two_tariffs_in_force_on_the_same_day_is_an_error():
    tariffs = [
        TariffRate("population", "baku", D("0.35"), D("0.15"), D("0.18"), date(2020, 1, 1), None),
        TariffRate("population", "baku", D("0.70"), D("0.30"), D("0.18"), date(2020, 2, 1), None),
    ]
    with pytest.raises(TariffError, match="two population/baku tariffs"):
        baku(10, date(2020, 1, 15), date(2020, 2, 15), tariffs)


def test_no_tariff_for_the_group_is_an_error():
    with pytest.raises(TariffError):
        compute_bill(5, date(2022, 1, 1), date(2022, 2, 1), STANDARD_TARIFFS, "population", "mars")


def test_a_period_must_have_at_least_one_day():
    with pytest.raises(ValueError, match="must end after it starts"):
        baku(5, date(2022, 1, 1), date(2022, 1, 1))


def test_standard_tariffs_follow_each_other_without_gaps():
    for group, region in (
        ("population", "baku"),
        ("population", "other"),
        ("non_population", "any"),
    ):
        rates = select_tariffs(STANDARD_TARIFFS, group, region, date(2011, 1, 31), date(2030, 1, 1))
        assert [r.valid_from for r in rates] == [
            date(2011, 2, 1),
            date(2016, 5, 16),
            date(2021, 2, 1),
        ]
        assert [r.valid_to for r in rates] == [date(2016, 5, 15), date(2021, 1, 31), None]
        assert {r.vat_rate for r in rates} == {D("0.18")}


def test_prices_must_be_decimals():
    with pytest.raises(TypeError):
        TariffRate("population", "baku", 0.7, D("0.30"), D("0.18"), date(2021, 2, 1), None)


# --------------------------------------------------------------------------- blocks

BLOCK_TARIFF = TariffRate(
    "population",
    "baku",
    D("0.70"),
    D("0.30"),
    D("0.18"),
    date(2024, 1, 1),
    None,
    blocks=(
        TariffBlock(D("10"), D("0.50"), D("0.30")),
        TariffBlock(None, D("1.00"), D("0.30")),
    ),
)


def test_block_bounds_are_scaled_to_the_segment_days():
    # 15 days: the 10 m³/month first block holds 10 × 15 / 30 = 5 m³, the rest (7 m³) is block 2.
    # Block 1: 5 × 0.50 = 2.50, 5 × 0.30 = 1.50 → 4.00
    # Block 2: 7 × 1.00 = 7.00, 7 × 0.30 = 2.10 → 9.10
    # Gross 13.10; VAT 13.10 × 18 / 118 = 1.9983… → 2.00; net 11.10.
    bill = baku(12, date(2024, 3, 1), date(2024, 3, 16), [BLOCK_TARIFF])
    assert [
        (line.block, line.m3, line.water_price, line.water_amount, line.sewer_amount, line.gross)
        for line in bill.lines
    ] == [
        (1, D("5.000"), D("0.50"), D("2.50"), D("1.50"), D("4.00")),
        (2, D("7.000"), D("1.00"), D("7.00"), D("2.10"), D("9.10")),
    ]
    assert all(line.days == 15 for line in bill.lines)
    assert (bill.gross, bill.vat, bill.net) == (D("13.10"), D("2.00"), D("11.10"))


def test_consumption_within_the_first_block_has_one_line():
    # 30 days: first block 10 m³; 8 m³ → 8 × 0.80 = 6.40
    bill = baku(8, date(2024, 3, 1), date(2024, 3, 31), [BLOCK_TARIFF])
    assert [(line.block, line.m3, line.gross) for line in bill.lines] == [
        (1, D("8.000"), D("6.40"))
    ]


def test_blocks_must_end_with_an_unbounded_one():
    with pytest.raises(ValueError):
        TariffRate(
            "population",
            "baku",
            D("0.70"),
            D("0.30"),
            D("0.18"),
            date(2024, 1, 1),
            None,
            blocks=(TariffBlock(D("10"), D("0.50"), D("0.30")),),
        )


def test_tariff_block_dict_round_trip():
    block = TariffBlock(D("10"), D("0.50"), D("0.30"))
    assert TariffBlock.from_dict(json.loads(json.dumps(block.to_dict()))) == block


# --------------------------------------------------------------------------- storage


def test_bill_to_dict_is_json_and_round_trips():
    bill = compute_bill(
        12, date(2024, 3, 1), date(2024, 3, 16), [BLOCK_TARIFF], "population", "baku"
    )
    stored = json.dumps(bill.to_dict())
    data = json.loads(stored)
    assert data["gross"] == "13.10" and data["lines"][0]["m3"] == "5.000"
    assert data["period_start"] == "2024-03-01"
    restored = Bill.from_dict(data)
    assert restored == bill
    assert str(restored.vat) == "2.00"


def test_bill_from_dict_rejects_totals_that_do_not_add_up():
    data = baku(25, date(2021, 1, 15), date(2021, 2, 14)).to_dict()
    data["gross"] = "18.35"
    with pytest.raises(ValueError, match="sum of the lines"):
        Bill.from_dict(data)
