"""Subscriber-code lookups, throttled per account so codes cannot be enumerated.

Every lookup that reaches the database (a well-formed code) is written to the audit log as a
``subscriber_lookup`` event of the account; the count of such events in the last
``window_minutes`` is the throttle. The audit table already holds who, when and from where, so
no extra table is needed, and the count holds across web processes and machines.

Besides the short window, an account may look up at most ``max_codes_per_day`` different codes
in 24 hours (looking up one already looked up again is free). Both limits are checked before
the subscriber table is read, so a refusal reads the same and takes the same time whatever the
code; the audit event carries a keyed digest of the code, never the code or the subscriber's data.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
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
        self.message = Message(N_(
            "You have looked up %(count)s different subscriber codes in the last 24 hours, the most one account "
            "may. Try again tomorrow"), {"count": limits.max_codes_per_day}) if daily else Message(N_(
                "You have checked too many subscriber codes in a short time. Wait %(minutes)s minutes "
                "and try again"), {"minutes": limits.window_minutes})


def code_digest(code: str) -> str:
    """A short digest standing for a code in the audit log (to count distinct codes, not to store them)."""
    return hashlib.sha256(f"subscriber-code:{code}".encode()).hexdigest()[:16]


def codes_looked_up(session: Session, account_id: int, now: datetime) -> set[str]:
    """Digests of the different codes the account looked up in the last 24 hours."""
    rows = session.scalars(select(AuditEvent.detail).where(
        AuditEvent.action == LOOKUP_ACTION, AuditEvent.actor_id == account_id, AuditEvent.at > now - timedelta(days=1)))
    return {d["code"] for d in rows if d and d.get("code")}


def recent_lookups(session: Session, account_id: int, now: datetime, limits: LookupLimits) -> int:
    since = now - timedelta(minutes=limits.window_minutes)
    return session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == LOOKUP_ACTION, AuditEvent.actor_id == account_id, AuditEvent.at > since)) or 0


def find_subscriber(session: Session, code: str, actor: Actor, now: datetime,
                    limits: LookupLimits) -> Subscriber | None:
    """The subscriber with this (normalised, well-formed) code, counting the lookup.

    Raises :class:`LookupThrottled` when the account has used up its lookups in the window;
    the caller must commit even when the form is re-shown, or the count is lost.
    """
    digest = code_digest(code)
    if actor.id is not None:
        if recent_lookups(session, actor.id, now, limits) >= limits.max_lookups:
            raise LookupThrottled(limits)
        seen = codes_looked_up(session, actor.id, now)
        if digest not in seen and len(seen) >= limits.max_codes_per_day:
            raise LookupThrottled(limits, daily=True)
    sub = session.scalar(select(Subscriber).where(Subscriber.code == code))
    audit.record(session, LOOKUP_ACTION, actor=actor, at=now, entity=f"subscriber:{sub.id}" if sub else None,
                 detail={"found": sub is not None, "code": digest})
    return sub
