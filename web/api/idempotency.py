"""``Idempotency-Key`` for the API's ``POST`` endpoints that create things (``engine.api_access``).

:func:`once` runs ``create`` (which adds to the request's unit of work and returns the answer's
body) at most once per account and key: a retry with the same key and request gets the first
answer back; the same key with another request is refused; two retries racing each other are
serialised by the key's unique row (the loser rolls back its work and answers as the winner did).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import request
from marshmallow import Schema, fields

from engine import api_access
from web.api.problems import problem
from web.db import dispatch_jobs, get_db, get_system


class IdempotencyHeaderSchema(Schema):
    idempotency_key = fields.String(
        data_key="Idempotency-Key",
        load_default=None,
        metadata={"description": "Retries with the same key return the first result"},
    )


def once(account_id: int, idempotency_key: str | None, status: int, create: Callable[[], dict]):
    db = get_db()
    digest = api_access.request_digest(request.method, request.path, request.get_data())
    key = (idempotency_key or "").strip()[:200]
    if key:
        try:
            first = api_access.replay(db, account_id, key, digest)
        except api_access.KeyReused:
            return problem(
                422,
                "This Idempotency-Key was used for a different request.",
                errors=[{"field": "Idempotency-Key", "message": "used for a different request"}],
            )
        if first is not None:
            return first.body, first.status
    body = create()
    if not isinstance(body, dict):  # a refusal (a problem response): nothing to remember
        db.rollback()
        return body
    if key and not api_access.remember(
        db, account_id, key, digest, status, body, get_system().services.now()
    ):
        db.rollback()  # a concurrent retry with the same key finished first: answer as it did
        winner = api_access.replay(db, account_id, key, digest)
        assert winner is not None  # the unique row that refused ours is there
        return winner.body, winner.status
    db.commit()
    dispatch_jobs()
    return body, status
