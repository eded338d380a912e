"""Never lose an answer, in chromium: two meters with photos, back from "check your answers", a
reload, a language switch, an error, leaving and "continue draft" keep everything typed and
uploaded, and no photo is chosen twice."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.test_citizen_journey import _login_from_start, _photo, _two_meter_subscriber
from tests.web.conftest import image_bytes


def _everything_is_there(page: Page, showcase, phone: str) -> None:
    first, second = showcase.meters
    expect(page.locator("fieldset.meter-block")).to_have_count(2)
    for i, meter in enumerate((first, second)):
        expect(page.locator(f"#meters-{i}-serial")).to_have_value(meter.serial)
        expect(page.locator(f"#meters-{i}-seal")).to_have_value(meter.seal)
        expect(page.locator(f"#meters-{i}-value")).to_have_value(str(meter.next_value))
        expect(page.locator(f"input[name='meters-{i}-photo_id']")).not_to_have_value("")
    expect(page.locator(".photo-uploaded")).to_have_count(
        2
    )  # both photos received: not asked for again
    expect(page.locator("#phone")).to_have_value(phone)
    expect(page.locator("#notes")).to_have_value("Qapı kodu 12")


def test_nothing_typed_or_uploaded_is_lost(live, page, shot, tmp_path):
    showcase = _two_meter_subscriber(live, yasamal=False)  # the journey test applies in Yasamal
    first, second = showcase.meters
    _login_from_start(live, page)
    page.click("[data-new-application]")
    page.fill("#subscriber_code", showcase.code)
    page.get_by_role("button", name="Davam et").click()
    page.fill("#meters-0-serial", first.serial)
    page.fill("#meters-0-seal", first.seal)
    page.fill("#meters-0-value", str(first.next_value))
    page.set_input_files(
        "#meters-0-photo", _photo(tmp_path, "sayğac-1.jpg", image_bytes("JPEG", color=(201, 33, 7)))
    )
    page.locator("[name=add_meter]").click()
    expect(page.locator("fieldset.meter-block")).to_have_count(2)
    page.fill("#meters-1-serial", second.serial)
    page.fill("#meters-1-seal", second.seal)
    page.fill("#meters-1-value", str(second.next_value))
    page.set_input_files(
        "#meters-1-photo", _photo(tmp_path, "sayğac-2.png", image_bytes("PNG", color=(7, 201, 33)))
    )
    page.fill("#phone", "050 123 45 67")
    page.fill("#notes", "Qapı kodu 12")
    page.locator("button[name=submit]").last.click()
    expect(page.locator("[data-preview-meter]")).to_have_count(2)  # "check your answers"

    page.locator("button[name=change]").first.click()  # back to the form
    _everything_is_there(page, showcase, "+994501234567")
    page.goto(page.url)  # a reload as a fresh GET (the page on screen was a POST's answer)
    _everything_is_there(page, showcase, "+994501234567")
    page.get_by_role("link", name="English").click()  # a language switch mid-form
    expect(page.locator("html")).to_have_attribute("lang", "en")
    _everything_is_there(page, showcase, "+994501234567")
    page.fill("#phone", "12")  # an error
    page.locator("button[name=submit]").last.click()
    expect(page.locator("[data-error-summary]")).to_be_visible()
    _everything_is_there(page, showcase, "12")
    shot(page, "draft_error")

    page.goto(f"{live.url}/status")  # leave, come back through "continue draft"
    page.locator("[data-draft] a").first.click()
    _everything_is_there(page, showcase, "12")
    page.fill("#phone", "050 123 45 67")
    page.locator("button[name=submit]").last.click()  # no file chosen again
    expect(page.locator("[data-preview-meter]")).to_have_count(2)
    page.locator("button[name=final]").click()
    expect(page.locator("[data-confirmation]")).to_be_visible()
    assert page.console_errors == []
