"""The citizen's journey rule by rule: landing, code, details, meters, checks, preview, status."""

from __future__ import annotations

import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from engine.db import as_utc
from engine.models import FormDraft, Timer
from tests.web.conftest import image_bytes
from tests.web.helpers import (
    apply_from_preview,
    error_summary,
    identify,
    open_item,
    start,
)
from workflow import factories as f
from workflow.identifiers import make_subscriber_code
from workflow.models import Application


def _fill(browser, subscriber, i=0, **values):
    data = {
        f"meters-{i}-serial": subscriber["serials"][i],
        f"meters-{i}-seal": subscriber["seals"][i],
        f"meters-{i}-value": "1206",
        "phone": "050 123 45 67",
        "submit": "1",
    }
    data.update(
        {
            f"meters-{i}-{k}" if k in ("serial", "seal", "value", "read_on") else k: v
            for k, v in values.items()
        }
    )
    return data


def _on_readings(auth, people, subscriber, who="citizen"):
    citizen = auth.login(people[who])
    start(citizen)
    identify(citizen, subscriber["code"])
    return citizen


def _accept(auth, people, system) -> None:
    """The unit's operator claims the review and accepts (the jobs run inline)."""
    review_id = open_item(system, "review_application")
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{review_id}")
    operator.submit(action=f"/tasks/{review_id}/claim", follow=True)
    operator.submit({"decision": "accept"}, action=f"/tasks/{review_id}")
    assert operator.response.status_code == 302


def test_landing_has_both_actions_and_login_returns_there(auth, people):
    browser = auth.browser()
    browser.get("/start")
    browser.follow()
    browser.submit({"username": people["citizen"], "password": "secret-pass-1"})
    assert browser.response.headers["Location"] == "/start"
    browser.follow()
    assert "Yeni müraciət yarat" in browser.html and "Müraciətin statusunu yoxla" in browser.html
    assert browser.doc.xpath("//form[@action='/applications/new']//button[@data-new-application]")
    assert browser.doc.xpath("//a[@data-check-status]/@href") == ["/status"]
    browser.get("/")
    assert browser.response.headers["Location"] == "/start"
    operator = auth.login(people["operator"])
    operator.get("/start")
    assert operator.response.status_code == 404


def test_a_code_with_spaces_and_hyphens_is_accepted_and_a_wrong_check_digit_is_refused(
    auth, people, subscriber
):
    citizen = auth.login(people["citizen"])
    start(citizen)
    code = subscriber["code"]
    wrong = code[:-1] + str((int(code[-1]) + 1) % 10)
    citizen.submit({"subscriber_code": wrong})
    assert citizen.response.status_code == 200
    assert error_summary(citizen.doc)[0][0] == "#subscriber_code"
    assert error_summary(citizen.doc)[0][1].startswith(
        "Abonent kodunu yoxlayın: rəqəmlərdən biri səhvdir"
    )
    assert citizen.doc.xpath("//input[@name='subscriber_code']/@value") == [wrong]
    citizen.submit({"subscriber_code": f" {code[:3]}-{code[3:6]} {code[6:]} "})
    assert citizen.response.status_code == 302, error_summary(citizen.doc)


def test_code_lookups_are_throttled_per_account(auth, people, subscriber, system):
    limit = system.services.lookups.max_lookups
    citizen = auth.login(people["citizen"])
    start(citizen)
    for n in range(limit):  # a few codes again and again: the short window counts every lookup
        citizen.submit({"subscriber_code": make_subscriber_code(900000 + n % 3)})
        assert "Bu kodla abonent tapılmadı" in citizen.html
    citizen.submit(
        {"subscriber_code": subscriber["code"]}
    )  # even a real code: the window is used up
    assert citizen.response.status_code == 200
    assert "Qısa müddətdə çox abonent kodu yoxladınız" in error_summary(citizen.doc)[0][1]
    other = auth.login(people["citizen2"])  # per account: someone else is not held up
    start(other)
    identify(other, subscriber["code"])
    system.services.clock.advance(minutes=system.services.lookups.window_minutes + 1)
    citizen.submit({"subscriber_code": subscriber["code"]})
    assert citizen.response.status_code == 302


def test_different_codes_per_day_are_limited_with_one_message_whatever_the_code(
    auth, people, subscriber, system
):
    daily = system.services.lookups.max_codes_per_day
    with system.sessions() as s:
        other_code = f.subscriber(s, last_read=system.services.today() - timedelta(days=30)).code
        s.commit()
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])  # the first of the day's different codes
    start(citizen)
    for n in range(daily - 1):
        citizen.submit({"subscriber_code": make_subscriber_code(910000 + n)})
        assert "Bu kodla abonent tapılmadı" in citizen.html
    refusals = []
    for code in (
        make_subscriber_code(920000),
        other_code,
    ):  # an unknown code and a real one: one answer
        citizen.submit({"subscriber_code": code})
        refusals.append(error_summary(citizen.doc)[0][1])
    assert refusals[0] == refusals[1]
    assert refusals[0].startswith(f"Son 24 saatda {daily} fərqli abonent kodu yoxladınız")
    citizen.submit(
        {"subscriber_code": subscriber["code"]}
    )  # a code already looked up today still works
    assert citizen.response.status_code == 302
    system.services.clock.advance(hours=24, minutes=1)
    citizen = auth.login(people["citizen"])  # the session ended meanwhile
    start(citizen)
    identify(citizen, other_code)  # a new day


def test_the_subscriber_sees_their_own_details_in_full(auth, people, system):
    with system.sessions() as s:
        sub = f.subscriber(
            s, meters=1, fin="5ABC123", last_read=system.services.today() - timedelta(days=30)
        )
        s.commit()
        code, name, address = sub.code, sub.full_name, sub.address
    citizen = auth.login(people["citizen"])  # FIN 5ABC123
    start(citizen)
    identify(citizen, code)
    assert citizen.doc.xpath("//dd[@data-subscriber-name]/text()") == [name]
    assert citizen.doc.xpath("//dd[@data-subscriber-address]/text()") == [address]


def test_someone_else_sees_initials_and_the_street_without_the_house(auth, people, subscriber):
    citizen = _on_readings(auth, people, subscriber, "citizen2")
    assert citizen.doc.xpath("//dd[@data-subscriber-name]/text()") == ["Ş. G."]
    assert citizen.doc.xpath("//dd[@data-subscriber-address]/text()") == [
        "Bakı, Ş. Mehdiyev küçəsi"
    ]


@pytest.mark.parametrize(
    "values, field, message",
    [
        (
            {"serial": "SN999999"},
            "meters-0-serial",
            "Bu zavod nömrəsi abonentin qeydiyyatdakı sayğacları arasında yoxdur",
        ),
        ({"value": "123456"}, "meters-0-value", "hesablayıcıda 5 rəqəm var"),
        ({"value": "12a4"}, "meters-0-value", "yalnız rəqəmlərlə"),
        ({"read_on": "2099-01-01"}, "meters-0-read_on", "gələcək tarix ola bilməz"),
        ({"read_on": "2001-01-01"}, "meters-0-read_on", "2001-01-01"),
        ({"phone": "12345"}, "phone", ""),
        ({"email": "not-an-address"}, "email", "name@example.az"),
        ({"notes": "x" * 1001}, "notes", "1000"),
    ],
)
def test_each_meter_rule_names_the_field_and_keeps_what_was_typed(
    auth, people, subscriber, values, field, message
):
    citizen = _on_readings(auth, people, subscriber)
    data = _fill(citizen, subscriber, **values)
    citizen.submit(data, files={"meters-0-photo": (image_bytes("PNG"), "sayğac.png")})
    assert citizen.response.status_code == 200
    summary = error_summary(citizen.doc)
    assert summary and summary[0][0] == f"#{field}", summary
    assert message in summary[0][1]
    assert citizen.doc.xpath(f"//p[@id='{field}-error']")
    assert citizen.doc.xpath("//title/text()")[0].startswith("Xəta: ")
    assert citizen.doc.xpath("//input[@name='meters-0-seal']/@value") == [subscriber["seals"][0]]
    # the photo stays attached, shown as a thumbnail; never asked for again
    assert not citizen.doc.xpath("//input[@name='meters-0-photo']")
    thumb = citizen.doc.xpath("//img[contains(@class, 'thumbnail')]/@src")[0]
    response = citizen.client.get(thumb)
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.data[:2] == b"\xff\xd8"


def test_the_reading_field_is_numeric_text_and_the_photo_must_be_small_enough(
    auth, people, subscriber, system
):
    citizen = _on_readings(auth, people, subscriber)
    field = citizen.doc.xpath("//input[@name='meters-0-value']")[0]
    assert (field.get("type"), field.get("inputmode")) == ("text", "numeric")
    citizen.submit(_fill(citizen, subscriber), files={"meters-0-photo": (b"", "empty.jpg")})
    assert citizen.response.status_code == 200
    assert error_summary(citizen.doc)[0][0] == "#meters-0-photo"
    citizen.submit(
        _fill(citizen, subscriber),
        files={"meters-0-photo": (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "meter.svg")},
    )
    assert "PDF, JPG və ya PNG" in error_summary(citizen.doc)[0][1]


def test_a_flagged_reading_is_explained_confirmed_and_travels_to_staff(
    auth, people, subscriber, system
):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(
        _fill(citizen, subscriber, value="1290"), files={"meters-0-photo": (image_bytes(), "a.png")}
    )
    assert citizen.response.status_code == 200
    warning = citizen.doc.xpath("//div[contains(@class, 'warning-text')]")[0].text_content()
    assert "1290" in warning and "m³" in warning  # says why, in words
    assert citizen.doc.xpath("//input[@name='meters-0-value']/@value") == ["1290"]
    assert not citizen.doc.xpath("//button[@name='final']")  # not yet: confirm or correct first
    citizen.submit({"meters-0-confirm": "y", "submit": "1"})
    assert citizen.doc.xpath("//button[@name='final']")
    assert "Siz bu göstəricinin düzgün olduğunu təsdiq etdiniz" in citizen.html
    apply_from_preview(citizen)
    with system.sessions() as s:
        line = s.scalar(select(Application)).lines[0]
        assert line.confirmed_flags == ["above_expected"]
    review_id = open_item(system, "review_application")  # staff see that the citizen confirmed it
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{review_id}")
    assert "Vətəndaş bu göstəricini təsdiq edib" in operator.html


def test_a_reading_lower_than_the_last_one_is_refused_with_the_figures(auth, people, subscriber):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(
        _fill(citizen, subscriber, value="1100"), files={"meters-0-photo": (image_bytes(), "a.png")}
    )
    target, text = error_summary(citizen.doc)[0]
    assert target == "#meters-0-value"
    assert "1100" in text and "1200" in text and "sayğac isə yalnız artan sayır" in text
    assert not citizen.doc.xpath("//button[@name='final']")
    # correcting the reading clears the error and leads to "check your answers"
    citizen.submit({"meters-0-value": "1206", "submit": "1"})
    assert error_summary(citizen.doc) == []
    assert citizen.doc.xpath("//button[@name='final']")


def test_change_on_check_your_answers_goes_back_with_everything_kept(auth, people, subscriber):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(
        _fill(citizen, subscriber, notes="Qapı kodu 12"),
        files={"meters-0-photo": (image_bytes(), "a.png")},
    )
    rows = [r.text_content() for r in citizen.doc.xpath("//dl[@data-preview-meter]//dd")]
    assert any("1206 m³" in r for r in rows)
    citizen.submit({"change": "meters-0-value"})
    assert citizen.doc.xpath("//form[@data-focus]/@data-focus") == ["meters-0-value"]
    assert citizen.doc.xpath("//input[@name='meters-0-value']/@value") == ["1206"]
    assert (
        citizen.doc.xpath("//textarea[@name='notes']")[0].text_content().strip() == "Qapı kodu 12"
    )
    assert "Şəkil yükləndi: a.png" in citizen.html


def test_confirmation_receipt_and_no_second_application_on_resubmit(
    auth, people, subscriber, system
):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(_fill(citizen, subscriber), files={"meters-0-photo": (image_bytes(), "a.png")})
    url, final_form = citizen.form()
    location = apply_from_preview(citizen)
    citizen.follow()
    assert "Nə baş verəcək" in citizen.html
    with system.sessions() as s:
        number = s.scalar(select(Application.number))
        timer = s.scalar(
            select(Timer).where(Timer.event_name == "review_sla", Timer.state == "waiting")
        )
    # the date promised is the day the review's escalation timer fires, in Baku
    promised = as_utc(timer.due_at).astimezone(ZoneInfo("Asia/Baku")).strftime("%d.%m.%Y")
    assert (
        f"göstəricilərinizi {promised} tarixinədək yoxlayır (2 iş günü"
        in citizen.doc.xpath("//p[@data-review-due]")[0].text_content()
    )
    receipt = citizen.doc.xpath("//a[@data-receipt]/@href")[0]
    response = citizen.client.get(receipt)
    assert (
        response.mimetype == "application/pdf"
        and "attachment" in response.headers["Content-Disposition"]
    )
    text = PdfReader(io.BytesIO(response.data)).pages[0].extract_text()
    # the citizen is not the subscriber: the receipt shows the holder masked, as the page does
    assert number in text and "Ş. G." in text and "Gülməmmədov" not in text
    # the same final POST again (reload, double click): nothing new
    again = citizen.client.post(url, data={**final_form, "final": "1"})
    assert again.status_code == 302
    citizen.get(location)
    with system.sessions() as s:
        assert s.scalar(select(func.count(Application.id))) == 1


def test_a_second_application_for_the_same_meter_is_refused_naming_the_open_one(
    auth, people, subscriber, system
):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(_fill(citizen, subscriber), files={"meters-0-photo": (image_bytes(), "a.png")})
    apply_from_preview(citizen)
    with system.sessions() as s:
        number = s.scalar(select(Application.number))
    start(citizen)
    identify(citizen, subscriber["code"])
    citizen.submit(_fill(citizen, subscriber), files={"meters-0-photo": (image_bytes(), "b.png")})
    target, text = error_summary(citizen.doc)[0]
    assert target == "#meters-0-serial"
    assert f"{number} nömrəli ərizə" in text and f"/status/{number}" in text
    assert not citizen.doc.xpath("//button[@name='final']")
    with system.sessions() as s:
        assert s.scalars(
            select(Application.number).where(Application.number.is_not(None))
        ).all() == [number]


def test_a_draft_is_on_the_status_page_and_continues_where_it_stopped(auth, people, subscriber):
    citizen = _on_readings(auth, people, subscriber)
    readings_url = citizen.response.request.path
    citizen.get("/status")
    assert citizen.doc.xpath("//li[@data-draft]/a/@href") == [readings_url]


def test_status_shows_timeline_then_the_invoice_after_the_back_office_accepts(
    auth, people, subscriber, system
):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(_fill(citizen, subscriber), files={"meters-0-photo": (image_bytes(), "a.png")})
    apply_from_preview(citizen)
    with system.sessions() as s:
        number = s.scalar(select(Application.number))
    citizen.get("/status")
    card = citizen.doc.xpath(f"//section[@data-application='{number}']")[0]
    assert card.xpath(".//dd[@data-status]/@data-status") == ["in_review"]
    assert card.xpath(".//li[contains(@class, 'timeline__step--done')]/@data-step") == [
        "registered",
        "in_review",
    ]
    assert not card.xpath(".//a[@data-invoice]")
    _accept(auth, people, system)
    citizen.get(f"/status/{number}")
    assert citizen.doc.xpath("//dd[@data-status]/@data-status") == ["executed"]
    assert "executed" in citizen.doc.xpath(
        "//li[contains(@class, 'timeline__step--done')]/@data-step"
    )
    invoice = citizen.doc.xpath("//a[@data-invoice]/@href")[0]
    with citizen.client.get(invoice) as response:
        assert response.status_code == 200 and response.mimetype == "application/pdf"
    citizen.get("/status?lang=en")
    assert "Executed" in citizen.html and "Check the status of an application" in citizen.html
    citizen.get("/status?lang=ru")
    assert citizen.doc.xpath("/html/@lang") == ["ru"]


def test_a_rejection_shows_its_reason_on_the_timeline(auth, people, subscriber, system):
    citizen = _on_readings(auth, people, subscriber)
    citizen.submit(_fill(citizen, subscriber), files={"meters-0-photo": (image_bytes(), "a.png")})
    apply_from_preview(citizen)
    review_id = open_item(system, "review_application")
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{review_id}")
    operator.submit(action=f"/tasks/{review_id}/claim", follow=True)
    keys = [k for k in operator.doc.xpath("//select[@name='reject_key']/option/@value") if k]
    operator.submit(
        {
            "decision": "reject",
            "reject_reason": "Şəkil oxunmur",
            **({"reject_key": keys[0]} if keys else {}),
        },
        action=f"/tasks/{review_id}",
    )
    citizen.get("/status")
    assert "Şəkil oxunmur" in citizen.doc.xpath("//li[@data-step='rejected']")[0].text_content()


def test_a_subscriber_sees_a_12_month_chart(auth, people, system):
    with system.sessions() as s:
        f.subscriber(
            s, meters=1, fin="5ABC123", last_read=system.services.today() - timedelta(days=3)
        )
        s.commit()
    citizen = auth.login(people["citizen"])
    citizen.get("/status")
    bars = citizen.doc.xpath("//svg//rect[contains(@class, 'chart__bar')]")
    assert len(bars) == 12
    assert "6" in citizen.doc.xpath("//figure[contains(@class,'chart')]//table//td/text()")


def test_cookies_and_headers(auth, people):
    browser = auth.browser()
    browser.get("/login")
    response = browser.client.post(
        "/login",
        data={
            "csrf_token": browser.csrf_token(),
            "username": people["citizen"],
            "password": "secret-pass-1",
        },
    )
    cookie = response.headers.get("Set-Cookie")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    browser.get("/start")
    assert "script-src 'self'" in browser.response.headers["Content-Security-Policy"]
    no_token = browser.client.post("/applications/new", data={})
    assert no_token.status_code == 400  # CSRF


def test_answers_are_kept_on_the_server_through_reload_language_switch_and_a_new_sign_in(
    auth, people, subscriber, system
):
    citizen = _on_readings(auth, people, subscriber)
    readings_url = citizen.response.request.path
    # an error (no phone): the page comes back, and the answers and the photo are now on the server
    citizen.submit(
        _fill(citizen, subscriber, value="1207", phone="", notes="Qapı kodu 12"),
        files={"meters-0-photo": (image_bytes(), "a.png")},
    )
    assert [target for target, _ in error_summary(citizen.doc)] == ["#phone"]

    def kept(browser) -> None:
        doc = browser.doc
        assert doc.xpath("//input[@name='meters-0-serial']/@value") == [subscriber["serials"][0]]
        assert doc.xpath("//input[@name='meters-0-value']/@value") == ["1207"]
        assert doc.xpath("//textarea[@name='notes']")[0].text_content().strip() == "Qapı kodu 12"
        assert doc.xpath("//input[@name='meters-0-photo_id']/@value") != [
            ""
        ]  # the photo is not asked again

    citizen.get(readings_url)  # a reload
    kept(citizen)
    assert "Şəkil yükləndi: a.png" in citizen.html
    citizen.get(readings_url + "?lang=ru")  # a language switch
    kept(citizen)
    again = auth.login(people["citizen"])  # signed in again, e.g. on another day
    again.get("/status")
    again.get(again.doc.xpath("//li[@data-draft]/a/@href")[0])  # "continue draft"
    kept(again)
    # finishing needs no photo chosen again
    again.submit({"phone": "050 123 45 67", "submit": "1"})
    apply_from_preview(again)
    with system.sessions() as s:
        app = s.scalar(select(Application).where(Application.number.is_not(None)))
        assert [line.value for line in app.lines] == [1207] and app.lines[0].photo_id is not None
        assert app.notes == "Qapı kodu 12"
        assert (
            s.scalar(select(func.count(FormDraft.id))) == 0
        )  # the answers are stored; the draft goes
