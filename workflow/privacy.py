"""The holder's personal data on every channel: who sees it in full, and what everyone else sees.

The subscriber's name, patronymic, address, phone, e-mail and history go in full only to those
``engine.policy`` allows ``see_holder_data`` on the application: the holder (by FIN), the unit's
staff, admins. Anyone else who may see the application (a tenant or relative applying for a
meter that is not theirs) gets :func:`masked`: the initials of the first name and surname and
the street without house or flat number, enough to recognise the right home, not to identify a
person. Pages, the receipt and invoice PDFs and the e-mails all take their :class:`HolderView`
from :func:`view_for`; nothing else decides.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from engine import policy
from engine.audit import Actor
from engine.models import Account
from workflow.models import Application, Subscriber


@dataclass(frozen=True)
class HolderView:
    """What a reader is shown of the subscriber: in full, or masked (``full`` False)."""

    name: str
    address: str
    full: bool
    phone: str | None = None
    email: str | None = None


def application_resource(app: Application) -> policy.Resource:
    """The application as the policy sees it."""
    sub = app.subscriber
    return policy.Resource(
        "application",
        owner_id=app.applicant_id,
        holder_fin=sub.fin if sub else None,
        unit_id=app.unit_id,
        draft=not app.number,
    )


def actor_of(account: Account) -> Actor:
    """An account as the policy sees it (a job acting for the person it writes to)."""
    return Actor(
        id=account.id,
        role=account.role,
        label=account.display_name,
        unit_id=account.unit_id,
        fin=account.fin,
    )


def in_full(sub: Subscriber) -> HolderView:
    return HolderView(sub.full_name, sub.address, True, sub.phone, sub.email)


def masked(sub: Subscriber) -> HolderView:
    initials = " ".join(
        f"{part.strip()[0]}." for part in (sub.first_name, sub.last_name) if part and part.strip()
    )
    return HolderView(initials, f"{sub.city}, {sub.street}", False)


def may_see_holder(actor: Actor, app: Application) -> bool:
    return policy.allows(actor, policy.SEE_HOLDER_DATA, application_resource(app))


def view_for(actor: Actor, app: Application) -> HolderView:
    """The subscriber of ``app`` as ``actor`` may see them."""
    return in_full(app.subscriber) if may_see_holder(actor, app) else masked(app.subscriber)


def applicant_is_holder(session: Session, app: Application) -> bool:
    """Whether the person who applied may see the holder's data (they are the holder)."""
    account = session.get(Account, app.applicant_id) if app.applicant_id is not None else None
    return account is not None and may_see_holder(actor_of(account), app)
