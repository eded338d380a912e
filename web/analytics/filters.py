"""The filter every analytics page shares: process version (or all), date range and unit.

Read from the query string; a value that does not parse is reported next to its field and the
default is used instead, so a page never fails on bad input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import policy
from engine.analytics import Scope
from engine.audit import Actor
from engine.models import ProcessVersion, Unit

DEFAULT_DAYS = 30
MAX_DAYS = 366 * 2


@dataclass
class Filter:
    versions: list[ProcessVersion]
    version: ProcessVersion | None  # None: all versions
    start: date
    end: date  # inclusive
    units: list[Unit]
    unit: Unit | None  # None: all units
    unit_fixed: bool  # a unit head sees only their own unit
    errors: dict[str, str] = field(default_factory=dict)

    def scope(self, zone: str) -> Scope:
        tz = ZoneInfo(zone)
        start = datetime.combine(self.start, time.min, tzinfo=tz)
        end = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz)
        ids = (self.version.id,) if self.version else tuple(v.id for v in self.versions)
        return Scope(ids, start, end, (self.unit.id,) if self.unit else None)

    def summary(self) -> list[tuple[str, str]]:
        """(field id, message) pairs for the page's error summary."""
        return [(f"filter-{name}", message) for name, message in self.errors.items()]

    def args(self) -> dict:
        """The query-string form of this filter (for links to other analytics pages)."""
        values: dict[str, str | int] = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.version:
            values["version"] = self.version.version
        if self.unit and not self.unit_fixed:
            values["unit"] = self.unit.code
        return values


def _date(args, name: str, default: date, errors: dict) -> date:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _(
            "Enter a date as year-month-day, for example %(example)s.", example=default.isoformat()
        )
        return default


def read_filter(
    session: Session, args, actor: Actor, process_id: str, today: date
) -> Filter | None:
    """The filter from ``args``; None when the actor may not read analytics at all."""
    errors: dict[str, str] = {}
    versions = list(
        session.scalars(
            select(ProcessVersion)
            .where(ProcessVersion.process_id == process_id)
            .order_by(ProcessVersion.version.desc())
        )
    )
    version = None
    raw = (args.get("version") or "").strip()
    if raw:
        version = next((v for v in versions if str(v.version) == raw), None)
        if version is None:
            errors["version"] = _("Choose a version from the list.")
    units = list(session.scalars(select(Unit).order_by(Unit.code)))
    unit_fixed = not policy.allows(actor, policy.READ_ANALYTICS, policy.Resource(kind="analytics"))
    if unit_fixed:
        unit = next((u for u in units if u.id == actor.unit_id), None)
        if unit is None or not policy.allows(
            actor, policy.READ_ANALYTICS, policy.Resource(kind="analytics", unit_id=unit.id)
        ):
            return None
    else:
        unit = None
        code = (args.get("unit") or "").strip()
        if code:
            unit = next((u for u in units if u.code == code), None)
            if unit is None:
                errors["unit"] = _("Choose a unit from the list.")
    end = _date(args, "to", today, errors)
    start = _date(args, "from", end - timedelta(days=DEFAULT_DAYS - 1), errors)
    if start > end:
        errors["from"] = _("The first day must not be after the last day.")
        start = end - timedelta(days=DEFAULT_DAYS - 1)
    if (end - start).days > MAX_DAYS:
        errors["from"] = _("Choose at most two years.")
        start = end - timedelta(days=MAX_DAYS)
    return Filter(versions, version, start, end, units, unit, unit_fixed, errors)
