"""Deterministic demo data for the embedded mode, the README and the tests.

:func:`seed_demo` fills an *empty* database with structural units, subscribers with meters and
twelve months of readings, the standard tariffs (``workflow/data/tariffs.toml``) and one demo
account per role. The same ``seed`` and ``today`` give the same rows (only the salted password
hash differs): everything random is drawn from one ``random.Random(seed)`` in
:mod:`workflow.demo.plan`, nothing from the clock or the global generator. The caller commits.

A few subscribers are showcases for the README (:class:`DemoSummary`, described in
``workflow/data/demo.toml``): the demo citizen's own subscriber (one meter, last reading
1 200 m³ at about 6 m³ a month), a subscriber with two meters, one whose 5-digit register is about
to pass 99 999, and one in another unit.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from engine.models import Account, Unit
from engine.passwords import hash_password
from workflow.demo.data import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DISTRICTS,
    MIN_SUBSCRIBERS,
    SHOWCASES,
    UNITS,
)
from workflow.demo.plan import next_value, plan_readings, plan_subscribers
from workflow.models import Meter, Reading, Subscriber, Tariff
from workflow.tariff_table import tariff_rows


class DemoDataError(RuntimeError):
    """The database is not empty, or the demo data cannot be built as asked."""


@dataclass(frozen=True)
class ShowcaseMeter:
    serial: str
    seal: str
    register_digits: int
    last_value: int
    last_read_on: date
    monthly_m3: float
    next_value: int  # a plausible reading on ``today`` (wrapped past 0 for the rollover meter)

    @property
    def wraps(self) -> bool:
        """True when the next reading has passed 0 (the register rolled over)."""
        return self.next_value < self.last_value

    @property
    def next_display(self) -> str:
        """The next reading to type; zero-padded as the register shows it after a rollover."""
        return f"{self.next_value:0{self.register_digits}d}" if self.wraps else str(self.next_value)


@dataclass(frozen=True)
class Showcase:
    key: str  # own, two_meter, rollover, other_unit
    code: str
    full_name: str
    fin: str
    district: str
    unit_code: str
    meters: tuple[ShowcaseMeter, ...]

    @property
    def serials(self) -> tuple[str, ...]:
        return tuple(m.serial for m in self.meters)


@dataclass(frozen=True)
class DemoSummary:
    today: date
    seed: int
    units: int
    subscribers: int
    meters: int
    readings: int
    tariffs: int
    accounts: int
    own_code: str
    two_meter_code: str
    rollover_code: str
    other_unit_code: str
    own_serial: str
    two_meter_serials: tuple[str, str]
    rollover_serial: str
    other_unit_serials: tuple[str, ...]
    demo_citizen_fin: str
    demo_citizen2_fin: str
    showcases: dict[str, Showcase] = field(default_factory=dict)
    accounts_table: tuple[tuple[str, str, str | None], ...] = ()  # (username, role, unit code)
    password: str = DEMO_PASSWORD


def _at_noon(day: date) -> datetime:
    return datetime.combine(day, time(8, 0), tzinfo=UTC)  # 12:00 in Baku


def _refuse_if_not_empty(session: Session) -> None:
    if (
        session.scalar(select(Unit.id).limit(1)) is not None
        or session.scalar(select(Subscriber.id).limit(1)) is not None
    ):
        raise DemoDataError(
            "The database already holds units or subscribers; demo data is only loaded into an "
            "empty database. Use a new database file, or leave demo_data off."
        )


def seed_demo(
    session: Session, *, today: date, subscribers: int = 1200, seed: int = 2026
) -> DemoSummary:
    """Fill an empty database with demo data; the caller commits. See the module docstring."""
    if subscribers < MIN_SUBSCRIBERS:
        raise DemoDataError(f"demo data needs at least {MIN_SUBSCRIBERS} subscribers")
    _refuse_if_not_empty(session)
    rng = random.Random(seed)
    plans, showcase = plan_subscribers(rng, subscribers, today)
    for planned in plans:
        for meter in planned.meters:
            plan_readings(rng, meter, today)

    unit_ids: dict[str, int] = {}
    for code, (name, region) in UNITS.items():
        unit = Unit(
            code=code, name=name, region=region, head_email=f"head.{code.lower()}@saygac.invalid"
        )
        session.add(unit)
        session.flush()
        unit_ids[code] = unit.id

    sub_rows = []
    for plan in plans:
        row = dict(plan.row)
        row["unit_id"] = unit_ids[row.pop("unit_code")]
        sub_rows.append(row)
    # One executemany, then the ids by unique key: far faster than RETURNING row by row. The
    # Core table insert keeps the ORM from splitting the batch where nullable columns are None.
    session.execute(insert(Subscriber.__table__), sub_rows)  # type: ignore[arg-type]  # a Table
    id_of_code = dict(session.execute(select(Subscriber.code, Subscriber.id)).all())
    sub_ids = [id_of_code[row["code"]] for row in sub_rows]

    meter_rows: list[dict[str, Any]] = []
    meter_plans = []
    for sub_id, plan in zip(sub_ids, plans, strict=True):
        for m in plan.meters:
            meter_rows.append(
                {
                    "subscriber_id": sub_id,
                    "serial": m.serial,
                    "seal": m.seal,
                    "register_digits": m.register_digits,
                    "installed_on": m.installed_on,
                    "active": True,
                }
            )
            meter_plans.append(m)
    session.execute(insert(Meter), meter_rows)
    id_of_serial = dict(session.execute(select(Meter.serial, Meter.id)).all())
    meter_ids = [id_of_serial[row["serial"]] for row in meter_rows]

    reading_rows = [
        {
            "meter_id": meter_id,
            "value": value,
            "read_on": day,
            "source": source,
            "application_id": None,
            "created_at": _at_noon(day),
        }
        for meter_id, m in zip(meter_ids, meter_plans, strict=True)
        for day, value, source in m.readings
    ]
    session.execute(insert(Reading), reading_rows)

    tariffs = tariff_rows()
    session.execute(insert(Tariff), tariffs)

    own_row = plans[showcase["own"]].row
    citizen2_row = plans[showcase["other_unit"]].row
    password_hash = hash_password(DEMO_PASSWORD)  # argon2 is slow on purpose: hash once
    created = _at_noon(today)
    for username, (role, unit_code, display) in DEMO_ACCOUNTS.items():
        fin = email = None
        if username in ("demo-citizen", "demo-citizen2"):
            person = own_row if username == "demo-citizen" else citizen2_row
            fin, email = person["fin"], person["email"]
            display = " ".join(
                p for p in (person["last_name"], person["first_name"], person["patronymic"]) if p
            )
        else:
            email = f"{username}@saygac.invalid"
        session.add(
            Account(
                username=username,
                fin=fin,
                display_name=display,
                email=email,
                role=role,
                unit_id=unit_ids[unit_code] if unit_code else None,
                password_hash=password_hash,
                is_demo=True,
                active=True,
                failed_logins=0,
                created_at=created,
            )
        )
    session.flush()

    showcases = {}
    for key, idx in showcase.items():
        plan = plans[idx]
        row = plan.row
        showcases[key] = Showcase(
            key=key,
            code=row["code"],
            full_name=" ".join(
                p for p in (row["last_name"], row["first_name"], row["patronymic"]) if p
            ),
            fin=row["fin"],
            district=row["district"],
            unit_code=DISTRICTS[row["district"]][2],
            meters=tuple(
                ShowcaseMeter(
                    serial=m.serial,
                    seal=m.seal,
                    register_digits=m.register_digits,
                    last_value=m.readings[-1][1],
                    last_read_on=m.readings[-1][0],
                    monthly_m3=m.monthly_m3,
                    next_value=next_value(m, today),
                )
                for m in plan.meters
            ),
        )
    return DemoSummary(
        today=today,
        seed=seed,
        units=len(UNITS),
        subscribers=len(sub_rows),
        meters=len(meter_rows),
        readings=len(reading_rows),
        tariffs=len(tariffs),
        accounts=len(DEMO_ACCOUNTS),
        own_code=showcases["own"].code,
        two_meter_code=showcases["two_meter"].code,
        rollover_code=showcases["rollover"].code,
        other_unit_code=showcases["other_unit"].code,
        own_serial=showcases["own"].serials[0],
        two_meter_serials=showcases["two_meter"].serials,  # type: ignore[arg-type]
        rollover_serial=showcases["rollover"].serials[0],
        other_unit_serials=showcases["other_unit"].serials,
        demo_citizen_fin=own_row["fin"],
        demo_citizen2_fin=citizen2_row["fin"],
        showcases=showcases,
        accounts_table=tuple((u, r, unit) for u, (r, unit, _d) in DEMO_ACCOUNTS.items()),
    )


def demo_readme_table(summary: DemoSummary) -> str:
    """Markdown tables of the demo logins and the showcase subscribers, for the README."""
    lines = [
        f"Password for every demo login: `{summary.password}`",
        "",
        "| login | role | unit |",
        "|---|---|---|",
    ]
    for username, role, unit in summary.accounts_table:
        lines.append(f"| `{username}` | {role} | {unit or '—'} |")
    lines += [
        "",
        f"Readings as of {summary.today.isoformat()}:",
        "",
        "| showcase | subscriber code | meter serial | last reading | plausible next reading |",
        "|---|---|---|---|---|",
    ]
    for key, showcase in SHOWCASES.items():
        label = showcase["label"]
        sc = summary.showcases[key]
        for i, m in enumerate(sc.meters):
            first = i == 0
            lines.append(
                f"| {label if first else ''} | {'`' + sc.code + '`' if first else ''} | "
                f"`{m.serial}` | {m.last_value} ({m.last_read_on.isoformat()}) | "
                f"`{m.next_display}` |"
            )
    return "\n".join(lines) + "\n"
