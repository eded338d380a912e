"""The login page and the password method; signing out.

The password method answers an unknown user name and a wrong password with the same message
after the same work (one argon2id verification), and throttles per typed user name and per
address, so neither the page, its timing nor a lock tells whether a user name exists. Staff go
on to a one-time code (:mod:`web.login.totp`) before the session starts.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import Form, PasswordField, StringField

from engine import audit, identity
from engine import sessions as login_sessions
from engine.db import as_utc
from engine.passwords import hash_password, needs_rehash, verify_password
from web import limits
from web.auth import (
    METHOD_COOKIE,
    TOKEN_KEY,
    anonymous_actor,
    available_methods,
    current_actor,
    end_browser_session,
    login_settings,
    now,
    sign_in,
)
from web.db import get_db
from web.login import totp
from web.login.common import locked_message, locked_status, safe_next
from web.route_policy import public, signed_in
from workflow import normalise
from workflow.i18n import N_, Message

bp = Blueprint("auth", __name__, template_folder="templates")

LOGIN_FAILED = N_("The user name or the password is not right. Check them and try again.")


class LoginForm(Form):
    username = StringField(N_("User name"), filters=[lambda v: (v or "").strip()])
    password = PasswordField(N_("Password"))


@bp.route("/login", methods=("GET", "POST"))
@public
def login():
    next_url = safe_next()
    form = LoginForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, str | Message]] = []
    until = None
    if request.method == "POST":
        result = _password_login(form, next_url)
        if not isinstance(result, Refusal):  # signed in, or on to the one-time code
            return result
        errors, until = result
        form.password.data = ""
    page = render_template(
        "auth/login.html",
        form=form,
        errors=errors,
        next_url=next_url,
        last_method=request.cookies.get(METHOD_COOKIE),
        methods=available_methods(),
    )
    return locked_status(page, until, now())


class Refusal(NamedTuple):
    """The form's field errors, and the end of the sign-in lock when one lasts."""

    errors: list[tuple[str, str | Message]]  # a Message is translated where it is shown
    until: datetime | None = None


def _password_login(form: LoginForm, next_url: str | None):
    username = form.username.data or ""
    password = form.password.data or ""
    errors: list[tuple[str, str | Message]] = []
    if not username:
        errors.append(("username", N_("Enter your user name")))
    if not password:
        errors.append(("password", N_("Enter your password")))
    if errors:
        return Refusal(errors)
    try:
        normalise.text(
            username
        )  # a NUL or control character names no account (and PostgreSQL refuses NUL)
    except normalise.Refused as err:
        return Refusal([("username", err.message)])
    db, at, settings = get_db(), now(), login_settings()
    keys = limits.login_keys(username, request.remote_addr)
    account = identity.by_username(db, username)
    ok = verify_password(
        account.password_hash if account else None, password
    )  # always one verification
    until = limits.login_locked_until(keys, settings)
    if account is not None and account.locked_until and as_utc(account.locked_until) > at:
        until = max(until or at, as_utc(account.locked_until))
    if until is None and ok and account is not None and account.active:
        if account.password_hash and needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        limits.clear_login_failures(username, settings)
        if totp.second_factor_needed(account):
            return totp.begin(db, account, "password", next_url)
        return sign_in(db, account, "password", next_url, at)
    entity = f"account:{account.id}" if account else None
    if until is None:
        until = limits.count_login_failure(keys, settings)
        audit.record(
            db,
            "login_failed",
            at=at,
            entity=entity,
            actor=anonymous_actor(),
            detail={"method": "password", "username": username[:64]},
        )
        if until is not None:
            audit.record(
                db,
                "login_locked",
                at=at,
                entity=entity,
                actor=anonymous_actor(),
                detail={"username": username[:64], "until": until.isoformat()},
            )
    else:
        audit.record(
            db,
            "login_refused_locked",
            at=at,
            entity=entity,
            actor=anonymous_actor(),
            detail={"method": "password", "username": username[:64]},
        )
    db.commit()
    return Refusal([("username", locked_message(until) if until else LOGIN_FAILED)], until)


@bp.route("/logout", methods=("POST",))
@public
def logout():
    if current_user.is_authenticated:
        db, at = get_db(), now()
        login_sessions.end(db, session.get(TOKEN_KEY), at)
        audit.record(
            db, "logout", at=at, actor=current_actor(), entity=f"account:{current_user.id}"
        )
        db.commit()
    end_browser_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=("POST",))
@signed_in
def logout_everywhere():
    """End every session of this person, on every device."""
    db, at = get_db(), now()
    count = login_sessions.end_all(db, current_user.id, at)
    audit.record(
        db,
        "logout_everywhere",
        at=at,
        actor=current_actor(),
        entity=f"account:{current_user.id}",
        detail={"sessions": count},
    )
    db.commit()
    end_browser_session()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("auth.login"))


def init_app(app, system) -> dict[str, bool]:
    app.register_blueprint(bp)
    return {"password": True}
