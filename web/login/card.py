"""Electronic signature card: TLS client authentication at the reverse proxy, checked again here.

The proxy (nginx: README "Signature card sign-in") asks the browser for the card's certificate
and passes it, URL-escaped PEM, in the header ``[card] header``. The app believes that header
only from the addresses in ``[card] trusted_proxies`` (anyone else could type it), then verifies
the certificate itself: chain to ``[card] ca_bundle``, validity dates, key usage, revocation in
``[card] crl_file``; the FIN comes from the subject.

In the embedded mode ``[card] simulator = true`` stands in for the proxy and the card reader
(:mod:`web.login.identity.card_simulator`): the page lists the demo citizens' cards, and the chosen
card's certificate goes through the same verification, against the simulator's demo CA.
"""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass

from flask import Blueprint, abort, current_app, render_template, request

from engine import audit, identity
from web.auth import anonymous_actor, now
from web.db import get_db, get_system
from web.login.common import safe_next, sign_in_person
from web.login.identity import certs
from web.login.identity.card_simulator import CardSimulator
from web.route_policy import public
from workflow.i18n import N_

log = logging.getLogger(__name__)
bp = Blueprint("login_card", __name__, template_folder="templates")
SETTINGS_KEY = "saygac.card"
SIMULATOR_KEY = "saygac.card_simulator"

NO_CERTIFICATE = N_(
    "No signature card was found. Put the card into the reader, then start again; your browser asks which certificate to use and for its PIN."
)
UNTRUSTED = N_(
    "Signing in with the signature card works only through this service's own address. Open the service's address and start again."
)
MESSAGES = {
    "expired": N_(
        "The certificate on your card has expired. Renew it, or choose another way to sign in."
    ),
    "not_yet_valid": N_(
        "The certificate on your card is not valid yet. Try again from the date it starts, or choose another way to sign in."
    ),
    "revoked": N_(
        "The certificate on your card has been revoked. Contact the issuer of your card, or choose another way to sign in."
    ),
    "no_fin": N_(
        "The certificate on your card does not carry a personal identification number (FIN). Choose another way to sign in."
    ),
}
NOT_ACCEPTED = N_(
    "The certificate on your card is not accepted here. Choose another way to sign in."
)


@dataclass(frozen=True)
class CardSettings:
    header: str = "X-SSL-Client-Cert"
    trusted_proxies: tuple[
        str, ...
    ] = ()  # addresses or networks of the TLS-terminating proxies; empty: off
    ca_bundle: str = ""  # PEM file of the CAs that issue signature cards (roots and intermediates)
    crl_file: str = (
        ""  # PEM or DER CRL, refreshed by the operator (e.g. a cron job); empty: no check
    )
    fin_attribute: str = "serialNumber"
    simulator: bool = (
        False  # embedded mode only: demo cards instead of the proxy (production refuses it)
    )

    @property
    def enabled(self) -> bool:
        return bool(self.trusted_proxies and self.ca_bundle)


def _trusted(address: str | None, networks) -> bool:
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return False
    return any(ip in net for net in networks)


@bp.route("/login/card", methods=("GET", "POST"))
@public
def start():
    settings, networks, anchors = current_app.extensions.get(SETTINGS_KEY) or abort(404)
    simulator = current_app.extensions.get(SIMULATOR_KEY)
    if simulator is not None:  # the embedded mode: the page plays the proxy and the card reader
        if request.method == "GET":
            return render_template(
                "auth/card_simulator.html",
                cards=sorted(simulator.people.items()),
                next_url=safe_next(),
            )
        return _verify(
            settings, simulator.card(request.form.get("fin", "")) or "", simulator.anchors, None
        )
    if request.method != "GET":
        abort(405)
    if not _trusted(request.remote_addr, networks):
        return _refuse("untrusted_proxy", UNTRUSTED)
    crl = (
        certs.load_crl(get_system().settings.path(settings.crl_file)) if settings.crl_file else None
    )
    return _verify(settings, request.headers.get(settings.header, ""), anchors, crl)


def _refuse(reason: str, message: str):
    db = get_db()
    audit.record(
        db,
        "login_failed",
        at=now(),
        actor=anonymous_actor(),
        detail={"method": "card", "reason": reason},
    )
    db.commit()
    return render_template("auth/refused.html", message=message), 400


def _verify(settings: CardSettings, raw: str, anchors, crl):
    """The one check of a card's certificate (proxied or simulated), then the sign-in."""
    db, at = get_db(), now()
    raw = raw.strip()
    if not raw or raw == "(null)":
        return _refuse("no_certificate", NO_CERTIFICATE)
    roots = [c for c in anchors if c.subject == c.issuer]
    intermediates = [c for c in anchors if c.subject != c.issuer]
    try:
        person = certs.person_from_certificate(
            certs.parse_certificate(raw),
            roots or anchors,
            at,
            crl=crl,
            intermediates=intermediates,
            fin_attribute=settings.fin_attribute,
        )
    except certs.CertificateRefused as refused:
        return _refuse(refused.reason, MESSAGES.get(refused.reason, NOT_ACCEPTED))
    return sign_in_person(db, person, "card", safe_next(), at)


def init_app(app, system) -> dict[str, bool]:
    enabled: dict[str, bool] = {}
    settings = system.settings.section("card", CardSettings)
    if settings.simulator and not system.settings.is_production:
        with system.sessions() as session:
            app.extensions[SIMULATOR_KEY] = CardSimulator(identity.demo_citizens(session))
        app.extensions[SETTINGS_KEY] = (settings, [], [])
    elif settings.enabled:
        networks = [ipaddress.ip_network(p, strict=False) for p in settings.trusted_proxies]
        anchors = certs.load_pem_bundle(system.settings.path(settings.ca_bundle))
        app.extensions[SETTINGS_KEY] = (settings, networks, anchors)
    enabled["card"] = SETTINGS_KEY in app.extensions
    app.register_blueprint(bp)
    return enabled
