"""Billing: tariffs in force, pro-rata bills across tariff changes and blocks, VAT breakout.

- :mod:`workflow.billing.tariffs`: which prices are in force for a group, region and period;
- :mod:`workflow.billing.proration`: pricing a period's consumption (:func:`compute_bill`);
- :mod:`workflow.billing.vat`: money rounding and VAT broken out of VAT-inclusive prices;
- :mod:`workflow.billing.bills`: the priced lines and totals stored on an invoice.

Consumption itself (rollover included) is computed by :mod:`workflow.consumption`. Pure Python:
no Flask, rq or database imports.
"""

from workflow.billing.bills import BILL_FORMAT_VERSION, Bill, BillLine
from workflow.billing.proration import DEFAULT_DAYS_PER_MONTH, LITRE, compute_bill, round_volume
from workflow.billing.tariffs import (
    NON_POPULATION,
    POPULATION,
    REGION_ANY,
    REGION_BAKU,
    REGION_OTHER,
    TariffBlock,
    TariffError,
    TariffRate,
    billing_days,
    select_tariffs,
)
from workflow.billing.vat import QEPIK, round_money, vat_included

__all__ = [
    "BILL_FORMAT_VERSION",
    "Bill",
    "BillLine",
    "DEFAULT_DAYS_PER_MONTH",
    "LITRE",
    "compute_bill",
    "round_volume",
    "NON_POPULATION",
    "POPULATION",
    "REGION_ANY",
    "REGION_BAKU",
    "REGION_OTHER",
    "TariffBlock",
    "TariffError",
    "TariffRate",
    "billing_days",
    "select_tariffs",
    "QEPIK",
    "round_money",
    "vat_included",
]
