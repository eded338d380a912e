"""Steps shared by the web tests: drive the forms as a person would."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import WorkItem
from tests.web.conftest import image_bytes


def error_summary(doc) -> list[tuple[str, str]]:
    return [
        (a.get("href"), a.text_content().strip())
        for a in doc.xpath("//div[@data-error-summary]//a")
    ]


def start(browser) -> int:
    """Press "Yeni müraciət yarat"; returns the first task's item id (the browser is on its page)."""
    browser.get("/tasks")
    browser.submit(action="/applications/new")
    location = browser.response.headers["Location"]
    assert re.fullmatch(r"/tasks/\d+", location), location
    browser.follow()
    return int(location.rsplit("/", 1)[1])


def identify(browser, code: str) -> int:
    """Submit the subscriber code; returns the next item's id (the readings page)."""
    browser.submit({"subscriber_code": code})
    assert browser.response.status_code == 302, error_summary(browser.doc)
    location = browser.response.headers["Location"]
    browser.follow()
    return int(location.rsplit("/", 1)[1])


def submit_readings(browser, serials, seals, values, phone="050 123 45 67") -> str:
    """Fill every meter block (adding blocks as needed) with photos and press "Müraciət et"."""
    for i, (serial, seal, value) in enumerate(zip(serials, seals, values, strict=False)):
        data = {
            f"meters-{i}-serial": serial,
            f"meters-{i}-seal": seal,
            f"meters-{i}-value": str(value),
            "phone": phone,
        }
        last = i == len(serials) - 1
        data["submit" if last else "add_meter"] = "1"
        browser.submit(
            data,
            files={
                f"meters-{i}-photo": (
                    image_bytes("JPEG", color=(i * 40, 90, 160)),
                    f"meter-{i + 1}.jpg",
                )
            },
        )
    return apply_from_preview(browser)


def apply_from_preview(browser) -> str:
    """Confirm any flagged reading ("yes, it is correct"), then on "check your answers" press
    "Müraciət et"; returns where the app sends the citizen."""
    confirms = browser.doc.xpath("//input[@type='checkbox'][contains(@name, '-confirm')]/@name")
    if confirms and browser.response.status_code == 200:
        browser.submit({**dict.fromkeys(confirms, "y"), "submit": "1"})
    assert browser.response.status_code == 200 and browser.doc.xpath("//button[@name='final']"), (
        error_summary(browser.doc)
    )
    browser.submit({"final": "1"})
    assert browser.response.status_code == 302, error_summary(browser.doc)
    return browser.response.headers["Location"]


def open_item(system, task_name: str) -> int:
    with system.sessions() as s:
        return s.scalar(
            select(WorkItem.id)
            .where(WorkItem.task_name == task_name, WorkItem.state == "open")
            .order_by(WorkItem.id.desc())
        )


def submit_application(auth, people, subscriber, values=(1206, 1207)) -> tuple:
    """A citizen's whole submission; returns (citizen browser, application page URL)."""
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    location = submit_readings(citizen, subscriber["serials"], subscriber["seals"], values)
    return citizen, location
