"""One SQLAlchemy session per request, opened lazily; jobs dispatched after the view's commit.

The view that changes things commits (``get_db().commit()``) and then calls
:func:`dispatch_jobs`; the teardown rolls back whatever was not committed and closes the
session, so a request that fails half-way leaves nothing behind.
"""
from __future__ import annotations

import logging

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from workflow.system import System

log = logging.getLogger(__name__)

SYSTEM_KEY = "saygac"
DISPATCHER_KEY = "saygac.dispatcher"


def get_system() -> System:
    return current_app.extensions[SYSTEM_KEY]


def get_db() -> Session:
    """The request's session (one unit of work per request)."""
    if "db" not in g:
        g.db = get_system().sessions()
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        try:
            db.rollback()
        finally:
            db.close()


def dispatch_jobs() -> None:
    """Send the jobs the just-committed unit of work created (call only after the commit).

    A failure here must not turn a committed request into an error page: the jobs stay in the
    outbox and the timer sweep (or the next dispatch) sends them.
    """
    try:
        current_app.extensions[DISPATCHER_KEY].dispatch()
    except Exception:  # the outbox keeps the jobs; the sweep retries
        log.exception("dispatching jobs after commit failed")


def make_dispatcher(system: System):
    runner = system.settings.jobs.runner
    if runner == "inline":
        from worker.dispatch import InlineDispatcher

        return InlineDispatcher(system)
    if runner == "rq":
        import redis

        from worker.dispatch import RqDispatcher

        return RqDispatcher(system, redis.Redis.from_url(system.settings.redis.url))
    raise ValueError(f"[jobs] runner must be 'inline' or 'rq', not {runner!r}")


def init_app(app: Flask, system: System) -> None:
    app.extensions[SYSTEM_KEY] = system
    app.extensions[DISPATCHER_KEY] = make_dispatcher(system)
    app.teardown_appcontext(close_db)
