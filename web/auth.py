"""Signing in with a user name and password, signing out, and who the current person is.

Role and unit always come from the account row, loaded again on every request; the session
only holds the account id. The same message answers an unknown user name and a wrong
password, and both cost one password verification, so neither the page nor its timing tells
whether a user name exists.
"""
from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from sqlalchemy import select
from wtforms import Form, PasswordField, StringField

from engine import audit
from engine.audit import Actor
from engine.db import as_utc
from engine.models import Account
from engine.passwords import hash_password, needs_rehash, verify_password
from web.db import get_db, get_system
from web.i18n import SESSION_KEY as LANG_SESSION_KEY
from web.security import is_safe_next
from workflow.i18n import N_

bp = Blueprint("auth", __name__)

LOGIN_FAILED = N_("The user name or the password is not right. Check them and try again.")


class User:
    """The signed-in person as Flask-Login sees them: a snapshot of the account row."""

    is_authenticated = True
    is_active = True
    is_anonymous = False

    def __init__(self, account: Account):
        self.id = account.id
        self.username = account.username
        self.display_name = account.display_name
        self.role = account.role
        self.unit_id = account.unit_id

    def get_id(self) -> str:
        return str(self.id)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role, label=self.display_name, unit_id=self.unit_id,
                     address=request.remote_addr)


def load_user(user_id: str) -> User | None:
    try:
        account = get_db().get(Account, int(user_id))
    except (TypeError, ValueError):
        return None
    if account is None or not account.active:
        return None
    return User(account)


def current_actor() -> Actor:
    return current_user.actor


def now() -> datetime:
    return get_system().services.now()


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            target = request.full_path if request.method == "GET" else request.path
            return redirect(url_for("auth.login", next=target.rstrip("?")))
        return view(*args, **kwargs)
    return wrapped


def roles_required(*roles: str):
    """Only these roles; for anyone else the page does not exist (404, never 403)."""
    def deco(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return deco


class LoginForm(Form):
    username = StringField(N_("User name"), filters=[lambda v: (v or "").strip()])
    password = PasswordField(N_("Password"))


def _locked(account: Account | None, at: datetime) -> bool:
    return account is not None and account.locked_until is not None and as_utc(account.locked_until) > at


@bp.route("/login", methods=("GET", "POST"))
def login():
    next_url = request.values.get("next")
    next_url = next_url if is_safe_next(next_url) else None
    form = LoginForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        db = get_db()
        username = form.username.data or ""
        password = form.password.data or ""
        if not username:
            errors.append(("username", N_("Enter your user name")))
        if not password:
            errors.append(("password", N_("Enter your password")))
        if not errors:
            at = now()
            account = db.scalar(select(Account).where(Account.username == username))
            ok = verify_password(account.password_hash if account else None, password)
            if ok and account.active and not _locked(account, at):
                return _signed_in(db, account, password, at, next_url)
            if account is not None:
                account.failed_logins = (account.failed_logins or 0) + 1
            audit.record(db, "login_failed", at=at, entity=f"account:{account.id}" if account else None,
                         actor=Actor(id=None, role="anonymous", label="anonymous", address=request.remote_addr),
                         detail={"username": username[:64]})
            db.commit()
            errors.append(("username", LOGIN_FAILED))
            form.password.data = ""
    return render_template("auth/login.html", form=form, errors=errors, next_url=next_url)


def _signed_in(db, account: Account, password: str, at: datetime, next_url: str | None):
    if account.password_hash and needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.failed_logins = 0
    user = User(account)
    audit.record(db, "login", at=at, actor=user.actor, entity=f"account:{account.id}", detail={"method": "password"})
    db.commit()
    lang = session.get(LANG_SESSION_KEY)
    session.clear()  # a new session at sign-in: nothing from before it survives (fixation)
    if lang:
        session[LANG_SESSION_KEY] = lang
    login_user(user)
    return redirect(next_url or url_for("tasks.task_list"))


@bp.route("/logout", methods=("POST",))
def logout():
    if current_user.is_authenticated:
        db = get_db()
        audit.record(db, "logout", at=now(), actor=current_actor(), entity=f"account:{current_user.id}")
        db.commit()
    lang = session.get(LANG_SESSION_KEY)
    logout_user()
    session.clear()
    if lang:
        session[LANG_SESSION_KEY] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


def init_app(app) -> None:
    manager = LoginManager()
    manager.session_protection = "basic"  # "strong" would sign out phones that change networks
    manager.user_loader(load_user)
    manager.init_app(app)
    app.register_blueprint(bp)
