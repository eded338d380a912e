"""Who calls the API: the bearer of a personal access token (``engine.api_access``).

The API authenticates only with ``Authorization: Bearer sgc_…``. A browser's session cookie is
not accepted here, so a page on another site cannot make a signed-in person's browser call the
API (no cross-site request forgery to defend against); the pages have their own endpoints.
"""

from __future__ import annotations

from dataclasses import replace
from functools import wraps

from flask import g, request

from engine import api_access, policy
from engine.audit import Actor
from web.api.problems import problem
from web.db import get_db, get_system
from workflow.privacy import actor_of

ACTOR_KEY = "api_actor"


def authenticate() -> Actor | None:
    header = request.headers.get("Authorization", "")
    scheme, _, text = header.partition(" ")
    if scheme.lower() != "bearer" or not text.strip():
        return None
    db = get_db()
    holder = api_access.authenticate(db, text.strip(), get_system().services.now())
    if holder is None:
        return None
    account = holder.account
    db.commit()  # last_used_at
    return replace(
        actor_of(account),
        label=f"{account.display_name} (API)",
        address=request.remote_addr,
        scopes=holder.scopes,
    )


def actor() -> Actor:
    return g.get(ACTOR_KEY)


def account_id() -> int:
    """The account the request's token belongs to (every token belongs to one)."""
    who = actor()
    assert who is not None and who.id is not None
    return who.id


def requires(scope: str):
    """The view needs a valid token whose scopes include ``scope`` (the policy's ``call_api``)."""

    def deco(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            who = authenticate()
            if who is None:
                return problem(
                    401, "A valid bearer token is required.", headers={"WWW-Authenticate": "Bearer"}
                )
            if not policy.allows(who, policy.CALL_API, policy.Resource("api", scope=scope)):
                return problem(403, f"This token does not have the scope '{scope}'.", kind="scope")
            g.api_actor = who
            return view(*args, **kwargs)

        wrapped.api_scope = scope
        wrapped.policy = policy.CALL_API  # web.route_policy: the route's declared action
        wrapped.policy_resource = lambda actor, **_args: policy.Resource("api", scope=scope)
        return wrapped

    return deco
