"""Server-side sign-in sessions: a random token in the cookie, its SHA-256 in ``login_session``.

A session is new at every sign-in (a fresh token), ends on logout, on "log out everywhere"
(every session of the account), after ``idle_minutes`` without a request and after
``absolute_hours`` whatever happens. The web layer asks :func:`touch` on every request (it also hands back the account); nothing
here knows about Flask.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.db import as_utc, rowcount
from engine.models import Account, LoginSession


@dataclass(frozen=True)
class SessionSettings:
    idle_minutes: int = 30
    absolute_hours: int = 12
    touch_seconds: int = (
        60  # last_seen is written at most this often (one write per minute, not per request)
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def start(db: Session, account_id: int, method: str, at: datetime, address: str | None) -> str:
    """A new session for the account; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    db.add(
        LoginSession(
            token_hash=_hash(token),
            account_id=account_id,
            method=method,
            address=address,
            created_at=at,
            last_seen_at=at,
        )
    )
    db.flush()
    return token


def touch(
    db: Session, token: str | None, account_id: int, at: datetime, settings: SessionSettings
) -> Account | None:
    """The signed-in account when the session is live (and notes the request), read with its
    session row in one statement; None when it is not, ending it if it timed out."""
    if not token:
        return None
    found = db.execute(
        select(LoginSession, Account)
        .join(Account, Account.id == LoginSession.account_id)
        .where(LoginSession.token_hash == _hash(token))
    ).first()
    if found is None:
        return None
    row, account = found
    if row.account_id != account_id or row.ended_at is not None:
        return None
    if at - as_utc(row.created_at) > timedelta(hours=settings.absolute_hours):
        row.ended_at, row.end_reason = at, "absolute"
        return None
    if at - as_utc(row.last_seen_at) > timedelta(minutes=settings.idle_minutes):
        row.ended_at, row.end_reason = at, "idle"
        return None
    if at - as_utc(row.last_seen_at) >= timedelta(seconds=settings.touch_seconds):
        row.last_seen_at = at
    return account


def end(db: Session, token: str | None, at: datetime, reason: str = "logout") -> None:
    if token:
        db.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == _hash(token), LoginSession.ended_at.is_(None))
            .values(ended_at=at, end_reason=reason)
        )


def end_all(db: Session, account_id: int, at: datetime, reason: str = "everywhere") -> int:
    """End every live session of the account ("log out everywhere", password reset); returns how many."""
    result = db.execute(
        update(LoginSession)
        .where(LoginSession.account_id == account_id, LoginSession.ended_at.is_(None))
        .values(ended_at=at, end_reason=reason)
    )
    return rowcount(result) or 0


def live_count(db: Session, account_id: int) -> int:
    return len(
        db.scalars(
            select(LoginSession.id).where(
                LoginSession.account_id == account_id, LoginSession.ended_at.is_(None)
            )
        ).all()
    )
