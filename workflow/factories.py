"""Rows built through the real models, bound to a session (warehouse-style factories), for the
tests and the benchmarks: units, accounts, tariffs, subscribers with a reading history."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from engine.audit import Actor
from engine.models import Account, Unit
from engine.passwords import hash_password
from workflow.identifiers import make_subscriber_code
from workflow.models import Meter, Reading, Subscriber, Tariff
from workflow.tariff_table import STANDARD_TARIFFS

_seq = itertools.count(1)
_HASH = None


def password_hash() -> str:
    global _HASH
    if _HASH is None:
        _HASH = hash_password("secret-pass-1")
    return _HASH


def unit(
    session: Session,
    code: str = "U-YSM",
    name: str = "Yasamal rayon su təchizatı idarəsi",
    region: str = "baku",
    head_email: str | None = "head.ysm@saygac.invalid",
) -> Unit:
    row: Unit | None = session.query(Unit).filter_by(code=code).one_or_none()
    if row is None:
        row = Unit(code=code, name=name, region=region, head_email=head_email)
        session.add(row)
        session.flush()
    return row


def account(
    session: Session,
    role: str = "citizen",
    unit_row: Unit | None = None,
    username: str | None = None,
    fin: str | None = None,
    name: str | None = None,
) -> Account:
    n = next(_seq)
    row = Account(
        username=username or f"{role}-{n}",
        fin=fin,
        display_name=name or f"{role.title()} {n}",
        role=role,
        unit_id=unit_row.id if unit_row else None,
        password_hash=password_hash(),
        email=f"{role}{n}@example.az",
    )
    session.add(row)
    session.flush()
    return row


def actor(acc: Account) -> Actor:
    return Actor(
        id=acc.id,
        role=acc.role,
        label=acc.display_name,
        unit_id=acc.unit_id,
        address="127.0.0.1",
        fin=acc.fin,
    )


def tariffs(session: Session) -> None:
    if session.query(Tariff).count():
        return
    for t in STANDARD_TARIFFS:
        session.add(
            Tariff(
                consumer_group=t.consumer_group,
                region=t.region,
                water_price=t.water_price,
                sewer_price=t.sewer_price,
                vat_rate=t.vat_rate,
                valid_from=t.valid_from,
                valid_to=t.valid_to,
                blocks=[b.to_dict() for b in t.blocks],
            )
        )
    session.flush()


def subscriber(
    session: Session,
    *,
    district: str = "yasamal",
    meters: int = 1,
    start_value: int = 1200,
    monthly: int = 6,
    last_read: date,
    months: int = 12,
    digits: int = 5,
    fin: str | None = None,
    email: str = "abonent@example.az",
    persons: int = 3,
    region: str = "baku",
) -> Subscriber:
    """A subscriber with ``meters`` meters and ``months`` monthly readings ending on ``last_read``."""
    n = next(_seq)
    sub = Subscriber(
        code=make_subscriber_code(100000 + n),
        fin=fin,
        first_name="Şəmsəddin",
        last_name="Gülməmmədov",
        patronymic="Əliağa oğlu",
        city="Bakı",
        street="Ş. Mehdiyev küçəsi",
        house=str(n),
        flat="12",
        district=district,
        consumer_group="population",
        tariff_region=region,
        persons=persons,
        email=email,
        phone="+994501234567",
    )
    session.add(sub)
    session.flush()
    for m in range(meters):
        meter = Meter(
            subscriber_id=sub.id,
            serial=f"SN{n:04d}{m:02d}",
            seal=f"PL{n:04d}{m}",
            register_digits=digits,
            installed_on=last_read - timedelta(days=5 * 365),
        )
        session.add(meter)
        session.flush()
        for k in range(months):
            when = last_read - timedelta(days=30 * (months - 1 - k))
            value = (start_value - monthly * (months - 1 - k)) % (10**digits)
            session.add(Reading(meter_id=meter.id, value=value, read_on=when, source="utility"))
    session.flush()
    return sub


def money(value: str) -> Decimal:
    return Decimal(value)
