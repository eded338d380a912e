"""Static files cached by browsers for a year: every URL to one carries its content's hash.

``url_for("static", filename="saygac.css")`` renders ``/static/saygac.css?v=<12 hex digits of
its SHA-256>``. A response to a URL whose ``v`` is the file's current hash may be kept a year
without asking again (``Cache-Control: public, max-age=31536000, immutable``); a new version of
the file has another hash, so pages name another URL and browsers fetch it once. Any other
request of a static file (no ``v``, or an old one) gets ``no-cache``: the browser re-validates
it with its ``ETag``. Without this a citizen's journey re-validated the style sheet, the script
and the icon on every page.
"""

from __future__ import annotations

import hashlib
import os

from flask import Flask, request
from werkzeug.security import safe_join

YEAR_SECONDS = 365 * 24 * 3600


class StaticVersions:
    """Content hashes of the app's static files, computed once per file version (size, mtime)."""

    def __init__(self, folder: str):
        self.folder = folder
        self._hashes: dict[str, tuple[tuple[int, int], str]] = {}

    def of(self, filename: str) -> str | None:
        path = safe_join(self.folder, filename)
        if path is None:
            return None
        try:
            stat = os.stat(path)
        except OSError:
            return None
        key = (stat.st_size, stat.st_mtime_ns)
        known = self._hashes.get(filename)
        if known is not None and known[0] == key:
            return known[1]
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()[:12]
        self._hashes[filename] = (key, digest)
        return digest


def init_app(app: Flask) -> None:
    if app.static_folder is None:
        raise RuntimeError("the application has no static folder to version")
    versions = StaticVersions(app.static_folder)

    @app.url_defaults
    def _versioned(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "filename" in values and "v" not in values:
            version = versions.of(values["filename"])
            if version is not None:
                values["v"] = version

    @app.after_request
    def _cache_lifetime(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        filename = (request.view_args or {}).get("filename", "")
        if request.args.get("v") and request.args.get("v") == versions.of(filename):
            response.cache_control.public = True
            response.cache_control.max_age = YEAR_SECONDS
            response.cache_control.immutable = True
            response.cache_control.no_cache = None
        else:
            response.cache_control.no_cache = True
            response.cache_control.max_age = None
        return response
