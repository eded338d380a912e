"""Every route declares its policy; views, templates and documents ask ``engine.policy``.

Each view function carries a ``policy`` attribute, set by one of three decorators:

``@public``             anyone, signed in or not (login pages, the simulators' pages, static files)
``@signed_in``          any signed-in person, for what is theirs by definition (their account, their list)
``@allowed(action, resource)``
                        signed in, and the policy allows ``action``; with ``resource`` (a function of the
                        actor and the view's arguments returning a :class:`~engine.policy.Resource`) it is
                        asked before the view runs; without, the view asks on the object it loads with
                        :func:`require` (either way a refusal is a 404: ids are not to be probed)

A test walks ``app.url_map`` and fails for any view without one. Templates get ``can(action,
**facts)``: the kind comes from the action and the unit defaults to the person's own.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort
from flask_login import current_user

from engine import policy
from engine.audit import Actor

PUBLIC = "public"
SIGNED_IN = "signed_in"
PUBLIC_ENDPOINTS = "saygac.public_endpoints"


def actor() -> Actor:
    from web.auth import anonymous_actor, current_actor

    return current_actor() if current_user.is_authenticated else anonymous_actor()


def public(view):
    view.policy = PUBLIC
    return view


def signed_in(view):
    from web.auth import login_required

    wrapped = login_required(view)
    wrapped.policy = SIGNED_IN
    return wrapped


def allowed(action: str, resource: Callable[..., policy.Resource] | None = None):
    """The view does ``action``; signed in, and (with ``resource``) allowed before the view runs."""
    if action not in policy.RULES:
        raise ValueError(f"unknown policy action {action!r}")

    def deco(view):
        from web.auth import login_required

        @wraps(view)
        def checked(*args, **kwargs):
            if resource is not None:
                require(action, resource(actor(), **kwargs))
            return view(*args, **kwargs)

        wrapped = login_required(checked)
        wrapped.policy = action
        wrapped.policy_resource = resource
        return wrapped

    return deco


def require(action: str, resource: policy.Resource) -> None:
    """404 unless the current person may do ``action`` on ``resource``."""
    if not policy.allows(actor(), action, resource):
        abort(404)


def can(action: str, **facts) -> bool:
    """For templates: may the current person do ``action``? ``facts`` describe the resource; its
    kind is the action's and its unit the person's own unless given."""
    who = actor()
    facts.setdefault("unit_id", who.unit_id)
    return policy.allows(who, action, policy.Resource(policy.kind_of(action) or "", **facts))


def declare_public(app, endpoint: str) -> None:
    """For views this code does not define (a library's): the endpoint is public."""
    app.extensions.setdefault(PUBLIC_ENDPOINTS, set()).add(endpoint)


def declared(app, endpoint: str) -> str | None:
    """The policy the endpoint's view declares (None: none, which the route walk refuses)."""
    if endpoint in app.extensions.get(PUBLIC_ENDPOINTS, ()):
        return PUBLIC
    return getattr(app.view_functions[endpoint], "policy", None)


def init_app(app) -> None:
    app.add_template_global(can, "can")
    declare_public(app, "static")
