"""Due dates and the review's escalation follow one rule: working days in Baku (engine.calendar)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from engine.models import Email, Timer
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit

# Thursday 19 March 2026, 20:00 in Baku: Novruz and the days moved to it are off until 30 March
THURSDAY_EVENING = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)
DUE = datetime(2026, 4, 1, 16, 0, tzinfo=UTC)  # the second working day after: Wednesday 1 April


def test_a_review_submitted_before_novruz_is_due_and_escalates_on_the_second_working_day(
    system, clock
):
    clock.now = THURSDAY_EVENING
    people = make_people(system)
    life = Lifecycle(system)
    iid = submit(life, people, *new_subscriber(system), [1206])
    review = life.item(iid, "review_application")
    assert review.due_at.replace(tzinfo=UTC) == DUE  # what the queue shows
    with system.sessions() as s:
        timer = s.scalar(select(Timer).where(Timer.instance_id == iid, Timer.state == "waiting"))
        assert (timer.event_name, timer.due_at.replace(tzinfo=UTC)) == ("review_sla", DUE)

    clock.now = THURSDAY_EVENING + timedelta(days=2, minutes=1)  # calendar days would be Saturday
    assert life.sweep() == 0
    clock.now = DUE - timedelta(minutes=1)
    assert life.sweep() == 0
    assert life.open_tasks(iid) == ["review_application"]
    clock.now = DUE + timedelta(minutes=1)
    assert life.sweep() == 1
    assert life.open_tasks(iid) == ["handle_escalation", "review_application"]
    with system.sessions() as s:
        letter = s.scalar(select(Email).where(Email.subject.startswith("Gecikmə")))
        assert "01.04.2026" in letter.body_text
