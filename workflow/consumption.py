"""Consumption: the m³ a meter register counted between two readings, rollover included.

The one place this rule lives. Billing (:mod:`workflow.invoicing`), plausibility
(:mod:`workflow.plausibility`), the invoice's meter lines and every consumption chart call
:func:`consumption` or :func:`monthly_consumption`, so they always agree.

The rule: a register of ``d`` digits counts from 0 to ``10**d - 1`` and then passes 0 again (a
"rollover"). A later reading lower than the earlier one is read as exactly one rollover:
``m3 = 10**d - previous + current``. Whether such a reading is believable is decided by
plausibility (it blocks the citizen unless the wrapped consumption fits what the household
uses); this module only computes. A reading with more digits than the register raises
``ValueError``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

__all__ = ["Consumption", "consumption", "monthly_consumption"]


@dataclass(frozen=True)
class Consumption:
    m3: int
    rollover: bool


def consumption(previous: int, current: int, register_digits: int) -> Consumption:
    """m³ used between two readings of a register with ``register_digits`` digits (see module)."""
    for name, value in (
        ("previous", previous),
        ("current", current),
        ("register_digits", register_digits),
    ):
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


def _month(day: date) -> date:
    return day.replace(day=1)


def monthly_consumption(
    meters: Iterable[tuple[int, Iterable[tuple[date, int]]]], months: Iterable[date]
) -> dict[date, int | None]:
    """m³ per calendar month, summed over meters, for a consumption chart.

    ``meters`` holds ``(register_digits, readings)`` per meter, the readings as ``(read_on,
    value)`` in posting order. Each reading's consumption since the meter's previous reading
    (:func:`consumption`, so a register that passed 0 counts its wrapped m³) counts in the month
    of the later reading. ``months`` are the first days of the months shown; others are left out.
    A month in which no reading followed an earlier one is ``None`` (nothing to compare: a chart
    shows no bar, not a zero).
    """
    totals: dict[date, int | None] = {_month(m): None for m in months}
    for digits, readings in meters:
        previous: int | None = None
        for read_on, value in readings:
            key = _month(read_on)
            if previous is not None and key in totals:
                totals[key] = (totals[key] or 0) + consumption(previous, value, digits).m3
            previous = value
    return totals
