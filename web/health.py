"""Is this process alive, and can it serve? For the process supervisor and the load balancer.

- ``/healthz``: the process answers (no database, no Redis): restart it when this fails.
- ``/readyz``: the database answers and its schema is at this code's newest migration, Redis
  answers when jobs go through rq, and the timer sweep completed a pass recently; 503 with the
  failing checks otherwise: take the process out of the balancer, do not restart it.

Both are public and say nothing about data: only which checks pass.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, jsonify
from sqlalchemy import text

from engine import heartbeats
from engine.schema import current_revision, head_revision
from web.db import DATABASE_ERRORS, get_db, get_system
from web.route_policy import public

bp = Blueprint("health", __name__)
_HEAD: list[str | None] = []


def _head() -> str | None:
    if not _HEAD:
        _HEAD.append(head_revision())
    return _HEAD[0]


@bp.get("/healthz")
@public
def healthz():
    return jsonify({"status": "ok"})


def _checks() -> dict[str, str]:
    system = get_system()
    settings = system.settings
    checks: dict[str, str] = {}
    try:
        db = get_db()
        db.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if current_revision(db.connection()) == _head() else "behind"
        last = heartbeats.last_beat(db, heartbeats.SWEEP)
        allowed = timedelta(seconds=max(60.0, settings.jobs.timer_sweep_seconds * 6))
        checks["sweep"] = (
            "ok" if last is not None and system.services.now() - last <= allowed else "stale"
        )
    except DATABASE_ERRORS:
        checks["database"] = "unavailable"
    if settings.jobs.runner == "rq":
        import redis

        try:
            redis.Redis.from_url(
                settings.redis.url, socket_connect_timeout=2, socket_timeout=2
            ).ping()
            checks["redis"] = "ok"
        except redis.RedisError:
            checks["redis"] = "unavailable"
    return checks


@bp.get("/readyz")
@public
def readyz():
    checks = _checks()
    ready = all(value == "ok" for value in checks.values())
    return jsonify(
        {"status": "ready" if ready else "not ready", "checks": checks}
    ), 200 if ready else 503
