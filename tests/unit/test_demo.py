"""Demo data: shape, plausibility, determinism and the README showcases (workflow/demo.py)."""

from __future__ import annotations

import ast
import hashlib
import re
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest
from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

import engine.models  # noqa: F401  (registers the tables)
import workflow.models  # noqa: F401
from engine.db import Base, make_engine
from engine.models import Account, Unit
from engine.passwords import verify_password
from workflow.demo import (
    CENTRAL_UNIT,
    DEMO_ACCOUNTS,
    DISTRICTS,
    MIN_SUBSCRIBERS,
    UNITS,
    DemoDataError,
    demo_readme_table,
    seed_demo,
)
from workflow.identifiers import check_subscriber_code, normalize_az_phone
from workflow.models import Meter, Reading, Subscriber, Tariff
from workflow.plausibility import DeclaredReading, MeterFacts, ReadingHistory, check_reading
from workflow.tariff_table import STANDARD_TARIFFS

TODAY = date(2026, 3, 15)
DMN = Path(__file__).resolve().parents[2] / "workflow" / "diagrams" / "route_to_unit.dmn"


@pytest.fixture
def cheap_hash(monkeypatch):
    """Skip argon2 in tests that do not look at the password (the module fixture checks it)."""
    monkeypatch.setattr(
        "workflow.demo.seed.hash_password", lambda password: "not-argon2:" + password
    )


def _fresh_session() -> Session:
    engine = make_engine("sqlite://")
    Base.metadata.create_all(engine)
    return Session(engine)


def _digest(session: Session) -> str:
    """SHA-256 over every row of every table (the salted password hash left out)."""
    h = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        cols = [
            c for c in table.columns if not (table.name == "account" and c.name == "password_hash")
        ]
        for row in session.execute(select(*cols).order_by(*table.primary_key.columns)):
            h.update(repr((table.name, tuple(row))).encode())
    return h.hexdigest()


@pytest.fixture(scope="module")
def seeded():
    session = _fresh_session()
    summary = seed_demo(session, today=TODAY)
    session.commit()
    yield session, summary
    session.close()


@pytest.fixture(scope="module")
def history(seeded):
    """meter id -> [(read_on, value, source)] in date order."""
    session, _summary = seeded
    out: dict[int, list] = {}
    rows = session.execute(
        select(Reading.meter_id, Reading.read_on, Reading.value, Reading.source).order_by(
            Reading.meter_id, Reading.read_on
        )
    )
    for meter_id, read_on, value, source in rows:
        out.setdefault(meter_id, []).append((read_on, value, source))
    return out


def _by_code(session: Session, code: str) -> Subscriber:
    return session.scalars(select(Subscriber).where(Subscriber.code == code)).one()


def _unit_code(session: Session, unit_id: int | None) -> str | None:
    return session.scalar(select(Unit.code).where(Unit.id == unit_id)) if unit_id else None


# --------------------------------------------------------------------------- volume (speed: bench/demo_seed.py)


def test_counts_match_the_summary(seeded):
    session, summary = seeded
    count = lambda model: session.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert summary.subscribers == count(Subscriber) == 1200
    assert summary.meters == count(Meter)
    assert summary.readings == count(Reading) == 12 * summary.meters
    assert summary.units == count(Unit) == len(UNITS)
    assert summary.tariffs == count(Tariff) == len(STANDARD_TARIFFS)
    assert summary.accounts == count(Account) == len(DEMO_ACCOUNTS)


# --------------------------------------------------------------------------- units and routing


def test_every_district_has_its_unit(seeded):
    session, _summary = seeded
    units = {u.code: u for u in session.scalars(select(Unit))}
    assert CENTRAL_UNIT in units and units[CENTRAL_UNIT].name == "Mərkəzi dispetçer xidməti"
    for _name, _city, unit_code, region in DISTRICTS.values():
        unit = units[unit_code]
        assert unit.head_email == f"head.{unit_code.lower()}@saygac.invalid"
        assert unit.region == region
        assert "su təchizatı idarəsi" in unit.name
    assert {u.region for u in units.values()} == {"baku", "other"}
    assert units["U-SMQ"].region == "baku" and units["U-GNC"].region == "other"


def _dmn_rules() -> list[tuple[list[str], str]]:
    """(input entry texts, output entry text) per rule of route_to_unit.dmn."""
    tree = etree.parse(str(DMN))
    rules = []
    for rule in tree.xpath("//*[local-name()='rule']"):
        inputs = [
            t.strip()
            for t in rule.xpath("./*[local-name()='inputEntry']/*[local-name()='text']/text()")
        ]
        outputs = rule.xpath("./*[local-name()='outputEntry']/*[local-name()='text']/text()")
        rules.append((inputs, outputs[0].strip()))
    return rules


def test_routing_table_and_units_agree(seeded):
    session, _summary = seeded
    unit_codes = set(session.scalars(select(Unit.code)))
    routed: dict[str, str] = {}
    for inputs, output in _dmn_rules():
        unit = ast.literal_eval(output)
        assert unit in unit_codes, f"the DMN routes to {unit}, which has no unit"
        for text in inputs:
            if text in ("-", ""):
                continue
            for literal in re.findall(r'"([^"]*)"', text):
                routed[literal] = unit
    assert routed, "no district literals found in route_to_unit.dmn"
    assert set(routed) == set(DISTRICTS), "DMN districts and demo DISTRICTS differ"
    for district, unit in routed.items():
        assert DISTRICTS[district][2] == unit


# --------------------------------------------------------------------------- subscribers


def test_subscribers_look_real(seeded):
    session, _summary = seeded
    subs = session.scalars(select(Subscriber).options(selectinload(Subscriber.meters))).all()
    unit_of = {u.id: u.code for u in session.scalars(select(Unit))}
    fins = [s.fin for s in subs]
    assert len(set(fins)) == len(fins)
    for s in subs:
        assert check_subscriber_code(s.code) == s.code
        assert re.fullmatch(r"[0-9A-HJ-NP-Z]{7}", s.fin), s.fin
        assert s.patronymic.endswith((" oğlu", " qızı"))
        assert s.district in DISTRICTS
        _name, city, unit_code, region = DISTRICTS[s.district]
        assert (s.city, unit_of[s.unit_id], s.tariff_region) == (city, unit_code, region)
        assert s.street and s.house
        assert s.consumer_group in ("population", "non_population")
        if s.consumer_group == "population":
            assert 1 <= s.persons <= 6
        if s.phone:
            assert normalize_az_phone(s.phone) == s.phone
        if s.email:
            assert s.email.endswith("@saygac.invalid") and s.email.isascii()
        assert 1 <= len(s.meters) <= 3
    text = " ".join(s.full_name + " " + s.street for s in subs)
    for letter in "əğıöüçşƏŞÜÇÖİ":
        assert letter in text, letter
    districts = Counter(s.district for s in subs)
    assert set(districts) == set(DISTRICTS)
    assert sum(1 for s in subs if s.city == "Bakı") > len(subs) / 2
    groups = Counter(s.consumer_group for s in subs)
    assert 0 < groups["non_population"] < len(subs) * 0.1
    assert 0 < sum(1 for s in subs if s.email) < len(subs)
    assert 0 < sum(1 for s in subs if s.phone) < len(subs)
    assert Counter(len(s.meters) for s in subs).most_common(1)[0][0] == 1
    assert {1, 2, 3} <= {len(s.meters) for s in subs}


def test_meters(seeded, history):
    session, _summary = seeded
    meters = session.scalars(select(Meter)).all()
    digits = Counter(m.register_digits for m in meters)
    assert set(digits) == {5, 6} and digits[6] < digits[5] / 5
    for m in meters:
        assert re.fullmatch(r"SN\d{8}", m.serial) and re.fullmatch(r"PL\d{6}", m.seal)
        assert TODAY - timedelta(days=8 * 366) <= m.installed_on <= TODAY - timedelta(days=2 * 365)
        assert m.installed_on < history[m.id][0][0]


# --------------------------------------------------------------------------- readings


def test_twelve_monthly_readings_rising_except_at_a_rollover(seeded, history):
    session, _summary = seeded
    meters = {m.id: m for m in session.scalars(select(Meter))}
    assert set(history) == set(meters)
    wrapped_meters = 0
    for meter_id, rows in history.items():
        modulus = 10 ** meters[meter_id].register_digits
        assert len(rows) == 12
        dates = [d for d, _v, _s in rows]
        assert len({(d.year, d.month) for d in dates}) == 12
        assert all(16 <= d.day <= 24 for d in dates[:-1])
        assert TODAY - timedelta(days=40) <= dates[-1] <= TODAY - timedelta(days=20)
        assert all(a < b for a, b in zip(dates, dates[1:], strict=False))
        wraps = 0
        for (_d1, a, _s1), (_d2, b, _s2) in zip(rows, rows[1:], strict=False):
            assert 0 <= b < modulus
            if b < a:
                wraps += 1
                assert b + modulus - a < 100, "a drop is only allowed as a small rollover"
        assert wraps <= 1
        wrapped_meters += wraps
    assert wrapped_meters >= 1


def test_consumption_and_sources_are_plausible(seeded, history):
    session, _summary = seeded
    sources = Counter(s for rows in history.values() for _d, _v, s in rows)
    assert set(sources) == {"utility", "citizen", "estimate"}
    assert sources["utility"] > sum(sources.values()) / 2
    assert sources["estimate"] < sources["citizen"]
    for sub in session.scalars(select(Subscriber).where(Subscriber.consumer_group == "population")):
        monthly = 0.0
        for m in sub.meters:
            rows = history[m.id]
            used = sum(
                (b - a) % 10**m.register_digits
                for (_x, a, _y), (_z, b, _w) in zip(rows, rows[1:], strict=False)
            )
            monthly += used / ((rows[-1][0] - rows[0][0]).days / 30.44)
        assert 1.5 <= monthly / sub.persons <= 9, (sub.code, monthly, sub.persons)


def test_registers_near_their_maximum(seeded, history):
    session, _summary = seeded
    near = [
        m
        for m in session.scalars(select(Meter))
        if history[m.id][-1][1] >= 10**m.register_digits - 100
    ]
    assert len(near) >= 2


# --------------------------------------------------------------------------- accounts


def test_demo_accounts(seeded):
    session, summary = seeded
    accounts = {a.username: a for a in session.scalars(select(Account))}
    expected = {
        "demo-citizen": ("citizen", None),
        "demo-citizen2": ("citizen", None),
        "demo-operator": ("operator", "U-YSM"),
        "demo-operator2": ("operator", "U-NSM"),
        "demo-unithead": ("unit_head", "U-YSM"),
        "demo-inspector": ("inspector", "U-YSM"),
        "demo-analyst": ("analyst", None),
        "demo-admin": ("admin", None),
    }
    assert set(accounts) == set(expected)
    for username, (role, unit) in expected.items():
        account = accounts[username]
        assert (account.role, _unit_code(session, account.unit_id)) == (role, unit), username
        assert account.is_demo and account.active and account.display_name
    hashes = {a.password_hash for a in accounts.values()}
    assert len(hashes) == 1, "the demo password is hashed once and reused"
    assert verify_password(hashes.pop(), "demo")

    citizen, citizen2 = accounts["demo-citizen"], accounts["demo-citizen2"]
    own = _by_code(session, summary.own_code)
    assert citizen.fin == own.fin == summary.demo_citizen_fin
    assert citizen.display_name == own.full_name
    assert citizen2.fin == summary.demo_citizen2_fin != citizen.fin
    assert all(a.fin is None for a in accounts.values() if a.role != "citizen")


# --------------------------------------------------------------------------- showcases


def _plausibility(session: Session, meter: Meter, value: int, when: date, persons: int | None):
    rows = session.execute(
        select(Reading.read_on, Reading.value, Reading.source).where(Reading.meter_id == meter.id)
    ).all()
    return check_reading(
        DeclaredReading(value, when),
        MeterFacts(meter.register_digits, meter.installed_on),
        ReadingHistory.of(rows),
        when,
        persons=persons,
    )


def test_showcases_have_the_promised_shapes(seeded, history):
    session, summary = seeded
    own = _by_code(session, summary.own_code)
    two = _by_code(session, summary.two_meter_code)
    roll = _by_code(session, summary.rollover_code)
    other = _by_code(session, summary.other_unit_code)
    assert len({own.id, two.id, roll.id, other.id}) == 4

    assert (own.district, _unit_code(session, own.unit_id)) == ("yasamal", "U-YSM")
    assert [m.serial for m in own.meters] == [summary.own_serial]
    assert history[own.meters[0].id][-1][1] == 1200
    assert own.email and own.phone

    assert (two.district, len(two.meters)) == ("yasamal", 2)
    assert tuple(m.serial for m in two.meters) == summary.two_meter_serials

    assert [m.serial for m in roll.meters] == [summary.rollover_serial]
    meter = roll.meters[0]
    assert meter.register_digits == 5 and 99_900 <= history[meter.id][-1][1] <= 99_999

    assert (other.district, _unit_code(session, other.unit_id)) == ("nasimi", "U-NSM")
    assert tuple(m.serial for m in other.meters) == summary.other_unit_serials
    assert other.fin == summary.demo_citizen2_fin


def test_showcase_next_readings_are_plausible(seeded):
    session, summary = seeded
    for key, showcase in summary.showcases.items():
        sub = _by_code(session, showcase.code)
        for meter, planned in zip(sub.meters, showcase.meters, strict=False):
            assert meter.serial == planned.serial
            result = _plausibility(session, meter, planned.next_value, TODAY, sub.persons)
            assert not result.blocking and not result.needs_confirmation, (key, result.codes)
            if key == "rollover":
                assert planned.next_value < planned.last_value and result.rollover
            else:
                assert result.codes == (), (key, result.codes)
    own = _by_code(session, summary.own_code)
    result = _plausibility(session, own.meters[0], 1206, TODAY, own.persons)
    assert result.codes == () and result.consumption_m3 == 6


@pytest.mark.parametrize(
    "today", [date(2026, 1, 1), date(2026, 3, 11), date(2026, 3, 31), date(2027, 2, 28)]
)
def test_small_seed_any_day(today, cheap_hash):
    with _fresh_session() as session:
        summary = seed_demo(session, today=today, subscribers=MIN_SUBSCRIBERS, seed=7)
        assert summary.subscribers == MIN_SUBSCRIBERS
        last = session.execute(select(func.min(Reading.read_on), func.max(Reading.read_on))).one()
        assert last[1] <= today - timedelta(days=20)
        for sub in session.scalars(select(Subscriber)):
            for meter in sub.meters:
                newest = session.scalar(
                    select(func.max(Reading.read_on)).where(Reading.meter_id == meter.id)
                )
                assert today - timedelta(days=40) <= newest
        own = _by_code(session, summary.own_code)
        assert _plausibility(session, own.meters[0], 1206, today, own.persons).codes == ()


def test_readme_table(seeded):
    _session, summary = seeded
    table = demo_readme_table(summary)
    for username in DEMO_ACCOUNTS:
        assert f"`{username}`" in table
    for showcase in summary.showcases.values():
        assert showcase.code in table
        for meter in showcase.meters:
            assert meter.serial in table and meter.next_display in table
    assert "`1200`" not in table and "| 1200 (" in table


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_rows_other_seed_other_rows(seeded, cheap_hash):
    session, summary = seeded
    reference = _digest(session)
    with _fresh_session() as again:
        assert seed_demo(again, today=TODAY) == summary
        again.commit()
        assert _digest(again) == reference
    with _fresh_session() as other:
        other_summary = seed_demo(other, today=TODAY, seed=2027)
        other.commit()
        assert _digest(other) != reference
        assert other_summary.own_code != summary.own_code


def test_refuses_a_database_that_is_not_empty(seeded, cheap_hash):
    session, summary = seeded
    with pytest.raises(DemoDataError, match="empty database"):
        seed_demo(session, today=TODAY)
    with _fresh_session() as one_unit:
        one_unit.add(Unit(code="U-X", name="x"))
        one_unit.flush()
        with pytest.raises(DemoDataError):
            seed_demo(one_unit, today=TODAY)
    with _fresh_session() as small, pytest.raises(DemoDataError):
        seed_demo(small, today=TODAY, subscribers=MIN_SUBSCRIBERS - 1)
