"""The login page works in a real browser, is accessible and needs no inline script."""

from __future__ import annotations


def test_login_page_in_chromium_is_accessible(live, page, axe, shot):
    page.goto(f"{live.url}/login")
    assert page.locator("h1").count() == 1
    shot(page, "login")
    assert axe(page) == []
    live.login(page, "demo-operator")
    assert "/tasks" in page.url
    assert page.console_errors == []  # nothing refused by the CSP, no script errors
