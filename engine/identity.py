"""Who a person is: accounts found by user name or FIN, sign-in limits, password rules, TOTP.

Every login method ends with an account: the password method by user name, the other three by
the FIN (7-character personal identification number) their protocol vouches for; a citizen's
account is created at the first login by FIN. Role and unit always come from the account.

:class:`LoginSettings` holds the ``[login]`` limits; the web layer counts failed sign-ins with
them on Flask-Limiter (``web.limits``). No Flask here.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import policy
from engine.audit import Actor
from engine.models import Account
from engine.passwords import hash_password

FIN_RE = re.compile(r"[0-9A-Z]{7}")


@dataclass(frozen=True)
class LoginSettings:
    max_failures_per_user: int = 5
    max_failures_per_address: int = 30
    window_minutes: int = 15
    lock_minutes: int = 15
    min_password_length: int = 10
    staff_totp_in_embedded: bool = False  # production always asks staff for a TOTP code
    totp_issuer: str = "saygac"


# -- accounts ---------------------------------------------------------------------------------


def normalise_fin(value: str | None) -> str | None:
    """The FIN in upper case, or None when it is not 7 letters and digits."""
    fin = (value or "").strip().upper()
    return fin if FIN_RE.fullmatch(fin) else None


def by_username(db: Session, username: str) -> Account | None:
    return db.scalar(select(Account).where(Account.username == username)) if username else None


def by_fin(db: Session, fin: str) -> Account | None:
    return db.scalar(select(Account).where(Account.fin == fin))


def account_for_fin(
    db: Session, fin: str, display_name: str | None, at: datetime
) -> tuple[Account, bool]:
    """The account of this FIN, created as a citizen's at the first login; (account, created)."""
    account = by_fin(db, fin)
    if account is not None:
        return account, False
    account = Account(
        fin=fin,
        display_name=(display_name or fin)[:200],
        role="citizen",
        active=True,
        failed_logins=0,
        created_at=at,
    )
    db.add(account)
    db.flush()
    return account, True


def demo_citizens(db: Session) -> dict[str, str]:
    """FIN → name of the demo citizens (in user-name order): the people the login simulators offer."""
    rows = db.execute(
        select(Account.fin, Account.display_name)
        .where(Account.is_demo.is_(True), Account.role == "citizen", Account.fin.is_not(None))
        .order_by(Account.username)
    )
    return {fin: name for fin, name in rows.all() if fin is not None}


def is_staff(account: Account) -> bool:
    return policy.is_staff(Actor(id=account.id, role=account.role, label=""))


# -- passwords --------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The 30,000 most common passwords of zxcvbn's list (from leaked-password frequency data)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(p.lower() for p in FREQUENCY_LISTS["passwords"])


def password_problems(password: str, username: str | None, settings: LoginSettings) -> list[str]:
    """Codes of the rules a new password breaks: ``too_short``, ``common``, ``contains_user_name``."""
    problems = []
    if len(password) < settings.min_password_length:
        problems.append("too_short")
    lower = password.lower()
    stem = re.sub(r"[\d\W_]+$", "", lower)  # "Sunshine2024!" is "sunshine" with a suffix
    if lower in common_passwords() or (stem and stem in common_passwords()) or len(set(lower)) <= 2:
        problems.append("common")
    if username and len(username) >= 3 and username.lower() in lower:
        problems.append("contains_user_name")
    return problems


def set_password(db: Session, account: Account, password: str, at: datetime) -> None:
    """Store a new password (rules are checked by the caller) and lift any lock on the account."""
    account.password_hash = hash_password(password)
    account.password_changed_at = at
    account.failed_logins = 0
    account.locked_until = None


# -- TOTP (RFC 6238, 30-second steps, one step of drift either way) -----------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32(32)


def totp_uri(secret: str, account: Account, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=account.username or account.fin or str(account.id), issuer_name=issuer
    )


def totp_counter(secret: str, code: str, at: datetime, last_counter: int | None) -> int | None:
    """The time step the code belongs to when it is right and newer than the last one used."""
    code = re.sub(r"\s+", "", code or "")
    if not re.fullmatch(r"\d{6}", code):
        return None
    totp = pyotp.TOTP(secret)
    now_counter = int(at.timestamp()) // totp.interval
    for counter in (now_counter - 1, now_counter, now_counter + 1):
        if hmac.compare_digest(totp.generate_otp(counter), code):
            if last_counter is not None and counter <= last_counter:
                return None  # replayed
            return counter
    return None
