"""Job kinds for fault tests, added to the worker's handlers by the test's worker processes
(they import this module before starting, see processes.py). Each is a plain outbox job."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from engine.audit import record
from worker.jobs import HANDLERS

SLOW_EFFECT = "test_slow_effect"
ALWAYS_FAILS = "test_always_fails"
ALWAYS_KILLS = "test_always_kills"
EFFECT = "test_effect"
SLOW = "test_slow"


def _slow_effect(system, session, args: dict) -> None:
    """Records one audit event; the first attempt writes its process id to ``args["marker"]``
    and waits long enough to be killed first."""
    marker = Path(args["marker"])
    first = not marker.exists()
    marker.write_text(str(os.getpid()))
    if first:
        time.sleep(args.get("seconds", 120))
    record(session, EFFECT, detail={"key": args["key"]})


def _slow(system, session, args: dict) -> None:
    """Takes ``args["seconds"]``, then records one audit event."""
    time.sleep(args["seconds"])
    record(session, EFFECT, detail={"key": args["key"]})


def _always_fails(system, session, args: dict) -> None:
    raise RuntimeError("this job always fails")


def _always_kills(system, session, args: dict) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


HANDLERS.update(
    {
        SLOW: _slow,
        SLOW_EFFECT: _slow_effect,
        ALWAYS_FAILS: _always_fails,
        ALWAYS_KILLS: _always_kills,
    }
)
