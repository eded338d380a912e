"""Each of the four login methods signs a citizen in on the embedded default, in chromium: the
signature card and the e-gov identity through their simulators (the real verification code and
the real OpenID client), Asan İmza through its simulated phone, and the password."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engine.models import Account, AuditEvent


def _signed_in_as(live, page, method: str) -> str:
    page.wait_for_url(re.compile(r"/tasks$"), timeout=15000)
    with live.system.sessions() as s:
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "login").order_by(AuditEvent.id.desc())
        ).first()
        assert event.detail == {"method": method}
        return s.get(Account, event.actor_id).fin


def _card(live, page, browser):
    page.click("#method-card a")
    page.click(f"button[data-card='{live.demo.demo_citizen_fin}']")


def _egov(live, page, browser):
    page.click("#method-egov a")
    page.wait_for_url(
        re.compile(r"/authorize")
    )  # the simulated provider's own page, another origin
    page.click(f"button[value='{live.demo.demo_citizen_fin}']")


def _asan(live, page, browser):
    page.click("#method-asan a")
    page.fill("input[name=phone]", "050 123 45 67")
    page.fill("input[name=user_id]", "100001")  # demo-citizen
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/login/asan/wait"))
    code = page.locator("#asan-code").inner_text().strip()
    phone = browser.new_context(locale="az-AZ").new_page()
    phone.goto(f"{live.url}/demo/asan-phone")
    phone.locator(".asan-request", has_text=code).locator("button[value=confirm]").click()
    phone.wait_for_load_state("networkidle")
    phone.context.close()


def _password(live, page, browser):
    page.fill("input[name=username]", "demo-citizen")
    page.fill("input[name=password]", "demo")
    page.click("#method-password button[type=submit]")


@pytest.mark.parametrize(
    ("method", "steps"),
    [("card", _card), ("egov", _egov), ("asan", _asan), ("password", _password)],
)
def test_each_login_method_signs_the_demo_citizen_in(live, page, browser, method, steps):
    page.goto(f"{live.url}/login")
    steps(live, page, browser)
    assert _signed_in_as(live, page, method) == live.demo.demo_citizen_fin
    assert page.locator(".header__name").inner_text().strip() != ""
    assert page.console_errors == []
