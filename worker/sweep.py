"""The periodic sweep: wake instances whose timers are due and resend jobs the queue lost."""
from __future__ import annotations

import logging
import threading

from engine import jobs as outbox
from engine.workqueue import release_expired
from workflow.system import System
from worker.jobs import WAKE_TIMERS_JOB
from worker.queues import ENGINE

log = logging.getLogger(__name__)


def sweep(system: System, dispatcher) -> int:
    """One pass; returns how many instances had due timers."""
    now = system.services.now()
    with system.sessions() as session:
        release_expired(session, now)
        due = system.runtime.due_timer_instances(session, now)
        for instance_id in due:
            outbox.enqueue(session, WAKE_TIMERS_JOB, {"instance_id": instance_id}, queue=ENGINE, now=now,
                           dedupe_key=f"wake:{instance_id}")
        session.commit()
    dispatcher.dispatch()
    return len(due)


def run_forever(system: System, dispatcher, interval: float, stop: threading.Event | None = None) -> None:
    stop = stop or threading.Event()
    while not stop.is_set():
        try:
            sweep(system, dispatcher)
        except Exception:  # keep sweeping; the error is logged and the next pass retries
            log.exception("sweep failed")
        stop.wait(interval)


def start_background(system: System, dispatcher, interval: float) -> threading.Event:
    """The embedded mode's in-process sweep thread."""
    stop = threading.Event()
    threading.Thread(target=run_forever, args=(system, dispatcher, interval, stop), daemon=True,
                     name="saygac-sweep").start()
    return stop


__all__ = ["sweep", "run_forever", "start_background"]
