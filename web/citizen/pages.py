"""What the citizen's pages show: each application's timeline and a 12-month consumption chart.

Read-only queries for the templates in ``templates/citizen/``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.models import Account, AuditEvent
from workflow.consumption import monthly_consumption
from workflow.i18n import N_
from workflow.models import Application, Meter, Reading, Subscriber

# The steps a citizen follows; "inspection" only shows once the case went on site.
TIMELINE_STEPS = (
    ("registered", N_("Registered")),
    ("in_review", N_("In review")),
    ("inspection", N_("On-site check")),
    ("executed", N_("Executed")),
    ("rejected", N_("Rejected")),
)


@dataclass(frozen=True)
class Step:
    code: str
    label: str
    at: datetime | None
    note: str | None = None


def timeline(session: Session, app: Application) -> list[Step]:
    """The steps reached, in order, with when; "on-site check" and "rejected" only when they happened."""
    reached: dict[str, datetime] = {}
    for event in session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.instance_id == app.instance_id,
            AuditEvent.action.in_(("application_status", "review_decided")),
        )
        .order_by(AuditEvent.id)
    ):
        detail = event.detail or {}
        if event.action == "review_decided":
            if detail.get("decision") == "inspect":
                reached.setdefault("inspection", event.at)
        elif detail.get("to"):
            reached.setdefault(detail["to"], event.at)
    steps = []
    for code, label in TIMELINE_STEPS:
        if code in ("inspection", "rejected") and code not in reached:
            continue
        if code == "executed" and "rejected" in reached:
            continue
        note = app.reject_reason if code == "rejected" else None
        steps.append(Step(code, label, reached.get(code), note))
    return steps


def held_subscribers(session: Session, account: Account | None) -> list[Subscriber]:
    """Subscribers whose FIN is the signed-in person's: their own water accounts."""
    if account is None or not account.fin:
        return []
    return list(
        session.scalars(
            select(Subscriber).where(Subscriber.fin == account.fin).order_by(Subscriber.code)
        )
    )


@dataclass(frozen=True)
class Bar:
    month: date
    m3: int
    x: float
    y: float
    height: float


@dataclass(frozen=True)
class Chart:
    subscriber: Subscriber
    bars: list[Bar]
    top: int
    width: int = 640
    height: int = 220


def _month_add(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def consumption_chart(session: Session, sub: Subscriber, today: date, months: int = 12) -> Chart:
    """m³ per calendar month over the last ``months`` months, summed over the subscriber's meters
    (:func:`workflow.consumption.monthly_consumption`, the rule billing uses)."""
    first = _month_add(today.replace(day=1), -(months - 1))
    meters = [
        (
            meter.register_digits,
            session.execute(
                select(Reading.read_on, Reading.value)
                .where(Reading.meter_id == meter.id)
                .order_by(Reading.read_on, Reading.id)
            ).all(),
        )
        for meter in session.scalars(select(Meter).where(Meter.subscriber_id == sub.id))
    ]
    totals = {
        month: m3 or 0
        for month, m3 in monthly_consumption(
            meters, [_month_add(first, i) for i in range(months)]
        ).items()
    }
    top = max(max(totals.values()), 1)
    chart_h, left, slot = 160.0, 40.0, 50.0
    bars = []
    for i, (month, m3) in enumerate(sorted(totals.items())):
        h = chart_h * m3 / top
        bars.append(Bar(month, m3, left + i * slot + 8, 20 + chart_h - h, h))
    return Chart(sub, bars, top)
