"""Two people acting on the same task at the same moment, on PostgreSQL."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from engine.errors import WorkItemConflict
from engine.models import AuditEvent, Unit, WorkItem
from engine.workitems import claim
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow import factories as f
from workflow.models import Application, ApplicationMeter

WAIT_FOR_RIVAL = 5.0  # seconds the first through waits to see the other blocked (not a speed limit)


class Race(list):
    """Outcomes per contender ("ok" or the WorkItemConflict it got), and whether the attempts
    overlapped: the one that got through first saw the other waiting on its lock before it
    committed."""

    overlapped = False


def _lock_waiters(system) -> int:
    """Sessions of this database waiting on a lock right now (PostgreSQL's own view)."""
    with system.db.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ).scalar_one()


def _race(system, step, contenders) -> Race:
    """Each contender runs ``step(session, contender)`` in its own session, all released at once by a
    barrier. The first through holds its transaction open until it sees the other blocked on its
    lock (for at most ``WAIT_FOR_RIVAL`` seconds), so a passing race proves the two overlapped."""
    barrier = threading.Barrier(len(contenders))
    outcomes = Race([None] * len(contenders))

    def run(i, contender):
        with system.sessions() as s:
            barrier.wait()
            try:
                step(s, contender)
                deadline = time.monotonic() + WAIT_FOR_RIVAL
                while not outcomes.overlapped and time.monotonic() < deadline:
                    outcomes.overlapped = _lock_waiters(system) > 0
                s.commit()
                outcomes[i] = "ok"
            except WorkItemConflict as err:
                s.rollback()
                outcomes[i] = err

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


def _second_operator(system, name="Leyla Məmmədova"):
    with system.sessions() as s:
        unit = s.scalar(select(Unit).where(Unit.code == "U-YSM"))
        rival = f.actor(f.account(s, "operator", unit, name=name))
        s.commit()
    return rival


@pytest.mark.parametrize("round_", range(10))
def test_two_tabs_submitting_the_same_readings_register_one_application(pg_system, round_):
    people = make_people(pg_system)
    life = Lifecycle(pg_system)
    code, serials, seals = new_subscriber(pg_system)
    iid = life.start(people["citizen"])
    life.complete(iid, "identify_subscriber", people["citizen"], {"subscriber_code": code})
    item = life.item(iid, "enter_readings")
    today = pg_system.services.today().isoformat()

    def form(value):
        return {
            "meters": [{"serial": serials[0], "seal": seals[0], "value": value, "read_on": today}],
            "phone": "+994501234567",
            "email": None,
            "notes": "",
        }

    outcomes = _race(
        pg_system,
        lambda s, value: pg_system.complete_task(s, item.id, people["citizen"], form(value)),
        [1206, 1207],
    )
    assert sorted(str(o) for o in outcomes) == ["ok", "this task has already been completed"]
    assert (
        outcomes.overlapped
    )  # the second tab was blocked on the first one's lock, not merely late
    with pg_system.sessions() as s:
        app = s.scalar(select(Application).where(Application.instance_id == iid))
        lines = s.scalars(
            select(ApplicationMeter).where(ApplicationMeter.application_id == app.id)
        ).all()
        assert len(lines) == 1 and lines[0].value in (1206, 1207)  # one tab's data, never both
        assert app.number is not None and app.status == "in_review"
        completed = s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.instance_id == iid,
                AuditEvent.action == "task_completed",
                AuditEvent.entity == f"work_item:{item.id}",
            )
        )
        assert completed == 1
        assert (
            s.scalar(
                select(func.count())
                .select_from(WorkItem)
                .where(WorkItem.instance_id == iid, WorkItem.task_name == "review_application")
            )
            == 1
        )


def _review_item(system, people):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    return life.item(submit(life, people, code, serials, seals, [1206]), "review_application")


def _take(system, item_id):
    return lambda s, actor: claim(s, item_id, actor, system.services.now(), timedelta(minutes=30))


def test_two_operators_claiming_at_once_one_wins_and_the_other_is_told_who(pg_system):
    people = make_people(pg_system)
    contenders = [people["operator"], _second_operator(pg_system)]
    item = _review_item(pg_system, people)
    outcomes = _race(pg_system, _take(pg_system, item.id), contenders)
    assert outcomes.count("ok") == 1 and outcomes.overlapped
    winner = contenders[outcomes.index("ok")]
    loser_saw = [o for o in outcomes if o != "ok"][0]
    assert loser_saw.holder == winner.label


def test_two_hundred_claim_races_have_exactly_one_winner_each(pg_system):
    people = make_people(pg_system)
    contenders = [people["operator"], _second_operator(pg_system, "Rəşad Əliyev")]
    item = _review_item(pg_system, people)
    overlapped = 0
    for round_ in range(200):
        with pg_system.sessions() as s:
            s.execute(
                update(WorkItem)
                .where(WorkItem.id == item.id)
                .values(claimed_by_id=None, lease_until=None)
            )
            s.commit()
        outcomes = _race(pg_system, _take(pg_system, item.id), contenders)
        assert outcomes.count("ok") == 1, f"round {round_}: {outcomes}"
        overlapped += outcomes.overlapped
        with pg_system.sessions() as s:
            assert s.get(WorkItem, item.id).claimed_by_id == contenders[outcomes.index("ok")].id
    assert overlapped == 200  # every round was a real race: the loser waited on the winner's lock
