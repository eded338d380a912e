"""Server-side sessions: a new one at every login, ended by logout, "log out everywhere",
the idle and the absolute time-out; an old cookie brought back after logout opens nothing."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, LoginSession
from tests.web.conftest import Browser
from tests.web.test_auth_passwords import AZ


def _sessions(system) -> list[LoginSession]:
    with system.sessions() as s:
        return list(s.scalars(select(LoginSession).order_by(LoginSession.id)))


def test_each_login_is_a_new_session_and_logout_ends_it_on_the_server(app, auth, people, system):
    browser = auth.login(people["citizen"])
    first = browser.client.get_cookie("session").value
    browser.follow()
    browser.submit(action="/logout")
    auth_again = Browser(browser.client)
    auth_again.login(people["citizen"])
    assert browser.client.get_cookie("session").value != first
    rows = _sessions(system)
    assert len(rows) == 2 and rows[0].ended_at is not None and rows[0].end_reason == "logout"
    assert rows[1].ended_at is None and rows[0].token_hash != rows[1].token_hash
    # the first session's cookie, kept by an attacker and brought back, opens nothing
    thief = app.test_client()
    thief.set_cookie("session", first)
    assert thief.get("/tasks").status_code == 302


def test_a_cookie_copied_before_logout_is_dead_after_it(app, auth, people):
    browser = auth.login(people["operator"])
    copied = browser.client.get_cookie("session").value
    browser.follow()
    browser.submit(action="/logout")
    other = app.test_client()
    other.set_cookie("session", copied)
    response = other.get("/tasks")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_idle_time_out(auth, people, clock, system):
    browser = auth.login(people["citizen"])
    clock.advance(minutes=29)
    assert browser.get("/tasks").status_code == 200
    clock.advance(minutes=29)  # still within 30 minutes of the last request
    assert browser.get("/tasks").status_code == 200
    clock.advance(minutes=31)
    assert browser.get("/tasks").status_code == 302
    browser.follow()
    assert AZ.gettext("Your session has ended. Sign in again to go on.") in browser.html
    assert _sessions(system)[0].end_reason == "idle"


def test_absolute_time_out_even_when_busy(auth, people, clock, system):
    browser = auth.login(people["citizen"])
    for _ in range(12 * 3 + 2):
        clock.advance(minutes=20)
        if browser.get("/tasks").status_code != 200:
            break
    assert browser.response.status_code == 302
    assert _sessions(system)[0].end_reason == "absolute"


def test_log_out_everywhere_ends_every_session_of_that_person_only(auth, people, system):
    phone = auth.login(people["citizen"])
    laptop = auth.login(people["citizen"])
    someone_else = auth.login(people["citizen2"])
    laptop.get("/account")
    assert AZ.ngettext("%(num)d device", "%(num)d devices", 2) % {"num": 2} in laptop.html
    laptop.submit(action="/logout/everywhere")
    assert laptop.response.status_code == 302
    assert phone.get("/tasks").status_code == 302
    assert laptop.get("/tasks").status_code == 302
    assert someone_else.get("/tasks").status_code == 200
    with system.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "logout_everywhere"))
        assert event.detail == {"sessions": 2}


def test_log_out_everywhere_needs_post_and_a_session(client):
    assert client.get("/logout/everywhere").status_code == 405
    browser = Browser(client)
    browser.get("/login")
    response = client.post("/logout/everywhere", data={"csrf_token": browser.csrf_token()})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_every_login_and_logout_is_audited_with_its_method(auth, people, system):
    browser = auth.login(people["citizen"])
    browser.follow()
    browser.submit(action="/logout")
    with system.sessions() as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    assert [(e.action, e.detail.get("method")) for e in events] == [
        ("login", "password"),
        ("logout", None),
    ]
