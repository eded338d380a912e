"""The analytics pages: who sees which unit, the figures on the page and behind the diagram,
bad filters answered with an error summary (never a 500), exports."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.web.helpers import error_summary
from tests.web.staffing import actor_of, submit_via_engine
from worker.lifecycle import new_subscriber
from workflow import factories as f


@pytest.fixture
def analyst(system, people):
    with system.sessions() as s:
        f.account(s, "analyst", username="analitik", name="Nigar Rzayeva")
        s.commit()
    return "analitik"


@pytest.fixture
def reviewed(system, people, subscriber, clock):
    """One application accepted after 3 hours in the queue and one still waiting at the review."""
    done = submit_via_engine(system, people, subscriber, photos=False)
    clock.advance(hours=3)
    done.life.complete(
        done.instance_id,
        "review_application",
        actor_of(system, people["operator"]),
        {"decision": "accept"},
        claim=True,
    )
    code, serials, seals = new_subscriber(system)
    other = {"code": code, "serials": serials, "seals": seals}
    waiting = submit_via_engine(system, people, other, values=(1206,), photos=False)
    clock.advance(hours=1)
    with system.sessions() as s:  # what the sweep does every few minutes
        system.refresh_analytics(s, force=True)
        s.commit()
    return {"done": done, "waiting": waiting}


def _row(doc, node: str) -> list[str]:
    return [
        c.text_content().strip()
        for c in doc.xpath(f"//table[@id='node-table']//tr[@data-node='{node}']/*")
    ]


def test_a_unit_head_sees_the_heat_of_their_unit(auth, people, reviewed):
    head = auth.login(people["unit_head"])
    assert head.get("/analytics/").status_code == 200
    doc = head.doc
    assert "U-YSM" in doc.xpath("string(//form[contains(@class,'analytics-filter')])")
    assert doc.xpath("//select[@name='unit']") == []  # a head cannot pick another unit
    # review: one passed, one waiting now, 3 h median and 90th-percentile wait, no deadline broken
    assert _row(doc, "review_application") == [
        "Müraciətə baxılması",
        "1",
        "1",
        "3.0 saat",
        "3.0 saat",
        "0.0 saat",
        "0%",
    ]
    assert (
        _row(doc, "identify_subscriber") == []
    )  # the citizen's steps come before routing: no unit yet
    heat = head.get("/analytics/heat.json").get_json()
    assert heat["nodes"] == {
        "review_application": {
            "title": "Müraciətə baxılması",
            "level": 1,
            "passed": 1,
            "open": 1,
            "wait_median": 3.0,
            "wait_p90": 3.0,
            "work_median": 0.0,
            "breach_share": 0.0,
            "wait_text": "3.0 saat / 3.0 saat",
            "sla_text": "0%",
            "url": heat["nodes"]["review_application"]["url"],
        }
    }
    assert heat["nodes"]["review_application"]["url"].startswith(
        "/analytics/nodes/review_application?"
    )
    assert 'id="review_application"' in heat["xml"]
    # the application waiting at the review, linked to its instance view; the done one among the slowest
    head.get("/analytics/nodes/review_application")
    assert head.doc.xpath("//table[@id='waiting-table']//a/@href") == [
        f"/staff/instances/{reviewed['waiting'].instance_id}"
    ]
    slowest = [
        c.text_content().strip() for c in head.doc.xpath("//table[@id='slowest-table']/tbody/tr/*")
    ]
    assert slowest[1:] == ["U-YSM", "3.0 saat"]


def test_an_analyst_sees_all_units_without_instance_links(auth, analyst, reviewed):
    browser = auth.login(analyst)
    browser.get("/analytics/?unit=U-NSM")
    assert _row(browser.doc, "review_application") == []
    browser.get("/analytics/?unit=U-YSM&version=1")
    assert _row(browser.doc, "review_application")[1:3] == ["1", "1"]
    browser.get("/analytics/")
    assert (
        _row(browser.doc, "identify_subscriber")[1] == "2"
    )  # all units: the citizens' steps count too
    browser.get("/analytics/nodes/review_application")
    assert (
        browser.doc.xpath("//table[@id='waiting-table']//a") == []
    )  # analysts do not open instances
    assert len(browser.doc.xpath("//table[@id='waiting-table']/tbody/tr")) == 1
    assert browser.get("/analytics/compare?a=1&b=1").status_code == 200
    rows = {
        r.xpath("string(./th)"): [c.text_content() for c in r.xpath("./td")]
        for r in browser.doc.xpath("//table[@id='compare-steps']/tbody/tr")
    }
    assert rows["Müraciətə baxılması"][:2] == ["1", "1"]


@pytest.mark.parametrize(
    "query, expected",
    [
        ("from=junk", [("#filter-from", "Tarixi il-ay-gün şəklində yazın, məsələn, {default}.")]),
        ("unit=XX", [("#filter-unit", "Siyahıdan bölmə seçin.")]),
        ("version=77", [("#filter-version", "Siyahıdan versiya seçin.")]),
        (
            "from=2026-12-05&to=2026-12-01",
            [("#filter-from", "Birinci gün sonuncu gündən sonra ola bilməz.")],
        ),
    ],
)
def test_bad_filters_are_named_in_an_error_summary(auth, analyst, system, query, expected):
    browser = auth.login(analyst)
    response = browser.get(f"/analytics/?{query}")
    assert response.status_code == 200
    default = (system.services.today() - timedelta(days=29)).isoformat()
    assert error_summary(browser.doc) == [
        (href, text.format(default=default)) for href, text in expected
    ]


@pytest.mark.parametrize("who", ["operator", "citizen", "inspector"])
def test_others_find_no_analytics(auth, people, who):
    browser = auth.login(people[who])
    for url in (
        "/analytics/",
        "/analytics/heat.json",
        "/analytics/export.csv",
        "/analytics/nodes/review_application",
    ):
        assert browser.get(url).status_code == 404


def test_exports_are_files_of_the_heads_unit(auth, people, reviewed):
    head = auth.login(people["unit_head"])
    response = head.get(
        "/analytics/export.csv?unit=U-NSM"
    )  # a head's unit is fixed whatever is asked
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "case,instance_id,version_id,activity,event,time,unit,role,detail"
    assert {line.split(",")[6] for line in lines[1:]} == {"U-YSM"}
    xes = head.get("/analytics/export.xes").get_data(as_text=True)
    assert xes.count("<trace>") == 2 and 'xes.version="1849-2016"' in xes
