"""The process's signed events (``engine.webhooks``): what each carries.

No personal data: numbers, codes, values and dates only (the subscriber code identifies the
water account for the billing system; names and addresses never leave in an event).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from engine import webhooks
from workflow.models import Application, Invoice, Meter, Reading
from workflow.services import Services


def _emit(
    session: Session, services: Services, kind: str, data: dict[str, Any], now: datetime
) -> None:
    webhooks.emit(session, services.events, kind, data, now)


def application_registered(
    session: Session, services: Services, app: Application, now: datetime
) -> None:
    _emit(
        session,
        services,
        "application.registered",
        {
            "application_number": app.number,
            "subscriber_code": app.subscriber.code,
            "meters": len(app.lines),
            "registered_at": now.isoformat(),
        },
        now,
    )


def application_rejected(
    session: Session, services: Services, app: Application, now: datetime
) -> None:
    _emit(
        session,
        services,
        "application.rejected",
        {
            "application_number": app.number,
            "subscriber_code": app.subscriber.code,
            "reason": app.reject_key,
        },
        now,
    )


def reading_posted(
    session: Session, services: Services, app: Application, reading: Reading, now: datetime
) -> None:
    meter = session.get(Meter, reading.meter_id)
    assert meter is not None  # a posted reading's meter (foreign key)
    _emit(
        session,
        services,
        "reading.posted",
        {
            "reading_id": reading.id,
            "application_number": app.number,
            "subscriber_code": app.subscriber.code,
            "meter_serial": meter.serial,
            "value": reading.value,
            "read_on": reading.read_on.isoformat(),
            "source": reading.source,
        },
        now,
    )


def invoice_formed(session: Session, services: Services, invoice: Invoice, now: datetime) -> None:
    app = session.get(Application, invoice.application_id)
    assert app is not None  # an invoice's application (foreign key)
    _emit(
        session,
        services,
        "invoice.formed",
        {
            "invoice_number": invoice.number,
            "application_number": app.number,
            "subscriber_code": app.subscriber.code,
            "period_start": invoice.period_start.isoformat(),
            "period_end": invoice.period_end.isoformat(),
            "consumption_m3": invoice.consumption_m3,
            "gross": str(invoice.gross),
            "vat": str(invoice.vat),
            "net": str(invoice.net),
            "due_on": invoice.due_on.isoformat(),
        },
        now,
    )
