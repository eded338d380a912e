"""Tariffs: the VAT-inclusive prices in force for a consumer group and region, by day.

Rules:

- Prices are AZN per m³ with VAT included, as ``Decimal`` (never ``float``); the Tariff Council
  sets separate water and sewerage prices for the population (Baku region and the rest) and one
  price for everyone else (region ``"any"``).
- A tariff is in force from ``valid_from`` up to and including ``valid_to`` (``None``: still in
  force). For every day of a billing period exactly one tariff of the subscriber's group and
  region must be in force, or :func:`select_tariffs` raises :class:`TariffError`.
- A billing period runs from one reading date to the next: the days billed are the days *after*
  ``period_start`` up to and including ``period_end`` (:func:`billing_days`; the same convention
  in :mod:`workflow.billing.proration`).
- Block tariffs: a tariff may price consumption in blocks with monthly bounds
  (:class:`TariffBlock`); how bounds apply to a part of a month is a proration rule.

Tariffs come from the ``tariff`` table (seeded from ``workflow/data/tariffs.toml``) and are
passed in; nothing here reads a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

POPULATION = "population"
NON_POPULATION = "non_population"
REGION_BAKU = "baku"  # Baku, Sumgayit, Khirdalan, Absheron
REGION_OTHER = "other"
REGION_ANY = "any"  # a tariff with this region applies to every region (non-population)


class TariffError(ValueError):
    """No single tariff is in force for some day of a billing period."""


def _require_decimal(name: str, value: Any, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__}")
    if not value.is_finite() or value < 0:
        raise ValueError(f"{name} must be a finite, non-negative amount, not {value}")


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

    def to_dict(self) -> dict[str, str | None]:
        return {
            "upto_m3_per_month": _str_or_none(self.upto_m3_per_month),
            "water_price": str(self.water_price),
            "sewer_price": str(self.sewer_price),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TariffBlock:
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
                raise ValueError(
                    "only the last block, and it always, is unbounded (upto_m3_per_month=None)"
                )
            finite = [b for b in bounds[:-1] if b is not None]  # None was refused just above
            if any(a >= b for a, b in zip(finite, finite[1:], strict=False)):
                raise ValueError("block bounds must increase")

    def applies_to(self, consumer_group: str, region: str) -> bool:
        return self.consumer_group == consumer_group and self.region in (region, REGION_ANY)

    def in_force(self, first_day: date, last_day: date) -> bool:
        """True if the tariff is in force on at least one day of ``first_day..last_day``."""
        return self.valid_from <= last_day and (self.valid_to is None or self.valid_to >= first_day)


def billing_days(start: date, end: date) -> tuple[date, date]:
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
    first, last = billing_days(start, end)
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


def _str_or_none(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _decimal_or_none(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)
