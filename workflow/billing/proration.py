"""Proration: pricing the consumption of a billing period that spans tariff changes and blocks.

Rules:

- A billing period runs from one reading date to the next: the days billed are the days *after*
  ``period_start`` up to and including ``period_end``.
- A period that spans a tariff change is billed pro rata by days: the consumption is spread
  evenly over the days of the period and each tariff prices the days it is in force.
- Meter registers show whole m³, so a bill's consumption is ``int``; a line carries its share as
  a ``Decimal`` with 3 decimals (litres), and the shares add up exactly to the consumption.
- Block bounds are per month and scale with a segment's length (30 days a month by default).

The detailed arithmetic is in :func:`compute_bill`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from workflow.billing.bills import Bill, BillLine
from workflow.billing.tariffs import TariffRate, billing_days, select_tariffs

LITRE = Decimal("0.001")

# Block bounds are "per month"; a segment of `days` days gets bounds scaled by days / 30.
DEFAULT_DAYS_PER_MONTH = Decimal(30)


def round_volume(m3: Decimal) -> Decimal:
    """Round a volume to the litre (0.001 m³), half up."""
    return m3.quantize(LITRE, rounding=ROUND_HALF_UP)


def compute_bill(
    consumption_m3: int,
    period_start: date,
    period_end: date,
    tariffs: Sequence[TariffRate],
    consumer_group: str,
    region: str,
    *,
    days_per_month: Decimal = DEFAULT_DAYS_PER_MONTH,
) -> Bill:
    """Price ``consumption_m3`` used between the reading dates ``period_start`` and ``period_end``.

    Segments: the billed days (after ``period_start`` up to ``period_end``) are split where the
    tariff changes; each segment gets one line (per block, for a block tariff).

    Pro rata: a segment's volume is ``consumption × segment days / period days``. To make the
    segment volumes add up exactly, the *cumulative* volume at the end of each segment is
    rounded to 0.001 m³ and each segment takes the difference from the previous one (so the
    last segment ends at exactly ``consumption_m3``).

    Blocks: a block's monthly bound applies to a segment scaled by its length, i.e. the
    segment's volume ``v`` over ``d`` days is compared with the monthly-equivalent bounds
    ``upto × d / days_per_month`` (30 days by default). Block *k* takes
    ``min(v, B_k) - min(v, B_{k-1})`` where ``B_k`` is that scaled bound rounded to 0.001 m³
    (``B_0 = 0``, the last block unbounded), which is the same as applying the blocks to the
    monthly-equivalent consumption ``v × days_per_month / d`` and scaling back. Example: 15 days,
    12 m³, blocks 10 / unbounded per month: the first block holds 10 × 15 / 30 = 5 m³, the second
    7 m³. Only blocks that receive m³ get a line (the first block's line stands for zero use).

    Each line's water and sewerage amounts are ``m³ × price`` rounded to the qəpik; the gross is
    the sum of the lines, VAT is ``gross × rate / (1 + rate)`` rounded, net is ``gross - vat``.
    """
    if isinstance(consumption_m3, bool) or not isinstance(consumption_m3, int):
        raise TypeError(f"consumption_m3 must be an int, not {type(consumption_m3).__name__}")
    if consumption_m3 < 0:
        raise ValueError(f"consumption must not be negative: {consumption_m3}")
    if not isinstance(days_per_month, Decimal) or days_per_month <= 0:
        raise ValueError("days_per_month must be a positive Decimal")
    rates = select_tariffs(tariffs, consumer_group, region, period_start, period_end)
    first, last = billing_days(period_start, period_end)
    total_days = (last - first).days + 1
    total = Decimal(consumption_m3)

    lines: list[BillLine] = []
    days_so_far = 0
    allocated = Decimal("0.000")
    for tariff in rates:
        seg_from = max(first, tariff.valid_from)
        seg_to = last if tariff.valid_to is None else min(last, tariff.valid_to)
        days = (seg_to - seg_from).days + 1
        days_so_far += days
        cumulative = round_volume(total * days_so_far / total_days)
        m3, allocated = cumulative - allocated, cumulative
        lines.extend(_segment_lines(seg_from, seg_to, days, m3, tariff, days_per_month))
    return Bill.from_lines(consumption_m3, period_start, period_end, consumer_group, region, lines)


def _segment_lines(
    seg_from: date,
    seg_to: date,
    days: int,
    m3: Decimal,
    tariff: TariffRate,
    days_per_month: Decimal,
) -> list[BillLine]:
    if not tariff.blocks:
        return [
            BillLine.priced(
                seg_from, seg_to, m3, tariff.water_price, tariff.sewer_price, tariff.vat_rate
            )
        ]
    lines = []
    below = Decimal("0.000")
    for number, block in enumerate(tariff.blocks, start=1):
        if block.upto_m3_per_month is None:
            upto = m3
        else:
            upto = min(m3, round_volume(block.upto_m3_per_month * days / days_per_month))
        in_block, below = upto - below, upto
        if in_block > 0 or (number == 1 and m3 == 0):
            lines.append(
                BillLine.priced(
                    seg_from,
                    seg_to,
                    in_block,
                    block.water_price,
                    block.sewer_price,
                    tariff.vat_rate,
                    number,
                    block.upto_m3_per_month,
                )
            )
    return lines
