"""An application's documents: the invoice formed from posted readings, and the receipt; their PDFs.

The holder's name and address on a document come from a :class:`~workflow.privacy.HolderView`:
the stored invoice PDF is the holder's document (in full); a reader the policy does not allow
the holder's data gets the same document rendered with the masked view, never stored.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, overload

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import StoredFile
from workflow.billing import Bill, BillLine, TariffBlock, TariffRate, compute_bill
from workflow.consumption import Consumption, consumption
from workflow.documents import (
    InvoiceDocument,
    InvoiceMeterLine,
    ReceiptDocument,
    ReceiptMeterLine,
    render_invoice_pdf,
    render_receipt_pdf,
)
from workflow.models import Application, Invoice, Reading, Tariff
from workflow.privacy import HolderView, in_full
from workflow.services import Services

RECEIPT_CONFIRMATION = (
    "Müraciətiniz qeydiyyata alındı. Xidmətimizdən istifadə etdiyiniz üçün sizə təşəkkür "
    "edirik. Nəticə e-poçt ünvanınıza göndəriləcək; müraciətin statusunu "
    '"Müraciətin statusunu yoxla" bölməsində yoxlaya bilərsiniz.'
)


def tariff_rates(session: Session, consumer_group: str, region: str) -> list[TariffRate]:
    rows = session.scalars(select(Tariff).where(Tariff.consumer_group == consumer_group)).all()
    return [
        TariffRate(
            consumer_group=r.consumer_group,
            region=r.region,
            water_price=Decimal(r.water_price),
            sewer_price=Decimal(r.sewer_price),
            vat_rate=Decimal(r.vat_rate),
            valid_from=r.valid_from,
            valid_to=r.valid_to,
            blocks=tuple(TariffBlock.from_dict(b) for b in r.blocks or ()),
        )
        for r in rows
    ]


def previous_reading(session: Session, meter_id: int, before: Reading) -> Reading | None:
    """The posted reading this one follows (by date, then by posting order)."""
    return session.scalar(
        select(Reading)
        .where(
            Reading.meter_id == meter_id, Reading.id != before.id, Reading.read_on <= before.read_on
        )
        .order_by(Reading.read_on.desc(), Reading.id.desc())
        .limit(1)
    )


def bill_meter(
    previous: int,
    previous_on: date,
    current: int,
    current_on: date,
    register_digits: int,
    rates: list[TariffRate],
    consumer_group: str,
    region: str,
) -> tuple[Consumption, Bill]:
    """One meter's consumption between two posted readings (rollover included) and its bill."""
    used = consumption(previous, current, register_digits)
    return used, compute_bill(used.m3, previous_on, current_on, rates, consumer_group, region)


def create_invoice(session: Session, app: Application, *, issued_on: date, due_on: date) -> Invoice:
    """Bill every posted meter line of the application (pro rata across tariff changes) in one invoice."""
    existing = invoice_of(session, app, required=False)
    if existing is not None:
        return existing
    sub = app.subscriber
    rates = tariff_rates(session, sub.consumer_group, sub.tariff_region)
    lines: list[BillLine] = []
    meters: list[dict[str, Any]] = []
    total_m3 = 0
    for line in app.lines:
        current = session.get(Reading, line.posted_reading_id)
        assert current is not None  # post_reading ran before the invoice
        previous = previous_reading(session, line.meter_id, current)
        if previous is None:  # a new meter's first reading: nothing to bill yet
            continue
        used, bill = bill_meter(
            previous.value,
            previous.read_on,
            current.value,
            current.read_on,
            line.meter.register_digits,
            rates,
            sub.consumer_group,
            sub.tariff_region,
        )
        lines.extend(bill.lines)
        total_m3 += used.m3
        meters.append(
            {
                "serial": line.meter.serial,
                "register_digits": line.meter.register_digits,
                "previous_reading": previous.value,
                "previous_date": previous.read_on.isoformat(),
                "current_reading": current.value,
                "current_date": current.read_on.isoformat(),
                "consumption_m3": used.m3,
                "rollover": used.rollover,
                "source": current.source,
            }
        )
    if not meters:
        raise ValueError("no meter of this application has an earlier reading to bill from")
    start = min(date.fromisoformat(m["previous_date"]) for m in meters)
    end = max(date.fromisoformat(m["current_date"]) for m in meters)
    bill = Bill.from_lines(total_m3, start, end, sub.consumer_group, sub.tariff_region, lines)
    invoice = Invoice(
        number=f"HF-{app.number}",
        application_id=app.id,
        subscriber_id=sub.id,
        period_start=start,
        period_end=end,
        consumption_m3=total_m3,
        bill={"bill": bill.to_dict(), "meters": meters},
        gross=bill.gross,
        vat=bill.vat,
        net=bill.net,
        issued_on=issued_on,
        due_on=due_on,
    )
    session.add(invoice)
    session.flush()
    return invoice


@overload
def invoice_of(session: Session, app: Application, required: Literal[True] = True) -> Invoice: ...
@overload
def invoice_of(session: Session, app: Application, required: bool) -> Invoice | None: ...


def invoice_of(session: Session, app: Application, required: bool = True) -> Invoice | None:
    invoice = session.scalar(select(Invoice).where(Invoice.application_id == app.id))
    if invoice is None and required:
        raise NotFound(f"application {app.number} has no invoice")
    return invoice


def invoice_document(
    session: Session, invoice: Invoice, view: HolderView | None = None
) -> InvoiceDocument:
    """The invoice as a document, with the holder in full unless ``view`` says otherwise."""
    app = session.get(Application, invoice.application_id)
    assert app is not None and app.number is not None  # an invoice's application is registered
    sub = app.subscriber
    view = view or in_full(sub)
    meters = [
        InvoiceMeterLine(
            serial=m["serial"],
            previous_reading=m["previous_reading"],
            previous_date=date.fromisoformat(m["previous_date"]),
            current_reading=m["current_reading"],
            current_date=date.fromisoformat(m["current_date"]),
            consumption_m3=m["consumption_m3"],
            source=m["source"],
            register_digits=m["register_digits"],
        )
        for m in invoice.bill["meters"]
    ]
    return InvoiceDocument(
        number=invoice.number,
        issue_date=invoice.issued_on,
        due_date=invoice.due_on,
        subscriber_code=sub.code,
        full_name=view.name,
        address=view.address,
        application_number=app.number,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        meters=meters,
        bill=Bill.from_dict(invoice.bill["bill"]),
    )


def render_invoice(session: Session, invoice_id: int, services: Services) -> StoredFile:
    """Render the invoice's PDF once and keep it in the file store."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} does not exist")
    if invoice.pdf_id is not None:
        kept = session.get(StoredFile, invoice.pdf_id)
        assert kept is not None  # foreign key
        return kept
    pdf = render_invoice_pdf(invoice_document(session, invoice), services.settings.files.font_dir)
    app = session.get(Application, invoice.application_id)
    assert app is not None  # foreign key
    stored = services.files.save(
        session,
        pdf,
        media_type="application/pdf",
        kind="invoice",
        owner_id=app.applicant_id,
        original_name=f"{invoice.number}.pdf",
    )
    invoice.pdf_id = stored.id
    return stored


def invoice_pdf(session: Session, invoice: Invoice, view: HolderView, services: Services) -> bytes:
    """The invoice PDF a reader gets: the stored holder's copy, or a masked one rendered for them."""
    if view.full and invoice.pdf_id is not None:
        kept = session.get(StoredFile, invoice.pdf_id)
        assert kept is not None  # foreign key
        return services.files.path(kept).read_bytes()
    return render_invoice_pdf(
        invoice_document(session, invoice, view), services.settings.files.font_dir
    )


def receipt_pdf(app: Application, view: HolderView, font_dir: str | Path | None) -> bytes:
    """The application's receipt for a reader: the meters as declared, the holder as ``view`` shows them.
    Only a registered application (with a number) has a receipt."""
    assert app.number is not None, "only a registered application has a receipt"
    doc = ReceiptDocument(
        application_number=app.number,
        registered_at=app.submitted_at,
        subscriber_code=app.subscriber.code,
        full_name=view.name,
        address=view.address,
        phone=app.phone,
        email=app.email,
        meters=[
            ReceiptMeterLine(line.declared_serial, line.declared_seal, line.value, line.read_on)
            for line in app.lines
        ],
        confirmation=RECEIPT_CONFIRMATION,
    )
    return render_receipt_pdf(doc, font_dir)
