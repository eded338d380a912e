"""The Flask application factory (Flask tutorial style) and the core every audience shares.

The audiences each have a package with its blueprints and templates: ``citizen``, ``tasks``
(user-task pages for citizens and staff), ``staff`` (queue, dashboard, inspector), ``studio`` and
``login``. The core is this factory, ``auth`` (who is signed in), ``db`` (the request's unit of
work), ``i18n``, ``security`` (headers), ``static_files`` (cache lifetimes), ``ids`` (numbers in
addresses), ``errors`` (error pages), ``uploads``, ``cli`` and the shared templates (base layout,
macros, error pages).


``create_app`` builds (or takes) the :class:`~workflow.system.System`, keeps it in
``app.extensions["saygac"]``, and wires the request's unit of work, the job dispatcher,
languages, sign-in, CSRF protection, security headers and the blueprints. In embedded mode it
also starts the in-process timer sweep (not under tests).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from engine.settings import Settings, load_settings
from web import (
    api,
    auth,
    db,
    errors,
    health,
    i18n,
    ids,
    limits,
    metrics,
    outages,
    request_logs,
    route_policy,
    security,
    static_files,
)
from web.analytics import views as analytics
from web.citizen import views as citizen
from web.login.registry import METHODS as LOGIN_METHODS
from web.staff import incidents, inspector
from web.staff import views as staff
from web.studio import api as studio_api
from web.studio import pages as studio
from web.tasks import photos as task_photos
from web.tasks import views as tasks
from workflow.system import System, build_system

csrf = CSRFProtect()
SWEEP_STOP_KEY = "saygac.sweep_stop"


def create_app(
    settings: Settings | None = None,
    *,
    system: System | None = None,
    clock: Callable[[], datetime] | None = None,
    config: Mapping | None = None,
) -> Flask:
    """The web app. ``config`` overrides Flask settings (``{"TESTING": True}`` in tests)."""
    if system is None:
        system = build_system(settings or load_settings(), clock)
    settings = system.settings
    outages.start_checks(
        system
    )  # production refuses an unsafe start; a database that is down does not stop it

    app = Flask(__name__)
    app.config.update(
        MAX_CONTENT_LENGTH=system.services.photos.max_bytes * 10 + 1024 * 1024,
        WTF_CSRF_TIME_LIMIT=8
        * 3600,  # a long form (several meters, photos) must not expire under a person
    )
    security.init_app(app, settings)
    limits.init_app(app, settings)
    static_files.init_app(app)
    if config:
        app.config.update(config)

    ids.init_app(app)  # before the blueprints: every <int:...> is a bounded record id
    db.init_app(app, system)
    metrics.init_app(app)
    i18n.init_app(app, settings)
    csrf.init_app(app)
    auth.init_app(app, LOGIN_METHODS)
    request_logs.init_app(app)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(task_photos.bp)
    app.register_blueprint(studio.bp)
    app.register_blueprint(studio_api.bp)
    app.register_blueprint(citizen.bp)
    app.register_blueprint(staff.bp)
    app.register_blueprint(inspector.bp)
    app.register_blueprint(incidents.bp)
    app.register_blueprint(analytics.bp)
    api.init_app(app, csrf)
    app.register_blueprint(health.bp)
    errors.init_app(app)
    outages.init_app(app)
    route_policy.init_app(app)

    if settings.app.mode == "embedded" and not app.testing:
        from worker import start_sweep_thread

        app.extensions[SWEEP_STOP_KEY] = start_sweep_thread(
            system, app.extensions[db.DISPATCHER_KEY], settings.jobs.timer_sweep_seconds
        )
    return app


__all__ = ["create_app", "csrf"]
