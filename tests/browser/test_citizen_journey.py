"""The citizen's journey in Debian's chromium: two meters with photos up to the confirmation,
the back office accepting through the engine, the status page and the invoice PDF; errors,
languages, a phone's width, and axe-core on every citizen page."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

from playwright.sync_api import Page, expect
from pypdf import PdfReader
from sqlalchemy import select

from engine import workitems
from engine.audit import Actor
from engine.models import Account, WorkItem
from tests.web.conftest import image_bytes
from worker.dispatch import InlineDispatcher
from workflow.models import Application, Subscriber
from workflow.plausibility import monthly_average
from workflow.precheck import meter_history, precheck
from workflow.privacy import masked

CONFIRMATION = (
    "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
    "Müraciət nömrəniz: {number}"
)


def _checked(page: Page, axe, shot, name: str) -> None:
    shot(page, name)
    assert axe(page) == [], name


def _photo(tmp_path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def _login_from_start(live, page: Page, username: str = "demo-citizen") -> None:
    page.goto(f"{live.url}/start")
    assert "/login" in page.url  # not signed in: the login page, then straight back
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live.url}/start")


def _accept_in_the_back_office(live, number: str) -> None:
    system = live.system
    with system.sessions() as s:
        app = s.scalar(select(Application).where(Application.number == number))
        item_id = s.scalar(
            select(WorkItem.id).where(
                WorkItem.instance_id == app.instance_id,
                WorkItem.task_name == "review_application",
                WorkItem.state == "open",
            )
        )
        operator = s.scalar(select(Account).where(Account.username == "demo-operator"))
        actor = Actor(
            id=operator.id,
            role=operator.role,
            label=operator.display_name,
            unit_id=operator.unit_id,
        )
        workitems.claim(s, item_id, actor, system.services.now(), timedelta(minutes=30))
        system.complete_task(s, item_id, actor, {"decision": "accept"})
        s.commit()
    InlineDispatcher(system).dispatch_due()


def _two_meter_subscriber(live, yasamal: bool = True):
    """A subscriber with two meters, in Yasamal or elsewhere, and for each meter a reading the
    plausibility rules accept as it is. Browser tests share the database and an application moves
    the next plausible reading, so the tests that apply take one each (Yasamal, elsewhere)."""
    system = live.system
    taken = {sc.code for sc in live.demo.showcases.values()}
    today = system.services.today()
    with system.sessions() as s:
        for sub in s.scalars(
            select(Subscriber)
            .where((Subscriber.district == "yasamal") == yasamal)
            .order_by(Subscriber.id)
        ):
            if sub.code in taken or len(sub.meters) != 2:
                continue
            meters = []
            for meter in sub.meters:
                history = meter_history(s, meter.id)
                last = history.readings[-1]
                average = monthly_average(history, system.services.plausibility) or 6
                value = last.value + round(average * (today - last.date).days / 30.44)
                flags = precheck(
                    s, meter, value, today, today, system.services.plausibility, sub.persons
                ).flags
                meters.append(
                    SimpleNamespace(
                        serial=meter.serial, seal=meter.seal, next_value=value, ok=not flags
                    )
                )
            if all(m.ok for m in meters):
                return SimpleNamespace(
                    code=sub.code, full_name=sub.full_name, masked=masked(sub), meters=tuple(meters)
                )
    raise AssertionError("the demo data has no plain two-meter subscriber there")


def test_two_meters_to_the_confirmation_then_the_invoice(live, page, axe, shot, tmp_path):
    showcase = _two_meter_subscriber(live)
    _login_from_start(live, page)
    expect(page.locator("h1")).to_have_count(1)
    _checked(page, axe, shot, "01_start")

    page.click("[data-new-application]")
    expect(page.get_by_label("Abonent kodu")).to_be_visible()
    _checked(page, axe, shot, "02_code")
    page.get_by_role("button", name="Davam et").click()  # empty code
    expect(page.locator("[data-error-summary]")).to_be_focused()
    assert page.title().startswith("Xəta: ")
    _checked(page, axe, shot, "03_code_empty")
    page.fill("#subscriber_code", "0000 0000 00")  # well-formed, unknown
    page.get_by_role("button", name="Davam et").click()
    expect(page.locator("#subscriber_code-error")).to_contain_text("Bu kodla abonent tapılmadı")
    expect(page.locator("#subscriber_code")).to_have_value("0000 0000 00")
    _checked(page, axe, shot, "04_code_unknown")
    page.fill("#subscriber_code", f"{showcase.code[:4]}-{showcase.code[4:]}")
    page.get_by_role("button", name="Davam et").click()

    expect(page.locator("[data-subscriber-name]")).to_be_visible()
    _checked(page, axe, shot, "05_readings")
    first, second = showcase.meters
    page.fill("#meters-0-serial", first.serial)
    page.fill("#meters-0-seal", first.seal)
    page.fill("#meters-0-value", str(first.next_value))
    page.set_input_files("#meters-0-photo", _photo(tmp_path, "sayğac-1.jpg", image_bytes("JPEG")))
    url_before = page.url
    page.evaluate("window.__same_page = true")
    page.get_by_role("button", name="Digər sayğac əlavə et").click()  # with JavaScript: no reload
    expect(page.locator("fieldset.meter-block")).to_have_count(2)
    assert page.evaluate("window.__same_page === true") and page.url == url_before
    expect(page.locator("#meters-1-serial")).to_be_focused()
    page.fill("#meters-1-serial", second.serial)
    page.fill("#meters-1-seal", second.seal)
    page.fill("#meters-1-value", str(second.next_value))
    page.set_input_files("#meters-1-photo", _photo(tmp_path, "sayğac-2.png", image_bytes("PNG")))
    page.fill("#phone", "(050) 123-45-67")
    page.fill("#email", "aysel@example.az")
    _checked(page, axe, shot, "06_readings_filled")
    page.get_by_role("button", name="Davam et").last.click()

    expect(page.locator("[data-preview-meter]")).to_have_count(2)
    expect(page.get_by_text("+994501234567")).to_be_visible()
    _checked(page, axe, shot, "07_check_answers")
    page.get_by_role("button", name="Müraciət et").click()

    confirmation = page.locator("[data-confirmation]")
    expect(confirmation).to_be_visible()
    with live.system.sessions() as s:
        number = s.scalar(
            select(Application.number)
            .where(Application.subscriber.has(code=showcase.code))
            .order_by(Application.id.desc())
        )
    assert confirmation.inner_text().strip() == CONFIRMATION.format(number=number)
    _checked(page, axe, shot, "08_confirmation")

    _accept_in_the_back_office(live, number)
    page.goto(f"{live.url}/status")
    card = page.locator(f"[data-application='{number}']")
    expect(card.locator("[data-status]")).to_have_attribute("data-status", "executed")
    expect(card.locator("[data-status]")).to_have_text("İcra olunub")
    _checked(page, axe, shot, "09_status_executed")
    with page.expect_download() as download:
        card.locator("[data-invoice]").click()
    pdf = download.value.path().read_bytes()
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    # the demo citizen is not this meter's holder: the invoice is the holder's document, masked for them
    assert showcase.full_name not in text
    assert showcase.masked.name in text and showcase.masked.address in text
    assert "Sayğac göstəriciləri" in text and "Ödəniş müddəti" in text  # ğ, ə, Ö, ü intact
    page.goto(f"{live.url}/status/{number}")
    _checked(page, axe, shot, "10_status_one")
    assert page.console_errors == []


def test_errors_keep_what_was_typed_and_a_fake_png_is_refused(live, page, axe, shot, tmp_path):
    showcase = live.demo.showcases["own"]
    _login_from_start(live, page)
    page.click("[data-new-application]")
    page.fill("#subscriber_code", showcase.code)
    page.get_by_role("button", name="Davam et").click()
    meter = showcase.meters[0]
    page.get_by_role(
        "button", name="Digər sayğac əlavə et"
    ).click()  # a block added and removed in the page
    expect(page.locator("fieldset.meter-block")).to_have_count(2)
    page.get_by_role("button", name="Sayğacı sil (2)").click()
    expect(page.locator("fieldset.meter-block")).to_have_count(1)
    expect(page.locator("[data-remove-meter]")).to_be_hidden()
    page.fill("#meters-0-serial", meter.serial)
    page.fill("#meters-0-seal", meter.seal)
    page.fill("#meters-0-value", str(meter.next_value))
    page.set_input_files(
        "#meters-0-photo", _photo(tmp_path, "meter.png", b"this is a text file, not a picture")
    )
    page.fill("#phone", "050 123 45 67")
    page.get_by_role("button", name="Davam et").last.click()
    summary = page.locator("[data-error-summary]")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Şəkil PDF, JPG və ya PNG faylı olmalıdır")
    expect(page.locator("#meters-0-value")).to_have_value(str(meter.next_value))
    _checked(page, axe, shot, "01_fake_png")
    # the full name of the subscriber, for the subscriber themself
    expect(page.locator("[data-subscriber-name]")).to_have_text(showcase.full_name)
    # a reading far above the usual: explained in words, confirmed with a check box, not refused
    page.fill("#meters-0-value", str(meter.next_value + 400))
    page.set_input_files("#meters-0-photo", _photo(tmp_path, "meter.jpg", image_bytes("JPEG")))
    page.get_by_role("button", name="Davam et").last.click()
    expect(page.locator(".warning-text")).to_contain_text(str(meter.next_value + 400))
    expect(page.locator("img.thumbnail")).to_be_visible()
    _checked(page, axe, shot, "02_confirm_high_reading")
    page.get_by_label("Bəli, göstərici düzgündür").check()
    page.get_by_role("button", name="Davam et").last.click()
    expect(page.get_by_role("button", name="Müraciət et")).to_be_visible()
    page.goto(f"{live.url}/status")
    expect(page.locator("figure.chart svg rect.chart__bar")).to_have_count(12)
    expect(page.locator("[data-draft]")).not_to_have_count(0)
    _checked(page, axe, shot, "03_status_with_chart_and_draft")


def test_language_switch_and_a_phone_screen(live, page, phone, axe, shot):
    _login_from_start(live, page)
    page.get_by_role("link", name="English").click()
    expect(page.locator("h1")).to_have_text("Submission of meter readings")
    expect(page.get_by_role("button", name="Create new application")).to_be_visible()
    _checked(page, axe, shot, "01_start_en")
    page.get_by_role("link", name="Русский").click()
    expect(page.get_by_role("link", name="Проверить статус заявки")).to_be_visible()
    _checked(page, axe, shot, "02_start_ru")
    page.click("[data-new-application]")
    expect(page.get_by_role("button", name="Продолжить")).to_be_visible()
    page.get_by_role("link", name="Azərbaycanca").click()

    _login_from_start(live, phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.click("[data-new-application]")
    phone.fill("#subscriber_code", live.demo.showcases["own"].code)
    phone.keyboard.press("Enter")  # keyboard alone
    expect(phone.locator("#meters-0-serial")).to_be_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    shot(phone, "03_phone_readings")
    assert axe(phone) == []
