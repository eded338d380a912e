"""Billing: consumption from register readings, the tariffs in force, pro-rata bills, VAT breakout.

Conventions (DOMAIN.md, Tariffs):

- Money is ``Decimal`` AZN rounded to the qəpik (0.01) with ``ROUND_HALF_UP``; never ``float``.
- Meter registers show whole m³, so readings and a bill's consumption are ``int``. A bill line
  carries its share of the consumption as a ``Decimal`` with 3 decimals (litres).
- Prices are VAT-inclusive: VAT is broken *out* of the gross, never added to it.
- A billing period runs from one reading date to the next: the days billed are the days *after*
  ``period_start`` up to and including ``period_end`` (``select_tariffs`` and ``compute_bill``
  use this one convention, so callers pass the two reading dates to both).
- A period that spans a tariff change is billed pro rata by days: the consumption is spread
  evenly over the days of the period and each tariff prices the days it is in force.
- Rounding: every line amount is rounded on its own, the totals are sums of the rounded lines
  (so a printed invoice adds up), and the m³ allocated to the segments add up exactly to the
  consumption.

Pure Python: no Flask, rq or database imports. Tariffs come from the database (or
``workflow.tariff_table.STANDARD_TARIFFS`` as seed data) and are passed in.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable, Sequence

QEPIK = Decimal("0.01")
LITRE = Decimal("0.001")

POPULATION = "population"
NON_POPULATION = "non_population"
REGION_BAKU = "baku"  # Baku, Sumgayit, Khirdalan, Absheron
REGION_OTHER = "other"
REGION_ANY = "any"  # a tariff with this region applies to every region (non-population)

# Block bounds are "per month"; a segment of `days` days gets bounds scaled by days / 30.
DEFAULT_DAYS_PER_MONTH = Decimal(30)

BILL_FORMAT_VERSION = 1


class TariffError(ValueError):
    """No single tariff is in force for some day of a billing period."""


def round_money(amount: Decimal) -> Decimal:
    """Round to the qəpik, half up."""
    return amount.quantize(QEPIK, rounding=ROUND_HALF_UP)


def round_volume(m3: Decimal) -> Decimal:
    """Round a volume to the litre (0.001 m³), half up."""
    return m3.quantize(LITRE, rounding=ROUND_HALF_UP)


def _require_decimal(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative amount, not {value}")


# --------------------------------------------------------------------------- consumption

@dataclass(frozen=True)
class Consumption:
    m3: int
    rollover: bool


def consumption(previous: int, current: int, register_digits: int) -> Consumption:
    """m³ used between two readings of a register with ``register_digits`` digits.

    A current reading lower than the previous one is read as exactly one rollover of the
    register (999…9 → 000…0): ``m3 = 10**digits - previous + current``. Whether such a reading is
    plausible is decided elsewhere (``workflow.plausibility``); this function only computes.
    A reading with more digits than the register has raises ``ValueError``.
    """
    for name, value in (("previous", previous), ("current", current), ("register_digits", register_digits)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if register_digits < 1:
        raise ValueError(f"register_digits must be at least 1, not {register_digits}")
    modulus = 10**register_digits
    for name, value in (("previous", previous), ("current", current)):
        if value < 0:
            raise ValueError(f"{name} reading must not be negative: {value}")
        if value >= modulus:
            raise ValueError(
                f"{name} reading {value} has more digits than the {register_digits}-digit register"
            )
    if current >= previous:
        return Consumption(current - previous, False)
    return Consumption(modulus - previous + current, True)


# --------------------------------------------------------------------------- tariffs

@dataclass(frozen=True)
class TariffBlock:
    """One consumption block: prices for the m³ of a month up to ``upto_m3_per_month``.

    ``upto_m3_per_month`` is the block's upper bound (cumulative, per month); ``None`` means
    unbounded and is allowed only for the last block.
    """

    upto_m3_per_month: Decimal | None
    water_price: Decimal
    sewer_price: Decimal

    def __post_init__(self) -> None:
        _require_decimal("upto_m3_per_month", self.upto_m3_per_month, allow_none=True)
        _require_decimal("water_price", self.water_price)
        _require_decimal("sewer_price", self.sewer_price)
        if self.upto_m3_per_month is not None and self.upto_m3_per_month <= 0:
            raise ValueError("a block's upper bound must be positive")

    def to_dict(self) -> dict:
        return {
            "upto_m3_per_month": _str_or_none(self.upto_m3_per_month),
            "water_price": str(self.water_price),
            "sewer_price": str(self.sewer_price),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "TariffBlock":
        return cls(
            upto_m3_per_month=_decimal_or_none(data.get("upto_m3_per_month")),
            water_price=Decimal(data["water_price"]),
            sewer_price=Decimal(data["sewer_price"]),
        )


@dataclass(frozen=True)
class TariffRate:
    """VAT-inclusive prices (AZN per m³) for a consumer group and region over a date range.

    ``valid_to`` is the last day in force (inclusive); ``None`` means still in force. When
    ``blocks`` is not empty the blocks replace the flat ``water_price`` / ``sewer_price``; see
    ``compute_bill`` for how block bounds apply to a billing segment.
    """

    consumer_group: str
    region: str
    water_price: Decimal
    sewer_price: Decimal
    vat_rate: Decimal
    valid_from: date
    valid_to: date | None
    blocks: tuple[TariffBlock, ...] = ()

    def __post_init__(self) -> None:
        _require_decimal("water_price", self.water_price)
        _require_decimal("sewer_price", self.sewer_price)
        _require_decimal("vat_rate", self.vat_rate)
        if self.vat_rate >= 1:
            raise ValueError(f"vat_rate is a fraction (0.18 for 18%), not {self.vat_rate}")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError(f"tariff ends ({self.valid_to}) before it starts ({self.valid_from})")
        if not isinstance(self.blocks, tuple):
            raise TypeError("blocks must be a tuple of TariffBlock")
        bounds = [b.upto_m3_per_month for b in self.blocks]
        if bounds:
            if bounds[-1] is not None or None in bounds[:-1]:
                raise ValueError("only the last block, and it always, is unbounded (upto_m3_per_month=None)")
            finite = bounds[:-1]
            if any(a >= b for a, b in zip(finite, finite[1:])):
                raise ValueError("block bounds must increase")

    def applies_to(self, consumer_group: str, region: str) -> bool:
        return self.consumer_group == consumer_group and self.region in (region, REGION_ANY)

    def in_force(self, first_day: date, last_day: date) -> bool:
        """True if the tariff is in force on at least one day of ``first_day..last_day``."""
        return self.valid_from <= last_day and (self.valid_to is None or self.valid_to >= first_day)


def _billing_days(start: date, end: date) -> tuple[date, date]:
    """First and last day billed for the period between two reading dates."""
    if end <= start:
        raise ValueError(f"a billing period must end after it starts ({start} → {end})")
    return start + timedelta(days=1), end


def select_tariffs(
    tariffs: Iterable[TariffRate], consumer_group: str, region: str, start: date, end: date
) -> list[TariffRate]:
    """The tariffs of ``consumer_group`` / ``region`` in force between two reading dates.

    The days considered are those after ``start`` up to and including ``end``. The result is
    sorted by ``valid_from``; a tariff whose region is ``"any"`` matches every region. Raises
    ``TariffError`` when a day is covered by no tariff or by two.
    """
    first, last = _billing_days(start, end)
    chosen = sorted(
        (t for t in tariffs if t.applies_to(consumer_group, region) and t.in_force(first, last)),
        key=lambda t: t.valid_from,
    )
    next_day: date | None = first  # first day not yet covered; None once open-ended
    for index, tariff in enumerate(chosen):
        if next_day is None or (index > 0 and tariff.valid_from < next_day):
            raise TariffError(
                f"two {consumer_group}/{region} tariffs are in force on {tariff.valid_from}"
            )
        if tariff.valid_from > next_day:
            raise TariffError(
                f"no {consumer_group}/{region} tariff from {next_day} to {tariff.valid_from - timedelta(days=1)}"
            )
        next_day = None if tariff.valid_to is None else tariff.valid_to + timedelta(days=1)
    if next_day is not None and next_day <= last:
        raise TariffError(f"no {consumer_group}/{region} tariff from {next_day} to {last}")
    return chosen


# --------------------------------------------------------------------------- bills

@dataclass(frozen=True)
class BillLine:
    """The charge for one tariff segment (or one block of it) of a billing period.

    ``date_from`` / ``date_to`` are the first and last day billed (inclusive). For a block
    tariff there is one line per block used, each with the segment's dates and days, and
    ``block`` is the 1-based block number (``None`` for a flat tariff).
    """

    date_from: date
    date_to: date
    days: int
    m3: Decimal
    water_price: Decimal
    sewer_price: Decimal
    water_amount: Decimal
    sewer_amount: Decimal
    gross: Decimal
    vat_rate: Decimal
    block: int | None = None
    block_upto_m3_per_month: Decimal | None = None

    def __post_init__(self) -> None:
        if self.days != (self.date_to - self.date_from).days + 1:
            raise ValueError(f"a line from {self.date_from} to {self.date_to} cannot have {self.days} days")
        if self.gross != self.water_amount + self.sewer_amount:
            raise ValueError("a line's gross must be its water plus sewerage amounts")

    @classmethod
    def priced(cls, date_from: date, date_to: date, m3: Decimal, water_price: Decimal,
               sewer_price: Decimal, vat_rate: Decimal, block: int | None = None,
               block_upto: Decimal | None = None) -> "BillLine":
        water = round_money(m3 * water_price)
        sewer = round_money(m3 * sewer_price)
        return cls(date_from, date_to, (date_to - date_from).days + 1, m3, water_price, sewer_price,
                   water, sewer, water + sewer, vat_rate, block, block_upto)

    def to_dict(self) -> dict:
        return {
            "date_from": self.date_from.isoformat(),
            "date_to": self.date_to.isoformat(),
            "days": self.days,
            "m3": str(self.m3),
            "water_price": str(self.water_price),
            "sewer_price": str(self.sewer_price),
            "water_amount": str(self.water_amount),
            "sewer_amount": str(self.sewer_amount),
            "gross": str(self.gross),
            "vat_rate": str(self.vat_rate),
            "block": self.block,
            "block_upto_m3_per_month": _str_or_none(self.block_upto_m3_per_month),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "BillLine":
        return cls(
            date_from=date.fromisoformat(data["date_from"]),
            date_to=date.fromisoformat(data["date_to"]),
            days=int(data["days"]),
            m3=Decimal(data["m3"]),
            water_price=Decimal(data["water_price"]),
            sewer_price=Decimal(data["sewer_price"]),
            water_amount=Decimal(data["water_amount"]),
            sewer_amount=Decimal(data["sewer_amount"]),
            gross=Decimal(data["gross"]),
            vat_rate=Decimal(data["vat_rate"]),
            block=data.get("block"),
            block_upto_m3_per_month=_decimal_or_none(data.get("block_upto_m3_per_month")),
        )


@dataclass(frozen=True)
class Bill:
    """A priced billing period. Totals are sums of the rounded lines; ``net = gross - vat``."""

    consumption_m3: int
    period_start: date
    period_end: date
    consumer_group: str
    region: str
    lines: tuple[BillLine, ...]
    gross: Decimal
    vat: Decimal
    net: Decimal

    def __post_init__(self) -> None:
        if sum((line.m3 for line in self.lines), Decimal(0)) != self.consumption_m3:
            raise ValueError("the lines' m³ must add up to the consumption")
        if self.gross != sum((line.gross for line in self.lines), Decimal(0)):
            raise ValueError("the gross must be the sum of the lines")
        if self.net != self.gross - self.vat:
            raise ValueError("net must be gross minus VAT")

    @property
    def days(self) -> int:
        return (self.period_end - self.period_start).days

    @property
    def vat_rates(self) -> tuple[Decimal, ...]:
        return tuple(sorted({line.vat_rate for line in self.lines}))

    @classmethod
    def from_lines(cls, consumption_m3: int, period_start: date, period_end: date,
                   consumer_group: str, region: str, lines: Sequence[BillLine]) -> "Bill":
        """Totals from the lines: VAT is broken out of the gross of each VAT rate and rounded."""
        gross = sum((line.gross for line in lines), Decimal(0)).quantize(QEPIK)
        vat = Decimal("0.00")
        for rate in {line.vat_rate for line in lines}:
            gross_at_rate = sum((line.gross for line in lines if line.vat_rate == rate), Decimal(0))
            vat += round_money(gross_at_rate * rate / (1 + rate))
        return cls(consumption_m3, period_start, period_end, consumer_group, region,
                   tuple(lines), gross, vat, gross - vat)

    def to_dict(self) -> dict:
        """JSON-safe: Decimals and dates as strings."""
        return {
            "version": BILL_FORMAT_VERSION,
            "consumption_m3": self.consumption_m3,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "consumer_group": self.consumer_group,
            "region": self.region,
            "lines": [line.to_dict() for line in self.lines],
            "gross": str(self.gross),
            "vat": str(self.vat),
            "net": str(self.net),
        }

    @classmethod
    def from_dict(cls, data: dict) -> "Bill":
        if data.get("version") != BILL_FORMAT_VERSION:
            raise ValueError(f"unknown bill format version: {data.get('version')!r}")
        return cls(
            consumption_m3=int(data["consumption_m3"]),
            period_start=date.fromisoformat(data["period_start"]),
            period_end=date.fromisoformat(data["period_end"]),
            consumer_group=data["consumer_group"],
            region=data["region"],
            lines=tuple(BillLine.from_dict(line) for line in data["lines"]),
            gross=Decimal(data["gross"]),
            vat=Decimal(data["vat"]),
            net=Decimal(data["net"]),
        )


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
    first, last = _billing_days(period_start, period_end)
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


def _segment_lines(seg_from: date, seg_to: date, days: int, m3: Decimal, tariff: TariffRate,
                   days_per_month: Decimal) -> list[BillLine]:
    if not tariff.blocks:
        return [BillLine.priced(seg_from, seg_to, m3, tariff.water_price, tariff.sewer_price, tariff.vat_rate)]
    lines = []
    below = Decimal("0.000")
    for number, block in enumerate(tariff.blocks, start=1):
        if block.upto_m3_per_month is None:
            upto = m3
        else:
            upto = min(m3, round_volume(block.upto_m3_per_month * days / days_per_month))
        in_block, below = upto - below, upto
        if in_block > 0 or (number == 1 and m3 == 0):
            lines.append(BillLine.priced(seg_from, seg_to, in_block, block.water_price, block.sewer_price,
                                         tariff.vat_rate, number, block.upto_m3_per_month))
    return lines


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
