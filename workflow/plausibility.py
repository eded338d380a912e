"""Plausibility checks on one meter register (DOMAIN.md, "Meter reading plausibility").

Every check is independent and reports a :class:`Flag`; nothing here throws a reading away.
Severities:

``block``
    the form refuses the reading (too many digits, date in the future, before the last reading,
    before installation, duplicate, lower than the last reading unless a register rollover
    explains it);
``confirm``
    the citizen is warned and must answer "yes, it is correct" (zero consumption, above or
    below the expected consumption);
``inspect``
    staff only, a reason to consider a site check (rollover, outside the tolerance band, too many
    unverified readings, and the photo evidence flags of :mod:`workflow.photos`).

A reading that carries any ``confirm`` or ``inspect`` flag conflicts with the records: staff see
the on-site inspection pre-selected (SAP's "control meter reading order").

Expected consumption for the period since the baseline reading (``m`` = days / 30.44):

* with usable own history, ``E = own monthly average x m``:
  ``above_expected`` above ``high_factor x E`` (confirm); ``below_expected`` below the low edge
  of the tolerance band, ``(1 - tolerance_low) x E`` (confirm); ``outside_tolerance`` above the
  high edge ``(1 + tolerance_high) x E`` but not above ``high_factor x E`` (inspect: the softer
  SAP band, shown to staff only, the citizen is not asked);
* without it, the person band ``persons x (2..8) m3 x m``: ``above_expected`` / ``below_expected``;
  with the household size unknown too, there is no expectation and no such flag.

Messages state the expected range in words and units ("about 4 to 11 m³ in 30 days").

A value lower than the baseline is a register rollover (:func:`workflow.consumption.consumption`,
the one consumption rule) when the wrapped consumption is not above the high limit (``high_factor
x E``, or the person band's top, or ``rollover_max_fraction`` of the register without any
expectation): it passes, flagged ``rollover`` for staff. Otherwise it is ``lower_than_previous``
and blocks: a meter only counts up.

Figures are whole m3, so deviations within ``resolution_slack_m3`` of an edge never flag.
Zero consumption is judged by ``zero_consumption`` alone (over the run of unchanged readings).
A first reading with no earlier reading at all gets the date and digit checks only.

Sources of posted readings: ``inspector`` and ``utility`` are actual reads by the utility,
``citizen`` is a customer read, ``estimate`` is a billed estimate. Estimates never serve as the
baseline of a new reading: a real reading below an over-estimate is the catch-up the citizen is
owed, not a "lower than previous" reading.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from workflow.consumption import consumption as register_consumption
from workflow.i18n import N_, Message
from workflow.plausibility_results import Flag, PlausibilityResult, Severity

__all__ = [
    "SOURCES",
    "ACTUAL_SOURCES",
    "PostedReading",
    "ReadingHistory",
    "MeterFacts",
    "DeclaredReading",
    "PlausibilityConfig",
    "Flag",
    "PlausibilityResult",
    "check_reading",
    "monthly_average",
]

SOURCES = ("citizen", "inspector", "estimate", "utility")
ACTUAL_SOURCES = frozenset({"inspector", "utility"})  # read by the utility's own people
UNVERIFIED_SOURCES = frozenset({"citizen", "estimate"})


class PostedReading(NamedTuple):
    date: date
    value: int
    source: str


@dataclass(frozen=True)
class ReadingHistory:
    """Posted readings of one meter register, any order in; kept sorted by date (stable)."""

    readings: tuple[PostedReading, ...] = ()

    def __post_init__(self) -> None:
        items = []
        for r in self.readings:
            r = PostedReading(*r)
            if r.source not in SOURCES:
                raise ValueError(f"unknown reading source {r.source!r}")
            items.append(r)
        object.__setattr__(self, "readings", tuple(sorted(items, key=lambda r: r.date)))

    @classmethod
    def of(cls, readings: Iterable[tuple[date, int, str]]) -> ReadingHistory:
        return cls(tuple(PostedReading(*r) for r in readings))

    def __len__(self) -> int:
        return len(self.readings)


@dataclass(frozen=True)
class MeterFacts:
    register_digits: int
    installed_on: date | None = None


@dataclass(frozen=True)
class DeclaredReading:
    value: int
    date: date

    def __post_init__(self) -> None:
        if self.value < 0:
            raise ValueError("a register reading is never negative")


PersonsInHousehold = int | None


@dataclass(frozen=True)
class PlausibilityConfig:
    # Flag above high_factor x the subscriber's own average monthly consumption.
    high_factor: float = 3.0
    # m3 per person per month, used when there is no usable own history (DOMAIN.md inference).
    expected_m3_per_person_month: tuple[float, float] = (2.0, 8.0)
    # SAP-style tolerance band around the own average: +70 % / -40 %.
    tolerance_high: float = 0.70
    tolerance_low: float = 0.40
    # Zero consumption is accepted for up to this many days.
    zero_allowed_days: int = 31
    # At most this many estimated or customer readings in a row without an actual read.
    max_consecutive_unverified: int = 6
    # Own history counts as usable from this many months (30.44 days) of readings.
    min_history_months: float = 3.0
    # Window for the own average, ending at the last posted reading.
    average_window_days: int = 365
    days_per_month: float = 30.44
    # The register shows whole m3: deviations within this slack of a band edge never flag.
    resolution_slack_m3: float = 1.0
    # Without any expectation (no history, persons unknown) a rollover is accepted when the
    # implied consumption is at most this fraction of the register's range.
    rollover_max_fraction: float = 0.01


def _num(x: float) -> int | float:
    """A figure for a message: whole numbers as int, others to one decimal."""
    x = round(x, 1)
    return int(x) if x == int(x) else x


def _consumptions(
    readings: list[PostedReading], register_digits: int | None
) -> list[tuple[int, int]]:
    """(days, m3) between consecutive readings, a register rollover counted as such.

    A pair that goes backwards counts as a rollover of the ``register_digits`` register, except
    when either side is an estimate (a real reading below an over-estimate is a catch-up, not
    consumption) or the register size is unknown: such pairs are left out.
    """
    out = []
    for a, b in zip(readings, readings[1:], strict=False):
        days = (b.date - a.date).days
        if days <= 0:
            continue
        if b.value >= a.value:
            out.append((days, b.value - a.value))
        elif register_digits is not None and "estimate" not in (a.source, b.source):
            out.append((days, register_consumption(a.value, b.value, register_digits).m3))
    return out


def monthly_average(
    history: ReadingHistory,
    config: PlausibilityConfig = PlausibilityConfig(),
    register_digits: int | None = None,
) -> float | None:
    """Own average m3 per 30.44-day month over the window ending at the last posted reading.

    Estimates are ignored when the actual (non-estimate) readings alone cover at least
    ``min_history_months``; otherwise they are used too. None when even that is too short.
    With ``register_digits`` a rollover in the history counts its wrapped consumption.
    """
    if not history.readings:
        return None
    end = history.readings[-1].date
    window = [r for r in history.readings if (end - r.date).days <= config.average_window_days]
    actual = [r for r in window if r.source != "estimate"]
    for candidate in (actual, window):
        pairs = _consumptions(candidate, register_digits)
        days = sum(d for d, _ in pairs)
        if days and days / config.days_per_month >= config.min_history_months:
            return sum(m for _, m in pairs) / days * config.days_per_month
    return None


def check_reading(
    declared: DeclaredReading,
    meter: MeterFacts,
    history: ReadingHistory,
    today: date,
    config: PlausibilityConfig = PlausibilityConfig(),
    persons: PersonsInHousehold = None,
) -> PlausibilityResult:
    flags: list[Flag] = []
    value, when = declared.value, declared.date
    iso = when.isoformat()
    readings = list(history.readings)
    base_params = {"value": value, "date": iso}

    def flag(code: str, severity: Severity, text: str, **params: Any) -> None:
        flags.append(Flag(code, severity, Message(text, {**base_params, **params})))

    # -- the form refuses these ------------------------------------------------------------
    too_many_digits = len(str(value)) > meter.register_digits
    if too_many_digits:
        flag(
            "too_many_digits",
            "block",
            N_(
                "The reading %(value)s has more digits than the meter, which shows %(digits)s. Type "
                "only the black digits (cubic metres) and leave out the red ones"
            ),
            digits=meter.register_digits,
        )
    if when > today:
        flag(
            "date_in_future",
            "block",
            N_(
                "The reading date %(date)s is in the future. Enter the date you read the meter: "
                "today, %(today)s, or earlier"
            ),
            today=today.isoformat(),
        )
    if meter.installed_on is not None and when < meter.installed_on:
        flag(
            "date_before_installation",
            "block",
            N_(
                "The reading date %(date)s is before the meter was installed on %(installed_on)s. "
                "Check the date you read the meter"
            ),
            installed_on=meter.installed_on.isoformat(),
        )
    duplicate = any(r.date == when and r.value == value for r in readings)
    if duplicate:
        flag(
            "duplicate_reading",
            "block",
            N_(
                "The reading %(value)s of %(date)s has already been recorded. You do not need to "
                "send it again"
            ),
        )
    # Estimates are never a baseline (see the module docstring).
    real = [r for r in readings if r.source != "estimate"]
    baseline = real[-1] if real else None
    if baseline is not None and when <= baseline.date and not duplicate:
        flag(
            "date_before_last_reading",
            "block",
            N_(
                "The reading date %(date)s must be later than the last recorded reading, "
                "%(previous)s of %(previous_date)s"
            ),
            previous=baseline.value,
            previous_date=baseline.date.isoformat(),
        )

    # -- staff: unverified run (independent of the value) ------------------------------------
    run = []
    for r in reversed(readings):
        if r.source not in UNVERIFIED_SOURCES:
            break
        run.append(r)
    if len(run) + 1 > config.max_consecutive_unverified:
        flag(
            "too_many_unverified",
            "inspect",
            N_(
                "This would be reading %(count)s in a row without a reading by the utility: the "
                "ones since %(since)s were estimated or sent by the subscriber"
            ),
            count=len(run) + 1,
            since=run[-1].date.isoformat() if run else iso,
        )

    # -- value checks: only against a valid baseline on an earlier date ----------------------
    consumption: int | None = None
    rollover = False
    if too_many_digits or duplicate or baseline is None or when <= baseline.date:
        return PlausibilityResult(tuple(flags), consumption, rollover)

    days = (when - baseline.date).days
    months = days / config.days_per_month
    prev = {"previous": baseline.value, "previous_date": baseline.date.isoformat(), "days": days}
    average = monthly_average(history, config, meter.register_digits)
    people = persons if persons and persons > 0 else None
    expected: float | None
    high: float | None
    low: float | None
    band_high: float | None
    if average is not None:
        expected = average * months
        high = config.high_factor * expected
        low = (1 - config.tolerance_low) * expected
        band_high = (1 + config.tolerance_high) * expected
    elif people is not None:
        lo, hi = config.expected_m3_per_person_month
        expected = None
        high, low, band_high = hi * people * months, lo * people * months, None
    else:
        expected = high = low = band_high = None
    slack = config.resolution_slack_m3

    used = register_consumption(baseline.value, value, meter.register_digits)
    if not used.rollover:
        consumption = used.m3
    else:
        wrapped = used.m3
        limit = (
            high if high is not None else 10**meter.register_digits * config.rollover_max_fraction
        )
        if wrapped <= limit + slack:
            consumption, rollover = wrapped, True
            flag(
                "rollover",
                "inspect",
                N_(
                    "The reading %(value)s is lower than the last recorded reading %(previous)s of "
                    "%(previous_date)s. The %(digits)s-digit register has probably passed 0, which "
                    "means %(consumption)s m³ were used"
                ),
                **prev,
                digits=meter.register_digits,
                consumption=wrapped,
            )
        else:
            flag(
                "lower_than_previous",
                "block",
                N_(
                    "The reading %(value)s is lower than the last recorded reading %(previous)s of "
                    "%(previous_date)s, and a meter only counts up. Check that you typed the black "
                    "digits of the right meter"
                ),
                **prev,
            )
            return PlausibilityResult(tuple(flags), None, False)

    if consumption == 0:
        # Zero over a longer period: count from the oldest reading of the same value in a row.
        since = baseline
        for r in reversed(real):
            if r.value != value:
                break
            since = r
        zero_days = (when - since.date).days
        if zero_days > config.zero_allowed_days:
            flag(
                "zero_consumption",
                "confirm",
                N_(
                    "The reading %(value)s is the same as on %(since)s: no water used for %(days)s "
                    "days. Check the reading, or confirm it if nobody used water"
                ),
                since=since.date.isoformat(),
                days=zero_days,
            )
        return PlausibilityResult(tuple(flags), consumption, rollover)

    figures = {**prev, "consumption": consumption}
    # The usual range told to the citizen: the tolerance band around the own average, or the
    # person band; the "high" limit above it is when the citizen is asked.
    usual_high = band_high if band_high is not None else high
    # low and high are set together: both numbers or both None
    expected_range = (
        {} if low is None or usual_high is None else {"low": round(low), "high": round(usual_high)}
    )
    if high is not None and consumption > high + slack:
        flag(
            "above_expected",
            "confirm",
            N_(
                "The reading %(value)s means %(consumption)s m³ used in %(days)s days since "
                "%(previous_date)s. This household usually uses about %(low)s to %(high)s m³ in that "
                "time. Check the reading"
            ),
            **figures,
            **expected_range,
            limit=_num(high),
        )
    elif low is not None and consumption < low - slack:
        flag(
            "below_expected",
            "confirm",
            N_(
                "The reading %(value)s means only %(consumption)s m³ used in %(days)s days since "
                "%(previous_date)s. This household usually uses about %(low)s to %(high)s m³ in that "
                "time. Check the reading"
            ),
            **figures,
            **expected_range,
            limit=_num(low),
        )
    elif (
        band_high is not None
        and expected is not None
        and low is not None
        and consumption > band_high + slack
    ):
        flag(
            "outside_tolerance",
            "inspect",
            N_(
                "%(consumption)s m³ used in %(days)s days since %(previous_date)s is outside the "
                "usual range of %(low)s to %(high)s m³ for this subscriber"
            ),
            **figures,
            low=_num(low),
            high=_num(band_high),
            expected=_num(expected),
        )
    return PlausibilityResult(tuple(flags), consumption, rollover)
