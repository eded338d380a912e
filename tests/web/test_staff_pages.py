"""Operators, unit heads and inspectors on their pages: the unit queue, the review page's evidence and
decision, the phone visit form with a camera photo, reassignment, the dashboard and the instance view."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, Email, WorkItem
from tests.conftest import next_working_monday
from tests.web.conftest import image_bytes, new_yasamal_subscriber
from tests.web.helpers import error_summary
from tests.web.staffing import submit_via_engine
from workflow.models import Application, Reading


def _claim(browser, item_id: int) -> None:
    browser.get(f"/tasks/{item_id}")
    browser.submit(action=f"/tasks/{item_id}/claim", follow=True)


def test_the_unit_queue_lists_counts_and_filters(auth, people, subscriber, system, clock):
    next_working_monday(clock, system.services.calendar)  # due in two working days: Wednesday
    plain = submit_via_engine(system, people, subscriber)
    neighbour = new_yasamal_subscriber(system)
    flagged = submit_via_engine(system, people, neighbour, values=(1206, 1290))
    operator = auth.login(people["operator"])
    operator.get("/staff/queue")
    doc = operator.doc
    rows = doc.xpath("//table[contains(@class,'queue')]/tbody/tr")
    assert [int(r.get("data-item")) for r in rows] == [plain.review_id, flagged.review_id]
    cells = [c.text_content().strip() for c in rows[1].xpath("./td")]
    assert cells[1] == neighbour["code"] and cells[2] == "yasamal" and cells[3] == "2"
    assert "Ağlabatanlıq" in cells[4]  # the flag shows in the row
    counts = {
        a.get("data-view"): a.xpath("./span[@class='count']/text()")[0]
        for a in doc.xpath("//a[@data-view]")
    }
    assert counts == {
        "all": "2",
        "unclaimed": "2",
        "mine": "0",
        "flagged": "1",
        "overdue": "0",
        "flagged_overdue": "0",
    }
    operator.get("/staff/queue?view=flagged")
    assert [int(r.get("data-item")) for r in operator.doc.xpath("//tbody/tr")] == [
        flagged.review_id
    ]
    operator.get("/staff/queue?area=nasimi")
    assert operator.doc.xpath("//tbody/tr") == []

    clock.advance(
        days=3
    )  # past the SLA: both stand out, and the combined filter finds the flagged one
    operator = auth.login(
        people["operator"]
    )  # (signed out meanwhile: sessions end after 30 idle minutes)
    operator.get("/staff/queue?view=flagged_overdue")
    rows = operator.doc.xpath("//tbody/tr")
    assert [int(r.get("data-item")) for r in rows] == [flagged.review_id]
    assert "row--overdue" in rows[0].get("class")


def test_the_queue_pages_through_many_items(auth, people, subscriber, system):
    for _ in range(26):
        submit_via_engine(system, people, new_yasamal_subscriber(system), photos=False)
    operator = auth.login(people["operator"])
    operator.get("/staff/queue")
    assert len(operator.doc.xpath("//tbody/tr")) == 25
    operator.get("/staff/queue?page=2")
    assert len(operator.doc.xpath("//tbody/tr")) == 1
    assert operator.doc.xpath("//a[@rel='prev']/@href") == ["/staff/queue?view=all&page=1"]


def test_review_page_shows_evidence_and_rejects_with_a_configured_reason(
    auth, people, subscriber, system
):
    sub = submit_via_engine(system, people, subscriber)
    with system.sessions() as s:  # the citizen typed a seal that is not the one on record
        app = s.scalar(select(Application))
        app.lines[0].declared_seal = "WRONG-1"
        s.commit()
    operator = auth.login(people["operator"])
    _claim(operator, sub.review_id)
    doc = operator.doc
    assert (
        len(doc.xpath("//tr[contains(@class,'row--mismatch')]")) == 1
    )  # the differing seal stands out
    assert len(doc.xpath("//table[contains(@class,'history')]")) == 2
    assert doc.xpath(
        "//table[contains(@class,'history')][1]/tbody/tr[1]/td[2]/text()"
    )  # the last reading
    sources = set(doc.xpath("//table[contains(@class,'history')]/tbody/tr/td[3]/text()"))
    assert sources and sources <= {
        "abonent göndərib",
        "nəzarətçi oxuyub",
        "müəssisə oxuyub",
        "təxmini",
    }
    assert len(doc.xpath("//svg[contains(@class,'usage-chart')]")) == 2
    assert len(doc.xpath("(//svg[contains(@class,'usage-chart')])[1]/*[local-name()='rect']")) == 12
    assert len(doc.xpath("//div[@data-photo-viewer]//img")) == 2
    assert doc.xpath("//div[@data-lease-url]/@data-lease-url") == [
        f"/staff/items/{sub.review_id}/lease"
    ]
    options = doc.xpath("//select[@name='reject_key']/option/text()")
    assert "Fotoşəkildə sayğacın göstərici paneli görünmür" in options and len(options) == 6

    operator.submit(
        {"decision": "reject", "reject_reason": "Şəkli yenidən çəkin"},
        action=f"/tasks/{sub.review_id}",
    )
    assert ("#reject_key", "İmtinanın səbəbini seçin") in error_summary(operator.doc)
    reason = system.services.review.reject_reasons[0]
    operator.submit(
        {"decision": "reject", "reject_key": reason, "reject_reason": "Şəkli yenidən çəkin"},
        action=f"/tasks/{sub.review_id}",
        follow=True,
    )
    sub.life.run_jobs()
    with system.sessions() as s:
        app = s.scalar(select(Application))
        assert (app.status, app.reject_key, app.reject_reason) == (
            "rejected",
            reason,
            "Şəkli yenidən çəkin",
        )
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "review_decided"))
        assert event.detail["decision"] == "reject" and event.detail["reason_key"] == reason
        app_id = app.id
    citizen = auth.login(people["citizen"])
    citizen.get(f"/applications/{app_id}")
    assert "Şəkli yenidən çəkin" in citizen.html


def test_the_holder_keeps_the_lease_by_renewing_it(auth, people, subscriber, system, clock):
    sub = submit_via_engine(system, people, subscriber, photos=False)
    operator = auth.login(people["operator"])
    _claim(operator, sub.review_id)
    token = operator.csrf_token()
    clock.advance(minutes=20)
    response = operator.client.post(
        f"/staff/items/{sub.review_id}/lease", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200 and response.json["held"] is True
    clock.advance(minutes=20)  # 40 minutes after the claim, still held thanks to the renewal
    operator.get(f"/tasks/{sub.review_id}")
    assert operator.doc.xpath("//input[@name='decision']")
    other = auth.login(people["unit_head"])
    other.get("/staff/queue")
    response = other.client.post(
        f"/staff/items/{sub.review_id}/lease", headers={"X-CSRFToken": other.csrf_token()}
    )
    assert response.status_code == 404  # a head does not do reviews: the item is not theirs to hold


def test_operator_sends_to_inspection_and_inspector_records_the_visit_with_a_photo(
    auth, people, subscriber, system
):
    sub = submit_via_engine(system, people, subscriber, values=(1206, 1290))
    operator = auth.login(people["operator"])
    _claim(operator, sub.review_id)
    assert operator.doc.xpath("//input[@name='decision'][@checked]/@value") == [
        "inspect"
    ]  # flagged: preselected
    operator.submit(
        {"decision": "inspect", "inspection_instruction": "İkinci sayğacı yoxlayın"},
        action=f"/tasks/{sub.review_id}",
        follow=True,
    )
    visit_id = sub.life.item(sub.instance_id, "field_inspection").id

    inspector = auth.login(people["inspector"])
    inspector.get("/inspector/")
    task = inspector.doc.xpath(f"//li[@data-item='{visit_id}']")[0]
    assert "İkinci sayğacı yoxlayın" in task.text_content()
    inspector.get(f"/tasks/{visit_id}")  # the generic link leads to the phone page
    assert inspector.response.headers["Location"] == f"/inspector/tasks/{visit_id}"
    inspector.follow()
    inspector.submit(action=f"/tasks/{visit_id}/claim", follow=True)
    inspector.follow()
    assert inspector.doc.xpath("//input[@type='file']/@capture") == ["environment", "environment"]

    # "no access" needs a note, then sends the visit back to the queue as a new task
    inspector.submit({"outcome": "no_access"}, action=f"/inspector/tasks/{visit_id}")
    assert ("#note", "Niyə giriş olmadığını yazın") in error_summary(inspector.doc)
    inspector.submit(
        {"outcome": "no_access", "note": "Evdə heç kim yox idi"},
        action=f"/inspector/tasks/{visit_id}",
        follow=True,
    )
    second_id = sub.life.item(sub.instance_id, "field_inspection").id
    assert second_id != visit_id and inspector.doc.xpath(f"//li[@data-item='{second_id}']")

    inspector.get(f"/inspector/tasks/{second_id}")
    inspector.submit(action=f"/tasks/{second_id}/claim", follow=True)
    inspector.follow()
    data = {
        "outcome": "done",
        "visit_time": "10:30",
        "meters-0-value": "1206",
        "meters-1-value": "1209",
        "meters-0-seal_intact": "yes",
        "meters-1-seal_intact": "no",
        "meters-0-serial_confirmed": "y",
        "meters-1-serial_confirmed": "y",
    }
    inspector.submit(data, action=f"/inspector/tasks/{second_id}")  # no photos, no new seal number
    hrefs = [href for href, _ in error_summary(inspector.doc)]
    assert "#meters-0-photo" in hrefs and "#meters-1-new_seal" in hrefs
    data["meters-1-new_seal"] = "S-NEW-77"
    inspector.submit(
        data,
        action=f"/inspector/tasks/{second_id}",
        follow=True,
        files={
            "meters-0-photo": (image_bytes("JPEG"), "a.jpg"),
            "meters-1-photo": (image_bytes("JPEG", color=(9, 9, 9)), "b.jpg"),
        },
    )
    sub.life.run_jobs()
    with system.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "executed"
        posted = sorted(
            (r.value, r.source)
            for r in s.scalars(select(Reading).where(Reading.application_id == app.id))
        )
        assert posted == [(1206, "inspector"), (1209, "inspector")]
        second = app.lines[1]
        assert (
            second.inspected_seal,
            second.inspected_seal_intact,
            second.inspected_serial_ok,
        ) == ("SNEW77", False, True)  # stored as normalised: upper case, no hyphens
        assert second.meter.seal == "SNEW77"  # the new seal is now the one on record
        assert second.inspected_photo_id is not None and second.inspected_at.strftime("%M") == "30"


def test_the_head_reassigns_a_claimed_review_and_watches_the_dashboard(
    auth, people, subscriber, system, clock
):
    from engine.models import Unit
    from workflow import factories as f

    with system.sessions() as s:
        f.account(
            s,
            "operator",
            s.scalar(select(Unit).where(Unit.code == "U-YSM")),
            username="operator-b",
            name="Nigar Rzayeva",
        )
        s.commit()
    next_working_monday(clock, system.services.calendar)  # two working days are 48 hours
    sub = submit_via_engine(system, people, subscriber, photos=False)
    operator = auth.login(people["operator"])
    _claim(operator, sub.review_id)
    head = auth.login(people["unit_head"])
    head.get("/staff/queue")
    row = head.doc.xpath(f"//tr[@data-item='{sub.review_id}']")[0]
    assert "Leyla Hüseynova" in row.text_content()
    for href in row.xpath(
        ".//a/@href"
    ):  # every link a head sees in the queue leads somewhere they may go
        assert head.client.get(href).status_code == 200, href
    head.get(f"/staff/items/{sub.review_id}/reassign")
    names = head.doc.xpath("//select[@name='account_id']/option/text()")
    assert "Nigar Rzayeva" in names and "Elçin Əliyev" not in names  # only this unit's operators
    nigar = head.doc.xpath("//select[@name='account_id']/option[text()='Nigar Rzayeva']/@value")[0]
    head.submit({"account_id": nigar}, action=f"/staff/items/{sub.review_id}/reassign", follow=True)
    assert (
        "Nigar Rzayeva" in head.doc.xpath(f"//tr[@data-item='{sub.review_id}']")[0].text_content()
    )
    operator.get(f"/tasks/{sub.review_id}")
    assert not operator.doc.xpath("//input[@name='decision']")  # Leyla no longer holds it
    nigar_browser = auth.login("operator-b")
    nigar_browser.get(f"/tasks/{sub.review_id}")
    assert nigar_browser.doc.xpath("//input[@name='decision']")  # Nigar can decide straight away

    clock.advance(
        days=2, minutes=1
    )  # the diagram's SLA timer escalates to the head, with an e-mail
    assert sub.life.sweep() == 1
    with system.sessions() as s:
        assert s.scalar(select(Email.to_addr)) is not None
        assert (
            s.scalar(select(WorkItem.role).where(WorkItem.task_name == "handle_escalation"))
            == "unit_head"
        )
    head = auth.login(people["unit_head"])
    head.get("/staff/dashboard")
    stats = {
        e.get("data-stat"): e.text_content().strip() for e in head.doc.xpath("//span[@data-stat]")
    }
    assert (
        stats["open"] == "1" and stats["claimed"] == "0" and stats["overdue"] == "1"
    )  # Nigar's lease ran out
    assert stats["escalated"] == "1"


def test_instance_view_shows_the_version_diagram_and_the_timeline(auth, people, subscriber, system):
    sub = submit_via_engine(system, people, subscriber, photos=False)
    operator = auth.login(people["operator"])
    _claim(operator, sub.review_id)
    operator.get(f"/staff/instances/{sub.instance_id}")
    doc = operator.doc
    assert doc.xpath("//div[@id='diagram']/@data-progress-url") == [
        f"/staff/instances/{sub.instance_id}/progress.json"
    ]
    actions = doc.xpath("//li[@data-action]/@data-action")
    assert actions[0] == "instance_started" and "work_item_claimed" in actions
    assert (
        "Leyla Hüseynova" in doc.xpath("//li[@data-action='work_item_claimed']")[0].text_content()
    )
    data = operator.client.get(f"/staff/instances/{sub.instance_id}/progress.json").json
    assert data["current"] == ["review_application"] and "enter_readings" in data["completed"]
    assert 'id="review_application"' in data["xml"]


def test_a_flagged_application_is_accepted_only_with_an_override_shown_on_the_timeline_and_dashboard(
    auth, people, subscriber, system
):
    sub = submit_via_engine(
        system, people, subscriber, values=(1206, 1290)
    )  # the second meter: flagged
    operator = auth.login(people["operator"])
    _claim(operator, sub.review_id)
    labels = operator.doc.xpath("//input[@name='decision']/following-sibling::label[1]/text()")
    assert any("istisna" in label for label in labels)  # "accept" is offered only as an override
    operator.submit({"decision": "accept"}, action=f"/tasks/{sub.review_id}")
    targets = [target for target, _text in error_summary(operator.doc)]
    assert targets == ["#override_key", "#override_reason"]
    reason = system.services.review.override_reasons[2]
    operator.submit(
        {
            "decision": "accept",
            "override_key": reason,
            "override_reason": "Şəkildə 1290 aydın görünür",
        },
        action=f"/tasks/{sub.review_id}",
        follow=True,
    )
    sub.life.run_jobs()
    with system.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "executed"
        assert sorted(
            r.value for r in s.scalars(select(Reading).where(Reading.application_id == app.id))
        ) == [1206, 1290]
    head = auth.login(people["unit_head"])
    head.get(f"/staff/instances/{sub.instance_id}")
    event = head.doc.xpath("//li[@data-action='conflict_overridden']")[0].text_content()
    assert (
        "Şəkil bildirilən göstəricini aydın göstərir" in event
        and "Şəkildə 1290 aydın görünür" in event
    )
    timeline = head.doc.xpath("//ol[@class='audit-timeline']")[0].text_content()
    for code in (
        "(accept)",
        "render_invoice",
        "post_reading",
        "check_plausibility",
        "notify_subscriber",
    ):
        assert code not in timeline  # decisions and steps are shown in words, never as codes
    assert "Hesab-fakturanın PDF faylı formalaşdırıldı" in timeline and "(qəbul edildi)" in timeline
    head.get("/staff/dashboard")
    row = head.doc.xpath("//table[@data-overrides]/tbody/tr")[0].text_content()
    assert app.number in row and "Şəkil bildirilən göstəricini aydın göstərir" in row
