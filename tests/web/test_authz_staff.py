"""Every staff and inspector route against every kind of person: the unit's operator, an operator of
another unit, an inspector, a citizen and an anonymous visitor (plus the unit head and an inspector of
another unit where the route is theirs). What a person may not see does not exist for them (404);
anonymous visitors are sent to the login page; refused actions change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.models import Unit, WorkItem
from engine.workitems import claim
from tests.web.conftest import new_yasamal_subscriber
from tests.web.staffing import actor_of, submit_via_engine
from workflow import factories as f

PERSONAS = (
    "operator",
    "operator_other_unit",
    "inspector",
    "citizen",
    "anonymous",
    "unit_head",
    "inspector_other_unit",
)


@pytest.fixture
def world(auth, people, subscriber, system):
    with system.sessions() as s:
        f.account(
            s,
            "inspector",
            s.scalar(select(Unit).where(Unit.code == "U-NSM")),
            username="nezaretci2",
            name="Vüsal Kərimov",
        )
        s.commit()
    people = dict(people, inspector_other_unit="nezaretci2")
    review = submit_via_engine(system, people, subscriber)
    visit = submit_via_engine(system, people, new_yasamal_subscriber(system), values=(1206, 1290))
    operator = actor_of(system, people["operator"])
    visit.life.complete(
        visit.instance_id, "review_application", operator, {"decision": "inspect"}, claim=True
    )
    with system.sessions() as s:  # the unit's operator holds the review (for the lease route)
        claim(s, review.review_id, operator, system.services.now(), timedelta(minutes=30))
        s.commit()
    visit_id = visit.life.item(visit.instance_id, "field_inspection").id
    line_id = review.life.application(review.instance_id).lines[0].id
    browsers = {}
    for persona in PERSONAS:
        if persona == "anonymous":
            browsers[persona] = auth.browser()
        else:
            browsers[persona] = auth.login(people[persona])
        browsers[persona].get("/login" if persona == "anonymous" else "/tasks")
    return {
        "browsers": browsers,
        "review": review,
        "visit_id": visit_id,
        "line_id": line_id,
        "system": system,
    }


def _status(world, persona: str, method: str, url: str, data: dict | None = None) -> int:
    browser = world["browsers"][persona]
    token = browser.csrf_token() if browser.doc.xpath("//input[@name='csrf_token']") else ""
    if method == "GET":
        response = browser.client.get(url)
    else:
        response = browser.client.post(
            url, data=dict(data or {}, csrf_token=token), headers={"X-CSRFToken": token}
        )
    response.close()  # a photo response holds its file open until closed
    return response.status_code


def _check(world, method: str, url: str, allowed: dict[str, int], data: dict | None = None) -> None:
    got = {p: _status(world, p, method, url, data) for p in PERSONAS}
    expected = {p: allowed.get(p, 302 if p == "anonymous" else 404) for p in PERSONAS}
    assert got == expected, url


def test_work_queue(world):
    _check(
        world,
        "GET",
        "/staff/queue",
        {"operator": 200, "operator_other_unit": 200, "unit_head": 200},
    )
    rid = world["review"].review_id
    other = world["browsers"]["operator_other_unit"]
    other.get("/staff/queue")
    assert (
        other.doc.xpath(f"//tr[@data-item='{rid}']") == [] and other.doc.xpath("//tbody/tr") == []
    )
    mine = world["browsers"]["operator"]
    mine.get(
        "/staff/queue?role=inspector"
    )  # an operator asking for the inspectors' queue gets their own
    assert [int(r.get("data-item")) for r in mine.doc.xpath("//tbody/tr")] == [rid]


def test_review_page_photo_and_claim(world):
    rid, line = world["review"].review_id, world["line_id"]
    _check(world, "GET", f"/tasks/{rid}", {"operator": 200})
    _check(world, "GET", f"/tasks/{rid}/photos/{line}", {"operator": 200})
    _check(world, "POST", f"/tasks/{rid}/claim", {"operator": 302})


def test_deciding_a_review(world):
    rid = world["review"].review_id
    _check(world, "POST", f"/tasks/{rid}", {"operator": 302}, data={"decision": "accept"})
    with world["system"].sessions() as s:  # only the holder's decision counted
        assert s.get(WorkItem, rid).completed_by_id is not None


def test_lease_renewal(world):
    _check(world, "POST", f"/staff/items/{world['review'].review_id}/lease", {"operator": 200})


def test_reassignment(world):
    rid = world["review"].review_id
    _check(world, "GET", f"/staff/items/{rid}/reassign", {"unit_head": 200})
    target = actor_of(world["system"], "operator2").id  # of another unit: refused even for the head
    before = _holder(world, rid)
    _check(
        world,
        "POST",
        f"/staff/items/{rid}/reassign",
        {"unit_head": 200},
        data={"account_id": target},
    )
    assert _holder(world, rid) == before


def _holder(world, item_id):
    with world["system"].sessions() as s:
        return s.get(WorkItem, item_id).claimed_by_id


def test_dashboard(world):
    _check(world, "GET", "/staff/dashboard", {"unit_head": 200})


def test_instance_view_and_its_data(world):
    iid = world["review"].instance_id
    _check(world, "GET", f"/staff/instances/{iid}", {"operator": 200, "unit_head": 200})
    _check(
        world, "GET", f"/staff/instances/{iid}/progress.json", {"operator": 200, "unit_head": 200}
    )


def test_field_tasks(world):
    _check(world, "GET", "/inspector/", {"inspector": 200, "inspector_other_unit": 200})
    other = world["browsers"]["inspector_other_unit"]
    other.get("/inspector/")
    assert other.doc.xpath("//li[@data-item]") == []
    vid = world["visit_id"]
    _check(world, "GET", f"/inspector/tasks/{vid}", {"inspector": 200})
    _check(
        world,
        "POST",
        f"/inspector/tasks/{vid}",
        {"inspector": 302},
        data={"outcome": "no_access", "note": "x"},
    )
    with world["system"].sessions() as s:  # nobody completed it: the inspector had not claimed it
        assert s.get(WorkItem, vid).state == "open"
