"""The sweep: one long-running singleton (per installation) that every few seconds wakes
instances whose timers are due, releases expired work-item leases, turns the jobs of dead
workers (expired job leases) into retries or failures, returns to pending the jobs the queue
lost, sends every due job, and refreshes the analytics rollup every few minutes. Each pass logs
one line and records its time (:mod:`engine.heartbeats`, for health checks); a pass that fails (database or Redis away) is
logged and the next one follows after the same interval, never an exit.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass

from engine import heartbeats
from engine import jobs as outbox
from engine.workqueue import release_expired
from worker.jobs import WAKE_TIMERS_JOB
from worker.queues import ENGINE
from workflow.system import System

log = logging.getLogger(__name__)


@dataclass
class Pass:
    timers: int = 0
    expired: int = 0
    failed: int = 0
    lost: int = 0
    sent: int = 0


def sweep(system: System, dispatcher) -> Pass:
    """One pass; returns what it did."""
    jobs_settings = system.settings.jobs
    done = Pass()
    now = system.services.now()
    with system.sessions() as session:
        release_expired(session, now)
        due = system.runtime.due_timer_instances(session, now)
        for instance_id in due:
            outbox.enqueue(
                session,
                WAKE_TIMERS_JOB,
                {"instance_id": instance_id},
                queue=ENGINE,
                now=now,
                dedupe_key=f"wake:{instance_id}",
            )
        done.timers = len(due)
        done.expired, done.failed = outbox.recover_expired(
            session, now, jobs_settings.retry_delays_seconds, jobs_settings.max_attempts
        )
        session.commit()
    done.lost = dispatcher.recover_lost()
    done.sent = dispatcher.dispatch_due()
    with system.sessions() as session:  # the analytics rollup, every few minutes
        if system.refresh_analytics(session):
            session.commit()
    with system.sessions() as session:
        heartbeats.beat(session, heartbeats.SWEEP, system.services.now(), asdict(done))
        session.commit()
    return done


def run_forever(
    system: System, dispatcher, interval: float, stop: threading.Event | None = None
) -> None:
    """Pass every ``interval`` seconds until ``stop``. A failed pass (the database or Redis away)
    is logged and the next one follows after the same interval: the pause never grows, so work
    committed during an outage is sent within one interval of the service's return."""
    stop = stop or threading.Event()
    failing_since = None
    while not stop.is_set():
        try:
            done = sweep(system, dispatcher)
            log.info(
                "sweep pass: %d timers due, %d job leases expired (%d failed for good), "
                "%d jobs lost by the queue, %d jobs sent",
                done.timers,
                done.expired,
                done.failed,
                done.lost,
                done.sent,
            )
            if failing_since is not None:
                log.warning(
                    "sweep passes again after %.0f s of failures", time.monotonic() - failing_since
                )
                failing_since = None
        except Exception as err:  # keep sweeping: the database or Redis comes back
            failing_since = failing_since or time.monotonic()
            log.error(
                "sweep pass failed (%s: %s); next pass in %.0f s",
                type(err).__name__,
                str(err).splitlines()[0][:300] if str(err) else "",
                interval,
            )
            log.debug("sweep failure", exc_info=True)
        stop.wait(interval)


def start_background(system: System, dispatcher, interval: float) -> threading.Event:
    """The embedded mode's in-process sweep thread."""
    stop = threading.Event()
    threading.Thread(
        target=run_forever,
        args=(system, dispatcher, interval, stop),
        daemon=True,
        name="saygac-sweep",
    ).start()
    return stop


__all__ = ["Pass", "run_forever", "start_background", "sweep"]
