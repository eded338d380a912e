"""Sign-in through an OpenID provider: e-gov identity for citizens, the organisation's for staff.

``/login/oidc/<provider>`` starts an attempt (state, nonce and PKCE verifier kept in the signed
session, one at a time) and sends the browser to the provider; the callback takes the attempt
out of the session (so a replayed callback finds nothing), and :mod:`web.login.identity.oidc` checks
everything the provider sent. e-gov resolves to the FIN's account, created at the first login;
the staff provider signs in only an existing staff account with that FIN (role and unit from
the account, never from the token).
"""

from __future__ import annotations

import logging

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from engine import audit, identity
from web.auth import anonymous_actor, now, sign_in
from web.db import get_db
from web.login.common import safe_next, sign_in_person
from web.login.identity.certs import Person
from web.login.identity.oidc import OidcClient, OidcRefused, OidcSettings
from web.login.identity.oidc_simulator import SimulatedProvider
from web.route_policy import public
from workflow.i18n import N_

log = logging.getLogger(__name__)
bp = Blueprint("login_oidc", __name__, template_folder="templates")
SIMULATOR = (
    "simulator"  # issuer = "simulator": the embedded mode's provider (production refuses it)
)
CLIENTS_KEY = "saygac.oidc_clients"
PENDING_KEY = "oidc"
PROVIDERS = {
    "egov": ("oidc_egov", "egov"),
    "staff": ("oidc_staff", "staff_oidc"),
}  # name: (section, method)

REFUSED = N_(
    "Signing in through the identity provider did not succeed. Start again, or choose another way to sign in."
)
NOT_STAFF = N_("No staff account belongs to this identity. Ask your administrator to set one up.")
UNREACHABLE = N_(
    "The identity provider cannot be reached just now. Try again in a few minutes or choose another way to sign in."
)


def _client(provider: str) -> OidcClient:
    client = current_app.extensions[CLIENTS_KEY].get(provider)
    if client is None:
        abort(404)
    if isinstance(client, SimulatedProvider):
        return client.client(url_for("login_oidc.callback", provider=provider, _external=True))
    return client


@bp.route("/login/oidc/<provider>")
@public
def start(provider: str):
    client = _client(provider)
    try:
        attempt = client.begin()
    except OidcRefused:
        log.exception("OpenID provider %s: discovery failed", provider)
        return _refused(UNREACHABLE)
    session[PENDING_KEY] = {
        "provider": provider,
        "state": attempt.state,
        "nonce": attempt.nonce,
        "code_verifier": attempt.code_verifier,
        "next": safe_next(),
    }
    return redirect(attempt.url)


@bp.route("/login/oidc/<provider>/callback")
@public
def callback(provider: str):
    client = _client(provider)
    attempt = session.pop(PENDING_KEY, None)
    db, at = get_db(), now()
    method = PROVIDERS[provider][1]
    try:
        if not attempt or attempt.get("provider") != provider:
            raise OidcRefused("no_attempt")
        who = client.finish(attempt, request.args.to_dict(), at)
        fin = identity.normalise_fin(who.fin)
        if fin is None:
            raise OidcRefused("no_fin")
    except OidcRefused as refused:
        audit.record(
            db,
            "login_failed",
            at=at,
            actor=anonymous_actor(),
            detail={"method": method, "reason": refused.reason},
        )
        db.commit()
        return _refused(UNREACHABLE if refused.reason == "provider_unreachable" else REFUSED)
    if provider == "staff":
        account = identity.by_fin(db, fin)
        if account is None or not identity.is_staff(account) or not account.active:
            audit.record(
                db,
                "login_failed",
                at=at,
                actor=anonymous_actor(),
                detail={"method": method, "reason": "not_staff"},
            )
            db.commit()
            return _refused(NOT_STAFF)
        return sign_in(db, account, method, attempt.get("next"), at)
    person = Person(fin=fin, name=who.name or fin, serial=0, issuer=client.settings.issuer)
    return sign_in_person(db, person, method, attempt.get("next"), at)


def _demo_citizens(system) -> dict[str, str]:
    with system.sessions() as session:
        return identity.demo_citizens(session)


def _refused(message: str):
    return render_template("auth/refused.html", message=message), 400


def init_app(app, system) -> dict[str, bool]:
    enabled: dict[str, bool] = {}
    clients: dict[str, OidcClient | SimulatedProvider] = {}
    base = system.settings.app.base_url.rstrip("/")
    for provider, (section, _method) in PROVIDERS.items():
        settings = system.settings.section(section, OidcSettings)
        redirect_uri = f"{base}/login/oidc/{provider}/callback"
        if settings.issuer == SIMULATOR:
            if system.settings.is_production:
                log.warning(
                    "[%s] the simulator never runs in production: this sign-in is off", section
                )
                continue
            clients[provider] = SimulatedProvider(
                settings, lambda: _demo_citizens(system), clock=system.services.now
            )
        elif settings.enabled:
            clients[provider] = OidcClient(settings, redirect_uri)
    app.extensions[CLIENTS_KEY] = clients
    enabled["egov"] = "egov" in clients
    enabled["staff_oidc"] = "staff" in clients
    app.register_blueprint(bp)
    return enabled
