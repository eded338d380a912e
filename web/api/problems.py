"""Errors and refusals as RFC 9457 problem details (``application/problem+json``).

Every answer of the API that is not a success has ``type``, ``title``, ``status`` and ``detail``;
a validation error also lists ``errors``, one per field (``{"field": ..., "message": ...}``), so a
client can tell its user which answer to fix. No stack trace or internal name is ever sent.
"""

from __future__ import annotations

from flask import Response, json
from werkzeug.exceptions import HTTPException

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem(
    status: int,
    detail: str,
    *,
    errors: list[dict] | None = None,
    headers: dict | None = None,
    kind: str | None = None,
) -> Response:
    body: dict = {
        "type": f"about:blank#{kind}" if kind else "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


LOCATIONS = ("json", "query", "headers", "form", "files", "path")


def field_errors(messages: dict) -> list[dict]:
    """webargs' ``{location: {field: [messages]}}`` as a flat list naming each (nested) field."""
    found: list[dict] = []
    for location, fields in messages.items():
        if location in LOCATIONS and isinstance(fields, dict):
            found += _flatten(fields, "")
        else:
            found += _flatten({location: fields}, "")
    return found


def _flatten(messages: dict, prefix: str) -> list[dict]:
    found: list[dict] = []
    for name, value in messages.items():
        field = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(value, dict):
            found += _flatten(value, field)
        else:
            for message in value if isinstance(value, list) else [value]:
                found.append({"field": field, "message": str(message)})
    return found


def from_http_exception(err: HTTPException) -> Response:
    """A werkzeug or flask-smorest ``abort`` as a problem; validation messages become field errors."""
    code = err.code or 500
    data = getattr(err, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    errors = field_errors(messages) if isinstance(messages, dict) else None
    detail = data.get("message") if isinstance(data, dict) and data.get("message") else None
    if detail is None:
        detail = (
            "The request has invalid fields."
            if errors
            else (err.description or TITLES.get(code, "Error"))
        )
    valid_methods = getattr(err, "valid_methods", None)  # werkzeug's MethodNotAllowed
    headers = {"Allow": ", ".join(valid_methods)} if valid_methods else None
    return problem(code, str(detail), errors=errors, headers=headers)
