"""The analyst changes a timer in the modeler, runs the scenarios, deploys, sees the version."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import AuditEvent, ProcessVersion


def test_analyst_changes_the_draft_expiry_timer_and_deploys_a_new_version(live, page, shot):
    live.login(page, "demo-analyst")
    page.goto(f"{live.url}/studio/draft")
    page.wait_for_selector("[data-studio][data-ready=true]", timeout=20000)
    page.wait_for_selector(
        ".bjsl-button-success", timeout=10000
    )  # bpmnlint ran in the browser: no issues
    page.locator(".djs-container").hover()
    page.mouse.wheel(-400, 0)  # the draft's timer sits under the palette: move the canvas right
    page.click("[data-element-id=draft_expired]")
    timer = page.locator("#bio-properties-panel-saygacTimer")
    timer.wait_for()
    assert timer.input_value() == '"P30D"'
    timer.fill('"P45D"')
    timer.press("Tab")
    page.click("[data-action=check]")
    page.wait_for_selector("[data-results] li")
    results = page.locator("[data-results] li")
    assert results.count() == 8
    assert page.locator("[data-results] li[data-passed=true]").count() == 8
    shot(page, "scenarios_passed")
    page.fill("#deploy-reason", "drafts kept 45 days")
    page.click("[data-action=deploy]")
    page.wait_for_url(f"{live.url}/studio")
    row = page.locator("tr[data-version='2']")
    assert "drafts kept 45 days" in row.locator("[data-reason]").inner_text()
    assert "Nərmin Cəfərova" in row.inner_text()  # the demo analyst who deployed it
    shot(page, "versions")
    with live.system.sessions() as s:
        v2 = s.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
        assert (
            '"P45D"' in v2.files["meter_reading.bpmn"]
            and '"P30D"' not in v2.files["meter_reading.bpmn"]
        )
        assert len(v2.scenarios) == 8
        assert (
            s.scalar(select(AuditEvent).where(AuditEvent.action == "process_deployed")) is not None
        )
    assert page.console_errors == []


def test_diff_colours_changes_and_bulk_migration_reports_progress(live, page, shot):
    from engine.audit import Actor
    from engine.models import Account, ProcessInstance
    from engine.versions import deploy
    from workflow.operations import OPERATIONS
    from workflow.process import PROCESS_ID

    system = live.system
    with system.sessions() as s:
        latest = system.specs.latest(s, PROCESS_ID)
        analyst = s.scalar(select(Account).where(Account.username == "demo-analyst"))
        actor = Actor(id=analyst.id, role="analyst", label=analyst.display_name)
        citizen = s.scalar(select(Account).where(Account.username == "demo-citizen"))
        waiting = [
            system.start_application(s, Actor(id=citizen.id, role="citizen", label="c")).instance.id
            for _ in range(12)
        ]
        files = {
            **latest.files,
            "meter_reading.bpmn": latest.files["meter_reading.bpmn"].replace(
                'value="handle_escalation"', 'value="review_application"'
            ),
        }
        new = deploy(
            s,
            system.specs,
            OPERATIONS,
            PROCESS_ID,
            files,
            latest.scenarios,
            actor=actor,
            reason="form",
        )
        old_n, new_n = latest.version, new.version
        s.commit()
    live.login(page, "demo-analyst")
    page.goto(f"{live.url}/studio/diff?from={old_n}&to={new_n}")
    page.wait_for_selector("[data-studio=diff][data-ready=true]", timeout=20000)
    assert (
        page.locator(
            "[data-diff-new] .studio-diff--changed[data-element-id=handle_escalation]"
        ).count()
        == 1
    )
    assert page.locator("tr[data-changed=handle_escalation]").count() == 1
    shot(page, "diff")
    page.goto(f"{live.url}/studio/migrate?source={old_n}&target={new_n}")
    assert page.locator("tr[data-movable=true]").count() >= 12
    page.click("[data-action=migrate]")
    page.wait_for_selector("[data-studio=migrate][data-finished=true]", timeout=20000)
    progress = page.locator("[data-progress]")
    assert progress.get_attribute("max") == str(progress.evaluate("p => p.value"))
    moved_label = page.locator("[data-studio=migrate]").get_attribute("data-msg-moved")
    cells = page.locator("tr[data-movable=true] [data-result]").all_inner_texts()
    assert len(cells) >= 12 and set(cells) == {moved_label}
    assert page.locator("[data-report]").inner_text().strip() != ""
    shot(page, "migrated")
    with system.sessions() as s:
        assert {s.get(ProcessInstance, i).version_id for i in waiting} == {new.id}
    assert page.console_errors == []
