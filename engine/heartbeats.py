"""When long-running services last completed a pass (the sweep), for health checks and metrics."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine.db import as_utc
from engine.models import Heartbeat

SWEEP = "sweep"


def beat(session: Session, name: str, now: datetime, detail: dict[str, Any] | None = None) -> None:
    row = session.get(Heartbeat, name)
    if row is None:
        session.add(Heartbeat(name=name, at=now, detail=detail or {}))
    else:
        row.at = now
        row.detail = detail or {}


def last_beat(session: Session, name: str) -> datetime | None:
    row = session.get(Heartbeat, name)
    return as_utc(row.at) if row is not None else None
