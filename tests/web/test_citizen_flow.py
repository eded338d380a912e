"""The whole path through the HTML forms, CSRF on, as two people with two browsers."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import StoredFile, WorkItem
from tests.web.conftest import image_bytes
from workflow.identifiers import make_subscriber_code
from workflow.models import Application

CONFIRMATION_AZ = (
    "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür edirik. "
    "Müraciət nömrəniz: {number}"
)
CONFIRMATION_EN = "Your application has been registered. Thank you for using our service. Your application number: {number}"
CONFIRMATION_RU = (
    "Ваша заявка зарегистрирована. Благодарим вас за то, что воспользовались нашей услугой. "
    "Номер вашей заявки: {number}"
)
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)


def _check_page(response) -> None:
    """Every page: the CSP header and no inline script."""
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert not INLINE_SCRIPT.search(response.get_data(as_text=True))


def _error_summary(doc) -> list[tuple[str, str]]:
    links = doc.xpath("//div[@data-error-summary]//a")
    return [(a.get("href"), a.text_content().strip()) for a in links]


def _start(browser) -> int:
    browser.get("/tasks")
    browser.submit(action="/applications/new")
    assert browser.response.status_code == 302
    location = browser.response.headers["Location"]
    assert re.fullmatch(r"/tasks/\d+", location)
    browser.follow()
    return int(location.rsplit("/", 1)[1])


def _identify(browser, code: str) -> None:
    browser.submit({"subscriber_code": code})
    assert browser.response.status_code == 302, _error_summary(browser.doc)
    browser.follow()


def test_citizen_submits_two_meters_and_the_operator_accepts(auth, people, subscriber, system):
    citizen = auth.login(people["citizen"])
    pages = []
    first_item = _start(citizen)
    pages.append(citizen.response)
    assert "Abonent kodu" in citizen.html and "Davam et" in citizen.html

    # empty code: error summary linking to the field, the field's own message, the title says "Xəta"
    citizen.submit({"subscriber_code": ""})
    assert citizen.response.status_code == 200
    doc = citizen.doc
    summary = _error_summary(doc)
    assert summary and summary[0][0] == "#subscriber_code"
    assert "Abonent kodunuzu daxil edin" in summary[0][1]
    assert doc.xpath("//p[@id='subscriber_code-error']")
    assert doc.xpath("//div[@data-error-summary]/@role") == ["alert"]
    assert doc.xpath("//div[@data-error-summary]/@tabindex") == ["-1"]
    assert citizen.html.count("<title>Xəta: ") == 1
    pages.append(citizen.response)

    # a mistyped code is kept in the field; an unknown but well-formed one is refused too
    citizen.submit({"subscriber_code": "12345"})
    assert citizen.doc.xpath("//input[@name='subscriber_code']/@value") == ["12345"]
    assert "Abonent kodu 10 rəqəmdən ibarət olmalıdır, siz 5 rəqəm daxil etdiniz" in citizen.html
    unknown = make_subscriber_code(987654)
    citizen.submit({"subscriber_code": unknown})
    assert "Bu kodla abonent tapılmadı" in citizen.html
    assert citizen.doc.xpath("//input[@name='subscriber_code']/@value") == [unknown]

    _identify(citizen, subscriber["code"])
    pages.append(citizen.response)
    # the citizen is not the subscriber (no FIN match): initials and the street only
    assert citizen.doc.xpath("//dd[@data-subscriber-name]/text()") == ["Ş. G."]
    assert subscriber["name"] not in citizen.html
    assert "Digər sayğac əlavə et" in citizen.html and "Davam et" in citizen.html
    reading_input = citizen.doc.xpath("//input[@name='meters-0-value']")[0]
    assert reading_input.get("inputmode") == "numeric" and reading_input.get("type") == "text"
    photo_input = citizen.doc.xpath("//input[@name='meters-0-photo']")[0]
    assert photo_input.get("type") == "file" and photo_input.get("accept") == ".pdf,.jpg,.jpeg,.png"
    for name in (
        "meters-0-serial",
        "meters-0-seal",
        "meters-0-value",
        "meters-0-read_on",
        "meters-0-photo",
        "phone",
    ):
        assert citizen.doc.xpath(f"//label[@for='{name}']"), name

    # meter 1 with its photo, then "add another meter": nothing typed is lost
    serials, seals = subscriber["serials"], subscriber["seals"]
    citizen.submit(
        {
            "meters-0-serial": serials[0],
            "meters-0-seal": seals[0],
            "meters-0-value": "1206",
            "phone": "050 123 45 67",
            "add_meter": "1",
        },
        files={"meters-0-photo": (image_bytes("PNG"), "sayğac-1.png")},
    )
    assert citizen.response.status_code == 200
    doc = citizen.doc
    assert doc.xpath("//input[@name='meters-0-value']/@value") == ["1206"]
    assert doc.xpath("//input[@name='meters-1-serial']")
    assert "Şəkil yükləndi: sayğac-1.png" in citizen.html
    assert not doc.xpath("//input[@name='meters-0-photo']")  # never asked again
    assert not _error_summary(doc)
    pages.append(citizen.response)

    # meter 2 with a text file named .png: refused by content, the other fields keep their values
    citizen.submit(
        {
            "meters-1-serial": serials[1],
            "meters-1-seal": seals[1],
            "meters-1-value": "1207",
            "submit": "1",
        },
        files={"meters-1-photo": (b"this is not a picture", "meter-2.png")},
    )
    assert citizen.response.status_code == 200
    doc = citizen.doc
    summary = _error_summary(doc)
    assert ("#meters-1-photo", "Şəkil PDF, JPG və ya PNG faylı olmalıdır") in summary
    assert doc.xpath("//p[@id='meters-1-photo-error']")
    assert doc.xpath("//input[@name='meters-1-value']/@value") == ["1207"]
    assert doc.xpath("//input[@name='meters-1-serial']/@value") == [serials[1]]
    assert doc.xpath("//input[@name='phone']/@value") == [
        "+994501234567"
    ]  # kept, in its normal form
    assert "Şəkil yükləndi: sayğac-1.png" in citizen.html  # the first photo is still attached
    photo_id = doc.xpath("//input[@name='meters-0-photo_id']/@value")[0]
    with system.sessions() as s:
        stored = s.get(StoredFile, int(photo_id))
        assert (stored.kind, stored.media_type, stored.original_name) == (
            "photo",
            "image/png",
            "sayğac-1.png",
        )
    pages.append(citizen.response)

    # a real JPEG for meter 2: registered
    citizen.submit({"submit": "1"}, files={"meters-1-photo": (image_bytes("JPEG"), "meter-2.jpg")})
    assert citizen.response.status_code == 200 and not _error_summary(citizen.doc)
    # check your answers: every value with a change button, then "Müraciət et"
    assert "Müraciət et" in citizen.html
    assert citizen.doc.xpath("//button[@name='change']/@value")[:2] == [
        "meters-0-serial",
        "meters-0-seal",
    ]
    pages.append(citizen.response)
    citizen.submit({"final": "1"})
    assert citizen.response.status_code == 302, _error_summary(citizen.doc)
    location = citizen.response.headers["Location"]
    assert re.fullmatch(r"/applications/\d+\?registered=1", location)
    citizen.follow()
    pages.append(citizen.response)
    with system.sessions() as s:
        app = s.scalar(select(Application))
        number, app_id = app.number, app.id
        assert app.status == "in_review" and len(app.lines) == 2
        assert all(line.photo_id for line in app.lines)
        assert app.phone == "+994501234567"
    confirmation = citizen.doc.xpath("//p[@data-confirmation]")[0].text_content().strip()
    assert confirmation == CONFIRMATION_AZ.format(number=number)

    # the first task is done: its URL no longer offers a form
    citizen.get(f"/tasks/{first_item}")
    assert citizen.response.status_code == 302

    # the operator of the unit claims and accepts; the jobs run inline
    operator = auth.login(people["operator"])
    operator.get("/tasks")
    pages.append(operator.response)
    assert number in operator.html
    with system.sessions() as s:
        review_id = s.scalar(select(WorkItem.id).where(WorkItem.task_name == "review_application"))
    operator.get(f"/tasks/{review_id}")
    pages.append(operator.response)
    assert "Tapşırığı götür" in operator.html
    assert not operator.doc.xpath("//input[@name='decision']")  # no form before the claim
    assert serials[0] in operator.html and "1206" in operator.html
    operator.submit(action=f"/tasks/{review_id}/claim", follow=True)
    assert operator.doc.xpath("//input[@name='decision']")
    operator.get(f"/tasks/{review_id}/photos/{_line_ids(system)[0]}")
    assert operator.response.status_code == 200 and operator.response.mimetype == "image/png"
    operator.get(f"/tasks/{review_id}")
    operator.submit({"decision": "accept"}, action=f"/tasks/{review_id}")
    assert (
        operator.response.status_code == 302 and operator.response.headers["Location"] == "/tasks"
    )
    operator.follow()
    assert "Tapşırıq tamamlandı." in operator.html

    with system.sessions() as s:
        assert s.get(Application, app_id).status == "executed"
    citizen.get(f"/applications/{app_id}")
    pages.append(citizen.response)
    assert citizen.doc.xpath("//dd[@data-status]/@data-status") == ["executed"]
    assert "İcra olunub" in citizen.html
    citizen.get("/tasks")
    assert citizen.doc.xpath("//td[@data-status]/@data-status") == ["executed"]
    assert (
        citizen.doc.xpath(f"//a[@href='/applications/{app_id}/invoice.pdf']") == []
    )  # only on the page
    citizen.get(f"/applications/{app_id}/invoice.pdf")
    assert citizen.response.status_code == 200 and citizen.response.mimetype == "application/pdf"

    for response in pages:
        _check_page(response)

    # the confirmation in English and Russian (the switcher keeps the page and its arguments)
    citizen.get(f"/applications/{app_id}?registered=1&lang=en")
    assert CONFIRMATION_EN.format(number=number) in citizen.html
    assert citizen.doc.xpath("/html/@lang") == ["en"]
    citizen.get(f"/applications/{app_id}?registered=1&lang=ru")
    assert CONFIRMATION_RU.format(number=number) in citizen.html
    assert citizen.doc.xpath("/html/@lang") == ["ru"]
    citizen.get(f"/applications/{app_id}?registered=1")  # the choice is remembered
    assert CONFIRMATION_RU.format(number=number) in citizen.html


def _line_ids(system) -> list[int]:
    with system.sessions() as s:
        return [line.id for line in s.scalar(select(Application)).lines]
