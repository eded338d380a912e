"""The billing information system's feed: posted readings and invoices in a stable order with an
``since`` cursor, and one subscriber's reading history. Scope ``billing``; the policy's
``read_billing_feed`` (a service account of the billing system, narrowed by its token's scope).

A cursor names the last row a client has seen; rows are never re-ordered (ids only grow), so a
client that stores the cursor of each page and asks again from it misses nothing and sees nothing
twice.
"""

from __future__ import annotations

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


def cursor_args(kind: str) -> type[Schema]:
    """The query of a feed whose cursors are ``<kind><last id>`` (e.g. ``r1042``): a client keeps
    ``next`` from each page and sends it back as ``since``; anything else is refused by the schema."""

    class FeedArgs(Schema):
        since = fields.String(
            load_default="",
            validate=validate.Regexp(rf"^({kind}[0-9]{{1,12}})?$"),
            metadata={
                "description": f"`next` of the previous page (`{kind}<id>`); empty for the start"
            },
        )
        limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=PAGE_MAX))

    FeedArgs.__name__ = f"FeedArgs_{kind}"
    return FeedArgs


def after(since: str) -> int:
    return int(since[1:]) if since else 0


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
    rows = get_db().execute(
        select(Reading, Meter.serial, Subscriber.code, Application.number)
        .join(Meter, Meter.id == Reading.meter_id)
        .join(Subscriber, Subscriber.id == Meter.subscriber_id)
        .outerjoin(Application, Application.id == Reading.application_id)
        .where(*where)
        .order_by(*order_by)
        .limit(limit)
    )
    return [
        {
            "id": r.id,
            "subscriber_code": code,
            "meter_serial": serial,
            "value": r.value,
            "read_on": r.read_on,
            "source": r.source,
            "application_number": number,
        }
        for r, serial, code, number in rows
    ]


@blp.route("/feed/readings")
@tokens.requires("billing")
@blp.arguments(cursor_args("r"), location="query", as_kwargs=True)
@blp.response(200, ReadingPage)
def reading_feed(since: str, limit: int):
    """Readings posted from applications (citizen or inspector), oldest first, after the cursor."""
    if not _allowed():
        return problem(403, "This account may not read the billing feed.", kind="role")
    last = after(since)
    items = _reading_rows(
        Reading.id > last, Reading.application_id.is_not(None), order_by=(Reading.id,), limit=limit
    )
    return {"items": items, "next": f"r{items[-1]['id'] if items else last}"}


@blp.route("/feed/invoices")
@tokens.requires("billing")
@blp.arguments(cursor_args("i"), location="query", as_kwargs=True)
@blp.response(200, InvoicePage)
def invoice_feed(since: str, limit: int):
    """Invoices formed, oldest first, after the cursor."""
    if not _allowed():
        return problem(403, "This account may not read the billing feed.", kind="role")
    last = after(since)
    rows = get_db().execute(
        select(Invoice, Subscriber.code)
        .join(Subscriber, Subscriber.id == Invoice.subscriber_id)
        .where(Invoice.id > last)
        .order_by(Invoice.id)
        .limit(limit)
    )
    items = [
        {
            "id": i.id,
            "number": i.number,
            "subscriber_code": code,
            "period_start": i.period_start,
            "period_end": i.period_end,
            "consumption_m3": i.consumption_m3,
            "gross": i.gross,
            "vat": i.vat,
            "net": i.net,
            "issued_on": i.issued_on,
            "due_on": i.due_on,
        }
        for i, code in rows
    ]
    return {"items": items, "next": f"i{items[-1]['id'] if items else last}"}


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
    items = _reading_rows(
        Meter.subscriber_id == sub.id,
        order_by=(Reading.read_on.desc(), Reading.id.desc()),
        limit=limit,
    )
    return {"subscriber_code": sub.code, "readings": items}
