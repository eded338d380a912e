"""Error pages: every refusal the application or the server answers with, in the site layout.

400, 403, 404, 405, 413, 429 and 500 (and the CSRF refusal, a 400 of its own) each have a page
in ``templates/errors/``, translated like every other page, with a way back to the start page
and never a stack trace, an exception name or an internal path. A 500 is logged with its
traceback; the page itself says only that nothing was saved. (503, the database being down, is
``web.outages``'s page.)
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
PAGES = {
    400: "errors/400.html",
    403: "errors/403.html",
    404: "errors/404.html",
    405: "errors/405.html",
    413: "errors/413.html",
    429: "errors/429.html",
    500: "errors/500.html",
}
JSON_ERRORS_KEY = "saygac.json_errors"  # address prefix -> handler(status, HTTPException | None)
PLAIN_500 = (
    '<!doctype html><html><head><meta charset="utf-8"><title>500</title></head><body>'
    "<h1>Xəta baş verdi · Something went wrong · Произошла ошибка</h1></body></html>"
)


def answer_as_json(app: Flask, prefix: str, handler: Callable) -> None:
    """Errors under ``prefix`` (the JSON API) are answered by ``handler`` instead of a page."""
    app.extensions.setdefault(JSON_ERRORS_KEY, {})[prefix] = handler


def json_error(status: int, err: HTTPException | None = None):
    """The JSON answer for this request's error when an audience registered one, else ``None``."""
    for prefix, handler in current_app.extensions.get(JSON_ERRORS_KEY, {}).items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return handler(status, err)
    return None


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(_err):
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException):
        as_json = json_error(err.code or 500, err)
        if as_json is not None:
            return as_json
        template = PAGES.get(err.code) if err.code is not None else None
        if template is None:  # codes the application never shows a page for keep werkzeug's answer
            return err
        retry_after = getattr(
            err, "retry_after", None
        )  # werkzeug's TooManyRequests, ServiceUnavailable
        headers = {"Retry-After": retry_after} if retry_after else {}
        return render_template(template), err.code, headers

    @app.errorhandler(500)
    def server_error(err):
        original = getattr(err, "original_exception", None) or err
        log.error("server error", exc_info=(type(original), original, original.__traceback__))
        as_json = json_error(500)
        if as_json is not None:
            return as_json
        try:
            return render_template(PAGES[500]), 500
        except Exception:
            log.exception("the error page could not be rendered")
            return PLAIN_500, 500, {"Content-Type": "text/html; charset=utf-8"}
