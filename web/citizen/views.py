"""The citizen's side of the e-service: the landing page, status of applications, receipts, thumbnails.

``/start`` is the stable link the utility's site and the e-gov portal point to; ``/status`` and
``/status/<number>`` (the link in e-mails) show the person's own applications. Anything that is
not the signed-in person's own is answered with 404, whether it exists or not.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, render_template
from flask_babel import format_date, format_decimal
from sqlalchemy import select

from engine import policy
from engine.models import Account, StoredFile, WorkItem
from web.auth import current_actor
from web.citizen.pages import consumption_chart, held_subscribers, timeline
from web.db import get_db, get_system
from web.route_policy import allowed, require
from workflow import invoicing, privacy
from workflow.models import Application, Invoice
from workflow.photos import PhotoRejected, make_thumbnail

bp = Blueprint("citizen", __name__, template_folder="templates")

SERVICE = policy.Resource("service")


def _own(app: Application | None, action: str) -> Application:
    """The person's own application (these pages show nobody else's), which the policy lets them ``action``."""
    if app is None or app.applicant_id is None or app.applicant_id != current_actor().id:
        abort(404)
    require(action, privacy.application_resource(app))
    return app


def _open_items(db, actor_id: int) -> dict[int, int]:
    """instance id -> the person's open work item (a draft waiting for them)."""
    rows = db.execute(
        select(WorkItem.instance_id, WorkItem.id)
        .where(WorkItem.assignee_id == actor_id, WorkItem.state == "open")
        .order_by(WorkItem.id)
    )
    return dict(rows.all())


@bp.app_template_filter("localdate")
def localdate(value) -> str:
    """A date (or an ISO date string) in the reader's locale; other text unchanged."""
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            return value
    if isinstance(value, (date, datetime)):
        return format_date(value, "medium")
    return "" if value is None else str(value)


@bp.app_template_filter("numberformat")
def numberformat(value) -> str:
    return format_decimal(value)


@bp.route("/start")
@allowed(policy.START_APPLICATION, lambda actor: SERVICE)
def start():
    return render_template("citizen/start.html")


@bp.route("/status")
@allowed(policy.START_APPLICATION, lambda actor: SERVICE)
def status_list():
    db = get_db()
    actor = current_actor()
    apps = list(
        db.scalars(
            select(Application)
            .where(Application.applicant_id == actor.id)
            .order_by(Application.submitted_at.desc(), Application.id.desc())
            .limit(50)
        )
    )
    open_items = _open_items(db, actor.id)
    drafts = [a for a in apps if not a.number and a.instance_id in open_items]
    submitted = [a for a in apps if a.number]
    account = db.get(Account, actor.id)
    today = get_system().services.today()
    charts = [consumption_chart(db, sub, today) for sub in held_subscribers(db, account)]
    # an instance started but not yet tied to a subscriber (waiting at the code page) is a draft too
    bare = [
        item_id
        for instance_id, item_id in open_items.items()
        if instance_id not in {a.instance_id for a in apps}
    ]
    return render_template(
        "citizen/status.html",
        drafts=drafts,
        submitted=submitted,
        open_items=open_items,
        bare_drafts=bare,
        charts=charts,
        timelines={a.id: timeline(db, a) for a in submitted},
        views={a.id: privacy.view_for(actor, a) for a in apps},
    )


@bp.route("/status/<number>")
@allowed(policy.SEE_APPLICATION)
def status(number: str):
    db = get_db()
    app = _own(
        db.scalar(select(Application).where(Application.number == number.strip().upper())),
        policy.SEE_APPLICATION,
    )
    invoice = db.scalar(select(Invoice).where(Invoice.application_id == app.id))
    return render_template(
        "citizen/application.html",
        app=app,
        invoice=invoice,
        steps=timeline(db, app),
        view=privacy.view_for(current_actor(), app),
        registered=False,
    )


@bp.route("/applications/<int:application_id>/receipt.pdf")
@allowed(policy.DOWNLOAD_RECEIPT)
def receipt_pdf(application_id: int):
    """The receipt, with the holder in full only for the holder (``workflow.privacy``)."""
    db = get_db()
    app = _own(db.get(Application, application_id), policy.DOWNLOAD_RECEIPT)
    if not app.number:
        abort(404)
    pdf = invoicing.receipt_pdf(
        app, privacy.view_for(current_actor(), app), get_system().settings.files.font_dir
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="muraciet-{app.number}.pdf"'},
    )


@bp.route("/photos/<int:file_id>/thumbnail.jpg")
@allowed(
    policy.START_APPLICATION, lambda actor, file_id: SERVICE
)  # and only the person's own photo, below
def photo_thumbnail(file_id: int):
    """A re-encoded JPEG of the person's own photo (no metadata; made in the request, ≈12 ms)."""
    db = get_db()
    stored = db.get(StoredFile, file_id)
    if (
        stored is None
        or stored.kind != "photo"
        or stored.owner_id != current_actor().id
        or stored.media_type not in ("image/jpeg", "image/png")
    ):
        abort(404)
    services = get_system().services
    try:
        data = make_thumbnail(services.files.path(stored).read_bytes(), services.photos)
    except (PhotoRejected, OSError):
        abort(404)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
