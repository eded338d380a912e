"""Login-throttle rows do not pile up: a failure prunes the rows whose window and lock are over."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine import identity
from engine.identity import LoginSettings
from engine.models import LoginThrottle


def test_a_failure_prunes_stale_rows_and_keeps_live_windows_and_locks(system, clock):
    settings = LoginSettings()
    at = clock.now
    old = at - timedelta(minutes=settings.window_minutes + 1)
    with system.sessions() as s:
        s.add_all([
            LoginThrottle(key="user:forgotten", failures=2, window_start=old),  # window over, no lock
            LoginThrottle(key="user:locked", failures=0, window_start=old, locked_until=at + timedelta(minutes=5)),
            LoginThrottle(key="user:expired-lock", failures=0, window_start=old, locked_until=at - timedelta(minutes=1)),
            LoginThrottle(key="user:recent", failures=1, window_start=at - timedelta(minutes=1)),
        ])
        s.commit()
        identity.record_failure(s, identity.throttle_keys("someone", None), at, settings)
        s.commit()
        assert sorted(s.scalars(select(LoginThrottle.key))) == ["user:locked", "user:recent", "user:someone"]
