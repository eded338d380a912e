"""The factory: secret key, cookies, headers, production safety, dispatcher choice, sweep."""

from __future__ import annotations

import os
import re
import stat

from tests.web.conftest import Browser
from web import SWEEP_STOP_KEY
from web.db import DISPATCHER_KEY
from web.security import _key_from_file, is_safe_next
from worker.dispatch import InlineDispatcher


def test_static_files_and_pages_carry_the_security_headers(client):
    for url in ("/static/saygac.css", "/static/saygac.js", "/login", "/nowhere"):
        response = client.get(url)
        assert response.headers["Content-Security-Policy"] == (
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        ), url
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["Permissions-Policy"].startswith(
            "camera=(), microphone=(), geolocation=()"
        )
        assert (
            "Strict-Transport-Security" not in response.headers
        )  # plain HTTP on loopback in embedded mode
        response.close()
    assert client.get("/login").headers["Cache-Control"] == "no-store"


def test_pages_use_no_inline_style_or_script(client):
    page = client.get("/login").get_data(as_text=True)
    assert " style=" not in page and "<style" not in page
    assert re.search(r'<script src="/static/saygac\.js\?v=[0-9a-f]{12}" defer></script>', page)
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


def test_safe_next():
    assert is_safe_next("/tasks/3?x=1")
    for bad in (
        None,
        "",
        "tasks",
        "//evil.example",
        "https://evil.example",
        "/\\evil",
        "/\x00x",
        "http:/x",
    ):
        assert not is_safe_next(bad), bad
