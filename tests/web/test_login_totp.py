"""Staff's one-time code: enrolment with a QR code, the code after the password, no replay,
wrong codes throttled; citizens never asked; embedded demo staff not asked until enrolled."""

from __future__ import annotations

import pyotp
import pytest
from sqlalchemy import select

from engine.db import Base
from engine.models import Account, AuditEvent
from tests.conftest import make_settings
from tests.web.conftest import PASSWORD, Browser
from tests.web.test_auth_passwords import LOCKED
from web import create_app
from workflow import factories as f
from workflow.system import build_system


@pytest.fixture
def totp_app(tmp_path, clock):
    """The app with ``login.staff_totp_in_embedded = true``, as production behaves."""
    system = build_system(make_settings(tmp_path, login={"staff_totp_in_embedded": True}), clock)
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        unit = f.unit(s)
        f.account(s, "operator", unit, username="operator", name="Leyla Hüseynova")
        f.account(s, "citizen", username="vetendas", name="Aysel Məmmədova")
        s.commit()
    yield create_app(system=system, config={"TESTING": True})
    system.db.dispose()


def _secret_on_page(browser) -> str:
    return browser.doc.xpath("//code[@class='totp-secret']")[0].text_content().strip()


def test_staff_enrol_at_first_sign_in_then_need_the_code(totp_app, clock):
    browser = Browser(totp_app.test_client())
    browser.login("operator")
    assert browser.response.headers["Location"] == "/login/code"
    browser.follow()
    assert "QR" in browser.html
    secret = _secret_on_page(browser)
    qr = browser.client.get("/login/code/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml" and b"<svg" in qr.data
    browser.get("/tasks")
    assert browser.response.status_code == 302  # no session before the code
    browser.get("/login/code")
    browser.submit({"code": "000000"}, action="/login/code")
    assert browser.response.status_code == 200 and "error-summary" in browser.html
    code = pyotp.TOTP(secret).at(clock.now)
    browser.submit({"code": code[:3] + " " + code[3:]}, action="/login/code")
    assert browser.response.status_code == 302 and browser.response.headers["Location"] == "/tasks"
    with totp_app.extensions["saygac"].sessions() as s:
        account = s.scalar(select(Account).where(Account.username == "operator"))
        assert account.totp_secret == secret
        assert (
            s.scalar(select(AuditEvent.id).where(AuditEvent.action == "totp_enrolled")) is not None
        )

    # next time: the code of the enrolled secret, never the same code twice
    clock.advance(seconds=30)
    again = Browser(totp_app.test_client())
    again.login("operator")
    again.follow()
    assert "QR" not in again.html
    again.submit(
        {"code": code}, action="/login/code"
    )  # the used code, still inside the drift window
    assert again.response.status_code == 200
    again.submit({"code": pyotp.TOTP(secret).at(clock.now)}, action="/login/code")
    assert again.response.status_code == 302


def test_a_pending_sign_in_expires(totp_app, clock):
    browser = Browser(totp_app.test_client())
    browser.login("operator")
    clock.advance(minutes=6)
    browser.get("/login/code")
    assert browser.response.status_code == 302 and browser.response.headers["Location"] == "/login"


def test_wrong_codes_lock_like_wrong_passwords(totp_app):
    browser = Browser(totp_app.test_client())
    browser.login("operator")
    browser.follow()
    for _ in range(5):
        browser.submit({"code": "123456"}, action="/login/code")
    assert (
        browser.response.status_code == 429
        and LOCKED in browser.html
        and browser.response.headers["Retry-After"]
    )
    assert Browser(totp_app.test_client()).login("operator", PASSWORD).status_code == 429  # locked


def test_citizens_are_not_asked_for_a_code(totp_app):
    browser = Browser(totp_app.test_client())
    assert browser.login("vetendas").headers["Location"] == "/tasks"


def test_embedded_staff_without_enrolment_sign_in_with_the_password(auth, people):
    browser = auth.login(people["operator"])
    assert browser.response.headers["Location"] == "/tasks"


def test_embedded_staff_who_enrolled_are_asked(app, people, system, clock):
    secret = pyotp.random_base32()
    with system.sessions() as s:
        s.scalar(select(Account).where(Account.username == people["operator"])).totp_secret = secret
        s.commit()
    browser = Browser(app.test_client())
    assert browser.login(people["operator"]).headers["Location"] == "/login/code"
    browser.follow()
    browser.submit({"code": pyotp.TOTP(secret).at(clock.now)}, action="/login/code")
    assert browser.response.headers["Location"] == "/tasks"


def test_embedded_staff_can_enrol_from_their_account_page(auth, app, people, system, clock):
    browser = auth.login(people["operator"])
    browser.get("/account")
    assert browser.doc.xpath("//a[@href='/account/one-time-code']")
    browser.get("/account/one-time-code")
    secret = _secret_on_page(browser)
    assert browser.client.get("/account/one-time-code/qr.svg").mimetype == "image/svg+xml"
    browser.submit({"code": "000000"}, action="/account/one-time-code")
    assert browser.response.status_code == 200 and "error-summary" in browser.html
    browser.submit({"code": pyotp.TOTP(secret).at(clock.now)}, action="/account/one-time-code")
    assert browser.response.headers["Location"] == "/account"
    clock.advance(seconds=30)
    again = Browser(app.test_client())
    assert again.login(people["operator"]).headers["Location"] == "/login/code"


def test_citizens_have_no_one_time_code_page(auth, people):
    browser = auth.login(people["citizen"])
    assert browser.get("/account/one-time-code").status_code == 404
