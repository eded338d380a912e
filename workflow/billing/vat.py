"""VAT and money: amounts in AZN rounded to the qəpik, VAT broken out of VAT-inclusive prices.

Rules:

- Money is ``Decimal`` AZN rounded to the qəpik (0.01) with ``ROUND_HALF_UP``; never ``float``.
- Prices are VAT-inclusive (18 % since 2001): VAT is broken *out* of the gross, never added to
  it: ``vat = gross × rate / (1 + rate)``, rounded to the qəpik once per VAT rate over the sum of
  the rounded lines at that rate; ``net = gross - vat``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

QEPIK = Decimal("0.01")


def round_money(amount: Decimal) -> Decimal:
    """Round to the qəpik, half up."""
    return amount.quantize(QEPIK, rounding=ROUND_HALF_UP)


def vat_included(gross_by_rate: Iterable[tuple[Decimal, Decimal]]) -> Decimal:
    """The VAT inside VAT-inclusive amounts, given as ``(gross, rate)`` pairs.

    The gross of each rate is summed first, then its VAT is broken out and rounded, so a bill
    with one VAT rate has exactly one rounding step for its VAT.
    """
    totals: dict[Decimal, Decimal] = {}
    for gross, rate in gross_by_rate:
        totals[rate] = totals.get(rate, Decimal(0)) + gross
    vat = Decimal("0.00")
    for rate, gross in totals.items():
        vat += round_money(gross * rate / (1 + rate))
    return vat
