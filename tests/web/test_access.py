"""Items and applications a person may not see do not exist for them: 404, never 403."""

from __future__ import annotations

import re

from sqlalchemy import select

from engine.models import StoredFile
from tests.web.conftest import image_bytes
from tests.web.helpers import error_summary, identify, open_item, start, submit_application


def test_another_citizen_gets_404_for_a_citizens_task(auth, people, subscriber):
    citizen = auth.login(people["citizen"])
    item_id = start(citizen)
    other = auth.login(people["citizen2"])
    other.get(f"/tasks/{item_id}")
    assert other.response.status_code == 404
    assert "Səhifə tapılmadı" in other.html
    other.get("/tasks")
    assert other.doc.xpath(f"//a[@href='/tasks/{item_id}']") == []
    other.get(f"/tasks/{item_id}")
    csrf = other.csrf_token()
    for url in (f"/tasks/{item_id}", f"/tasks/{item_id}/claim"):
        response = other.client.post(
            url, data={"csrf_token": csrf, "subscriber_code": subscriber["code"]}
        )
        assert response.status_code == 404, url


def test_an_operator_of_another_unit_gets_404(auth, people, subscriber, system):
    _citizen, location = submit_application(auth, people, subscriber)
    app_url = location.split("?")[0]
    review_id = open_item(system, "review_application")
    stranger = auth.login(people["operator_other_unit"])
    for url in (f"/tasks/{review_id}", app_url):
        stranger.get(url)
        assert stranger.response.status_code == 404, url
    stranger.get("/tasks")
    assert stranger.doc.xpath(f"//a[@href='/tasks/{review_id}']") == []
    response = stranger.client.post(
        f"/tasks/{review_id}/claim", data={"csrf_token": stranger.csrf_token()}
    )
    assert response.status_code == 404
    other_citizen = auth.login(people["citizen2"])
    other_citizen.get(app_url)
    assert other_citizen.response.status_code == 404
    # the unit's own operator sees it
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{review_id}")
    assert operator.response.status_code == 200


def test_staff_cannot_start_an_application(auth, people):
    operator = auth.login(people["operator"])
    operator.get("/tasks")
    response = operator.client.post("/applications/new", data={"csrf_token": operator.csrf_token()})
    assert response.status_code == 404


def test_a_photo_id_of_someone_else_is_not_taken(auth, people, subscriber, system):
    """The hidden photo_id comes back from the browser: only the person's own photo counts."""
    with system.sessions() as s:
        stranger_photo = system.services.files.save(
            s,
            image_bytes(),
            media_type="image/png",
            kind="photo",
            owner_id=None,
            original_name="not-yours.png",
        )
        s.commit()
        stranger_id = stranger_photo.id
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    citizen.submit(
        {
            "meters-0-serial": subscriber["serials"][0],
            "meters-0-seal": subscriber["seals"][0],
            "meters-0-value": "1206",
            "meters-0-photo_id": str(stranger_id),
            "phone": "0501234567",
            "submit": "1",
        }
    )
    assert citizen.response.status_code == 200
    assert ("#meters-0-photo", "Sayğacın şəklini seçin") in error_summary(citizen.doc)
    assert "not-yours.png" not in citizen.html
    with system.sessions() as s:
        assert s.scalars(select(StoredFile.id)).all() == [stranger_id]


def test_a_finished_task_url_goes_to_the_application(auth, people, subscriber, system):
    citizen, location = submit_application(auth, people, subscriber)
    citizen.get("/tasks")
    links = citizen.doc.xpath("//a/@href")
    app_url = location.split("?")[0]
    assert app_url in links
    assert not [link for link in links if re.fullmatch(r"/tasks/\d+", link)]  # nothing left to do


def test_a_citizens_draft_is_theirs_alone_even_for_an_admin(auth, people, subscriber, system):
    from tests import factories as f

    with system.sessions() as s:
        f.account(s, "admin", username="admin", name="Admin")
        s.commit()
    citizen = auth.login(people["citizen"])
    item_id = start(citizen)
    admin = auth.login("admin")
    admin.get(f"/tasks/{item_id}")
    assert admin.response.status_code == 404
    response = admin.client.post(f"/tasks/{item_id}/claim", data={"csrf_token": admin.csrf_token()})
    assert response.status_code == 404
    admin.get("/tasks")
    assert admin.doc.xpath(f"//a[@href='/tasks/{item_id}']") == []
    citizen.get(f"/tasks/{item_id}")
    assert citizen.response.status_code == 200
