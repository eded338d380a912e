"""Who the current person is, starting and ending the browser's session, and the small interface
login methods plug in through.

Role and unit always come from the account row, loaded again on every request; the cookie only
holds the account id and the token of a server-side session (``engine.sessions``), checked on
every request for logout, "log out everywhere" and the idle and absolute time-outs.

The methods themselves (password and one-time code, signature card, e-gov OpenID Connect, Asan
İmza, the account pages) live in :mod:`web.login`; each is a :class:`LoginMethod` that
:func:`init_app` sets up. This module imports none of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import wraps
from typing import Protocol

from flask import current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, login_user, logout_user

from engine import audit
from engine import sessions as login_sessions
from engine.audit import Actor
from engine.identity import LoginSettings
from engine.models import Account
from engine.sessions import SessionSettings
from web.db import SYSTEM_KEY, get_db, get_system
from web.i18n import SESSION_KEY as LANG_SESSION_KEY

TOKEN_KEY = "sid"  # the login session's token in the (signed) cookie
METHOD_COOKIE = "saygac_login_method"  # the method used last time, offered first on the login page
METHODS = ("card", "egov", "asan", "password")
LOGIN_KEY = "saygac.login"
SESSIONS_KEY = "saygac.sessions"
ANONYMOUS = "anonymous"
METHODS_KEY = "saygac.login_methods"


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
        return Actor(
            id=self.id,
            role=self.role,
            label=self.display_name,
            unit_id=self.unit_id,
            address=request.remote_addr,
            fin=self.fin,
        )


def login_settings() -> LoginSettings:
    return current_app.extensions[LOGIN_KEY]


def session_settings() -> SessionSettings:
    return current_app.extensions[SESSIONS_KEY]


def load_user(user_id: str) -> User | None:
    try:
        account_id = int(user_id)
    except (TypeError, ValueError):
        return None
    db = get_db()
    # The touch (a time-out ending the session, last_seen at most once a minute) is committed
    # whatever the view does. Sign-in is checked before a view begins its unit of work, so the
    # request's own session does it and commits only when the touch wrote something; a view that
    # has begun already gets a session of its own for it.
    touch_db = get_system().sessions() if db.in_transaction() else db
    try:
        account = login_sessions.touch(
            touch_db, session.get(TOKEN_KEY), account_id, now(), session_settings()
        )
        if touch_db is not db or touch_db.dirty:
            touch_db.commit()
    finally:
        if touch_db is not db:
            touch_db.close()
    if account is None:
        g.session_ended = True
        return None
    if touch_db is not db:
        account = db.get(Account, account_id)
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


def sign_in(db, account: Account, method: str, next_url: str | None, at: datetime | None = None):
    """Start a new session for ``account`` (any method) and go on; the caller has checked who it is."""
    at = at or now()
    account.failed_logins = 0
    token = login_sessions.start(db, account.id, method, at, request.remote_addr)
    user = User(account)
    audit.record(
        db,
        "login",
        at=at,
        actor=user.actor,
        entity=f"account:{account.id}",
        detail={"method": method},
    )
    db.commit()
    lang = session.get(LANG_SESSION_KEY)
    session.clear()  # a new session at sign-in: nothing from before it survives (fixation)
    if lang:
        session[LANG_SESSION_KEY] = lang
    session[TOKEN_KEY] = token
    login_user(user)
    response = redirect(next_url or url_for("tasks.task_list"))
    if method in METHODS:
        response.set_cookie(
            METHOD_COOKIE,
            method,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        )
    return response


def end_browser_session() -> None:
    """Forget the signed-in person in this browser, keeping only the chosen language."""
    lang = session.get(LANG_SESSION_KEY)
    logout_user()
    session.clear()
    if lang:
        session[LANG_SESSION_KEY] = lang


def available_methods() -> dict[str, bool]:
    """Which login methods this deployment has configured (password always)."""
    return current_app.extensions.get(METHODS_KEY, {"password": True})


class LoginMethod(Protocol):
    """One way to sign in: sets itself up on the app (its blueprint, its settings) and says which
    of the method names it serves are switched on with these settings."""

    def init_app(self, app, system) -> Mapping[str, bool]: ...


def init_app(app, methods: Iterable[LoginMethod]) -> None:
    """Flask-Login, the session settings, then every login method in ``methods``."""
    system = app.extensions[SYSTEM_KEY]
    app.extensions[LOGIN_KEY] = system.settings.section("login", LoginSettings)
    app.extensions[SESSIONS_KEY] = system.settings.section("sessions", SessionSettings)
    enabled: dict[str, bool] = {"password": True}
    app.extensions[METHODS_KEY] = enabled
    manager = LoginManager()
    manager.session_protection = "basic"  # "strong" would sign out phones that change networks
    manager.user_loader(load_user)
    manager.init_app(app)
    for method in methods:
        enabled.update(method.init_app(app, system))
