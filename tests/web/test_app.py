"""The factory: secret key, cookies, headers, production safety, dispatcher choice, sweep."""
from __future__ import annotations

import os
import stat

import pytest

from engine.db import Base
from engine.models import Account
from tests.conftest import make_settings
from tests.web.conftest import Browser
from web import SWEEP_STOP_KEY, create_app
from web.db import DISPATCHER_KEY
from web.security import _key_from_file, is_safe_next
from worker.dispatch import InlineDispatcher, RqDispatcher
from workflow.system import DemoAccountsInProduction, build_system


def test_static_files_and_pages_carry_the_security_headers(client):
    for url in ("/static/saygac.css", "/static/saygac.js", "/login", "/nowhere"):
        response = client.get(url)
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"), url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        response.close()
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_pages_use_no_inline_style_or_script(client):
    page = client.get("/login").get_data(as_text=True)
    assert " style=" not in page and "<style" not in page
    assert "<script src=\"/static/saygac.js\" defer></script>" in page
    assert 'href="#main-content"' in page and 'id="main-content"' in page  # the skip link


def test_session_cookie_is_httponly_and_lax(client, people):
    browser = Browser(client)
    response = browser.login(people["citizen"])
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_the_embedded_secret_key_is_made_once_and_kept_private(tmp_path):
    path = tmp_path / "var" / "secret_key"
    first = _key_from_file(path)
    assert len(first) >= 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert _key_from_file(path) == first


def test_inline_runner_and_no_sweep_under_tests(app):
    assert isinstance(app.extensions[DISPATCHER_KEY], InlineDispatcher)
    assert SWEEP_STOP_KEY not in app.extensions


def _production(tmp_path, clock, **app_settings):
    settings = make_settings(tmp_path, app={"mode": "production", **app_settings}, jobs={"runner": "rq"})
    system = build_system(settings, clock)
    Base.metadata.create_all(system.db)
    return system


def test_production_refuses_demo_accounts(tmp_path, clock):
    system = _production(tmp_path, clock)
    with system.sessions() as s:
        s.add(Account(username="demo", display_name="Demo", role="citizen", is_demo=True))
        s.commit()
    with pytest.raises(DemoAccountsInProduction):
        create_app(system=system)
    system.db.dispose()


def test_production_uses_rq_and_secure_cookies(tmp_path, clock):
    system = _production(tmp_path, clock)
    app = create_app(system=system)  # production mode: no sweep thread (rq's scheduler wakes timers)
    assert isinstance(app.extensions[DISPATCHER_KEY], RqDispatcher)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert SWEEP_STOP_KEY not in app.extensions
    system.db.dispose()


def test_safe_next():
    assert is_safe_next("/tasks/3?x=1")
    for bad in (None, "", "tasks", "//evil.example", "https://evil.example", "/\\evil", "/\x00x", "http:/x"):
        assert not is_safe_next(bad), bad
