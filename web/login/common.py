"""What the login methods share: refusal messages, the ``next`` target, signing in a person a
citizen method vouched for."""

from __future__ import annotations

import math
from datetime import datetime

from flask import render_template, request
from flask_babel import format_datetime
from flask_babel import gettext as _

from engine import audit, identity
from web.auth import anonymous_actor, sign_in
from web.security import is_safe_next
from workflow.i18n import N_

LOCKED = N_(
    "Too many failed attempts. For your security, signing in is paused until %(time)s. Try again then."
)
STAFF_METHOD = N_(
    "Staff sign in with their user name, password and one-time code, or with the organisation's account."
)
INACTIVE = N_("This account is switched off. Contact the service's administrator.")


def locked_message(until: datetime) -> str:
    return _(LOCKED, time=format_datetime(until, "HH:mm"))


def locked_status(page: str, until: datetime | None, at: datetime):
    """The page as answered: 429 with ``Retry-After`` (seconds to the lock's end) while a sign-in lock
    lasts, the form shown again with the lock's field error; otherwise the page as it is."""
    if until is None:
        return page
    return page, 429, {"Retry-After": str(max(1, math.ceil((until - at).total_seconds())))}


def safe_next() -> str | None:
    target = request.values.get("next")
    return target if is_safe_next(target) else None


def sign_in_person(db, person, method: str, next_url: str | None, at: datetime):
    """Sign in the account of the FIN a citizen method vouched for (``person.fin``, ``person.name``).

    A citizen's account is created at the first login. Staff accounts are refused here: staff
    sign in with password and one-time code, or through the organisation's provider.
    """
    account, created = identity.account_for_fin(db, person.fin, person.name, at)
    if created:
        audit.record(
            db,
            "account_created",
            at=at,
            actor=anonymous_actor(),
            entity=f"account:{account.id}",
            detail={"method": method},
        )
    if not account.active or identity.is_staff(account):
        reason = "staff_method" if account.active else "inactive"
        audit.record(
            db,
            "login_failed",
            at=at,
            actor=anonymous_actor(),
            entity=f"account:{account.id}",
            detail={"method": method, "reason": reason},
        )
        db.commit()
        return render_template(
            "auth/refused.html", message=STAFF_METHOD if account.active else INACTIVE
        ), 403
    return sign_in(db, account, method, next_url, at)
