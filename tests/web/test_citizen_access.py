"""A citizen never sees another citizen's application, photo, receipt or invoice: 404 everywhere."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import WorkItem
from tests.web.conftest import image_bytes
from tests.web.helpers import apply_from_preview, identify, open_item, start
from workflow.models import Application


def _executed_application(auth, people, subscriber, system):
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    citizen.submit(
        {
            "meters-0-serial": subscriber["serials"][0],
            "meters-0-seal": subscriber["seals"][0],
            "meters-0-value": "1206",
            "phone": "0501234567",
            "submit": "1",
        },
        files={"meters-0-photo": (image_bytes(), "a.png")},
    )
    apply_from_preview(citizen)
    review_id = open_item(system, "review_application")
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{review_id}")
    operator.submit(action=f"/tasks/{review_id}/claim", follow=True)
    operator.submit({"decision": "accept"}, action=f"/tasks/{review_id}")
    with system.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "executed"
        return citizen, app.id, app.number, app.lines[0].photo_id, app.lines[0].id, review_id


def test_a_second_citizen_gets_404_on_every_url_of_the_first_citizens_application(
    auth, people, subscriber, system
):
    owner, app_id, number, photo_id, line_id, review_id = _executed_application(
        auth, people, subscriber, system
    )
    urls = [
        f"/status/{number}",
        f"/status/{number.lower()}",
        f"/applications/{app_id}",
        f"/applications/{app_id}?registered=1",
        f"/applications/{app_id}/receipt.pdf",
        f"/applications/{app_id}/invoice.pdf",
        f"/photos/{photo_id}/thumbnail.jpg",
        f"/tasks/{review_id}/photos/{line_id}",
    ]
    for url in urls[:-1]:  # the owner reaches each of them (the staff photo URL is for staff)
        response = owner.client.get(url)
        assert response.status_code == 200, url
        response.close()
    other = auth.login(people["citizen2"])
    for url in urls:
        response = other.client.get(url)
        assert response.status_code == 404, url
        response.close()
    other.get("/status")
    assert number not in other.html
    # guessing numbers and ids that do not exist looks the same
    for url in (
        "/status/2026-0000000-0",
        f"/applications/{app_id + 1}/receipt.pdf",
        "/photos/999/thumbnail.jpg",
    ):
        assert other.client.get(url).status_code == 404, url


def test_a_second_citizen_cannot_open_or_post_the_first_citizens_draft(
    auth, people, subscriber, system
):
    owner = auth.login(people["citizen"])
    start(owner)
    identify(owner, subscriber["code"])
    owner.submit(
        {"meters-0-serial": subscriber["serials"][0], "add_meter": "1"},
        files={"meters-0-photo": (image_bytes(), "a.png")},
    )
    photo_id = owner.doc.xpath("//input[@name='meters-0-photo_id']/@value")[0]
    with system.sessions() as s:
        item_id = s.scalar(select(WorkItem.id).where(WorkItem.task_name == "enter_readings"))
    other = auth.login(people["citizen2"])
    assert other.client.get(f"/tasks/{item_id}").status_code == 404
    assert other.client.get(f"/photos/{photo_id}/thumbnail.jpg").status_code == 404
    other.get("/status")
    response = other.client.post(
        f"/tasks/{item_id}", data={"csrf_token": other.csrf_token(), "final": "1"}
    )
    assert response.status_code == 404


def test_staff_do_not_get_the_citizen_pages(auth, people, subscriber, system):
    _owner, app_id, number, *_ = _executed_application(auth, people, subscriber, system)
    operator = auth.login(people["operator"])
    for url in ("/start", "/status", f"/status/{number}", f"/applications/{app_id}/receipt.pdf"):
        assert operator.client.get(url).status_code == 404, url
