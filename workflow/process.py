"""How the meter-reading process plugs into the engine: its diagrams, lanes and work-item fields."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from engine.calendar import working_calendar
from engine.models import ProcessInstance
from engine.projection import LaneRules
from engine.settings import Settings
from engine.workitems import WorkItemFields
from workflow.tasks import application_of

PROCESS_ID = "meter_reading"
DIAGRAM_DIR = Path(__file__).resolve().parent / "diagrams"
LANES = LaneRules(
    roles={
        "citizen": "citizen",
        "operator": "operator",
        "unit_head": "unit_head",
        "inspector": "inspector",
    }
)


def due_policy(settings: Settings) -> Callable[[str, datetime], datetime | None]:
    """Due dates of tasks without an SLA timer in the diagram: working days from settings."""
    calendar = working_calendar(settings)
    days = {
        "operator": settings.work.review_due_working_days,
        "inspector": settings.work.inspection_due_working_days,
    }

    def due(role: str, created: datetime) -> datetime | None:
        return calendar.add_working_days(created, days[role]) if role in days else None

    return due


def describe(
    session: Session, instance: ProcessInstance, task: Any, info: dict[str, Any]
) -> WorkItemFields:
    """Who a ready task belongs to and what the queue shows of it, from the application's row."""
    app = application_of(session, instance.id)
    if info["role"] == "citizen" or app is None:
        return WorkItemFields(
            assignee_id=instance.started_by_id,
            unit_id=app.unit_id if app else None,
            reference=app.number if app else None,
            subject=app.subscriber.code if app else None,
        )
    evidence = any(f.get("code", "").startswith("photo_") for line in app.lines for f in line.flags)
    return WorkItemFields(
        unit_id=app.unit_id,
        reference=app.number,
        subject=app.subscriber.code,
        area=app.subscriber.district,
        item_count=len(app.lines),
        flagged=app.conflict,
        evidence_flagged=evidence,
    )
