"""A production-shaped world for the benchmarks: PostgreSQL with the demo data and many citizens.

Used by ``bench/engine_floor.py``, ``bench/worker_jobs.py`` and ``bench/http_load.py``. The
database named in the URL is created when missing and **every table in it is dropped**, so
never point it at a database you care about.

Each citizen may look up 20 subscriber codes in 15 minutes (``[subscriber_lookup]``), so a
benchmark submits each application as another citizen, round robin over ``citizens`` accounts
(all with the password :data:`CITIZEN_PASSWORD`, hashed once with the production argon2
parameters).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import MetaData, create_engine, func, insert, select, text
from sqlalchemy.engine import make_url

import engine.models  # noqa: F401  (registers the engine's tables)
import workflow.models  # noqa: F401  (registers the domain's tables)
from engine.audit import Actor
from engine.db import Base
from engine.models import Account, Unit
from engine.passwords import hash_password
from engine.settings import Settings, load_settings
from workflow.demo import seed_demo
from workflow.models import Meter, Reading, Subscriber
from workflow.system import System, build_system

PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
CITIZEN_PASSWORD = "bench-citizen-password-1"  # the citizens' password (a test database only)
SECRET_KEY = "bench-secret-key-that-is-long-enough-0000"


def prepare_database(url: str) -> dict:
    """Create the database if missing, drop every table in it, create ours; returns server facts."""
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            if (
                c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
                is None
            ):
                c.execute(text(f'CREATE DATABASE "{u.database}"'))
            server = {
                name: c.scalar(text(f"SHOW {name}"))
                for name in ("server_version", "fsync", "synchronous_commit", "max_connections")
            }
    finally:
        admin.dispose()
    db = create_engine(url)
    try:
        existing = MetaData()
        existing.reflect(db)
        existing.drop_all(db)
        Base.metadata.create_all(db)
    finally:
        db.dispose()
    return server


def overrides(url: str, tmp: Path, redis_url: str | None = None) -> dict:
    """The settings sections a benchmark changes (production shape when ``redis_url`` is given)."""
    out = {
        "database": {"url": url},
        "files": {"root": str(tmp / "files")},
        "mail": {"outbox_dir": str(tmp / "mail")},
        "app": {"secret_key": SECRET_KEY, "demo_data": False},
    }
    if redis_url:
        out["redis"] = {"url": redis_url}
        out["jobs"] = {"runner": "rq"}
    return out


def environment(url: str, tmp: Path, redis_url: str | None = None) -> dict[str, str]:
    """The same settings as ``SAYGAC_<SECTION>__<KEY>`` variables, for worker and web processes."""
    env = {}
    for section, values in overrides(url, tmp, redis_url).items():
        for key, value in values.items():
            env[f"SAYGAC_{section.upper()}__{key.upper()}"] = (
                str(value).lower() if isinstance(value, bool) else str(value)
            )
    return env


def bench_settings(url: str, tmp: Path, redis_url: str | None = None) -> Settings:
    return load_settings(environ={}, overrides=overrides(url, tmp, redis_url))


@dataclass(frozen=True)
class Submission:
    """What a citizen types for one application: a Yasamal subscriber with one meter."""

    code: str
    serial: str
    seal: str
    value: int


@dataclass
class World:
    system: System
    citizens: list[Actor]
    citizen_names: list[str]
    operator: Actor
    operator_name: str
    submissions: list[Submission]
    operators: dict[int, Actor]  # unit id -> an operator of the unit

    def citizen(self, i: int) -> Actor:
        return self.citizens[i % len(self.citizens)]


def seed_world(
    system: System, *, subscribers: int = 1200, citizens: int = 200, unit_code: str | None = "U-YSM"
) -> World:
    """Deploy the shipped diagram, seed the demo data, ``citizens`` more citizen accounts and an
    operator per unit; the submissions are for ``unit_code``'s subscribers (None: every unit's)."""
    today = system.services.today()
    with system.sessions() as s:
        system.deploy_shipped(s)
        seed_demo(s, today=today, subscribers=subscribers)
        password = hash_password(CITIZEN_PASSWORD)
        names = [f"bench-citizen-{k:05d}" for k in range(citizens)]
        s.execute(
            insert(Account.__table__),
            [
                {
                    "username": name,
                    "display_name": f"Vətəndaş {k}",
                    "role": "citizen",
                    "password_hash": password,
                    "is_demo": False,
                    "active": True,
                    "failed_logins": 0,
                    "email": f"{name}@saygac.invalid",
                }
                for k, name in enumerate(names)
            ],
        )
        s.execute(
            insert(Account.__table__),
            [
                {
                    "username": f"bench-operator-{unit.code}",
                    "display_name": f"Operator {unit.code}",
                    "role": "operator",
                    "unit_id": unit.id,
                    "is_demo": False,
                    "active": True,
                    "failed_logins": 0,
                }
                for unit in s.scalars(select(Unit))
            ],
        )
        s.commit()
    with system.sessions() as s:
        ids = dict(
            s.execute(select(Account.username, Account.id).where(Account.username.in_(names))).all()
        )
        operator = s.scalar(select(Account).where(Account.username == "demo-operator"))
        plan = submissions(s, today, unit_code)
        actors = [Actor(id=ids[name], role="citizen", label=name) for name in names]
        op = Actor(
            id=operator.id, role="operator", label=operator.display_name, unit_id=operator.unit_id
        )
        operators = {
            a.unit_id: Actor(id=a.id, role="operator", label=a.display_name, unit_id=a.unit_id)
            for a in s.scalars(select(Account).where(Account.username.like("bench-operator-%")))
        }
    return World(
        system=system,
        citizens=actors,
        citizen_names=names,
        operator=op,
        operator_name="demo-operator",
        submissions=plan,
        operators=operators,
    )


def submissions(session, today: date, unit_code: str | None = "U-YSM") -> list[Submission]:
    """A plausible next reading for every one-meter subscriber of the unit (None: of every unit):
    the last reading plus the meter's average daily use since its first reading, times the days since."""
    one_meter = (
        select(Meter.subscriber_id).group_by(Meter.subscriber_id).having(func.count(Meter.id) == 1)
    )
    query = (
        select(
            Subscriber.code,
            Meter.serial,
            Meter.seal,
            Meter.register_digits,
            func.min(Reading.read_on),
            func.min(Reading.value),
            func.max(Reading.read_on),
            func.max(Reading.value),
        )
        .join(Meter, Meter.subscriber_id == Subscriber.id)
        .join(Reading, Reading.meter_id == Meter.id)
        .where(Subscriber.id.in_(one_meter))
        .group_by(Subscriber.code, Meter.serial, Meter.seal, Meter.register_digits)
        .order_by(Subscriber.code)
    )
    if unit_code is not None:
        query = query.where(
            Subscriber.unit_id == select(Unit.id).where(Unit.code == unit_code).scalar_subquery()
        )
    rows = session.execute(query).all()
    out = []
    for code, serial, seal, digits, first_on, first_value, last_on, last_value in rows:
        days = (last_on - first_on).days
        if days < 90 or last_value <= first_value:  # too little history, or a register that wrapped
            continue
        value = last_value + max(
            1, round((last_value - first_value) / days * (today - last_on).days)
        )
        if value < 10**digits:
            out.append(Submission(code, serial, seal, value))
    return out


def build(
    url: str,
    tmp: Path,
    redis_url: str | None = None,
    *,
    subscribers: int = 1200,
    citizens: int = 200,
    unit_code: str | None = "U-YSM",
) -> World:
    prepare_database(url)
    system = build_system(bench_settings(url, tmp, redis_url))
    return seed_world(system, subscribers=subscribers, citizens=citizens, unit_code=unit_code)


LEASE = timedelta(minutes=30)


def _item(result, task_name: str) -> int:
    (item,) = [it for it in result.new_items if it.task_name == task_name]
    return item.id


def submit(world: World, i: int) -> int:
    """A citizen's whole submission through ``System`` (one unit of work per step, as the web
    layer does); returns the id of the review item it leaves in the unit's queue."""
    system, sub, citizen = (
        world.system,
        world.submissions[i % len(world.submissions)],
        world.citizen(i),
    )
    with system.sessions() as s:
        result = system.start_application(s, citizen)
        s.commit()
    with system.sessions() as s:
        result = system.complete_task(
            s, _item(result, "identify_subscriber"), citizen, {"subscriber_code": sub.code}
        )
        s.commit()
    meter = {
        "serial": sub.serial,
        "seal": sub.seal,
        "value": sub.value,
        "read_on": system.services.today().isoformat(),
        "photo_id": None,
    }
    with system.sessions() as s:
        result = system.complete_task(
            s,
            _item(result, "enter_readings"),
            citizen,
            {
                "meters": [meter],
                "phone": "+994501234567",
                "email": f"{citizen.label}@example.az",
                "notes": "",
            },
        )
        s.commit()
    return _item(result, "review_application")


def accept(world: World, review_item_id: int, operator: Actor | None = None) -> list[int]:
    """The operator claims and accepts; returns the outbox jobs it created (invoice, e-mail)."""
    from engine.workitems import claim

    system, operator = world.system, operator or world.operator
    with system.sessions() as s:
        claim(s, review_item_id, operator, system.services.now(), LEASE)
        # a flagged reading (e.g. a photo seen on another subscriber's application) needs an override
        override = system.services.review.override_reasons[0]
        result = system.complete_task(
            s,
            review_item_id,
            operator,
            {
                "decision": "accept",
                "override_key": override,
                "override_reason": "checked by the benchmark",
            },
        )
        s.commit()
    return list(result.jobs)
