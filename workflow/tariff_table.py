"""The Tariff Council's water and sewerage tariffs, loaded from ``workflow/data/tariffs.toml``.

Seed data for the ``tariff`` table and for tests; the admin maintains the live table. Prices are
AZN per m³ with VAT included. Each decision is in force until the day before the next one.
"""

from __future__ import annotations

import tomllib
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from workflow.billing import TariffRate

DATA = Path(__file__).resolve().parent / "data" / "tariffs.toml"


def _load() -> tuple[tuple[TariffRate, ...], dict[date, str]]:
    with DATA.open("rb") as f:
        data = tomllib.load(f)
    vat = Decimal(data["vat_rate"])
    decisions = sorted(data["decision"], key=lambda d: d["from"])
    rates, names = [], {}
    for index, decision in enumerate(decisions):
        following = decisions[index + 1]["from"] if index + 1 < len(decisions) else None
        valid_to = following - timedelta(days=1) if following else None
        names[decision["from"]] = decision.get(
            "name", f"Tarif Şurasının qərarı ({decision['from']:%d.%m.%Y} tarixdən)"
        )
        for p in decision["prices"]:
            rates.append(
                TariffRate(
                    p["group"],
                    p["region"],
                    Decimal(p["water"]),
                    Decimal(p["sewer"]),
                    vat,
                    decision["from"],
                    valid_to,
                )
            )
    return tuple(rates), names


STANDARD_TARIFFS, DECISION_NAMES = _load()
VAT_RATE = STANDARD_TARIFFS[0].vat_rate


def tariff_rows() -> list[dict[str, Any]]:
    """The standard tariffs as rows of the ``tariff`` table, each naming its decision."""
    return [
        {
            "consumer_group": rate.consumer_group,
            "region": rate.region,
            "water_price": rate.water_price,
            "sewer_price": rate.sewer_price,
            "vat_rate": rate.vat_rate,
            "valid_from": rate.valid_from,
            "valid_to": rate.valid_to,
            "blocks": [block.to_dict() for block in rate.blocks],
            "decision": DECISION_NAMES[rate.valid_from],
        }
        for rate in STANDARD_TARIFFS
    ]
