"""Asan İmza sign-in: phone number and user ID, a verification code, waiting for the phone.

The wait page polls ``/login/asan/status`` (``static/login_asan.js``, no page reloads) and,
once the phone has answered, posts the finish form; without script the person presses
"I have confirmed" instead. Finishing asks the gateway again (the browser's word is never
taken), verifies the certificate the gateway returns (chain to the configured Asan İmza CA,
dates, key usage, CRL) and signs in the FIN it names. The simulator (embedded mode only) comes
with a demo page that plays the phone: ``/demo/asan-phone``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from wtforms import Form, StringField

from engine import audit, identity
from web.auth import anonymous_actor, now
from web.db import get_db, get_system
from web.login.common import safe_next, sign_in_person
from web.login.identity import certs
from web.login.identity.asan import GatewayError, HttpAsanGateway, SimulatorGateway
from web.route_policy import public
from workflow.i18n import N_
from workflow.identifiers import InvalidIdentifier, normalize_az_phone

log = logging.getLogger(__name__)
bp = Blueprint("login_asan", __name__, template_folder="templates")
GATEWAY_KEY = "saygac.asan_gateway"
SETTINGS_KEY = "saygac.asan"
PENDING_KEY = "asan"

DECLINED = N_("You declined the sign-in on your phone. If that was a mistake, start again.")
EXPIRED = N_(
    "The time to confirm on your phone ran out. Start again and confirm when the phone asks."
)
UNREACHABLE = N_(
    "Asan İmza cannot be reached just now. Try again in a few minutes or choose another way to sign in."
)
REFUSED = N_(
    "Your Asan İmza certificate could not be accepted. Contact Asan İmza or choose another way to sign in."
)
STILL_WAITING = N_(
    "Your phone has not answered yet. Confirm the request on your phone, then press the button again."
)


@dataclass(frozen=True)
class AsanSettings:
    gateway: str = "simulator"  # "simulator" (embedded mode only), "http" (url below), or "" (off)
    url: str = ""
    timeout_seconds: float = 5.0
    ca_bundle: str = (
        ""  # PEM file of the CAs that issue Asan İmza certificates (needed with "http")
    )
    crl_file: str = ""
    fin_attribute: str = "serialNumber"
    request_seconds: int = 120  # how long the simulator waits for its "phone"
    poll_seconds: int = 2


class StartForm(Form):
    phone = StringField(N_("Mobile phone number"), filters=[lambda v: (v or "").strip()])
    user_id = StringField(
        N_("Asan İmza user ID"), filters=[lambda v: re.sub(r"[\s-]", "", v or "")]
    )


def _settings() -> AsanSettings:
    return current_app.extensions[SETTINGS_KEY]


def _gateway():
    gateway = current_app.extensions.get(GATEWAY_KEY)
    if gateway is None:
        abort(404)
    return gateway


@bp.route("/login/asan", methods=("GET", "POST"))
@public
def start():
    gateway = _gateway()
    form = StartForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, object]] = []  # messages: marked strings or domain Messages
    next_url = safe_next()
    if request.method == "POST":
        phone: str | None = None
        try:
            phone = normalize_az_phone(form.phone.data)  # the one phone rule: E.164, +994…
        except InvalidIdentifier as err:
            errors.append(("phone", err.message))
        if not re.fullmatch(r"\d{6}", form.user_id.data or ""):
            errors.append(("user_id", N_("Enter your Asan İmza user ID: 6 digits")))
        if not errors:
            try:
                challenge = gateway.start(phone, form.user_id.data)
            except GatewayError:
                log.exception("Asan İmza gateway: start failed")
                errors.append(("phone", UNREACHABLE))
            else:
                session[PENDING_KEY] = {
                    "tx": challenge.transaction_id,
                    "code": challenge.verification_code,
                    "expires": challenge.expires_at.isoformat(),
                    "next": next_url,
                }
                return redirect(url_for("login_asan.wait"))
    return render_template("auth/asan_start.html", form=form, errors=errors, next_url=next_url)


@bp.route("/login/asan/wait")
@public
def wait():
    _gateway()
    pending = session.get(PENDING_KEY)
    if not pending:
        return redirect(url_for("login_asan.start"))
    return render_template(
        "auth/asan_wait.html",
        code=pending["code"],
        expires=datetime.fromisoformat(pending["expires"]),
        poll_seconds=_settings().poll_seconds,
        notice=None,
    )


@bp.route("/login/asan/status")
@public
def status():
    gateway = _gateway()
    pending = session.get(PENDING_KEY)
    if not pending:
        return jsonify(state="expired")
    try:
        return jsonify(state=gateway.status(pending["tx"]).state)
    except GatewayError:
        return jsonify(state="pending")  # the finish step reports a gateway that stays down


@bp.route("/login/asan/finish", methods=("POST",))
@public
def finish():
    gateway = _gateway()
    pending = session.get(PENDING_KEY)
    if not pending:
        return redirect(url_for("login_asan.start"))
    db, at = get_db(), now()
    try:
        answer = gateway.status(pending["tx"])
    except GatewayError:
        return _again(UNREACHABLE)
    if answer.state == "pending":
        return render_template(
            "auth/asan_wait.html",
            code=pending["code"],
            poll_seconds=_settings().poll_seconds,
            expires=datetime.fromisoformat(pending["expires"]),
            notice=STILL_WAITING,
        )
    session.pop(PENDING_KEY, None)
    if answer.state != "confirmed" or not answer.certificate:
        audit.record(
            db,
            "login_failed",
            at=at,
            actor=anonymous_actor(),
            detail={"method": "asan", "reason": answer.state},
        )
        db.commit()
        return _again(DECLINED if answer.state == "declined" else EXPIRED)
    try:
        person = _verify(answer.certificate, at)
    except certs.CertificateRefused as refused:
        audit.record(
            db,
            "login_failed",
            at=at,
            actor=anonymous_actor(),
            detail={"method": "asan", "reason": refused.reason},
        )
        db.commit()
        return _again(REFUSED)
    return sign_in_person(db, person, "asan", pending.get("next"), at)


def _verify(certificate_pem: str, at: datetime) -> certs.Person:
    settings = _settings()
    anchors = current_app.extensions["saygac.asan_anchors"]
    crl = (
        certs.load_crl(get_system().settings.path(settings.crl_file)) if settings.crl_file else None
    )
    return certs.person_from_certificate(
        certs.parse_certificate(certificate_pem),
        anchors,
        at,
        crl=crl,
        fin_attribute=settings.fin_attribute,
    )


def _again(message: str):
    form = StartForm()
    return render_template(
        "auth/asan_start.html", form=form, errors=[("phone", message)], next_url=None
    )


# -- the simulator's "phone" (embedded mode only) ----------------------------------------------


@bp.route("/demo/asan-phone", methods=("GET", "POST"))
@public
def phone():
    gateway = current_app.extensions.get(GATEWAY_KEY)
    if not isinstance(gateway, SimulatorGateway):
        abort(404)
    if request.method == "POST":
        tx = request.form.get("tx", "")
        (gateway.confirm if request.form.get("answer") == "confirm" else gateway.decline)(tx)
        return redirect(url_for("login_asan.phone"))
    return render_template(
        "auth/asan_phone.html", requests=gateway.pending(), people=gateway.people
    )


def make_gateway(app, settings: AsanSettings, system):
    """The configured gateway and the CAs its certificates must chain to; (None, []) when off."""
    if settings.gateway == "http":
        if not settings.url or not settings.ca_bundle:
            raise RuntimeError('[asan] gateway = "http" needs url and ca_bundle')
        return (
            HttpAsanGateway(settings.url, settings.timeout_seconds),
            certs.load_pem_bundle(system.settings.path(settings.ca_bundle)),
        )
    if settings.gateway == "simulator":
        if system.settings.is_production:
            log.warning("[asan] the simulator never runs in production: Asan İmza sign-in is off")
            return None, []
        sim = SimulatorGateway(clock=system.services.now, seconds=settings.request_seconds)
        anchors = (
            certs.load_pem_bundle(system.settings.path(settings.ca_bundle))
            if settings.ca_bundle
            else []
        )
        return sim, anchors + [sim.ca.cert]
    return None, []


def demo_people(system) -> dict[str, tuple[str, str]]:
    """Asan İmza user IDs 100001, 100002, … for the demo citizens with a FIN (in user-name order)."""
    with system.sessions() as s:
        return {
            f"{100001 + n}": person for n, person in enumerate(identity.demo_citizens(s).items())
        }


def init_app(app, system) -> dict[str, bool]:
    enabled: dict[str, bool] = {}
    settings = system.settings.section("asan", AsanSettings)
    gateway, anchors = make_gateway(app, settings, system)
    if isinstance(gateway, SimulatorGateway):
        gateway.people.update(demo_people(system))
    app.extensions[SETTINGS_KEY] = settings
    app.extensions[GATEWAY_KEY] = gateway
    app.extensions["saygac.asan_anchors"] = anchors
    enabled["asan"] = gateway is not None
    app.register_blueprint(bp)
    return enabled
