"""The inspector on a 360 px phone: field tasks, the visit form with a camera photo, accessible."""

from __future__ import annotations

from sqlalchemy import select

from tests.browser.staff_support import actor, jpeg, submitted_review
from workflow.models import Application, Reading


def test_inspector_records_the_on_site_reading_with_a_photo(live, phone, axe, shot):
    life, iid, _review_id = submitted_review(live, values_delta=(6, 95))
    life.complete(
        iid,
        "review_application",
        actor(live.system, "demo-operator"),
        {"decision": "inspect", "inspection_instruction": "Plombu yoxlayın"},
        claim=True,
    )
    visit_id = life.item(iid, "field_inspection").id

    live.login(phone, "demo-inspector")
    phone.goto(f"{live.url}/inspector/")
    task = phone.locator(f"li[data-item='{visit_id}']")
    assert "Plombu yoxlayın" in task.inner_text()
    shot(phone, "field_tasks")
    assert axe(phone) == []
    assert (
        phone.evaluate("document.documentElement.scrollWidth") <= 360
    )  # nothing wider than the phone

    task.locator("a").click()
    phone.click(f"form[action='/tasks/{visit_id}/claim'] button")
    phone.wait_for_selector("input[name=outcome]")
    assert axe(phone) == []
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    phone.check("input[name=outcome][value=done]")
    phone.fill("input[name=visit_time]", "11:20")
    readings = [1207, 1208]
    for i, value in enumerate(readings):
        phone.fill(f"input[name=meters-{i}-value]", str(value))
        phone.check(f"input[name=meters-{i}-serial_confirmed]")
        phone.check(f"input[name=meters-{i}-seal_intact][value=yes]")
        phone.set_input_files(
            f"input[name=meters-{i}-photo]",
            files=[
                {
                    "name": f"site-{i}.jpg",
                    "mimeType": "image/jpeg",
                    "buffer": jpeg((i * 50, 80, 90)),
                }
            ],
        )
    shot(phone, "visit_form")
    phone.click("form[enctype='multipart/form-data'] button[type=submit]")
    phone.wait_for_load_state()
    assert phone.locator(".notice--success").count() == 1
    assert axe(phone) == []
    with live.system.sessions() as s:
        app = s.scalar(select(Application).where(Application.instance_id == iid))
        assert app.status == "executed"
        posted = sorted(
            (r.value, r.source)
            for r in s.scalars(select(Reading).where(Reading.application_id == app.id))
        )
        assert posted == sorted((v, "inspector") for v in readings)
        assert all(line.inspected_photo_id is not None for line in app.lines)
