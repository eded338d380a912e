"""Planning the demo data: every random draw happens here, in one fixed order.

:func:`plan_subscribers` draws subscribers (names, addresses, households, contacts) and their meters from the
vocabularies of :mod:`workflow.demo.data` with one ``random.Random``; :func:`plan_readings` draws
twelve monthly readings per meter, the last one 20-40 days before the seeding day. The showcase
subscribers get the household size, monthly use and last reading their data entry names; a few
other registers are put near their maximum, and one passes 0 during the year.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from workflow.demo.data import (
    DAYS_PER_MONTH,
    DISTRICT_WEIGHTS,
    DISTRICTS,
    FEMALE_NAMES,
    MALE_NAMES,
    SHOWCASES,
    STREETS,
    SURNAMES,
)
from workflow.identifiers import SubscriberCodeFormat, make_subscriber_code

_FIN_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, no O
_TRANSLIT = str.maketrans(
    {
        "ə": "e",
        "Ə": "e",
        "ş": "sh",
        "Ş": "sh",
        "ç": "ch",
        "Ç": "ch",
        "ğ": "g",
        "ı": "i",
        "İ": "i",
        "ö": "o",
        "Ö": "o",
        "ü": "u",
        "Ü": "u",
        "x": "kh",
        "X": "kh",
        "q": "g",
        "Q": "g",
    }
)


@dataclass
class MeterPlan:
    serial: str
    seal: str
    register_digits: int
    installed_on: date
    monthly_m3: float
    kind: str = "normal"  # normal, near_max, wrapped, own, rollover
    read_day: int = 20
    citizen_share: float = 0.05
    estimate_share: float = 0.0
    clean: bool = False  # showcase: routine reads on the 20th only
    readings: list[tuple[date, int, str]] = field(default_factory=list)


@dataclass
class SubscriberPlan:
    row: dict[str, Any]
    meters: list[MeterPlan] = field(default_factory=list)


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def _translit(text: str) -> str:
    return "".join(ch for ch in text.translate(_TRANSLIT).lower() if ch.isascii() and ch.isalnum())


def _person(rng: random.Random) -> dict[str, str]:
    female = rng.random() < 0.5
    first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    surname = rng.choice(SURNAMES)
    if female and surname.endswith(("ov", "yev", "ev")):
        surname += "a"
    father = rng.choice(MALE_NAMES)
    return {
        "first_name": first,
        "last_name": surname,
        "patronymic": f"{father} {'qızı' if female else 'oğlu'}",
    }


def _address(rng: random.Random, district: str) -> dict[str, str | None]:
    street = rng.choice(STREETS[district])
    settlement = "qəsəbəsi" in street
    house = str(rng.randint(1, 60 if settlement else 180))
    roll = rng.random()
    if roll < 0.08:
        house += rng.choice(("A", "B", "C"))
    elif roll < 0.12:
        house += f"/{rng.randint(1, 5)}"
    has_flat = rng.random() < (0.25 if settlement else 0.9)
    return {
        "city": DISTRICTS[district][1],
        "street": street,
        "house": house,
        "flat": str(rng.randint(1, 160)) if has_flat else None,
    }


def _unique(rng: random.Random, taken: set[str], make: Callable[[random.Random], str]) -> str:
    while True:
        value = make(rng)
        if value not in taken:
            taken.add(value)
            return value


def _fin(rng: random.Random) -> str:
    return "".join(rng.choice(_FIN_ALPHABET) for _ in range(7))


def _phone(rng: random.Random) -> str:
    prefix = rng.choices(("50", "51", "55", "70", "77"), weights=(6, 2, 3, 2, 1))[0]
    return f"+994{prefix}{rng.randint(0, 9_999_999):07d}"


def plan_subscribers(
    rng: random.Random, n: int, today: date
) -> tuple[list[SubscriberPlan], dict[str, int]]:
    """Subscribers with their meters (no readings yet) and the indices of the showcases."""
    districts = list(DISTRICT_WEIGHTS)
    chosen = rng.choices(districts, weights=[DISTRICT_WEIGHTS[d] for d in districts], k=n)
    # Every district at least once, and three Yasamal subscribers for the showcases.
    forced = districts + ["yasamal", "yasamal"]
    for pos, district in zip(rng.sample(range(n), len(forced)), forced, strict=True):
        chosen[pos] = district

    fmt = SubscriberCodeFormat()
    body = fmt.length - 1
    numbers = rng.sample(range(10 ** (body - 1), 10**body), n)
    fins: set[str] = set()
    serials: set[str] = set()
    plans: list[SubscriberPlan] = []
    for i, district in enumerate(chosen):
        _name, _city, unit_code, tariff_region = DISTRICTS[district]
        person = _person(rng)
        group = "non_population" if rng.random() < 0.03 else "population"
        persons = rng.choices((1, 2, 3, 4, 5, 6), weights=(10, 20, 25, 25, 12, 8))[0]
        email = None
        if rng.random() < 0.35:
            email = (
                f"{_translit(person['first_name'])}.{_translit(person['last_name'])}"
                f"{rng.randint(1, 999)}@saygac.invalid"
            )
        phone = _phone(rng) if rng.random() < 0.6 else None
        row = {
            "code": make_subscriber_code(numbers[i], fmt),
            "fin": _unique(rng, fins, _fin),
            **person,
            **_address(rng, district),
            "district": district,
            "unit_code": unit_code,
            "consumer_group": group,
            "tariff_region": tariff_region,
            "persons": persons if group == "population" else None,
            "email": email,
            "phone": phone,
        }
        plan = SubscriberPlan(row)
        if group == "population":
            total = persons * rng.triangular(2.5, 8.0, 5.0)
            count = rng.choices((1, 2, 3), weights=(75, 20, 5))[0]
        else:
            total = rng.uniform(10.0, 60.0)
            count = rng.choices((1, 2), weights=(85, 15))[0]
        shares = [rng.uniform(0.5, 1.5) for _ in range(count)]
        for share in shares:
            plan.meters.append(_new_meter(rng, serials, today, total * share / sum(shares)))
        plans.append(plan)

    # Showcases, chosen deterministically among the planned subscribers.
    yasamal = [i for i, d in enumerate(chosen) if d == "yasamal"]
    own, two, roll = rng.sample(yasamal, 3)
    other = rng.choice([i for i, d in enumerate(chosen) if d == "nasimi"])
    showcase = {"own": own, "two_meter": two, "rollover": roll, "other_unit": other}
    for key, idx in showcase.items():
        plan = plans[idx]
        plan.row["consumer_group"] = "population"
        persons = SHOWCASES[key]["persons"]
        plan.row["persons"] = persons
        if plan.row["phone"] is None:
            plan.row["phone"] = _phone(rng)
        if key in ("own", "other_unit") and plan.row["email"] is None:
            first, last = _translit(plan.row["first_name"]), _translit(plan.row["last_name"])
            plan.row["email"] = f"{first}.{last}@saygac.invalid"
        count = 2 if key == "two_meter" else 1
        while len(plan.meters) > count:
            serials.discard(plan.meters.pop().serial)
        while len(plan.meters) < count:
            plan.meters.append(_new_meter(rng, serials, today, 0.0))
        for meter, monthly in zip(plan.meters, SHOWCASES[key]["monthly_m3"], strict=True):
            meter.monthly_m3 = monthly
            meter.register_digits = 5
            meter.clean = True
            meter.citizen_share = meter.estimate_share = 0.0
            meter.read_day = 20
        if key == "own":
            plan.meters[0].kind = "own"
        elif key == "rollover":
            plan.meters[0].kind = "rollover"

    # A couple more registers near their maximum, and one that passed 0 during the year.
    showcase_idx = set(showcase.values())
    candidates = [
        m
        for i, p in enumerate(plans)
        if i not in showcase_idx
        for m in p.meters
        if m.register_digits == 5
    ]
    for meter, kind in zip(
        rng.sample(candidates, 3), ("near_max", "near_max", "wrapped"), strict=True
    ):
        meter.kind = kind
        meter.monthly_m3 = max(meter.monthly_m3, 6.0)
    return plans, showcase


def _new_meter(rng: random.Random, serials: set[str], today: date, monthly: float) -> MeterPlan:
    serial = _unique(rng, serials, lambda r: f"SN{r.randint(10_000_000, 99_999_999)}")
    habit = rng.random()
    if habit < 0.6:
        citizen, estimate = 0.05, 0.0
    elif habit < 0.9:
        citizen, estimate = 0.6, 0.0
    else:
        citizen, estimate = 0.15, 0.2
    return MeterPlan(
        serial=serial,
        seal=f"PL{rng.randint(0, 999_999):06d}",
        register_digits=6 if rng.random() < 0.07 else 5,
        installed_on=today - timedelta(days=rng.randint(2 * 365, 8 * 365)),
        monthly_m3=monthly,
        read_day=20 + rng.randint(-3, 3),
        citizen_share=citizen,
        estimate_share=estimate,
    )


def _last_month(today: date) -> tuple[int, int]:
    """The month whose 20th is closest to 30 days before ``today``."""
    target = today - timedelta(days=30)
    months = [_add_months(target.year, target.month, k) for k in (-1, 0, 1)]
    return min(months, key=lambda ym: abs((date(ym[0], ym[1], 20) - target).days))


def plan_readings(rng: random.Random, meter: MeterPlan, today: date) -> None:
    """Twelve monthly readings, the last one 20-40 days before ``today``."""
    year, month = _last_month(today)
    dates = []
    for k in range(11, -1, -1):
        y, m = _add_months(year, month, -k)
        day = meter.read_day if meter.clean else meter.read_day + rng.randint(-1, 1)
        dates.append(date(y, m, day))
    dates[-1] = min(max(dates[-1], today - timedelta(days=40)), today - timedelta(days=20))

    steps = [0]
    for a, b in zip(dates, dates[1:], strict=False):
        expected = meter.monthly_m3 * (b - a).days / DAYS_PER_MONTH
        if meter.clean:
            steps.append(max(0, round(expected + rng.choice((-1, 0, 0, 1)))))
        else:
            season = 1 + 0.15 * math.cos(2 * math.pi * (b.month - 7) / 12)  # July +15 %
            steps.append(max(0, round(expected * season * rng.uniform(0.75, 1.25))))
    cumulative = []
    total = 0
    for s in steps:
        total += s
        cumulative.append(total)

    modulus = 10**meter.register_digits
    if meter.kind in ("own", "rollover"):
        start = SHOWCASES[meter.kind]["last_value"] - cumulative[-1]
    elif meter.kind == "near_max":
        start = modulus - rng.randint(15, 60) - cumulative[-1]
    elif meter.kind == "wrapped":
        w = rng.randint(5, 9)  # the register passes 0 between reading w-1 and w
        if steps[w] == 0:
            steps[w] = 1
            cumulative[w:] = [c + 1 for c in cumulative[w:]]
        start = modulus - cumulative[w] + rng.randint(0, steps[w] - 1)
    else:
        months = (dates[0] - meter.installed_on).days / DAYS_PER_MONTH
        start = round(meter.monthly_m3 * months * rng.uniform(0.8, 1.1))

    readings = []
    for d, c in zip(dates, cumulative, strict=True):
        roll = rng.random()
        if meter.clean or roll >= meter.estimate_share + meter.citizen_share:
            source = "utility"
        elif roll < meter.estimate_share:
            source = "estimate"
        else:
            source = "citizen"
        readings.append((d, (start + c) % modulus, source))
    meter.readings = readings


def next_value(meter: MeterPlan, today: date) -> int:
    last_day, last_value, _ = meter.readings[-1]
    used = round(meter.monthly_m3 * (today - last_day).days / DAYS_PER_MONTH)
    modulus: int = 10**meter.register_digits
    return (last_value + used) % modulus
