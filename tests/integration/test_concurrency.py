"""Two people completing the same task at the same moment, on PostgreSQL."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.errors import WorkItemConflict
from engine.models import AuditEvent, WorkItem
from engine.workitems import claim
from tests.workflow.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow.models import Application, ApplicationMeter


def _race(system, item_id, actors_and_data):
    """Both threads wait at a barrier, then complete the same item; returns the outcomes."""
    barrier = threading.Barrier(len(actors_and_data))
    outcomes = [None] * len(actors_and_data)

    def run(i, actor, data):
        with system.sessions() as s:
            barrier.wait()
            try:
                system.complete_task(s, item_id, actor, data)
                s.commit()
                outcomes[i] = "ok"
            except WorkItemConflict as err:
                s.rollback()
                outcomes[i] = str(err)

    threads = [threading.Thread(target=run, args=(i, a, d)) for i, (a, d) in enumerate(actors_and_data)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


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
        return {"meters": [{"serial": serials[0], "seal": seals[0], "value": value, "read_on": today}],
                "phone": "+994501234567", "email": None, "notes": ""}

    outcomes = _race(pg_system, item.id, [(people["citizen"], form(1206)), (people["citizen"], form(1207))])
    assert sorted(outcomes) == ["ok", "this task has already been completed"]
    with pg_system.sessions() as s:
        app = s.scalar(select(Application).where(Application.instance_id == iid))
        lines = s.scalars(select(ApplicationMeter).where(ApplicationMeter.application_id == app.id)).all()
        assert len(lines) == 1 and lines[0].value in (1206, 1207)  # one tab's data, never both
        assert app.number is not None and app.status == "in_review"
        completed = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.instance_id == iid, AuditEvent.action == "task_completed",
            AuditEvent.entity == f"work_item:{item.id}"))
        assert completed == 1
        assert s.scalar(select(func.count()).select_from(WorkItem).where(
            WorkItem.instance_id == iid, WorkItem.task_name == "review_application")) == 1


def test_two_operators_claiming_at_once_one_wins_and_the_other_is_told_who(pg_system):
    people = make_people(pg_system)
    with pg_system.sessions() as s:
        from tests import factories as f
        from engine.models import Unit

        unit = s.scalar(select(Unit).where(Unit.code == "U-YSM"))
        second = f.actor(f.account(s, "operator", unit, name="Leyla Məmmədova"))
        s.commit()
    life = Lifecycle(pg_system)
    code, serials, seals = new_subscriber(pg_system)
    iid = submit(life, people, code, serials, seals, [1206])
    item = life.item(iid, "review_application")
    barrier = threading.Barrier(2)
    results = {}

    def take(actor):
        with pg_system.sessions() as s:
            barrier.wait()
            try:
                claim(s, item.id, actor, pg_system.services.now(), timedelta(minutes=30))
                s.commit()
                results[actor.id] = "won"
            except WorkItemConflict as err:
                s.rollback()
                results[actor.id] = err.holder

    threads = [threading.Thread(target=take, args=(a,)) for a in (people["operator"], second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values(), key=str).count("won") == 1
    loser_saw = [v for v in results.values() if v != "won"][0]
    winner = [a for a in (people["operator"], second) if results[a.id] == "won"][0]
    assert loser_saw == winner.label


def test_two_hundred_claim_races_have_exactly_one_winner_each(pg_system):
    from sqlalchemy import update

    people = make_people(pg_system)
    with pg_system.sessions() as s:
        from engine.models import Unit
        from tests import factories as f

        unit = s.scalar(select(Unit).where(Unit.code == "U-YSM"))
        rival = f.actor(f.account(s, "operator", unit))
        s.commit()
    life = Lifecycle(pg_system)
    code, serials, seals = new_subscriber(pg_system)
    item = life.item(submit(life, people, code, serials, seals, [1206]), "review_application")
    contenders = (people["operator"], rival)
    for round_ in range(200):
        with pg_system.sessions() as s:
            s.execute(update(WorkItem).where(WorkItem.id == item.id).values(claimed_by_id=None, lease_until=None))
            s.commit()
        barrier = threading.Barrier(2)
        winners = []

        def take(actor):
            with pg_system.sessions() as s:
                barrier.wait()
                try:
                    claim(s, item.id, actor, pg_system.services.now(), timedelta(minutes=30))
                    s.commit()
                    winners.append(actor.id)
                except WorkItemConflict:
                    s.rollback()

        threads = [threading.Thread(target=take, args=(a,)) for a in contenders]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(winners) == 1, f"round {round_}: {winners}"
        with pg_system.sessions() as s:
            assert s.get(WorkItem, item.id).claimed_by_id == winners[0]
