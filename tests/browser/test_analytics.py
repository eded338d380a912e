"""The analytics page in chromium: the heat overlays carry the figures on the diagram, a path
lights up on request, the charts draw from their tables, and axe-core finds no violations."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from engine import analytics, analytics_rollup
from engine.models import ProcessVersion
from tests.browser.staff_support import actor, submitted_review
from web.analytics.views import hours_filter, share_filter


def _expected(live) -> dict:
    """The figures the page shows for its default filter (the last 30 days, all versions and units),
    from the rollup the sweep refreshes (refreshed here)."""
    zone = ZoneInfo(live.system.settings.app.timezone)
    today = live.system.services.today()
    start = datetime.combine(today - timedelta(days=29), datetime.min.time(), tzinfo=zone)
    end = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    with live.system.sessions() as s:
        live.system.refresh_analytics(s, force=True)
        s.commit()
        ids = tuple(s.scalars(select(ProcessVersion.id)))
        open_now = analytics.open_counts(s, analytics.Scope(ids, start, end))
        return analytics_rollup.node_stats(
            s, analytics_rollup.Days(ids, today - timedelta(days=29), today), open_now
        )


def test_heat_overlays_show_the_figures_and_pages_pass_axe(live, page, axe, shot):
    life, iid, _review = submitted_review(live)
    live.clock.advance(hours=2)
    life.complete(
        iid,
        "review_application",
        actor(live.system, "demo-operator"),
        {"decision": "accept"},
        claim=True,
    )
    submitted_review(live, values_delta=(7, 6))  # one more waiting at the review
    expected = _expected(live)

    live.login(page, "demo-analyst")
    page.goto(f"{live.url}/analytics/?lang=en")
    page.wait_for_selector("#heat-diagram[data-ready=true]")
    for node in ("review_application", "enter_readings"):
        figures = expected[node]
        overlay = page.locator(f".heat-overlay[data-node={node}]")
        lines = overlay.locator(".heat-overlay__line").all_inner_texts()
        assert lines[0] == f"passed: {figures['passed']}"
        assert (
            lines[1]
            == f"waiting, median / 90th percentile: {hours_filter(figures['wait_median'])} / "
            f"{hours_filter(figures['wait_p90'])}".replace(" saat", " h")
        )
        assert lines[2] == f"over SLA: {share_filter(figures['breach_share'])}"
        assert overlay.get_attribute("href").startswith(f"/analytics/nodes/{node}?")
    assert expected["review_application"]["open"] >= 1
    assert (
        page.locator(".heat-overlay[data-node=review_application] .heat-overlay__line")
        .nth(3)
        .inner_text()
        == f"waiting now: {expected['review_application']['open']}"
    )
    assert page.locator("canvas[data-drawn=true]").count() == 6
    button = page.locator("#path-table button[data-path-nodes]").first
    button.click()
    assert button.get_attribute("aria-pressed") == "true"
    assert page.locator(".djs-element.path-on").count() == len(
        button.get_attribute("data-path-nodes").split()
    )
    shot(page, "analytics")
    assert axe(page) == []
    assert page.console_errors == []

    page.goto(f"{live.url}/analytics/nodes/review_application")
    assert axe(page) == []
    page.goto(f"{live.url}/analytics/compare")
    assert axe(page) == []
    page.goto(f"{live.url}/analytics/?from=junk")
    assert page.locator(".error-summary").count() == 1
    assert axe(page) == []
