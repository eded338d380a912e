"""Citizens' portal and e-gov: the start link, an application's status and timeline, its invoice,
starting an application. Scope ``portal``; the applicant (or the meter's holder for the invoice)
as the pages decide it (``engine.policy``)."""

from __future__ import annotations

from flask import send_file, url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy import select

from engine import policy
from engine.models import StoredFile
from web.api import idempotency, tokens
from web.api.datatypes import UtcDateTime
from web.api.idempotency import IdempotencyHeaderSchema
from web.api.problems import problem
from web.citizen.pages import timeline
from web.db import get_db, get_system
from workflow.models import Application, Invoice
from workflow.privacy import application_resource

blp = Blueprint("api_portal", __name__, description="Citizens' portal and e-gov (scope `portal`)")


class StartLinkSchema(Schema):
    url = fields.Url(
        required=True, metadata={"description": "The stable link that starts the e-service"}
    )


class StepSchema(Schema):
    code = fields.String(required=True)
    at = UtcDateTime(allow_none=True)
    note = fields.String(allow_none=True)


class ApplicationSchema(Schema):
    number = fields.String(required=True)
    status = fields.String(required=True)
    submitted_at = UtcDateTime(required=True)
    decided_at = UtcDateTime(allow_none=True)
    timeline = fields.List(fields.Nested(StepSchema), required=True)
    invoice_url = fields.String(allow_none=True)


class StartedSchema(Schema):
    instance_id = fields.Integer(required=True)
    continue_url = fields.String(
        required=True, metadata={"description": "The page where the citizen goes on"}
    )


def _visible(number: str, action: str) -> Application | None:
    app = get_db().scalar(
        select(Application).where(Application.number == number.strip().upper()[:20])
    )
    if app is None or not policy.allows(tokens.actor(), action, application_resource(app)):
        return None
    return app


@blp.route("/start")
@tokens.requires("portal")
@blp.response(200, StartLinkSchema)
def start_link():
    """The stable link of the e-service (for the utility's site and the e-gov portal)."""
    return {"url": get_system().settings.app.base_url.rstrip("/") + url_for("citizen.start")}


@blp.route("/applications/<string:number>")
@tokens.requires("portal")
@blp.response(200, ApplicationSchema)
@blp.alt_response(404, description="No such application for this client")
def application_status(number: str):
    """An application's status and timeline, to its applicant only."""
    app = _visible(number, policy.SEE_APPLICATION)
    if app is None:
        return problem(404, "No application with this number is visible to this client.")
    db = get_db()
    invoice = db.scalar(select(Invoice).where(Invoice.application_id == app.id))
    has_pdf = invoice is not None and invoice.pdf_id is not None
    return {
        "number": app.number,
        "status": app.status,
        "submitted_at": app.submitted_at,
        "decided_at": app.decided_at,
        "timeline": [{"code": s.code, "at": s.at, "note": s.note} for s in timeline(db, app)],
        "invoice_url": url_for("api_portal.invoice_pdf", number=app.number) if has_pdf else None,
    }


@blp.route("/applications/<string:number>/invoice.pdf")
@tokens.requires("portal")
@blp.response(200, content_type="application/pdf", description="The invoice PDF")
@blp.alt_response(404, description="No invoice visible to this client")
def invoice_pdf(number: str):
    """The invoice PDF of an executed application (the applicant's or the holder's)."""
    app = _visible(number, policy.DOWNLOAD_INVOICE)
    db = get_db()
    invoice = db.scalar(select(Invoice).where(Invoice.application_id == app.id)) if app else None
    if invoice is None or invoice.pdf_id is None:
        return problem(404, "No invoice for this application is visible to this client.")
    stored = db.get(StoredFile, invoice.pdf_id)
    if stored is None:
        return problem(404, "No invoice for this application is visible to this client.")
    return send_file(
        get_system().services.files.path(stored),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"{invoice.number}.pdf",
        max_age=0,
    )


@blp.route("/applications", methods=["POST"])
@tokens.requires("portal")
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.response(201, StartedSchema)
def start_application(idempotency_key: str | None = None):
    """Start a new application for the citizen the token belongs to; honours ``Idempotency-Key``."""
    actor = tokens.actor()
    if not policy.allows(actor, policy.START_APPLICATION, policy.Resource("service")):
        return problem(403, "Only a citizen's token may start an application.", kind="role")

    def create() -> dict:
        result = get_system().start_application(get_db(), actor)
        return {"instance_id": result.instance.id, "continue_url": url_for("tasks.task_list")}

    return idempotency.once(tokens.account_id(), idempotency_key, 201, create)
