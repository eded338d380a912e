"""Field types the API's schemas share."""

from __future__ import annotations

from marshmallow import fields

from engine.db import as_utc


class UtcDateTime(fields.DateTime):
    """An RFC 3339 instant in UTC, also for a database that returns naive times (SQLite)."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(as_utc(value) if value is not None else None, attr, obj, **kwargs)
