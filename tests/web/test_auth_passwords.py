"""User name + password: throttling per user name and per address, locks with a retry time,
password rules, changing one's own password and an admin's reset; every failure and lock audited."""

from __future__ import annotations

from datetime import timedelta

from babel.support import Translations
from sqlalchemy import select

from engine.identity import LoginSettings, password_problems
from engine.models import Account, AuditEvent, LoginSession
from engine.settings import PROJECT_ROOT
from tests.web.conftest import PASSWORD, Browser
from tests.web.test_auth import FAILED
from web.login import account as login_account
from web.login.common import LOCKED as LOCKED_MSGID
from workflow import factories as f

AZ = Translations.load(str(PROJECT_ROOT / "web" / "translations"), ["az"])
LOCKED = AZ.gettext(LOCKED_MSGID).split("%(time)s")[
    0
]  # the lock message in Azerbaijani, before the time


def _actions(system) -> list[str]:
    with system.sessions() as s:
        return [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def _fail(app, username: str, times: int, address: str = "10.0.0.1") -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = address
    for _ in range(times):
        browser.login(username, "wrong-password-x")
    return browser


def test_five_failures_lock_the_user_name_with_a_time_to_retry(app, people, system, clock):
    browser = _fail(app, people["citizen"], 4)
    assert FAILED in browser.html and LOCKED not in browser.html
    response = browser.login(people["citizen"], "wrong-password-x")  # the fifth
    assert response.status_code == 429 and LOCKED in browser.html
    assert response.headers["Retry-After"] == str(15 * 60)  # the lock's [login] lock_minutes
    assert "Xəta" in browser.doc.findtext(".//title")
    # even the right password is refused while the lock lasts, with the same message
    clock.advance(minutes=5)
    response = browser.login(people["citizen"], PASSWORD)
    assert (
        response.status_code == 429
        and LOCKED in browser.html
        and response.headers["Retry-After"] == str(10 * 60)
    )
    # from another address too: the lock is on the user name
    other = Browser(app.test_client())
    other.client.environ_base["REMOTE_ADDR"] = "10.9.9.9"
    assert other.login(people["citizen"], PASSWORD).status_code == 429 and LOCKED in other.html
    clock.advance(minutes=11)
    assert other.login(people["citizen"], PASSWORD).status_code == 302
    actions = _actions(system)
    assert (
        actions.count("login_failed") == 5
        and "login_locked" in actions
        and "login_refused_locked" in actions
    )


def test_the_lock_shows_the_time_in_baku(app, people, clock):
    browser = _fail(app, people["citizen"], 5)
    from zoneinfo import ZoneInfo

    expected = (
        (clock.now + timedelta(minutes=15)).astimezone(ZoneInfo("Asia/Baku")).strftime("%H:%M")
    )
    assert expected in browser.html


def test_an_unknown_user_name_locks_the_same_way(app, people):
    known = _fail(app, people["citizen"], 5, "10.0.0.2")
    unknown = _fail(app, "nobody-at-all", 5, "10.0.0.3")
    assert LOCKED in known.html and LOCKED in unknown.html
    strip = lambda b, name: b.html.replace(name, "NAME").split('name="csrf_token"')[0]  # noqa: E731
    assert strip(known, people["citizen"]) == strip(unknown, "nobody-at-all")


def test_one_address_trying_many_user_names_is_paused(app, people, system):
    limit = system.settings.section("login", LoginSettings).max_failures_per_address
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = "10.0.0.4"
    for n in range(limit):
        browser.login(f"guess-{n}", "wrong-password-x")
    assert LOCKED in browser.html
    # the right password of a real person from that address waits too
    assert browser.login(people["operator"], PASSWORD).status_code == 429 and LOCKED in browser.html
    elsewhere = Browser(app.test_client())
    assert elsewhere.login(people["operator"], PASSWORD).status_code == 302


def test_a_success_clears_the_count(app, people):
    browser = _fail(app, people["citizen"], 4)
    assert browser.login(people["citizen"], PASSWORD).status_code == 302
    browser = _fail(app, people["citizen"], 4)
    assert LOCKED not in browser.html


def test_password_rules_reject_short_common_and_user_name_passwords():
    rules = LoginSettings()
    assert "too_short" in password_problems("kJ7#q", None, rules)
    assert "common" in password_problems("password123", None, rules)
    assert "common" in password_problems("Sunshine2024!", None, rules)
    assert "common" in password_problems("qwertyuiop", None, rules)
    assert "common" in password_problems("aaaaaaaaaaaa", None, rules)
    assert "contains_user_name" in password_problems("leyla-2026-water", "leyla", rules)
    assert password_problems("çay-dağ-körpü-47", "leyla", rules) == []


def test_a_person_changes_their_password_under_the_rules(auth, people, system):
    browser = auth.login(people["citizen"])
    browser.get("/account")
    browser.submit({"current": PASSWORD, "new": "password123"}, action="/account")
    assert browser.response.status_code == 200
    assert AZ.gettext(login_account.RULE_MESSAGES["common"]) in browser.html
    browser.submit({"current": "not-it", "new": "çay-dağ-körpü-47"}, action="/account")
    assert browser.response.status_code == 200
    browser.submit({"current": PASSWORD, "new": "çay-dağ-körpü-47"}, action="/account")
    assert browser.response.status_code == 302
    assert (
        Browser(auth.app.test_client()).login(people["citizen"], "çay-dağ-körpü-47").status_code
        == 302
    )
    assert "password_changed" in _actions(system)


def test_an_admin_resets_a_password_ends_sessions_and_lifts_the_lock(app, auth, people, system):
    with system.sessions() as s:
        f.account(s, "admin", username="admin", name="Şahin Rzayev")
        citizen_id = s.scalar(select(Account.id).where(Account.username == people["citizen"]))
        s.commit()
    citizen = auth.login(people["citizen"])
    _fail(app, people["citizen"], 5)  # now locked
    admin = auth.login("admin")
    admin.get("/admin/accounts?q=" + people["citizen"])
    assert f"/admin/accounts/{citizen_id}" in admin.html
    admin.get(f"/admin/accounts/{citizen_id}")
    admin.submit({"new": "qwerty123456"}, action=f"/admin/accounts/{citizen_id}")
    assert admin.response.status_code == 200 and "error-summary" in admin.html
    admin.submit({"new": "kəpənək-sahil-93"}, action=f"/admin/accounts/{citizen_id}")
    assert admin.response.status_code == 302
    citizen.get("/tasks")
    assert citizen.response.status_code == 302  # the old session ended
    assert (
        Browser(app.test_client()).login(people["citizen"], "kəpənək-sahil-93").status_code == 302
    )
    with system.sessions() as s:
        assert (
            s.scalar(
                select(LoginSession.end_reason)
                .where(LoginSession.account_id == citizen_id)
                .order_by(LoginSession.id)
            )
            == "reset"
        )
    assert "password_reset" in _actions(system)


def test_only_admins_see_the_account_pages(auth, people):
    operator = auth.login(people["operator"])
    operator.get("/admin/accounts")
    assert operator.response.status_code == 404
