"""Who a person is: accounts found by user name or FIN, sign-in throttling, password rules, TOTP.

Every login method ends with an account: the password method by user name, the other three by
the FIN (7-character personal identification number) their protocol vouches for; a citizen's
account is created at the first login by FIN. Role and unit always come from the account.

Throttling counts failures per user name (typed, whether or not it exists, so a lock tells
nothing about existence) and per client address in a window; reaching the limit locks the key
for ``lock_minutes``. No Flask here: the web layer passes the clock's time and the address.
"""
from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

import pyotp
from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from engine import policy
from engine.audit import Actor
from engine.db import as_utc
from engine.models import Account, LoginThrottle
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


def account_for_fin(db: Session, fin: str, display_name: str | None, at: datetime) -> tuple[Account, bool]:
    """The account of this FIN, created as a citizen's at the first login; (account, created)."""
    account = by_fin(db, fin)
    if account is not None:
        return account, False
    account = Account(fin=fin, display_name=(display_name or fin)[:200], role="citizen", active=True,
                      failed_logins=0, created_at=at)
    db.add(account)
    db.flush()
    return account, True


def demo_citizens(db: Session) -> dict[str, str]:
    """FIN → name of the demo citizens (in user-name order): the people the login simulators offer."""
    rows = db.execute(select(Account.fin, Account.display_name).where(
        Account.is_demo.is_(True), Account.role == "citizen", Account.fin.is_not(None)).order_by(Account.username))
    return dict(rows.all())


def is_staff(account: Account) -> bool:
    return policy.is_staff(Actor(id=account.id, role=account.role, label=""))


# -- throttling -------------------------------------------------------------------------------

def throttle_keys(username: str, address: str | None) -> list[str]:
    keys = [f"user:{username.strip().lower()[:128]}"]
    if address:
        keys.append(f"addr:{address[:128]}")
    return keys


def locked_until(db: Session, keys: list[str], at: datetime) -> datetime | None:
    """The latest lock still in force on any of the keys, or None."""
    latest = None
    for row in db.scalars(select(LoginThrottle).where(LoginThrottle.key.in_(keys))):
        until = as_utc(row.locked_until)
        if until is not None and until > at and (latest is None or until > latest):
            latest = until
    return latest


def prune_throttle(db: Session, at: datetime, settings: LoginSettings) -> int:
    """Delete the rows whose window has passed and whose lock (if any) is over: they count nothing any
    more, and typed user names would otherwise pile up. Uses the index on ``window_start``."""
    stale = at - timedelta(minutes=settings.window_minutes)
    result = db.execute(delete(LoginThrottle).where(
        LoginThrottle.window_start < stale,
        or_(LoginThrottle.locked_until.is_(None), LoginThrottle.locked_until <= at)))
    return result.rowcount


def record_failure(db: Session, keys: list[str], at: datetime, settings: LoginSettings) -> datetime | None:
    """Count a failure on each key (after pruning stale rows); returns the lock's end when this failure
    locked a key."""
    prune_throttle(db, at, settings)
    locked = None
    for key in keys:
        limit = settings.max_failures_per_address if key.startswith("addr:") else settings.max_failures_per_user
        row = db.get(LoginThrottle, key)
        if row is None:
            row = LoginThrottle(key=key, failures=0, window_start=at)
            db.add(row)
        if at - as_utc(row.window_start) > timedelta(minutes=settings.window_minutes):
            row.failures, row.window_start = 0, at
        row.failures = (row.failures or 0) + 1
        if row.failures >= limit:
            row.locked_until = at + timedelta(minutes=settings.lock_minutes)
            row.failures, row.window_start = 0, at
            locked = row.locked_until if locked is None else max(locked, row.locked_until)
    db.flush()
    return locked


def clear_failures(db: Session, username: str) -> None:
    row = db.get(LoginThrottle, throttle_keys(username, None)[0])
    if row is not None:
        db.delete(row)


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
    if account.username:
        clear_failures(db, account.username)


# -- TOTP (RFC 6238, 30-second steps, one step of drift either way) -----------------------------

def new_totp_secret() -> str:
    return pyotp.random_base32(32)


def totp_uri(secret: str, account: Account, issuer: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=account.username or account.fin or str(account.id),
                                               issuer_name=issuer)


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
