"""Staff's second step: a time-based one-time code (TOTP, RFC 6238) after the password.

Staff must enrol in production (the first sign-in shows a QR code for an authenticator app and
asks for its first code); in embedded mode only when ``login.staff_totp_in_embedded`` is true or
the person has enrolled on their account page, so the demo staff can still sign in with ``demo``.
Until the code is right no session exists: the pending sign-in is kept in the cookie for five
minutes, and wrong codes count towards the same throttle as wrong passwords.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import Form, StringField

from engine import audit, identity
from engine.models import Account
from web import limits
from web.auth import anonymous_actor, current_actor, login_settings, now, sign_in
from web.db import get_db, get_system
from web.login.common import locked_message, locked_status
from web.route_policy import public, signed_in
from workflow.i18n import N_

bp = Blueprint("login_totp", __name__, template_folder="templates")

PENDING_KEY = "pending_login"
ENROL_KEY = "pending_totp_secret"
PENDING_MINUTES = 5
WRONG_CODE = N_(
    "The code is not right or has been used. Enter the 6-digit code your authenticator app shows now."
)


class CodeForm(Form):
    code = StringField(
        N_("Code from your authenticator app"),
        filters=[lambda v: (v or "").replace(" ", "").strip()],
    )


def second_factor_needed(account: Account) -> bool:
    if not identity.is_staff(account):
        return False
    return (
        get_system().settings.is_production
        or login_settings().staff_totp_in_embedded
        or bool(account.totp_secret)
    )


def begin(db, account: Account, method: str, next_url: str | None):
    """Password accepted: remember who is half-way in and ask for the code."""
    db.commit()
    session.pop(ENROL_KEY, None)
    session[PENDING_KEY] = {
        "account": account.id,
        "method": method,
        "next": next_url,
        "at": now().isoformat(),
    }
    return redirect(url_for("login_totp.code"))


def _pending() -> Account | None:
    pending = session.get(PENDING_KEY)
    if not pending:
        return None
    if now() - datetime.fromisoformat(pending["at"]) > timedelta(minutes=PENDING_MINUTES):
        session.pop(PENDING_KEY, None)
        return None
    account = get_db().get(Account, pending["account"])
    return account if account is not None and account.active else None


def _enrol_secret(account: Account) -> str | None:
    """While enrolling: the new secret (kept in the signed cookie until the first code proves it)."""
    if account.totp_secret:
        return None
    if not session.get(ENROL_KEY):
        session[ENROL_KEY] = identity.new_totp_secret()
    return session[ENROL_KEY]


@bp.route("/login/code", methods=("GET", "POST"))
@public
def code():
    account = _pending()
    if account is None:
        return redirect(url_for("auth.login"))
    secret = _enrol_secret(account)
    form = CodeForm(request.form if request.method == "POST" else None)
    errors = []
    until = None
    if request.method == "POST":
        db, at = get_db(), now()
        keys = limits.login_keys(account.username or str(account.id), request.remote_addr)
        until = limits.login_locked_until(keys, login_settings())
        counter = (
            None
            if until
            else identity.totp_counter(
                secret or account.totp_secret,
                form.code.data or "",
                at,
                None if secret else account.totp_last_counter,
            )
        )
        if counter is not None:
            pending = session.pop(PENDING_KEY)
            if secret:
                account.totp_secret = secret
                audit.record(
                    db,
                    "totp_enrolled",
                    at=at,
                    entity=f"account:{account.id}",
                    actor=anonymous_actor(),
                )
            account.totp_last_counter = counter
            return sign_in(db, account, pending["method"], pending.get("next"), at)
        if until is None:
            until = limits.count_login_failure(keys, login_settings())
            audit.record(
                db,
                "login_failed",
                at=at,
                entity=f"account:{account.id}",
                actor=anonymous_actor(),
                detail={"method": "totp"},
            )
            if until is not None:
                audit.record(
                    db,
                    "login_locked",
                    at=at,
                    entity=f"account:{account.id}",
                    actor=anonymous_actor(),
                    detail={"until": until.isoformat()},
                )
        db.commit()
        errors.append(("code", locked_message(until) if until else WRONG_CODE))
        form.code.data = ""
    page = render_template(
        "auth/code.html",
        form=form,
        errors=errors,
        enrolling=bool(secret),
        secret=secret,
        action=url_for("login_totp.code"),
        qr_url=url_for("login_totp.qr"),
    )
    return locked_status(page, until, now())


@bp.route("/login/code/qr.svg")
@public
def qr():
    return _qr(_pending())


@bp.route("/account/one-time-code", methods=("GET", "POST"))
@signed_in
def enrol():
    """Staff enrol of their own accord (embedded mode, where it is not yet required)."""
    db = get_db()
    account = db.get(Account, current_user.id)
    if not identity.is_staff(account) or account.totp_secret:
        abort(404)
    secret = _enrol_secret(account)
    form = CodeForm(request.form if request.method == "POST" else None)
    errors = []
    if request.method == "POST":
        at = now()
        counter = identity.totp_counter(secret, form.code.data or "", at, None)
        if counter is not None:
            account.totp_secret, account.totp_last_counter = session.pop(ENROL_KEY), counter
            audit.record(
                db, "totp_enrolled", at=at, actor=current_actor(), entity=f"account:{account.id}"
            )
            db.commit()
            flash(
                _("From now on you sign in with a one-time code as well as your password."),
                "success",
            )
            return redirect(url_for("login_account.account"))
        errors.append(("code", WRONG_CODE))
        form.code.data = ""
    return render_template(
        "auth/code.html",
        form=form,
        errors=errors,
        enrolling=True,
        secret=secret,
        action=url_for("login_totp.enrol"),
        qr_url=url_for("login_totp.enrol_qr"),
    )


@bp.route("/account/one-time-code/qr.svg")
@signed_in
def enrol_qr():
    return _qr(get_db().get(Account, current_user.id))


def _qr(account: Account | None):
    secret = session.get(ENROL_KEY) if account is not None and not account.totp_secret else None
    if secret is None or account is None:
        abort(404)
    uri = identity.totp_uri(secret, account, login_settings().totp_issuer)
    out = io.BytesIO()
    segno.make(uri, error="m").save(
        out, kind="svg", scale=5, border=4, dark="#0b0c0c", light="#ffffff"
    )
    return Response(out.getvalue(), mimetype="image/svg+xml")


def init_app(app, system) -> dict[str, bool]:
    app.register_blueprint(bp)
    return {}
