"""Claims with leases, release, reassignment, queue filters and counts, the heads' dashboard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from engine.errors import NotFound, WorkItemConflict, WorkItemError
from engine.models import WorkItem
from engine.workitems import claim, release
from engine.workqueue import QueueFilter, reassign, release_expired, unit_dashboard, unit_queue
from tests.conftest import next_working_monday
from worker.lifecycle import Lifecycle, make_team, new_subscriber, submit

LEASE = timedelta(minutes=30)


@pytest.fixture
def team(system):
    return make_team(system)


def _review_item(system, team, value=1206) -> WorkItem:
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, team, code, serials, seals, [value])
    return life.item(iid, "review_application")


def test_claim_lease_release_and_expiry(system, team, clock):
    item = _review_item(system, team)
    op, op2 = team["operator"], team["operator2"]
    with system.sessions() as s:
        claim(s, item.id, op, clock(), LEASE)
        s.commit()
    with system.sessions() as s, pytest.raises(WorkItemConflict) as err:
        claim(s, item.id, op2, clock(), LEASE)
    assert err.value.holder == op.label
    with system.sessions() as s:
        with pytest.raises(WorkItemError, match="do not hold"):
            release(s, item.id, op2, clock())
        release(s, item.id, op, clock())
        claim(s, item.id, op2, clock(), LEASE)
        s.commit()
    clock.advance(minutes=31)  # op2's lease runs out: the item is back in the queue
    with system.sessions() as s:
        assert release_expired(s, clock()) == 1
        assert unit_queue(s, op, QueueFilter(view="unclaimed"), clock()).total == 1
        claim(s, item.id, op, clock(), LEASE)
        s.commit()


def test_completing_needs_the_claim(system, team, clock):
    item = _review_item(system, team)
    with system.sessions() as s, pytest.raises(WorkItemError, match="claim this task"):
        system.complete_task(s, item.id, team["operator"], {"decision": "accept"})
    with system.sessions() as s:
        claim(s, item.id, team["operator"], clock(), LEASE)
        s.commit()
    with system.sessions() as s, pytest.raises(WorkItemConflict, match="someone else"):
        system.complete_task(s, item.id, team["operator2"], {"decision": "accept"})
    clock.advance(minutes=31)
    with system.sessions() as s, pytest.raises(WorkItemError, match="claim this task"):
        system.complete_task(
            s, item.id, team["operator"], {"decision": "accept"}
        )  # the lease ran out


def test_the_head_reassigns_a_claimed_item_without_stopping_the_process(system, team, clock):
    item = _review_item(system, team)
    with system.sessions() as s:
        claim(s, item.id, team["operator"], clock(), LEASE)
        s.commit()
    with system.sessions() as s:
        with pytest.raises(NotFound):
            reassign(s, item.id, team["operator"], team["operator2"].id, clock(), LEASE)
        with pytest.raises(WorkItemError, match="person of this unit"):
            reassign(s, item.id, team["unit_head"], team["foreign_operator"].id, clock(), LEASE)
        reassign(s, item.id, team["unit_head"], team["operator2"].id, clock(), LEASE)
        s.commit()
    with system.sessions() as s, pytest.raises(WorkItemConflict):
        system.complete_task(s, item.id, team["operator"], {"decision": "accept"})
    with system.sessions() as s:
        system.complete_task(s, item.id, team["operator2"], {"decision": "accept"})
        s.commit()
    with system.sessions() as s:
        assert s.get(WorkItem, item.id).completed_by_id == team["operator2"].id


def test_queue_filters_counts_and_unit_scope(system, team, clock):
    next_working_monday(
        clock, system.services.calendar
    )  # due Wednesday: three days later both are overdue
    plain = _review_item(system, team, 1206)
    flagged = _review_item(system, team, 1290)
    with system.sessions() as s:
        claim(s, plain.id, team["operator"], clock(), LEASE)
        s.commit()
    with system.sessions() as s:
        page = unit_queue(s, team["operator"], QueueFilter(), clock())
        assert page.counts == {
            "all": 2,
            "unclaimed": 1,
            "mine": 1,
            "flagged": 1,
            "overdue": 0,
            "flagged_overdue": 0,
        }
        assert [
            i.id
            for i in unit_queue(s, team["operator"], QueueFilter(view="flagged"), clock()).items
        ] == [flagged.id]
        assert [
            i.id for i in unit_queue(s, team["operator"], QueueFilter(view="mine"), clock()).items
        ] == [plain.id]
        assert unit_queue(s, team["foreign_operator"], QueueFilter(), clock()).total == 0
        assert unit_queue(s, team["citizen"], QueueFilter(), clock()).total == 0
        assert unit_queue(s, team["operator"], QueueFilter(area="nasimi"), clock()).total == 0
    clock.advance(days=3)
    with system.sessions() as s:
        assert unit_queue(s, team["operator"], QueueFilter(view="overdue"), clock()).total == 2
        both = unit_queue(s, team["operator"], QueueFilter(view="flagged_overdue"), clock())
        assert [i.id for i in both.items] == [flagged.id] and both.counts["flagged_overdue"] == 1


def test_field_inspections_are_due_in_working_days(system, team, clock):
    clock.now = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)  # Thursday, 12:00 in Baku
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, team, code, serials, seals, [1290])
    life.complete(iid, "review_application", team["operator"], {"decision": "inspect"}, claim=True)
    visit = life.item(iid, "field_inspection")
    # three working days: Friday, Monday, Tuesday (the weekend skipped), at the same hour in Baku
    assert visit.due_at.replace(tzinfo=UTC) == datetime(2026, 3, 17, 8, 0, tzinfo=UTC)


def test_dashboard_for_unit_heads(system, team, clock):
    item = _review_item(system, team)
    _review_item(system, team)
    with system.sessions() as s:
        claim(s, item.id, team["operator"], clock(), timedelta(hours=6))
        s.commit()
    clock.advance(hours=5)
    with system.sessions() as s:
        system.complete_task(s, item.id, team["operator"], {"decision": "accept"})
        s.commit()
    with system.sessions() as s:
        board = unit_dashboard(s, team["unit_head"], clock())
    assert (
        board["open"] == 1
        and board["done_this_week"] == 1
        and board["median_hours_to_decision"] == 5.0
    )
