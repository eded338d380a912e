"""Who the current person is, signing in with a user name and password, signing out.

Role and unit always come from the account row, loaded again on every request; the cookie only
holds the account id and the token of a server-side session (``engine.sessions``), checked on
every request for logout, "log out everywhere" and the idle and absolute time-outs.

The password method answers an unknown user name and a wrong password with the same message
after the same work (one argon2id verification), and throttles per typed user name and per
address, so neither the page, its timing nor a lock tells whether a user name exists. Staff go
on to a one-time code (``web.login_totp``) before the session starts.
"""
from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user
from wtforms import Form, PasswordField, StringField

from engine import audit, identity
from engine import sessions as login_sessions
from engine.audit import Actor
from engine.db import as_utc
from engine.identity import LoginSettings
from engine.models import Account
from engine.passwords import hash_password, needs_rehash, verify_password
from engine.sessions import SessionSettings
from web.db import get_db, get_system
from web.i18n import SESSION_KEY as LANG_SESSION_KEY
from web.security import is_safe_next
from workflow.i18n import N_

bp = Blueprint("auth", __name__)

LOGIN_FAILED = N_("The user name or the password is not right. Check them and try again.")
LOCKED = N_("Too many failed attempts. For your security, signing in is paused until %(time)s. Try again then.")
STAFF_METHOD = N_("Staff sign in with their user name, password and one-time code, or with the organisation's account.")
INACTIVE = N_("This account is switched off. Contact the service's administrator.")
TOKEN_KEY = "sid"  # the login session's token in the (signed) cookie
METHOD_COOKIE = "saygac_login_method"  # the method used last time, offered first on the login page
METHODS = ("card", "egov", "asan", "password")
LOGIN_KEY = "saygac.login"
SESSIONS_KEY = "saygac.sessions"
ANONYMOUS = "anonymous"


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
        self.fin = account.fin

    def get_id(self) -> str:
        return str(self.id)

    @property
    def actor(self) -> Actor:
        return Actor(id=self.id, role=self.role, label=self.display_name, unit_id=self.unit_id,
                     address=request.remote_addr)


def login_settings() -> LoginSettings:
    return current_app.extensions[LOGIN_KEY]


def session_settings() -> SessionSettings:
    return current_app.extensions[SESSIONS_KEY]


def load_user(user_id: str) -> User | None:
    try:
        account_id = int(user_id)
    except (TypeError, ValueError):
        return None
    with get_system().sessions() as s:  # its own unit of work: the touch commits whatever the view does
        live = login_sessions.touch(s, session.get(TOKEN_KEY), account_id, now(), session_settings())
        s.commit()
    if not live:
        g.session_ended = True
        return None
    account = get_db().get(Account, account_id)
    if account is None or not account.active:
        return None
    return User(account)


def current_actor() -> Actor:
    return current_user.actor


def anonymous_actor() -> Actor:
    return Actor(id=None, role=ANONYMOUS, label=ANONYMOUS, address=request.remote_addr)


def now() -> datetime:
    return get_system().services.now()


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            if g.get("session_ended"):
                flash(_("Your session has ended. Sign in again to go on."), "info")
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


def locked_message(until: datetime) -> str:
    return _(LOCKED, time=format_datetime(until, "HH:mm"))


def safe_next() -> str | None:
    target = request.values.get("next")
    return target if is_safe_next(target) else None


@bp.route("/login", methods=("GET", "POST"))
def login():
    next_url = safe_next()
    form = LoginForm(request.form if request.method == "POST" else None)
    errors: list[tuple[str, str]] = []
    if request.method == "POST":
        errors = _password_login(form, next_url)
        if isinstance(errors, tuple):  # a response: signed in, or on to the one-time code
            return errors[0]
        form.password.data = ""
    return render_template("auth/login.html", form=form, errors=errors, next_url=next_url,
                           last_method=request.cookies.get(METHOD_COOKIE), methods=available_methods())


def _password_login(form: LoginForm, next_url: str | None):
    username = form.username.data or ""
    password = form.password.data or ""
    errors = []
    if not username:
        errors.append(("username", N_("Enter your user name")))
    if not password:
        errors.append(("password", N_("Enter your password")))
    if errors:
        return errors
    db, at, settings = get_db(), now(), login_settings()
    keys = identity.throttle_keys(username, request.remote_addr)
    account = identity.by_username(db, username)
    ok = verify_password(account.password_hash if account else None, password)  # always one verification
    until = identity.locked_until(db, keys, at)
    if account is not None and account.locked_until and as_utc(account.locked_until) > at:
        until = max(until or at, as_utc(account.locked_until))
    if until is None and ok and account.active:
        if account.password_hash and needs_rehash(account.password_hash):
            account.password_hash = hash_password(password)
        identity.clear_failures(db, username)
        from web import login_totp

        if login_totp.second_factor_needed(account):
            return (login_totp.begin(db, account, "password", next_url),)
        return (sign_in(db, account, "password", next_url, at),)
    entity = f"account:{account.id}" if account else None
    if until is None:
        until = identity.record_failure(db, keys, at, settings)
        audit.record(db, "login_failed", at=at, entity=entity, actor=anonymous_actor(),
                     detail={"method": "password", "username": username[:64]})
        if until is not None:
            audit.record(db, "login_locked", at=at, entity=entity, actor=anonymous_actor(),
                         detail={"username": username[:64], "until": until.isoformat()})
    else:
        audit.record(db, "login_refused_locked", at=at, entity=entity, actor=anonymous_actor(),
                     detail={"method": "password", "username": username[:64]})
    db.commit()
    return [("username", locked_message(until) if until else LOGIN_FAILED)]


def sign_in(db, account: Account, method: str, next_url: str | None, at: datetime | None = None):
    """Start a new session for ``account`` (any method) and go on; the caller has checked who it is."""
    at = at or now()
    account.failed_logins = 0
    token = login_sessions.start(db, account.id, method, at, request.remote_addr)
    user = User(account)
    audit.record(db, "login", at=at, actor=user.actor, entity=f"account:{account.id}", detail={"method": method})
    db.commit()
    lang = session.get(LANG_SESSION_KEY)
    session.clear()  # a new session at sign-in: nothing from before it survives (fixation)
    if lang:
        session[LANG_SESSION_KEY] = lang
    session[TOKEN_KEY] = token
    login_user(user)
    response = redirect(next_url or url_for("tasks.task_list"))
    if method in METHODS:
        response.set_cookie(METHOD_COOKIE, method, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return response


def sign_in_person(db, person, method: str, next_url: str | None, at: datetime):
    """Sign in the account of the FIN a citizen method vouched for (``person.fin``, ``person.name``).

    A citizen's account is created at the first login. Staff accounts are refused here: staff
    sign in with password and one-time code, or through the organisation's provider.
    """
    account, created = identity.account_for_fin(db, person.fin, person.name, at)
    if created:
        audit.record(db, "account_created", at=at, actor=anonymous_actor(), entity=f"account:{account.id}",
                     detail={"method": method})
    if not account.active or identity.is_staff(account):
        reason = "staff_method" if account.active else "inactive"
        audit.record(db, "login_failed", at=at, actor=anonymous_actor(), entity=f"account:{account.id}",
                     detail={"method": method, "reason": reason})
        db.commit()
        return render_template("auth/refused.html", message=STAFF_METHOD if account.active else INACTIVE), 403
    return sign_in(db, account, method, next_url, at)


def _end_browser_session() -> None:
    lang = session.get(LANG_SESSION_KEY)
    logout_user()
    session.clear()
    if lang:
        session[LANG_SESSION_KEY] = lang


@bp.route("/logout", methods=("POST",))
def logout():
    if current_user.is_authenticated:
        db, at = get_db(), now()
        login_sessions.end(db, session.get(TOKEN_KEY), at)
        audit.record(db, "logout", at=at, actor=current_actor(), entity=f"account:{current_user.id}")
        db.commit()
    _end_browser_session()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/logout/everywhere", methods=("POST",))
@login_required
def logout_everywhere():
    """End every session of this person, on every device."""
    db, at = get_db(), now()
    count = login_sessions.end_all(db, current_user.id, at)
    audit.record(db, "logout_everywhere", at=at, actor=current_actor(), entity=f"account:{current_user.id}",
                 detail={"sessions": count})
    db.commit()
    _end_browser_session()
    flash(_("You have signed out on every device."), "info")
    return redirect(url_for("auth.login"))


def available_methods() -> dict[str, bool]:
    """Which of the four methods this deployment has configured (password always)."""
    return current_app.extensions.get("saygac.login_methods", {"password": True})


def init_app(app) -> None:
    settings = get_settings_from(app)
    app.extensions[LOGIN_KEY] = settings.section("login", LoginSettings)
    app.extensions[SESSIONS_KEY] = settings.section("sessions", SessionSettings)
    app.extensions["saygac.login_methods"] = {"password": True}
    manager = LoginManager()
    manager.session_protection = "basic"  # "strong" would sign out phones that change networks
    manager.user_loader(load_user)
    manager.init_app(app)
    app.register_blueprint(bp)
    from web import login_account, login_asan, login_card, login_oidc, login_totp

    system = app.extensions["saygac"]
    login_totp.init_app(app)
    login_account.init_app(app)
    login_asan.init_app(app, system)
    login_oidc.init_app(app, system)
    login_card.init_app(app, system)


def get_settings_from(app):
    from web.db import SYSTEM_KEY

    return app.extensions[SYSTEM_KEY].settings
