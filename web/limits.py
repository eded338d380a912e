"""Rate limits on Flask-Limiter: failed sign-ins per typed user name and per client address, and
subscriber-code lookups per account.

One :class:`flask_limiter.Limiter` per app (:func:`init_app`), storing its counters in Redis
(``[redis] url``) in production, so every gunicorn worker and every web machine sees the same
counts, and in process memory (``memory://``) in the embedded mode, which is one process. A
production start with anything but a Redis URL is refused (``engine.safety``).

Sign-in failures (a wrong password or a wrong one-time code) are counted per typed user name
(whether or not it exists, so a lock tells nothing about existence) and per address, in a fixed
window of ``[login] window_minutes`` that starts at the first failure. The failure that reaches
``max_failures_per_user`` / ``max_failures_per_address`` starts a lock of ``lock_minutes`` on that
key (a limit of one "lock" hit per ``lock_minutes``: the lock lasts while that window does, and
its reset time is the "try again at HH:MM" the page shows). A success clears the user name's
count; a new password set by the person or an admin clears its count and lock. Only failures
count, so the limits are applied here rather than with a route decorator that counts requests.

Subscriber-code lookups: :func:`lookup_window` counts each lookup (a well-formed code) of an
account in a fixed window of ``[subscriber_lookup] window_minutes``, at most ``max_lookups``;
``workflow.lookups`` calls it before reading the subscriber table and answers the form's field error.

What stays in the database: the per-day limit of DISTINCT codes (``max_codes_per_day``). A
request-rate limiter counts hits, not distinct values, so it cannot express "at most N different
codes in 24 hours" (looking the same code up again is free); ``workflow.lookups`` counts the
distinct code digests of the account's ``subscriber_lookup`` audit events, which are written for
every lookup anyway.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItemPerMinute

from engine.audit import Actor
from engine.identity import LoginSettings
from engine.settings import Settings
from workflow.lookups import LookupLimits

LIMITER_KEY = "saygac.limiter"
MEMORY = "memory://"


def storage_uri(settings: Settings) -> str:
    """Where the counters live: the Redis of ``[redis] url`` in production, memory in embedded mode."""
    return settings.redis.url if settings.is_production else MEMORY


def init_app(app: Flask, settings: Settings) -> Limiter:
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=storage_uri(settings),
        strategy="fixed-window",
        key_prefix="saygac",
        headers_enabled=False,
    )
    app.extensions[LIMITER_KEY] = limiter
    return limiter


def _limiter() -> Limiter:
    return current_app.extensions[LIMITER_KEY]


def login_keys(username: str, address: str | None) -> list[str]:
    """The keys a sign-in attempt counts on: the typed user name, and the client's address."""
    keys = [f"user:{username.strip().lower()[:128]}"]
    if address:
        keys.append(f"addr:{address[:128]}")
    return keys


def _failures(key: str, settings: LoginSettings) -> RateLimitItemPerMinute:
    limit = (
        settings.max_failures_per_address
        if key.startswith("addr:")
        else settings.max_failures_per_user
    )
    return RateLimitItemPerMinute(limit, settings.window_minutes, namespace="login-failures")


def _lock(settings: LoginSettings) -> RateLimitItemPerMinute:
    return RateLimitItemPerMinute(1, settings.lock_minutes, namespace="login-lock")


def login_locked_until(keys: list[str], settings: LoginSettings) -> datetime | None:
    """The end of the latest lock in force on any of the keys, or None."""
    strategy, lock = _limiter().limiter, _lock(settings)
    ends = [
        strategy.get_window_stats(lock, key).reset_time
        for key in keys
        if not strategy.test(lock, key)
    ]
    return datetime.fromtimestamp(max(ends), UTC) if ends else None


def count_login_failure(keys: list[str], settings: LoginSettings) -> datetime | None:
    """Count a failure on each key; the lock's end when this failure started a lock."""
    strategy, lock = _limiter().limiter, _lock(settings)
    locked = False
    for key in keys:
        item = _failures(key, settings)
        strategy.hit(item, key)
        if not strategy.test(
            item, key
        ):  # this failure used up the window: lock the key, count afresh
            strategy.hit(lock, key)
            strategy.clear(item, key)
            locked = True
    return login_locked_until(keys, settings) if locked else None


def clear_login_failures(
    username: str, settings: LoginSettings, *, lift_lock: bool = False
) -> None:
    """Forget the failures counted on the user name (after a success), and its lock when asked (a new
    password)."""
    strategy, key = _limiter().limiter, login_keys(username, None)[0]
    strategy.clear(_failures(key, settings), key)
    if lift_lock:
        strategy.clear(_lock(settings), key)


def lookup_window(actor: Actor | None, rules: LookupLimits) -> Callable[[], bool]:
    """Counts one subscriber-code lookup of the actor's account; False when its window is used up."""
    item = RateLimitItemPerMinute(
        rules.max_lookups, rules.window_minutes, namespace="subscriber-lookups"
    )
    key = f"account:{actor.id if actor is not None else None}"
    return lambda: _limiter().limiter.hit(item, key)
