"""Production fails closed: everything that stops a production start, one message per problem.

:func:`problems` looks at the settings (and, given a session, at the database) and names each
unsafe choice with the setting to change: a missing or short secret key, demo accounts, any
login simulator, SQLite, in-process jobs, e-mail written to a folder, a ``[redis] url`` that is not
Redis (the rate limits' counters must be shared by every web process). :func:`check` raises
:class:`UnsafeForProduction` listing them all. The web app's factory, ``saygac migrate`` and any
pre-start command call the same function; the embedded mode (``saygac serve``) skips it but
serves only on a loopback address (:func:`loopback`).
"""

from __future__ import annotations

import ipaddress

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Account
from engine.settings import Settings
from engine.webhooks import EventSettings

MIN_SECRET_KEY = 32
SIMULATOR = "simulator"
REDIS_SCHEMES = ("redis://", "rediss://")  # understood by both rq and Flask-Limiter's storage


class UnsafeForProduction(RuntimeError):
    """Production refuses to start; ``problems`` holds one message per unsafe setting."""

    def __init__(self, problems: list[str]):
        super().__init__("production refuses to start:\n" + "\n".join(f"  - {p}" for p in problems))
        self.problems = problems


def _on(value: object) -> bool:
    return value is True or str(value).strip().lower() in ("1", "true", "yes", "on")


def settings_problems(settings: Settings) -> list[str]:
    """What in the settings is unsafe for production (nothing when the mode is embedded)."""
    if not settings.is_production:
        return []
    found = []
    if len(settings.app.secret_key) < MIN_SECRET_KEY:
        found.append(
            f"[app] secret_key (SAYGAC_APP__SECRET_KEY) is missing or shorter than {MIN_SECRET_KEY} "
            "characters: set it to a long random value"
        )
    events = settings.section("events", EventSettings)
    if events.subscribers and len(events.secret) < MIN_SECRET_KEY:
        found.append(
            f"[events] secret (SAYGAC_EVENTS__SECRET) is missing or shorter than {MIN_SECRET_KEY} "
            "characters while [events] subscribers are set: subscribers could not trust the signatures"
        )
    if settings.database.url.startswith("sqlite"):
        found.append(
            "[database] url (SAYGAC_DATABASE__URL) is SQLite: production runs on PostgreSQL "
            "(postgresql+psycopg://user:password@host/saygac)"
        )
    if not settings.redis.url.startswith(REDIS_SCHEMES):
        found.append(
            "[redis] url (SAYGAC_REDIS__URL) is not a Redis URL: production keeps the rate limits' "
            "counters there, shared by every web process (redis://host:6379/0)"
        )
    if settings.jobs.runner == "inline":
        found.append(
            '[jobs] runner (SAYGAC_JOBS__RUNNER) is "inline": production runs jobs on rq workers, '
            'set it to "rq"'
        )
    if settings.mail.transport == "outbox_dir":
        found.append(
            '[mail] transport (SAYGAC_MAIL__TRANSPORT) is "outbox_dir" (e-mail written to a folder): '
            'set it to "smtp" with smtp_host and smtp_port'
        )
    if settings.value("asan", "gateway", SIMULATOR) == SIMULATOR:
        found.append(
            '[asan] gateway (SAYGAC_ASAN__GATEWAY) is the simulator: set "http" with url and '
            'ca_bundle, or "" to switch Asan İmza off'
        )
    if _on(settings.value("card", "simulator", False)):
        found.append(
            "[card] simulator (SAYGAC_CARD__SIMULATOR) is on: set it to false and configure "
            "trusted_proxies and ca_bundle, or leave the signature card off"
        )
    for section in ("oidc_egov", "oidc_staff"):
        if settings.value(section, "issuer", "") == SIMULATOR:
            found.append(
                f"[{section}] issuer (SAYGAC_{section.upper()}__ISSUER) is the simulator: set the "
                'provider\'s issuer URL, or "" to switch this sign-in off'
            )
    return found


def database_problems(session: Session) -> list[str]:
    """What in the database is unsafe for production: demo accounts."""
    if session.scalar(select(Account.id).where(Account.is_demo.is_(True)).limit(1)) is not None:
        return [
            (
                "demo accounts exist in the database ([app] demo_data seeded them): remove them "
                "before starting in production"
            )
        ]
    return []


def problems(settings: Settings, session: Session | None = None) -> list[str]:
    found = settings_problems(settings)
    if settings.is_production and session is not None:
        found += database_problems(session)
    return found


def check(settings: Settings, session: Session | None = None) -> None:
    """Raise :class:`UnsafeForProduction` when production would start unsafe."""
    found = problems(settings, session)
    if found:
        raise UnsafeForProduction(found)


def serve_problems(settings: Settings, host: str) -> list[str]:
    """What stops ``saygac serve`` (Flask's own server): it runs the embedded mode, on loopback only."""
    if settings.is_production:
        return [
            'saygac serve runs the embedded mode only, and [app] mode (SAYGAC_APP__MODE) is "production": '
            "serve production with gunicorn web.wsgi:app"
        ]
    if not loopback(host):
        return [
            f"the embedded mode serves on a loopback address only (127.0.0.1, ::1, localhost), not {host}: "
            'for a server others reach, set [app] mode = "production" and use gunicorn web.wsgi:app'
        ]
    return []


def wsgi_problems(settings: Settings) -> list[str]:
    """What stops the WSGI entry point: it serves production only."""
    if not settings.is_production:
        return [
            f"web.wsgi is the production entry point and [app] mode (SAYGAC_APP__MODE) is "
            f'"{settings.app.mode}": set it to "production", or run the embedded mode with bin/serve'
        ]
    return []


def loopback(host: str) -> bool:
    """True for an address only this machine reaches (the embedded mode serves nowhere else)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
