"""Asan İmza end to end: the simulator in-process, and the HTTP adapter against the simulator
served on loopback; confirmed, declined, expired, a certificate from a foreign CA, bad input, and
one person arriving by password and by Asan İmza landing in one account."""

from __future__ import annotations

import threading

import pytest
from babel.support import Translations
from sqlalchemy import select
from werkzeug.serving import make_server

from engine.db import Base
from engine.models import Account, AuditEvent
from engine.settings import PROJECT_ROOT
from tests.conftest import make_settings
from tests.web.conftest import Browser
from web import create_app
from web.login.asan import DECLINED, EXPIRED
from web.login.identity.asan import SimulatorGateway, simulator_wsgi
from web.login.identity.ca import MiniCA
from workflow import factories as f
from workflow.system import build_system

GATEWAY = "saygac.asan_gateway"
AZ = Translations.load(str(PROJECT_ROOT / "web" / "translations"), ["az"])


def _start(browser: Browser, phone="050 123 45 67", user_id="100001"):
    browser.get("/login/asan")
    browser.submit({"phone": phone, "user_id": user_id}, action="/login/asan")
    return browser.response


def _tx(sim: SimulatorGateway) -> str:
    ((tx, _req),) = sim.pending()
    return tx


def test_confirmed_on_the_phone_signs_in_and_creates_the_account(app, system):
    sim = app.extensions[GATEWAY]
    sim.people["100001"] = ("7XKQ2PD", "Nigar Abbasova")
    browser = Browser(app.test_client())
    assert _start(browser).headers["Location"] == "/login/asan/wait"
    browser.follow()
    code = browser.doc.get_element_by_id("asan-code").text_content().strip()
    ((tx, req),) = sim.pending()
    assert req.code == code and req.phone == "+994501234567" and req.user_id == "100001"
    assert browser.client.get("/login/asan/status").json == {"state": "pending"}
    assert sim.confirm(tx)
    assert browser.client.get("/login/asan/status").json == {"state": "confirmed"}
    browser.submit(action="/login/asan/finish")
    assert browser.response.status_code == 302 and browser.response.headers["Location"] == "/tasks"
    browser.follow()
    assert "Nigar Abbasova" in browser.html
    with system.sessions() as s:
        account = s.scalar(select(Account).where(Account.fin == "7XKQ2PD"))
        assert (
            account.role == "citizen" and account.username is None and account.password_hash is None
        )
        actions = [
            (e.action, e.detail.get("method"))
            for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]
    assert actions == [("account_created", "asan"), ("login", "asan")]
    assert browser.client.get_cookie("saygac_login_method").value == "asan"


def test_declined_and_expired_requests_say_so(app, clock):
    sim = app.extensions[GATEWAY]
    browser = Browser(app.test_client())
    _start(browser)
    sim.decline(_tx(sim))
    browser.get("/login/asan/wait")
    browser.submit(action="/login/asan/finish")
    assert AZ.gettext(DECLINED) in browser.html
    assert "error-summary" in browser.html

    _start(browser)
    clock.advance(seconds=121)
    assert browser.client.get("/login/asan/status").json == {"state": "expired"}
    browser.get("/login/asan/wait")
    browser.submit(action="/login/asan/finish")
    assert AZ.gettext(EXPIRED) in browser.html
    browser.get("/tasks")
    assert browser.response.status_code == 302


def test_finishing_before_the_phone_answers_keeps_waiting(app):
    browser = Browser(app.test_client())
    _start(browser)
    browser.follow()
    browser.submit(action="/login/asan/finish")
    assert (
        browser.response.status_code == 200
        and browser.doc.get_element_by_id("asan-code") is not None
    )


def test_phone_and_user_id_are_checked(app):
    browser = Browser(app.test_client())
    _start(browser, phone="12345", user_id="12ab")
    assert browser.response.status_code == 200
    hrefs = [a.get("href") for a in browser.doc.xpath("//div[@data-error-summary]//a")]
    assert hrefs == ["#phone", "#user_id"]
    assert app.extensions[GATEWAY].pending() == []


def test_the_same_person_by_password_and_by_asan_imza_is_one_account(app, auth, people, system):
    sim = app.extensions[GATEWAY]
    sim.people["100001"] = ("5ABC123", "Aysel Məmmədova")  # the FIN of people["citizen"]
    with system.sessions() as s:
        by_password = s.scalar(select(Account.id).where(Account.username == people["citizen"]))
    browser = Browser(app.test_client())
    _start(browser)
    sim.confirm(_tx(sim))
    browser.get("/login/asan/wait")
    browser.submit(action="/login/asan/finish")
    assert browser.response.status_code == 302
    with system.sessions() as s:
        assert s.scalar(select(Account.id).where(Account.fin == "5ABC123")) == by_password
        assert s.query(Account).filter(Account.fin == "5ABC123").count() == 1


def test_the_demo_phone_page_confirms(app):
    sim = app.extensions[GATEWAY]
    browser = Browser(app.test_client())
    _start(browser)
    phone = Browser(app.test_client())
    phone.get("/demo/asan-phone")
    assert sim.pending()[0][1].code in phone.html
    phone.submit({"answer": "confirm"}, action="/demo/asan-phone")
    assert browser.client.get("/login/asan/status").json == {"state": "confirmed"}


@pytest.fixture
def gateway_server(clock):
    """The simulator behind the HTTP contract, on a loopback port."""
    sim = SimulatorGateway(clock=clock, seconds=120)
    server = make_server("127.0.0.1", 0, simulator_wsgi(sim), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield sim, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _http_app(tmp_path, clock, url: str, ca_pem: bytes):
    bundle = tmp_path / "asan-ca.pem"
    bundle.write_bytes(ca_pem)
    system = build_system(
        make_settings(tmp_path, asan={"gateway": "http", "url": url, "ca_bundle": str(bundle)}),
        clock,
    )
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        f.account(s, "citizen", username="vetendas", fin="5ABC123", name="Aysel Məmmədova")
        s.commit()
    return create_app(system=system, config={"TESTING": True}), system


def test_the_http_gateway_end_to_end(tmp_path, clock, gateway_server):
    sim, url = gateway_server
    sim.people["654321"] = ("5ABC123", "Aysel Məmmədova")
    app, system = _http_app(tmp_path, clock, url, sim.ca.pem)
    browser = Browser(app.test_client())
    _start(browser, phone="+994 55 765 43 21", user_id="654321")
    assert browser.response.headers["Location"] == "/login/asan/wait"
    tx, req = sim.pending()[0]
    assert req.phone == "+994557654321"
    sim.confirm(tx)
    browser.get("/login/asan/wait")
    browser.submit(action="/login/asan/finish")
    assert browser.response.headers["Location"] == "/tasks"
    browser.follow()
    assert "Aysel Məmmədova" in browser.html
    system.db.dispose()


def test_a_certificate_from_another_ca_is_refused(tmp_path, clock, gateway_server):
    sim, url = gateway_server
    app, system = _http_app(tmp_path, clock, url, MiniCA("Some other CA").pem)
    browser = Browser(app.test_client())
    _start(browser)
    sim.confirm(_tx(sim))
    browser.get("/login/asan/wait")
    browser.submit(action="/login/asan/finish")
    assert browser.response.status_code == 200 and "error-summary" in browser.html
    with system.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "login_failed"))
        assert event.detail == {"method": "asan", "reason": "wrong_ca"}
    system.db.dispose()


def test_an_unreachable_gateway_is_a_clear_message(tmp_path, clock):
    app, system = _http_app(tmp_path, clock, "http://127.0.0.1:9", MiniCA().pem)
    browser = Browser(app.test_client())
    _start(browser)
    assert browser.response.status_code == 200 and "error-summary" in browser.html
    system.db.dispose()


def test_an_application_started_with_the_password_is_there_after_asan_imza(app, auth, people):
    from tests.web.helpers import start

    sim = app.extensions[GATEWAY]
    sim.people["100001"] = ("5ABC123", "Aysel Məmmədova")
    by_password = auth.login(people["citizen"])
    item_id = start(by_password)
    browser = Browser(app.test_client())
    _start(browser)
    sim.confirm(_tx(sim))
    browser.get("/login/asan/wait")
    browser.submit(action="/login/asan/finish")
    assert browser.get(f"/tasks/{item_id}").status_code == 200
    browser.get("/tasks")
    assert f"/tasks/{item_id}" in browser.html


def test_the_phone_number_follows_the_one_phone_rule(app, system):
    """The sign-in takes the numbers the readings form takes (E.164 +994…) and refuses the same."""
    browser = Browser(app.test_client())
    response = _start(browser, phone="+7 912 345 67 89")
    assert response.status_code == 200
    assert "Azərbaycan telefon nömrəsini daxil edin: o, +994 ilə başlayır" in browser.html
    _start(browser, phone="+994 (0)50 123-45-67")
    sim = app.extensions[GATEWAY]
    assert [req.phone for _tx, req in sim.pending()] == ["+994501234567"]
