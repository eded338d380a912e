"""Water and sewerage tariffs of the Azerbaijan Tariff Council decisions (DOMAIN.md, Tariffs).

Seed data for the ``tariff`` table and for tests; the admin maintains the live table. Prices are
AZN per m³ with VAT (18%) included. Each decision is in force until the day before the next one.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from workflow.billing import (
    NON_POPULATION,
    POPULATION,
    REGION_ANY,
    REGION_BAKU,
    REGION_OTHER,
    TariffRate,
)

VAT_RATE = Decimal("0.18")

# (in force from, {(consumer group, region): (water, sewerage)})
_DECISIONS: tuple[tuple[date, dict[tuple[str, str], tuple[str, str]]], ...] = (
    (date(2011, 2, 1), {
        (POPULATION, REGION_BAKU): ("0.30", "0.06"),
        (POPULATION, REGION_OTHER): ("0.25", "0.06"),
        # Assumption: DOMAIN.md gives no non-population price for 2011; the 2016 price
        # (1.00 / 1.00) is used so that periods reaching back to 2011 can be billed at all.
        (NON_POPULATION, REGION_ANY): ("1.00", "1.00"),
    }),
    (date(2016, 5, 16), {
        (POPULATION, REGION_BAKU): ("0.35", "0.15"),
        (POPULATION, REGION_OTHER): ("0.30", "0.15"),
        (NON_POPULATION, REGION_ANY): ("1.00", "1.00"),
    }),
    # Tariff Council Resolution No. 5 of 30 Jan 2021.
    (date(2021, 2, 1), {
        (POPULATION, REGION_BAKU): ("0.70", "0.30"),
        (POPULATION, REGION_OTHER): ("0.60", "0.30"),
        (NON_POPULATION, REGION_ANY): ("1.00", "1.00"),
    }),
)


def _build() -> tuple[TariffRate, ...]:
    rates = []
    for index, (valid_from, prices) in enumerate(_DECISIONS):
        following = _DECISIONS[index + 1][0] if index + 1 < len(_DECISIONS) else None
        valid_to = following - timedelta(days=1) if following else None
        for (group, region), (water, sewer) in prices.items():
            rates.append(TariffRate(group, region, Decimal(water), Decimal(sewer), VAT_RATE,
                                    valid_from, valid_to))
    return tuple(rates)


STANDARD_TARIFFS: tuple[TariffRate, ...] = _build()
