"""Machine access to the API: personal access tokens and idempotent requests.

**Tokens.** A token is issued to an account (a member of staff, or a service account such as the
billing system's) with scopes, one per resource group (:data:`SCOPES`), and an expiry. The text
handed out once is ``sgc_<id>_<secret>``; the table keeps only the SHA-256 of the secret, compared
in constant time. A revoked or expired token, or one whose account is inactive, authenticates
nobody. What a token's holder may do is still the policy's decision (``engine.policy``): the
account's role and unit as on the pages, narrowed by the token's scopes.

**Idempotency.** A ``POST`` that creates something and carries an ``Idempotency-Key`` header is
recorded with the key, the account and a hash of the request; a retry with the same key gets the
first answer again, never a second effect. The same key with a different request is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.db import Base, as_utc
from engine.models import Account

TZ = DateTime(timezone=True)
PREFIX = "sgc"
SCOPES = ("portal", "billing", "staff", "studio")
"""``portal``: citizens' applications and invoices; ``billing``: the feed of posted readings and
invoices; ``staff``: queues and work items; ``studio``: diagrams, versions, scenarios."""


class ApiToken(Base):
    """A personal access token: its secret kept as a SHA-256 digest only."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(TZ)
    expires_at: Mapped[datetime] = mapped_column(TZ)
    revoked_at: Mapped[datetime | None] = mapped_column(TZ)
    last_used_at: Mapped[datetime | None] = mapped_column(TZ)


class IdempotentRequest(Base):
    """The first answer to a ``POST`` with an ``Idempotency-Key``, kept to answer its retries."""

    __tablename__ = "idempotent_request"
    __table_args__ = (
        UniqueConstraint("account_id", "key", name="uq_idempotent_request_account_key"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(TZ)


class UnknownScope(ValueError):
    pass


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session,
    account: Account,
    *,
    name: str,
    scopes: list[str],
    expires_at: datetime,
    now: datetime,
) -> tuple[str, ApiToken]:
    """A new token; the returned text is shown once and never stored."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UnknownScope(
            f"scopes must be among {', '.join(SCOPES)}; not {', '.join(unknown) or '(none)'}"
        )
    secret = secrets.token_urlsafe(32)
    row = ApiToken(
        account_id=account.id,
        name=name[:100],
        secret_sha256=_digest(secret),
        scopes=sorted(set(scopes)),
        created_at=now,
        expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return f"{PREFIX}_{row.id}_{secret}", row


@dataclass(frozen=True)
class TokenHolder:
    account: Account
    token: ApiToken

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.token.scopes)


def authenticate(session: Session, text: str, now: datetime) -> TokenHolder | None:
    """The account and token a presented token text stands for, or ``None``."""
    prefix, _, rest = text.partition("_")
    token_id, _, secret = rest.partition("_")
    if (
        prefix != PREFIX
        or not token_id.isascii()
        or not token_id.isdigit()
        or len(token_id) > 9
        or not secret
    ):
        return None
    row = session.get(ApiToken, int(token_id))
    if row is None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
        return None
    if row.revoked_at is not None or as_utc(row.expires_at) <= now:
        return None
    account = session.get(Account, row.account_id)
    if account is None or not account.active:
        return None
    row.last_used_at = now
    return TokenHolder(account, row)


def revoke(session: Session, token_id: int, now: datetime) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    return True


def tokens_of(session: Session, account_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.account_id == account_id).order_by(ApiToken.id)
        )
    )


# -- idempotency ------------------------------------------------------------------------------
class KeyReused(Exception):
    """The key was used before for a different request."""


def request_digest(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def replay(session: Session, account_id: int, key: str, digest: str) -> IdempotentRequest | None:
    """The stored answer for this key, or ``None`` when it is new; :class:`KeyReused` on a mismatch."""
    row = session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.account_id == account_id, IdempotentRequest.key == key
        )
    )
    if row is not None and row.request_sha256 != digest:
        raise KeyReused(key)
    return row


def remember(
    session: Session,
    account_id: int,
    key: str,
    digest: str,
    status: int,
    body: dict[str, Any],
    now: datetime,
) -> bool:
    """Store the first answer in the request's own unit of work; ``False`` when a concurrent
    request with the same key got there first (the caller then rolls back and replays)."""
    try:
        with session.begin_nested():
            session.add(
                IdempotentRequest(
                    account_id=account_id,
                    key=key,
                    request_sha256=digest,
                    status=status,
                    body=body,
                    created_at=now,
                )
            )
    except IntegrityError:
        return False
    return True
