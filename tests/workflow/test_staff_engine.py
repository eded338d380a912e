"""Engine pieces behind the staff pages: lease renewal, whom a head can give work to, the inspector's
field queue, a no-access visit going back to the queue, and where an instance stands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.errors import WorkItemError
from engine.models import Unit
from engine.progress import instance_progress
from engine.workitems import claim
from engine.workqueue import QueueFilter, renew_lease, unit_people, unit_queue
from worker.lifecycle import Lifecycle, make_team, new_subscriber, submit
from workflow import factories as f
from workflow.review import monthly_use

LEASE = timedelta(minutes=30)


@pytest.fixture
def team(system):
    return make_team(system)


def test_the_holder_renews_the_lease_while_the_page_is_open_and_nobody_else_can(
    system, team, clock
):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    item = life.item(submit(life, team, code, serials, seals, [1206]), "review_application")
    with system.sessions() as s:
        claim(s, item.id, team["operator"], clock(), LEASE)
        s.commit()
    clock.advance(minutes=25)
    with system.sessions() as s:
        renewed = renew_lease(s, item.id, team["operator"], clock(), LEASE)
        s.commit()
        assert renewed.lease_until.replace(tzinfo=clock().tzinfo) == clock() + LEASE
        with pytest.raises(WorkItemError, match="do not hold"):
            renew_lease(s, item.id, team["operator2"], clock(), LEASE)
    clock.advance(minutes=31)  # the page was closed: the lease ran out and cannot be renewed
    with system.sessions() as s, pytest.raises(WorkItemError, match="do not hold"):
        renew_lease(s, item.id, team["operator"], clock(), LEASE)


def test_heads_choose_among_their_units_people_only(system, team):
    with system.sessions() as s:
        names = [a.display_name for a in unit_people(s, team["unit_head"], "operator")]
        assert "Leyla Məmmədova" in names and len(names) == 2
        assert unit_people(s, team["operator"], "operator") == []
        assert [a.id for a in unit_people(s, team["unit_head"], "inspector")] == [
            team["inspector"].id
        ]


def test_no_access_puts_the_visit_back_in_the_inspectors_queue_then_the_inspectors_reading_is_posted(
    system, team, clock
):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, team, code, serials, seals, [1290])
    life.complete(iid, "review_application", team["operator"], {"decision": "inspect"}, claim=True)
    with system.sessions() as s:
        field = unit_queue(s, team["inspector"], QueueFilter(), clock(), role="inspector")
        assert field.total == 1
        assert (
            unit_queue(s, team["foreign_inspector"], QueueFilter(), clock(), role="inspector").total
            == 0
        )
        assert unit_queue(s, team["operator"], QueueFilter(), clock(), role="inspector").total == 0
    first = life.item(iid, "field_inspection")
    life.complete(
        iid,
        "field_inspection",
        team["inspector"],
        {"outcome": "no_access", "note": "Nobody home"},
        claim=True,
    )
    second = life.item(iid, "field_inspection")
    assert second.id != first.id and second.claimed_by_id is None  # a new visit, unclaimed
    line_id = life.application(iid).lines[0].id
    life.complete(
        iid,
        "field_inspection",
        team["inspector"],
        {
            "outcome": "done",
            "meters": [
                {
                    "line_id": line_id,
                    "value": 1207,
                    "read_on": clock().date().isoformat(),
                    "visit_time": "10:15",
                    "serial_confirmed": True,
                    "seal_intact": False,
                    "new_seal": "S-NEW-1",
                    "photo_id": None,
                }
            ],
        },
        claim=True,
    )
    life.run_jobs()
    app = life.application(iid)
    line = app.lines[0]
    assert app.status == "executed"
    assert (
        line.inspected_value,
        line.inspected_seal,
        line.inspected_seal_intact,
        line.inspected_serial_ok,
    ) == (1207, "S-NEW-1", False, True)
    with system.sessions() as s:
        progress = instance_progress(s, system.runtime, iid)
    assert {"review_application", "field_inspection", "post_reading"} <= set(progress.completed)
    assert progress.current == [] and progress.status == "completed"


def test_the_instance_view_marks_the_waiting_step_current(system, team):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, team, code, serials, seals, [1206])
    with system.sessions() as s:
        progress = instance_progress(s, system.runtime, iid)
    assert progress.current == ["review_application"]
    assert (
        "register_application" in progress.completed
        and "review_application" not in progress.completed
    )
    assert 'id="review_application"' in progress.xml and progress.version == 1


def test_monthly_use_over_twelve_months(system, team, clock):
    code, _serials, _seals = new_subscriber(system)
    with system.sessions() as s:
        from workflow.models import Subscriber

        meter = s.scalar(select(Subscriber).where(Subscriber.code == code)).meters[0]
        months = monthly_use(s, meter.id, clock().date())
    assert len(months) == 12 and months[-1].month == clock().date().strftime("%Y-%m")
    assert any(m.cubic_metres is not None for m in months)


def test_an_item_assigned_from_another_unit_joins_the_persons_queue_in_due_order(
    system, team, clock
):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    first = life.item(submit(life, team, code, serials, seals, [1206]), "review_application")
    clock.advance(hours=1)
    other, other_serials, other_seals = new_subscriber(system)
    submit(
        life, team, other, other_serials, other_seals, [1206]
    )  # a second review item that stays in the unit
    with system.sessions() as s:
        nsm = s.scalar(select(Unit).where(Unit.code == "U-NSM"))
        foreign = f.actor(f.account(s, "operator", nsm))
        # the first is handed to the Nəsimi operator (as a head of both units might); the second stays
        s.get(type(first), first.id).assignee_id = foreign.id
        s.commit()
        mine = unit_queue(s, foreign, QueueFilter(per_page=1), clock())
        assert (
            [i.id for i in mine.items] == [first.id]
            and mine.total == 1
            and mine.counts["unclaimed"] == 1
        )
        assert (
            unit_queue(s, team["operator"], QueueFilter(), clock()).total == 2
        )  # still the unit's, too
