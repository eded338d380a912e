"""A person's own sign-in settings, and an admin's password reset.

``/account``: change one's password (rules from ``engine.identity``), "log out everywhere".
``/admin/accounts``: an admin finds a person, sets a new password (the same rules), lifts a lock,
removes the TOTP enrolment and ends every session of that person. Every change is audited.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import or_, select
from wtforms import BooleanField, Form, PasswordField

from engine import audit, identity, policy
from engine import sessions as login_sessions
from engine.models import Account
from engine.passwords import verify_password
from web import limits
from web.auth import current_actor, login_settings, now
from web.db import get_db
from web.route_policy import allowed, signed_in
from workflow.i18n import N_


def _accounts(actor, **_args) -> policy.Resource:
    return policy.Resource("accounts")


bp = Blueprint("login_account", __name__, template_folder="templates")

RULE_MESSAGES = {
    "too_short": N_("The new password must be at least %(n)d characters long"),
    "common": N_(
        "The new password is too common and easy to guess. Choose a longer phrase of unrelated words"
    ),
    "contains_user_name": N_("The new password must not contain your user name"),
}


class ChangePasswordForm(Form):
    current = PasswordField(N_("Current password"))
    new = PasswordField(N_("New password"))


class ResetForm(Form):
    new = PasswordField(N_("New password"))
    remove_totp = BooleanField(N_("Remove the authenticator app enrolment"))


def rule_errors(field: str, password: str, username: str | None) -> list[tuple[str, str]]:
    settings = login_settings()
    errors = []
    for problem in identity.password_problems(password, username, settings):
        text = RULE_MESSAGES[problem]
        errors.append(
            (field, _(text, n=settings.min_password_length) if "%(n)d" in text else _(text))
        )
    return errors


@bp.route("/account", methods=("GET", "POST"))
@signed_in
def account():
    db = get_db()
    person = db.get(Account, current_user.id)
    form = ChangePasswordForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, str]] = []
    if request.method == "POST" and person.password_hash:
        if not verify_password(person.password_hash, form.current.data or ""):
            errors.append(("current", N_("The current password is not right")))
        errors += rule_errors("new", form.new.data or "", person.username)
        if not errors:
            identity.set_password(db, person, form.new.data, now())
            if person.username:
                limits.clear_login_failures(person.username, login_settings(), lift_lock=True)
            audit.record(
                db,
                "password_changed",
                at=now(),
                actor=current_actor(),
                entity=f"account:{person.id}",
            )
            db.commit()
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("login_account.account"))
    live = login_sessions.live_count(db, person.id)
    return render_template(
        "auth/account.html",
        form=form,
        errors=errors,
        person=person,
        live=live,
        min_length=login_settings().min_password_length,
        staff=identity.is_staff(person),
    )


@bp.route("/admin/accounts")
@allowed(policy.MANAGE_ACCOUNTS, _accounts)
def accounts():
    q = (request.args.get("q") or "").strip()
    rows = []
    if q:
        like = f"%{q}%"
        rows = (
            get_db()
            .scalars(
                select(Account)
                .where(
                    or_(
                        Account.username.ilike(like),
                        Account.fin.ilike(like),
                        Account.display_name.ilike(like),
                    )
                )
                .order_by(Account.display_name)
                .limit(50)
            )
            .all()
        )
    return render_template("auth/admin_accounts.html", q=q, rows=rows)


@bp.route("/admin/accounts/<int:account_id>", methods=("GET", "POST"))
@allowed(policy.MANAGE_ACCOUNTS, _accounts)
def reset(account_id: int):
    db = get_db()
    person = db.get(Account, account_id)
    if person is None:
        abort(404)
    form = ResetForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        errors = rule_errors("new", form.new.data or "", person.username)
        if not errors:
            at = now()
            identity.set_password(db, person, form.new.data, at)
            if person.username:
                limits.clear_login_failures(person.username, login_settings(), lift_lock=True)
            if form.remove_totp.data:
                person.totp_secret, person.totp_last_counter = None, None
            ended = login_sessions.end_all(db, person.id, at, "reset")
            audit.record(
                db,
                "password_reset",
                at=at,
                actor=current_actor(),
                entity=f"account:{person.id}",
                detail={"sessions_ended": ended, "totp_removed": bool(form.remove_totp.data)},
            )
            db.commit()
            flash(
                _(
                    "The password of %(name)s has been reset and their sessions ended.",
                    name=person.display_name,
                ),
                "success",
            )
            return redirect(url_for("login_account.reset", account_id=person.id))
    return render_template("auth/admin_reset.html", form=form, errors=errors, person=person)


def init_app(app, system) -> dict[str, bool]:
    app.register_blueprint(bp)
    return {}
