"""The billing information system's feed: posted readings and invoices in a stable order with an
opaque ``since`` cursor, and one subscriber's reading history. Scope ``billing``; the policy's
``read_billing_feed`` (a service account of the billing system, narrowed by its token's scope).

A cursor names the last row a client has seen; rows are never re-ordered (ids only grow), so a
client that stores the cursor of each page and asks again from it misses nothing and sees nothing
twice.
"""
from __future__ import annotations

import base64
import binascii

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from engine import policy
from web.api import tokens
from web.api.problems import problem
from web.db import get_db
from workflow.models import Application, Invoice, Meter, Reading, Subscriber

blp = Blueprint("api_billing", __name__, description="Billing information system (scope `billing`)")
PAGE_MAX = 500


def encode_cursor(kind: str, last_id: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(kind: str, text: str | None) -> int | None:
    """The last id the cursor names; ``None`` for an empty cursor; ``ValueError`` for a bad one."""
    if not text:
        return 0
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as err:
        raise ValueError("not a cursor of this feed") from err
    name, _, number = raw.partition(":")
    if name != kind or not number.isascii() or not number.isdigit() or len(number) > 12:
        raise ValueError("not a cursor of this feed")
    return int(number)


class FeedArgs(Schema):
    since = fields.String(load_default=None, validate=validate.Length(max=40),
                          metadata={"description": "The `next` cursor of the previous page; empty for the start"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))


class ReadingSchema(Schema):
    id = fields.Integer(required=True)
    subscriber_code = fields.String(required=True)
    meter_serial = fields.String(required=True)
    value = fields.Integer(required=True)
    read_on = fields.Date(required=True)
    source = fields.String(required=True, metadata={"description": "citizen, inspector or utility"})
    application_number = fields.String(allow_none=True)


class InvoiceSchema(Schema):
    id = fields.Integer(required=True)
    number = fields.String(required=True)
    subscriber_code = fields.String(required=True)
    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    consumption_m3 = fields.Integer(required=True)
    gross = fields.Decimal(required=True, as_string=True)
    vat = fields.Decimal(required=True, as_string=True)
    net = fields.Decimal(required=True, as_string=True)
    issued_on = fields.Date(required=True)
    due_on = fields.Date(required=True)


class ReadingPage(Schema):
    items = fields.List(fields.Nested(ReadingSchema), required=True)
    next = fields.String(required=True, metadata={"description": "Cursor for the next page"})


class InvoicePage(Schema):
    items = fields.List(fields.Nested(InvoiceSchema), required=True)
    next = fields.String(required=True)


class HistoryArgs(Schema):
    limit = fields.Integer(load_default=24, validate=validate.Range(min=1, max=PAGE_MAX))


class HistorySchema(Schema):
    subscriber_code = fields.String(required=True)
    readings = fields.List(fields.Nested(ReadingSchema), required=True)


def _allowed():
    return policy.allows(tokens.actor(), policy.READ_BILLING_FEED, policy.Resource("billing"))


def _reading_rows(*where, order_by, limit: int) -> list[dict]:
    rows = get_db().execute(select(Reading, Meter.serial, Subscriber.code, Application.number)
                            .join(Meter, Meter.id == Reading.meter_id)
                            .join(Subscriber, Subscriber.id == Meter.subscriber_id)
                            .outerjoin(Application, Application.id == Reading.application_id)
                            .where(*where).order_by(*order_by).limit(limit))
    return [{"id": r.id, "subscriber_code": code, "meter_serial": serial, "value": r.value, "read_on": r.read_on,
             "source": r.source, "application_number": number} for r, serial, code, number in rows]


@blp.route("/feed/readings")
@tokens.requires("billing")
@blp.arguments(FeedArgs, location="query", as_kwargs=True)
@blp.response(200, ReadingPage)
def reading_feed(since: str | None, limit: int):
    """Readings posted from applications (citizen or inspector), oldest first, after the cursor."""
    if not _allowed():
        return problem(403, "This account may not read the billing feed.", kind="role")
    try:
        after = decode_cursor("r", since)
    except ValueError:
        return problem(422, "The cursor is not one this feed gave.", errors=[{"field": "since", "message": "invalid cursor"}])
    items = _reading_rows(Reading.id > after, Reading.application_id.is_not(None), order_by=(Reading.id,),
                          limit=limit)
    return {"items": items, "next": encode_cursor("r", items[-1]["id"] if items else after)}


@blp.route("/feed/invoices")
@tokens.requires("billing")
@blp.arguments(FeedArgs, location="query", as_kwargs=True)
@blp.response(200, InvoicePage)
def invoice_feed(since: str | None, limit: int):
    """Invoices formed, oldest first, after the cursor."""
    if not _allowed():
        return problem(403, "This account may not read the billing feed.", kind="role")
    try:
        after = decode_cursor("i", since)
    except ValueError:
        return problem(422, "The cursor is not one this feed gave.", errors=[{"field": "since", "message": "invalid cursor"}])
    rows = get_db().execute(select(Invoice, Subscriber.code).join(Subscriber, Subscriber.id == Invoice.subscriber_id)
                            .where(Invoice.id > after).order_by(Invoice.id).limit(limit))
    items = [{"id": i.id, "number": i.number, "subscriber_code": code, "period_start": i.period_start,
              "period_end": i.period_end, "consumption_m3": i.consumption_m3, "gross": i.gross, "vat": i.vat,
              "net": i.net, "issued_on": i.issued_on, "due_on": i.due_on} for i, code in rows]
    return {"items": items, "next": encode_cursor("i", items[-1]["id"] if items else after)}


@blp.route("/subscribers/<string:code>/readings")
@tokens.requires("billing")
@blp.arguments(HistoryArgs, location="query", as_kwargs=True)
@blp.response(200, HistorySchema)
@blp.alt_response(404, description="No such subscriber")
def subscriber_readings(code: str, limit: int):
    """One subscriber's readings, newest first (every source)."""
    if not _allowed():
        return problem(403, "This account may not read the billing feed.", kind="role")
    sub = get_db().scalar(select(Subscriber).where(Subscriber.code == code.strip()[:16]))
    if sub is None:
        return problem(404, "No subscriber with this code.")
    items = _reading_rows(Meter.subscriber_id == sub.id, order_by=(Reading.read_on.desc(), Reading.id.desc()),
                          limit=limit)
    return {"subscriber_code": sub.code, "readings": items}
