"""Each request's log lines carry its id and the signed-in account's id (``engine.logs``).

The id comes from the proxy's ``X-Request-ID`` when it is a sane token, else a new one; it is sent
back in the answer's ``X-Request-ID`` and stored with every job the request creates, so the worker's
lines about that job carry it too.
"""

from __future__ import annotations

import re
import uuid

from flask import Flask, g, request
from flask_login import current_user

from engine import logs

SANE = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _begin() -> None:
    given = request.headers.get("X-Request-ID", "")
    g.request_id = given if SANE.match(given) else uuid.uuid4().hex
    logs.clear()
    logs.bind(request_id=g.request_id)
    if request.endpoint != "static" and current_user and current_user.is_authenticated:
        logs.bind(actor_id=current_user.id)


def _end(response):
    if "request_id" in g:
        response.headers["X-Request-ID"] = g.request_id
    return response


def init_app(app: Flask) -> None:
    """Call after the sign-in is set up (the account id is read from it)."""
    app.before_request(_begin)
    app.after_request(_end)
    app.teardown_request(lambda _exc: logs.clear())
