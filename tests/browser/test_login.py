"""The login page's four methods, the password flow and Asan İmza with the simulator's phone,
in chromium: accessible, no inline script, the wait page moves on by itself when the phone answers."""

from __future__ import annotations

import re

from babel.support import Translations

from engine.settings import PROJECT_ROOT
from web.login.asan import DECLINED

AZ = Translations.load(str(PROJECT_ROOT / "web" / "translations"), ["az"])


def test_four_methods_in_order_and_the_password_flow(live, page, axe, shot):
    page.goto(f"{live.url}/login")
    headings = page.locator(".login-method h2").all_inner_texts()
    assert [h.split("\n")[0].strip() for h in headings] == [
        AZ.gettext(m)
        for m in (
            "Electronic signature card",
            "e-gov identity",
            "Asan İmza (mobile signature)",
            "User name and password",
        )
    ]
    assert headings[0] == "Elektron imza kartı"
    assert axe(page) == []
    page.fill("input[name=username]", "demo-citizen")
    page.fill("input[name=password]", "wrong-password")
    page.click("#method-password button[type=submit]")
    assert page.locator("[data-error-summary]").is_visible()
    shot(page, "wrong_password")
    live.login(page, "demo-citizen")
    assert page.url.endswith("/tasks")
    page.click("button:has-text('Çıxış')")
    page.wait_for_url(re.compile(r"/login"))
    assert page.locator("#method-password .tag").count() == 1  # remembered: used last time
    assert page.console_errors == []


def test_asan_imza_with_the_simulated_phone(live, page, browser, axe, shot):
    page.goto(f"{live.url}/login")
    page.click("#method-asan a")
    page.fill("input[name=phone]", "050 123 45 67")
    page.fill("input[name=user_id]", "100001")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/login/asan/wait"))
    code = page.locator("#asan-code").inner_text().strip()
    assert re.fullmatch(r"\d{4}", code)
    assert axe(page) == []
    shot(page, "waiting")

    phone_context = browser.new_context(viewport={"width": 360, "height": 740}, locale="az-AZ")
    phone = phone_context.new_page()
    phone.goto(f"{live.url}/demo/asan-phone")
    request = phone.locator(".asan-request", has_text=code)
    request.locator("button[value=confirm]").click()
    phone.wait_for_load_state("networkidle")  # let the phone's page finish before closing it
    phone_context.close()

    page.wait_for_url(
        re.compile(r"/tasks$"), timeout=15000
    )  # the wait page polled and went on alone
    assert page.locator(".header__name").inner_text().strip() != ""
    assert page.console_errors == []


def test_asan_imza_declined_on_the_phone(live, page, browser):
    page.goto(f"{live.url}/login/asan")
    page.fill("input[name=phone]", "0551234567")
    page.fill("input[name=user_id]", "100002")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/login/asan/wait"))
    code = page.locator("#asan-code").inner_text().strip()
    phone_context = browser.new_context(locale="az-AZ")
    phone = phone_context.new_page()
    phone.goto(f"{live.url}/demo/asan-phone")
    phone.locator(".asan-request", has_text=code).locator("button[value=decline]").click()
    phone.wait_for_load_state("networkidle")
    phone_context.close()
    page.wait_for_selector("[data-error-summary]", timeout=15000)
    assert AZ.gettext(DECLINED) in page.locator("[data-error-summary]").inner_text()
