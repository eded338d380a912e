"""Signature card (X.509 via the TLS proxy): the tests make their own CA, certificates and CRL,
and check valid, expired, not yet valid, wrong CA, revoked, no FIN, wrong key usage, a stale CRL
and the header sent from an address that is not a trusted proxy."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import select

from engine.db import Base
from engine.models import Account, AuditEvent
from tests.conftest import make_settings
from tests.web.conftest import Browser
from web import create_app
from web.login.identity.ca import MiniCA, pem
from workflow import factories as f
from workflow.system import build_system

PROXY = "10.0.0.5"
HEADER = "X-SSL-Client-Cert"


@pytest.fixture
def ca(clock):
    return MiniCA("Test e-signature CA", now=clock.now - timedelta(days=400))


def _app(tmp_path, clock, ca, crl_days=7):
    bundle = tmp_path / "card-ca.pem"
    bundle.write_bytes(ca.pem)
    crl = tmp_path / "card.crl"
    crl.write_bytes(ca.crl(now=clock.now, days=crl_days).public_bytes(serialization.Encoding.DER))
    settings = make_settings(
        tmp_path,
        card={
            "trusted_proxies": [PROXY, "fd00::/8"],
            "ca_bundle": str(bundle),
            "crl_file": str(crl),
            "simulator": False,
        },
    )
    system = build_system(settings, clock)
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        f.account(s, "citizen", username="vetendas", fin="5ABC123", name="Aysel Məmmədova")
        s.commit()
    return create_app(system=system, config={"TESTING": True}), system


@pytest.fixture
def world(tmp_path, clock, ca):
    app, system = _app(tmp_path, clock, ca)
    yield app, system
    system.db.dispose()


def _present(app, cert, address=PROXY) -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    browser.get("/login/card", headers={HEADER: quote(pem(cert))} if cert is not None else {})
    return browser


def _reasons(system) -> list[str]:
    with system.sessions() as s:
        return [
            e.detail["reason"]
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed"))
        ]


def test_a_valid_card_signs_in_the_fins_account(world, ca, clock):
    app, system = world
    browser = _present(
        app, ca.issue("Aysel Məmmədova", "5ABC123", not_before=clock.now - timedelta(days=10))
    )
    assert browser.response.status_code == 302 and browser.response.headers["Location"] == "/tasks"
    browser.follow()
    assert "Aysel Məmmədova" in browser.html
    with system.sessions() as s:
        assert s.query(Account).count() == 1
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "login")) == {
            "method": "card"
        }


def test_a_new_fin_gets_a_citizen_account(world, ca, clock):
    app, system = world
    browser = _present(
        app, ca.issue("Orxan Həsənli", "FIN-2NEW0AZ", not_before=clock.now - timedelta(days=10))
    )
    assert browser.response.status_code == 302
    with system.sessions() as s:
        assert (
            s.scalar(select(Account.display_name).where(Account.fin == "2NEW0AZ"))
            == "Orxan Həsənli"
        )


@pytest.mark.parametrize(
    "case, reason",
    [
        ("expired", "expired"),
        ("not_yet_valid", "not_yet_valid"),
        ("wrong_ca", "wrong_ca"),
        ("revoked", "revoked"),
        ("no_fin", "no_fin"),
        ("no_signature_usage", "key_usage"),
    ],
)
def test_refused_certificates(tmp_path, clock, ca, case, reason):
    now = clock.now
    if case == "expired":
        cert = ca.issue("A", "5ABC123", not_before=now - timedelta(days=400), days=365)
    elif case == "not_yet_valid":
        cert = ca.issue("A", "5ABC123", not_before=now + timedelta(days=2))
    elif case == "wrong_ca":
        cert = MiniCA("Another CA", now=now - timedelta(days=1)).issue(
            "A", "5ABC123", not_before=now - timedelta(days=1)
        )
    elif case == "revoked":
        cert = ca.issue("A", "5ABC123", not_before=now - timedelta(days=1))
        ca.revoked.append(cert.serial_number)
    elif case == "no_fin":
        cert = ca.issue("A", None, not_before=now - timedelta(days=1))
    else:
        cert = ca.issue("A", "5ABC123", not_before=now - timedelta(days=1), digital_signature=False)
    app, system = _app(tmp_path, clock, ca)
    browser = _present(app, cert)
    assert browser.response.status_code == 400 and "notice--error" in browser.html
    browser.get("/tasks")
    assert browser.response.status_code == 302
    assert _reasons(system) == [reason]
    system.db.dispose()


def test_a_stale_crl_refuses_every_card(tmp_path, clock, ca):
    app, system = _app(tmp_path, clock, ca, crl_days=1)
    clock.advance(days=2)
    assert (
        _present(
            app, ca.issue("A", "5ABC123", not_before=clock.now - timedelta(days=3))
        ).response.status_code
        == 400
    )
    assert _reasons(system) == ["crl_unusable"]
    system.db.dispose()


def test_the_header_from_an_untrusted_address_is_ignored(world, ca, clock):
    app, system = world
    cert = ca.issue("Aysel Məmmədova", "5ABC123", not_before=clock.now - timedelta(days=1))
    assert _present(app, cert, address="203.0.113.9").response.status_code == 400
    assert _present(app, cert, address="fd00::7").response.status_code == 302  # a trusted network
    assert _reasons(system) == ["untrusted_proxy"]


def test_no_certificate_presented(world):
    app, system = world
    browser = _present(app, None)
    assert browser.response.status_code == 400
    assert _reasons(system) == ["no_certificate"]


def test_the_card_is_off_unless_configured(tmp_path, clock):
    system = build_system(make_settings(tmp_path, card={"simulator": False}), clock)
    Base.metadata.create_all(system.db)
    app = create_app(system=system, config={"TESTING": True})
    assert app.test_client().get("/login/card").status_code == 404
    browser = Browser(app.test_client())
    browser.get("/login")
    assert not browser.doc.xpath("//a[starts-with(@href, '/login/card')]")


def test_staff_cannot_use_a_citizen_method(world, ca, clock):
    app, system = world
    with system.sessions() as s:
        f.account(
            s, "operator", f.unit(s), username="operator", fin="7OPR001", name="Leyla Hüseynova"
        )
        s.commit()
    browser = _present(
        app, ca.issue("Leyla Hüseynova", "7OPR001", not_before=clock.now - timedelta(days=1))
    )
    assert browser.response.status_code == 403
    browser.get("/tasks")
    assert browser.response.status_code == 302
    assert _reasons(system) == ["staff_method"]


def test_the_embedded_simulator_offers_the_demo_cards_and_verifies_them_like_real_ones(
    tmp_path, clock
):
    system = build_system(
        make_settings(tmp_path), clock
    )  # the shipped settings: the simulator is on
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        s.add(
            Account(
                username="demo-citizen",
                fin="5DEMO01",
                display_name="Aysel Məmmədova",
                role="citizen",
                is_demo=True,
                active=True,
                failed_logins=0,
            )
        )
        s.commit()
    app = create_app(system=system, config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    browser = Browser(app.test_client())
    browser.get("/login/card")
    assert browser.doc.xpath("//button[@data-card]/@data-card") == ["5DEMO01"]
    assert (
        browser.client.post("/login/card", data={"fin": "9NOCARD"}).status_code == 400
    )  # no such card
    response = browser.client.post("/login/card", data={"fin": "5DEMO01"})
    assert response.status_code == 302
    with system.sessions() as s:
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "login")) == {
            "method": "card"
        }
