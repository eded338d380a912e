"""One SQLAlchemy session per request, opened lazily; jobs dispatched after the view's commit.

The view that changes things commits (``get_db().commit()``) and then calls
:func:`dispatch_jobs`; the teardown rolls back whatever was not committed and closes the
session, so a request that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g
from sqlalchemy import exc
from sqlalchemy.orm import Session

from engine import jobs as outbox
from worker import make_dispatcher
from workflow.system import System

log = logging.getLogger(__name__)

SYSTEM_KEY = "saygac"
DISPATCHER_KEY = "saygac.dispatcher"
DATABASE_ERRORS = (exc.OperationalError, exc.InterfaceError, exc.TimeoutError)


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
        except DATABASE_ERRORS:  # the connection died with the database: nothing left to undo
            log.warning("rolling back the request's session failed: the database is unavailable")
        finally:
            db.close()


def dispatch_jobs() -> None:
    """Send the jobs the request's committed unit of work created (call only after the commit).

    Only those jobs: never a scan of the whole outbox. A failure here must not turn a committed
    request into an error page: the jobs stay pending in the outbox and the sweep sends them.
    """
    db = g.get("db")
    job_ids = outbox.created_jobs(db) if db is not None else []
    if not job_ids:
        return
    try:
        current_app.extensions[DISPATCHER_KEY].dispatch(job_ids)
    except Exception:  # the outbox keeps the jobs; the sweep retries
        log.exception("dispatching jobs after commit failed")


def init_app(app: Flask, system: System) -> None:
    app.extensions[SYSTEM_KEY] = system
    app.extensions[DISPATCHER_KEY] = make_dispatcher(system)
    app.teardown_appcontext(close_db)
