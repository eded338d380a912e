"""Operators and inspectors: claims, the review page's evidence, the on-site inspection form."""

from __future__ import annotations

from sqlalchemy import select

from tests.conftest import next_working_monday
from tests.web.conftest import image_bytes
from tests.web.helpers import error_summary, open_item, submit_application
from workflow import factories as f
from workflow.models import Application, Reading


def _second_operator(system) -> str:
    with system.sessions() as s:
        acc = f.account(s, "operator", f.unit(s), username="operator-b", name="Nigar Rzayeva")
        s.commit()
        return acc.username


def test_one_operator_at_a_time_and_a_clear_message_for_the_other(auth, people, subscriber, system):
    submit_application(auth, people, subscriber)
    review_id = open_item(system, "review_application")
    first = auth.login(people["operator"])
    first.get(f"/tasks/{review_id}")
    first.submit(action=f"/tasks/{review_id}/claim", follow=True)
    assert "Bu tapşırığı siz götürmüsünüz." in first.html

    second = auth.login(_second_operator(system))
    second.get(f"/tasks/{review_id}")
    assert "Bu tapşırıq üzərində Leyla Hüseynova işləyir." in second.html
    assert not second.doc.xpath("//input[@name='decision']")
    csrf = second.csrf_token()
    response = second.client.post(f"/tasks/{review_id}/claim", data={"csrf_token": csrf})
    assert response.status_code == 302
    second.get(response.headers["Location"])
    assert "Leyla Hüseynova işləyir. Başqa tapşırıq seçin" in second.html
    # completing without the claim is refused with the same explanation, and nothing changes
    response = second.client.post(
        f"/tasks/{review_id}", data={"csrf_token": csrf, "decision": "accept"}
    )
    assert response.status_code == 302
    with system.sessions() as s:
        assert s.scalar(select(Application.status)) == "in_review"

    # the first puts it back; the second can take it
    first.submit(action=f"/tasks/{review_id}/release", follow=True)
    assert "Tapşırıq növbəyə qaytarıldı." in first.html
    second.get(f"/tasks/{review_id}")
    second.submit(action=f"/tasks/{review_id}/claim", follow=True)
    assert second.doc.xpath("//input[@name='decision']")


def test_review_shows_flags_and_prefers_inspection_then_the_inspector_reads_on_site(
    auth, people, subscriber, system
):
    # the second meter reports 90 m³ in a month where about 6 are usual
    submit_application(auth, people, subscriber, values=(1206, 1290))
    review_id = open_item(system, "review_application")
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{review_id}")
    operator.submit(action=f"/tasks/{review_id}/claim", follow=True)
    page = operator.html
    assert "Göstəricilər məlumat bazasındakı məlumatlarla ziddiyyət təşkil edir" in page
    assert (
        "1290 göstəricisinə görə" in page
    )  # the plausibility flag, in Azerbaijani with its figures
    assert operator.doc.xpath("//input[@name='decision'][@checked]/@value") == ["inspect"]
    assert page.count("Sayğacın şəkli") == 2

    # a rejection needs its reason: error summary, and the radio stays chosen
    operator.submit({"decision": "reject"}, action=f"/tasks/{review_id}")
    assert ("#reject_reason", "İmtinanın səbəbini yazın") in error_summary(operator.doc)
    assert operator.doc.xpath("//input[@name='decision'][@checked]/@value") == ["reject"]

    operator.submit(
        {"decision": "inspect", "inspection_instruction": "İkinci sayğacı yoxlayın"},
        action=f"/tasks/{review_id}",
        follow=True,
    )
    visit_id = open_item(system, "field_inspection")

    inspector = auth.login(people["inspector"])
    inspector.get(f"/tasks/{visit_id}")
    inspector.follow()  # the inspector's phone page
    inspector.submit(action=f"/tasks/{visit_id}/claim", follow=True)
    inspector.follow()
    doc = inspector.doc
    assert "İkinci sayğacı yoxlayın" in inspector.html
    with system.sessions() as s:
        line_ids = [str(line.id) for line in s.scalar(select(Application)).lines]
    assert (
        doc.xpath(
            "//input[@type='hidden'][substring(@name, string-length(@name) - 7) = '-line_id']/@value"
        )
        == line_ids
    )
    assert doc.xpath("//input[@name='meters-1-value']/@inputmode") == ["numeric"]

    # "done" without the readings: each block's field says what is missing
    inspector.submit({"outcome": "done"}, action=f"/inspector/tasks/{visit_id}")
    assert "#meters-0-value" in [href for href, _ in error_summary(inspector.doc)]

    inspector.submit(
        {
            "outcome": "done",
            "visit_time": "09:05",
            "meters-0-value": "1206",
            "meters-1-value": "1208",
            "meters-0-seal_intact": "yes",
            "meters-1-seal_intact": "yes",
        },
        action=f"/inspector/tasks/{visit_id}",
        follow=True,
        files={
            "meters-0-photo": (image_bytes("JPEG"), "a.jpg"),
            "meters-1-photo": (image_bytes("PNG"), "b.png"),
        },
    )
    assert inspector.doc.xpath("//div[contains(@class,'notice--success')]")
    with system.sessions() as s:
        app = s.scalar(select(Application))
        assert app.status == "executed"
        posted = sorted(
            (r.value, r.source)
            for r in s.scalars(select(Reading).where(Reading.application_id == app.id))
        )
        assert posted == [(1206, "inspector"), (1208, "inspector")]


def test_removing_a_meter_block_keeps_the_others(auth, people, subscriber, system):
    from tests.web.helpers import identify, start

    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    citizen.submit({"meters-0-serial": subscriber["serials"][0], "add_meter": "1"})
    citizen.submit({"meters-1-serial": subscriber["serials"][1], "add_meter": "1"})
    assert len(citizen.doc.xpath("//fieldset[contains(@class, 'meter-block')]")) == 3
    citizen.submit({"remove_meter": "meters-1"})
    doc = citizen.doc
    assert len(doc.xpath("//fieldset[contains(@class, 'meter-block')]")) == 2
    assert doc.xpath("//input[@name='meters-0-serial']/@value") == [subscriber["serials"][0]]
    assert doc.xpath("//input[@name='meters-1-serial']") == []
    assert not error_summary(doc)


def test_the_unit_head_handles_an_overdue_review(auth, people, subscriber, system, clock):
    from worker.dispatch import InlineDispatcher
    from worker.sweep import sweep

    next_working_monday(clock, system.services.calendar)  # two working days are 48 hours
    submit_application(auth, people, subscriber)
    clock.advance(days=2, minutes=1)
    assert sweep(system, InlineDispatcher(system)).timers == 1
    head_item = open_item(system, "handle_escalation")
    head = auth.login(people["unit_head"])
    head.get("/tasks")
    assert head.doc.xpath(f"//a[@href='/tasks/{head_item}']/text()") == [
        "Vaxtında baxılmamış müraciət"
    ]
    head.get(f"/tasks/{head_item}")
    head.submit(action=f"/tasks/{head_item}/claim", follow=True)
    assert "Bu müraciətə vaxtında baxılmayıb." in head.html
    head.submit({"note": ""}, action=f"/tasks/{head_item}")
    assert ("#note", "Nə edildiyini yazın") in error_summary(head.doc)
    head.submit({"note": "Operatorla danışıldı"}, action=f"/tasks/{head_item}", follow=True)
    assert "Tapşırıq tamamlandı." in head.html
    assert open_item(system, "handle_escalation") is None
    assert open_item(system, "review_application") is not None  # the review itself goes on
