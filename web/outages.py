"""The web tier and a database in trouble: it starts without one and answers 503 while it is away.

- :func:`start_checks` runs the production refusals (:mod:`engine.safety`) at start: the
  settings always; the database's part only when the database answers. A web tier started
  while the database is down serves as soon as it returns; ``saygac check`` (run at each
  deploy, see ``docs/operations.md``) and ``saygac migrate`` run the full check.
- A request that meets a refusing or hanging database (connect, statement, lock or pool
  timeout, see ``[database]``) gets a translated "temporarily unavailable" page, status 503,
  with ``Retry-After``: never a bare 500 and never a hang past the timeouts.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template

from engine import safety
from web.db import DATABASE_ERRORS
from web.errors import json_error
from workflow.system import System

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 30


def start_checks(system: System) -> None:
    safety.check(system.settings)
    try:
        with system.sessions() as session:
            system.check_production_safety(session)
    except DATABASE_ERRORS as err:
        log.warning(
            "the database does not answer at start (%s); starting anyway, pages answer 503 until it "
            "does. Its production checks run in `saygac check` and `saygac migrate`.",
            type(err).__name__,
        )


def init_app(app: Flask) -> None:
    def database_unavailable(err):
        log.error("database unavailable during %s: %s", _where(), str(err).splitlines()[0][:300])
        # the page shows no account: finding out who is signed in needs the database, so
        # flask-login's per-request cache of the user is set to the anonymous one
        g._login_user = current_app.login_manager.anonymous_user()
        as_json = json_error(503)
        if as_json is not None:
            as_json.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return as_json
        html = render_template("errors/503.html")
        return html, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}

    for error in DATABASE_ERRORS:
        app.register_error_handler(error, database_unavailable)


def _where() -> str:
    from flask import request

    return f"{request.method} {request.path}"
