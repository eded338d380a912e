"""What an rq worker process runs: ``run_job(job_id)``, with the system built once per process."""

from __future__ import annotations

import logging

from worker.connection import redis_client
from worker.dispatch import RqDispatcher
from worker.jobs import execute
from worker.warm import warm_up
from workflow.system import System

log = logging.getLogger(__name__)
_system: System | None = None
_dispatcher: RqDispatcher | None = None


def prepare(system: System) -> None:
    """Build and warm up the system once in the worker's main process (``worker.warm``: fonts,
    parsed specs), before its first job; the warm-up leaves the connection pool empty."""
    global _system, _dispatcher
    warm_up(system)
    _system = system
    _dispatcher = RqDispatcher(system, redis_client(system.settings))


def _prepared() -> tuple[System, RqDispatcher]:
    """The system and dispatcher of ``prepare``; built from the settings when it has not run."""
    if _system is None or _dispatcher is None:
        from engine.settings import load_settings
        from workflow.system import build_system

        prepare(build_system(load_settings()))
    assert _system is not None and _dispatcher is not None, "prepare sets both"
    return _system, _dispatcher


def run_job(job_id: int) -> str:
    """The rq entry point: run the job, then send on the jobs it created (the next async step).
    A failed send is left to the sweep: the created jobs are committed and pending."""
    system, dispatcher = _prepared()
    status, created = execute(system, job_id)
    if created:
        try:
            dispatcher.dispatch(created)
        except Exception:  # the jobs are in the outbox; the sweep sends them
            log.exception("sending the jobs created by job %s failed", job_id)
    return status
