"""Bills: the priced lines of a billing period and their totals, stored as JSON on the invoice.

Rules:

- Every line amount (water and sewerage separately) is ``m³ × price`` rounded to the qəpik on
  its own; the totals are sums of the rounded lines, so a printed invoice adds up.
- The lines' m³ add up exactly to the period's consumption (see :mod:`workflow.billing.proration`).
- VAT is broken out of the gross per VAT rate (:func:`workflow.billing.vat.vat_included`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from workflow.billing.tariffs import _decimal_or_none, _str_or_none
from workflow.billing.vat import QEPIK, round_money, vat_included

BILL_FORMAT_VERSION = 1


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
            raise ValueError(
                f"a line from {self.date_from} to {self.date_to} cannot have {self.days} days"
            )
        if self.gross != self.water_amount + self.sewer_amount:
            raise ValueError("a line's gross must be its water plus sewerage amounts")

    @classmethod
    def priced(
        cls,
        date_from: date,
        date_to: date,
        m3: Decimal,
        water_price: Decimal,
        sewer_price: Decimal,
        vat_rate: Decimal,
        block: int | None = None,
        block_upto: Decimal | None = None,
    ) -> BillLine:
        water = round_money(m3 * water_price)
        sewer = round_money(m3 * sewer_price)
        return cls(
            date_from,
            date_to,
            (date_to - date_from).days + 1,
            m3,
            water_price,
            sewer_price,
            water,
            sewer,
            water + sewer,
            vat_rate,
            block,
            block_upto,
        )

    def to_dict(self) -> dict[str, Any]:
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
    def from_dict(cls, data: dict[str, Any]) -> BillLine:
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
    def from_lines(
        cls,
        consumption_m3: int,
        period_start: date,
        period_end: date,
        consumer_group: str,
        region: str,
        lines: Sequence[BillLine],
    ) -> Bill:
        """Totals from the lines: VAT is broken out of the gross of each VAT rate and rounded."""
        gross = sum((line.gross for line in lines), Decimal(0)).quantize(QEPIK)
        vat = vat_included((line.gross, line.vat_rate) for line in lines)
        return cls(
            consumption_m3,
            period_start,
            period_end,
            consumer_group,
            region,
            tuple(lines),
            gross,
            vat,
            gross - vat,
        )

    def to_dict(self) -> dict[str, Any]:
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
    def from_dict(cls, data: dict[str, Any]) -> Bill:
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
