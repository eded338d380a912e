"""Operators and unit heads in chromium: claim and send to inspection, reassign, the instance view."""

from __future__ import annotations

from sqlalchemy import func, or_, select

from engine.models import Account, Unit, WorkItem
from tests.browser.staff_support import actor, submitted_review
from workflow import factories as f


def test_operator_claims_and_sends_to_inspection(live, page, shot, axe):
    life, iid, review_id = submitted_review(
        live, values_delta=(6, 400)
    )  # the second is far too high: flagged
    with (
        live.system.sessions() as s
    ):  # the newest item is due last: on the last page of the flagged view
        mine = s.get(WorkItem, review_id)
        assert mine.flagged
        flagged = s.scalar(
            select(func.count())
            .select_from(WorkItem)
            .where(
                WorkItem.state == "open",
                WorkItem.unit_id == mine.unit_id,
                WorkItem.role == "operator",
                or_(WorkItem.flagged, WorkItem.evidence_flagged),
            )
        )
    live.login(page, "demo-operator")
    page.goto(f"{live.url}/staff/queue?view=flagged&page={-(-flagged // 25)}")
    row = page.locator(f"tr[data-item='{review_id}']")
    assert row.locator(".tag--warning").count() >= 1
    assert axe(page) == []
    row.locator(f"a[href='/tasks/{review_id}']").click()
    page.click(f"form[action='/tasks/{review_id}/claim'] button")
    assert page.locator(
        "input[name=decision][value=inspect]"
    ).is_checked()  # a conflict pre-selects inspection
    assert page.locator("[data-photo-viewer]").count() == 2  # each meter's photo beside its reading
    assert page.locator("[data-photo-viewer] img").first.evaluate(
        "img => img.complete && img.naturalWidth > 0"
    )
    assert page.locator("[data-photo-controls]").first.is_visible()
    assert (
        page.locator("svg.usage-chart").count() == 2 and page.locator("table.history").count() == 2
    )
    page.fill("textarea[name=inspection_instruction]", "İkinci sayğacın plombunu yoxlayın")
    shot(page, "review")
    page.click(f"form[action='/tasks/{review_id}'] button[type=submit]")
    page.wait_for_load_state()
    assert life.open_tasks(iid) == ["field_inspection"]
    assert page.console_errors == []


def _second_yasamal_operator(live) -> None:
    with live.system.sessions() as s:
        if s.scalar(select(Account).where(Account.username == "nigar")) is None:
            f.account(
                s,
                "operator",
                s.scalar(select(Unit).where(Unit.code == "U-YSM")),
                username="nigar",
                name="Nigar Rzayeva",
            )
            s.commit()


def test_unit_head_reassigns_a_claimed_item(live, page, browser, shot, axe):
    _second_yasamal_operator(live)
    _life, _iid, review_id = submitted_review(live)
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="az-AZ").new_page()
    live.login(other, "demo-operator")
    other.goto(f"{live.url}/tasks/{review_id}")
    other.click(f"form[action='/tasks/{review_id}/claim'] button")
    assert other.locator("input[name=decision]").count() == 3

    live.login(page, "demo-unithead")
    page.goto(f"{live.url}/staff/queue")
    page.click(f"tr[data-item='{review_id}'] a[href='/staff/items/{review_id}/reassign']")
    target = page.locator("select[name=account_id] option", has_text="Nigar Rzayeva").get_attribute(
        "value"
    )
    assert axe(page) == []
    page.select_option("select[name=account_id]", value=target)
    shot(page, "reassign")
    page.click(f"form[action='/staff/items/{review_id}/reassign'] button")
    page.wait_for_load_state()
    assert page.locator(".notice--success").count() == 1
    with live.system.sessions() as s:
        item = s.get(WorkItem, review_id)
        assert item.claimed_by_id == int(target) != actor(live.system, "demo-operator").id
    other.reload()
    assert (
        other.locator("input[name=decision]").count() == 0
    )  # the first operator no longer holds it
    other.context.close()


def test_instance_view_highlights_the_current_step(live, page, shot, axe):
    _life, iid, _review_id = submitted_review(live)
    live.login(page, "demo-operator")
    page.goto(f"{live.url}/staff/instances/{iid}")
    page.wait_for_selector("#diagram[data-ready=true]", timeout=15000)
    current = page.locator(".djs-element.step-current[data-element-id=review_application]")
    assert current.count() == 1
    assert page.locator(".djs-element.step-done[data-element-id=register_application]").count() == 1
    assert page.locator("li[data-action=instance_started]").count() == 1
    shot(page, "instance")
    assert axe(page) == []
    assert page.console_errors == []
