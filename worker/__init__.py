"""Running the outbox's jobs: in-process (embedded mode) or rq workers on Redis (production).

The web layer reaches the worker through this module only (:func:`make_dispatcher`,
:func:`start_sweep_thread` for the embedded mode, :func:`queue_names` for metrics); the worker process starts from
:mod:`worker.cli` (``python -m worker``), which never imports Flask.
"""

from __future__ import annotations

from engine.jobs import Dispatcher


def make_dispatcher(system) -> Dispatcher:
    """The dispatcher ``[jobs] runner`` asks for: ``inline`` or ``rq``."""
    runner = system.settings.jobs.runner
    if runner == "inline":
        from worker.dispatch import InlineDispatcher

        return InlineDispatcher(system)
    if runner == "rq":
        from worker.connection import redis_client
        from worker.dispatch import RqDispatcher

        return RqDispatcher(system, redis_client(system.settings))
    raise ValueError(f"[jobs] runner must be 'inline' or 'rq', not {runner!r}")


def start_sweep_thread(system, dispatcher: Dispatcher, interval: float):
    """The embedded mode's sweep, in a thread of this process; returns the event that stops it."""
    from worker.sweep import start_background

    return start_background(system, dispatcher, interval)


def queue_names() -> tuple[str, ...]:
    """The rq queues the workers listen to (for queue-depth metrics)."""
    from worker.queues import ALL

    return ALL
