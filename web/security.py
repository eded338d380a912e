"""Secret key, session cookie flags, security headers on every response, safe redirects.

Every response's security headers come from :func:`set_security_headers`, the one place:
a CSP without inline script (a page may narrow its own through ``g.csp``; the studio allows
inline styles for its diagram editors), ``frame-ancestors 'none'`` and ``X-Frame-Options``,
``nosniff``, ``Referrer-Policy``, a ``Permissions-Policy`` switching off devices the service
never uses, ``no-store`` on pages, and HSTS in production.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from flask import Flask, current_app, g, request

from engine.settings import Settings

CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=()"
)
HSTS = "max-age=31536000; includeSubDomains"  # production only: the embedded mode serves plain HTTP on loopback
SECRET_KEY_FILE = "var/secret_key"
HSTS_KEY = "saygac.hsts"


def secret_key(settings: Settings) -> str:
    """The configured key; in embedded mode without one, a random key kept in ``var/secret_key``.

    The file is created once with mode 0600 (exclusively, so two processes starting together
    agree on one key) and read on later starts, so sessions survive restarts.
    """
    if settings.app.secret_key:
        return settings.app.secret_key
    if settings.is_production:
        raise RuntimeError("set SAYGAC_APP__SECRET_KEY (at least 32 characters) for production")
    return _key_from_file(settings.path(SECRET_KEY_FILE))


def _key_from_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        raise RuntimeError(
            f"{path} holds no usable secret key: delete it to make a new one"
        ) from None
    key = secrets.token_urlsafe(48)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
    return key


def configure_cookies(app: Flask, settings: Settings) -> None:
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=settings.is_production,
    )


def set_security_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = g.get("csp") or CSP  # a blueprint may narrow-scope its own
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Permissions-Policy"] = PERMISSIONS
    if current_app.extensions.get(HSTS_KEY):
        headers["Strict-Transport-Security"] = HSTS
    if request.endpoint != "static":
        # pages carry personal data: no shared or back-button cache
        headers.setdefault("Cache-Control", "no-store")
    return response


def is_safe_next(target: str | None) -> bool:
    """Only a path on this site: "/tasks/3" yes; "//evil", "https://evil", "/\\evil" no."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask, settings: Settings) -> None:
    app.config["SECRET_KEY"] = secret_key(settings)
    configure_cookies(app, settings)
    app.extensions[HSTS_KEY] = settings.is_production
    app.after_request(set_security_headers)
