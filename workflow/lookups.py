"""Subscriber-code lookups, limited per account so codes cannot be enumerated.

Two limits, both checked before the subscriber table is read, so a refusal reads the same and
takes the same time whatever the code:

- at most ``max_lookups`` lookups (well-formed codes) per account in ``window_minutes``: a rate,
  counted by the caller's ``window`` (the web layer's Flask-Limiter counter, ``web.limits``);
- at most ``max_codes_per_day`` DIFFERENT codes per account in 24 hours (looking up one already
  looked up again is free). A request-rate limiter counts hits, not distinct values, so this
  one is counted here, in the audit log: every lookup that reaches the database is written as a
  ``subscriber_lookup`` event of the account carrying a keyed digest of the code (never the code
  or the subscriber's data), and the distinct digests of the last 24 hours are the count. The
  audit table holds who and when already, and the count holds across web processes and machines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import audit
from engine.audit import Actor
from engine.models import AuditEvent
from workflow.i18n import N_, Message
from workflow.models import Subscriber

LOOKUP_ACTION = "subscriber_lookup"


@dataclass(frozen=True)
class LookupLimits:
    """Settings section ``[subscriber_lookup]``."""

    max_lookups: int = 20  # database lookups per account within the window
    window_minutes: int = 15
    max_codes_per_day: int = 10  # different codes per account in 24 hours


class LookupThrottled(Exception):
    def __init__(self, limits: LookupLimits, daily: bool = False):
        super().__init__("too many subscriber lookups")
        self.message = (
            Message(
                N_(
                    "You have looked up %(count)s different subscriber codes in the last 24 hours, the most one account "
                    "may. Try again tomorrow"
                ),
                {"count": limits.max_codes_per_day},
            )
            if daily
            else Message(
                N_(
                    "You have checked too many subscriber codes in a short time. Wait %(minutes)s minutes "
                    "and try again"
                ),
                {"minutes": limits.window_minutes},
            )
        )


def code_digest(code: str) -> str:
    """A short digest standing for a code in the audit log (to count distinct codes, not to store them)."""
    return hashlib.sha256(f"subscriber-code:{code}".encode()).hexdigest()[:16]


def codes_looked_up(session: Session, account_id: int, now: datetime) -> set[str]:
    """Digests of the different codes the account looked up in the last 24 hours."""
    rows = session.scalars(
        select(AuditEvent.detail).where(
            AuditEvent.action == LOOKUP_ACTION,
            AuditEvent.actor_id == account_id,
            AuditEvent.at > now - timedelta(days=1),
        )
    )
    return {d["code"] for d in rows if d and d.get("code")}


def find_subscriber(
    session: Session,
    code: str,
    actor: Actor,
    now: datetime,
    limits: LookupLimits,
    window: Callable[[], bool] | None = None,
) -> Subscriber | None:
    """The subscriber with this (normalised, well-formed) code, counting the lookup.

    ``window`` counts the lookup in the account's short window and answers False when the window
    is used up; an account's lookup needs one. Raises :class:`LookupThrottled` when either limit is
    used up; the caller must commit even when the form is re-shown, or the day's count is lost.
    """
    digest = code_digest(code)
    if actor.id is not None:
        if window is None:
            raise ValueError("an account's subscriber lookup needs its window counter")
        if not window():
            raise LookupThrottled(limits)
        seen = codes_looked_up(session, actor.id, now)
        if digest not in seen and len(seen) >= limits.max_codes_per_day:
            raise LookupThrottled(limits, daily=True)
    sub = session.scalar(select(Subscriber).where(Subscriber.code == code))
    audit.record(
        session,
        LOOKUP_ACTION,
        actor=actor,
        at=now,
        entity=f"subscriber:{sub.id}" if sub else None,
        detail={"found": sub is not None, "code": digest},
    )
    return sub
