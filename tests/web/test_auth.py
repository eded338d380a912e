"""Signing in and out: one message for every failure, local ``next`` only, POST-only logout, audit."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import AuditEvent
from tests.web.conftest import Browser

FAILED = "İstifadəçi adı və ya şifrə düzgün deyil. Onları yoxlayın və yenidən cəhd edin."


def _normalise(page: str, username: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]+"', "CSRF", page).replace(username, "NAME")


def _actions(system) -> list[str]:
    with system.sessions() as s:
        return [e.action for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def test_login_success_goes_to_the_task_list_and_is_audited(client, people, system):
    browser = Browser(client)
    response = browser.login(people["citizen"])
    assert response.status_code == 302 and response.headers["Location"] == "/tasks"
    browser.follow()
    assert browser.response.status_code == 200
    assert "Aysel Məmmədova" in browser.html and "Yeni müraciət yarat" in browser.html
    with system.sessions() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
        assert event.actor_label == "Aysel Məmmədova" and event.address == "127.0.0.1"


def test_wrong_password_and_unknown_user_get_the_same_answer(client, people, system):
    browser = Browser(client)
    wrong = browser.login(people["citizen"], "not-the-password")
    wrong_page = browser.html
    unknown = browser.login("nobody-by-this-name", "not-the-password")
    unknown_page = browser.html
    assert wrong.status_code == unknown.status_code == 200
    assert FAILED in wrong_page and FAILED in unknown_page
    assert "<title>Xəta: Daxil ol" in wrong_page
    # the pages differ only in the CSRF token and the typed user name
    assert _normalise(wrong_page, people["citizen"]) == _normalise(
        unknown_page, "nobody-by-this-name"
    )
    assert _actions(system).count("login_failed") == 2
    browser.get("/tasks")
    assert browser.response.status_code == 302 and "/login" in browser.response.headers["Location"]


def test_next_is_followed_only_to_a_local_path(app, people):
    for target, expected in [
        ("/tasks?x=1", "/tasks?x=1"),
        ("https://evil.example/x", "/tasks"),
        ("//evil.example/x", "/tasks"),
        ("/\\evil.example", "/tasks"),
        ("javascript:alert(1)", "/tasks"),
    ]:
        browser = Browser(app.test_client())
        browser.get("/login?next=" + target.replace("?", "%3F").replace("&", "%26"))
        response = browser.submit(
            {"username": people["citizen"], "password": "secret-pass-1", "next": target},
            action="/login",
        )
        assert response.status_code == 302
        assert response.headers["Location"] == expected, target


def test_a_protected_page_sends_to_login_and_back(client, people):
    browser = Browser(client)
    browser.get("/tasks")
    assert browser.response.status_code == 302
    browser.follow()
    response = browser.submit(
        {"username": people["citizen"], "password": "secret-pass-1"}, action="/login"
    )
    assert response.headers["Location"] == "/tasks"


def test_logout_needs_post_and_is_audited(client, people, system):
    browser = Browser(client)
    browser.login(people["operator"])
    assert client.get("/logout").status_code == 405
    browser.get("/tasks")
    assert browser.response.status_code == 200  # still signed in
    browser.submit(action="/logout")
    assert browser.response.status_code == 302
    browser.get("/tasks")
    assert browser.response.status_code == 302
    assert {"login", "logout"} <= set(_actions(system))


def test_a_post_without_the_csrf_token_is_refused(client, people):
    response = client.post(
        "/login", data={"username": people["citizen"], "password": "secret-pass-1"}
    )
    assert response.status_code == 400
    assert "form was not sent" not in response.get_data(as_text=True)  # shown in Azerbaijani
    assert "Təhlükəsizliyiniz üçün forma göndərilmədi" in response.get_data(as_text=True)


def test_the_session_is_new_after_login(client, people):
    browser = Browser(client)
    browser.get("/login?lang=en")
    before = browser.csrf_token()
    browser.submit(
        {"username": people["citizen"], "password": "secret-pass-1"}, action="/login", follow=True
    )
    assert browser.csrf_token() != before
    assert "Your applications" in browser.html  # the language chosen before signing in is kept
