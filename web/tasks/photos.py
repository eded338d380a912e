"""Uploaded photos as people receive them: only the sanitised copy is shown; the original is evidence.

* ``/tasks/<item>/photos/<line>``: the photo of one meter of the application behind a task the
  person may see; ``.../match``: the earlier photo a re-use flag on that line names, so that the
  review shows both side by side (only a photo the flag names, nothing else of that application).
* ``/applications/<id>/photos/<line>``: the same from the application's page
  (``download_photo`` of the policy).
* ``/applications/<id>/photos/<line>/original``: the file exactly as the citizen sent it (EXIF and
  GPS included), as an attachment, for the roles ``download_original_photo`` names; every download
  is recorded in the audit trail.

A picture is served as the copy without metadata (upright, re-encoded by the photo's job, or
made for this one response when the job has not run yet); a PDF, never re-encoded, only ever as
an attachment. Every response has its real media type, ``X-Content-Type-Options: nosniff`` and
``Cache-Control: private, no-store``. Anything a person may not have is "not found".
"""

from __future__ import annotations

from flask import Blueprint, Response, abort
from sqlalchemy.orm import Session

from engine import audit, policy
from engine.models import StoredFile
from web.auth import current_actor
from web.db import get_db, get_system
from web.route_policy import allowed, require
from web.tasks.views import _visible_item as visible_item
from workflow.models import Application, ApplicationMeter
from workflow.photo_evidence import PHOTO_KIND, served_photo
from workflow.photos import PhotoRejected
from workflow.privacy import application_resource
from workflow.services import Services
from workflow.tasks import application_of

bp = Blueprint("photos", __name__)

EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf"}


def _response(data: bytes, media_type: str, disposition: str, filename: str) -> Response:
    return Response(
        data,
        mimetype=media_type,
        headers={
            "Content-Disposition": f'{disposition}; filename="{filename}"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def photo_response(
    session: Session, stored: StoredFile | None, services: Services, name: str
) -> Response:
    """The sanitised picture (inline) or the checked PDF (attachment); 404 when there is none."""
    if stored is None or stored.kind != PHOTO_KIND:
        abort(404)
    try:
        data, media_type = served_photo(session, stored, services.files, services.photos)
    except (PhotoRejected, OSError):
        abort(404)
    disposition = "attachment" if media_type == "application/pdf" else "inline"
    return _response(data, media_type, disposition, f"{name}.{EXTENSIONS.get(media_type, 'bin')}")


def _line_of(session: Session, app: Application | None, line_id: int) -> ApplicationMeter:
    line = session.get(ApplicationMeter, line_id)
    if app is None or line is None or line.application_id != app.id or line.photo_id is None:
        abort(404)
    return line


def _application(session: Session, application_id: int, action: str) -> Application:
    app = session.get(Application, application_id)
    if app is None:
        abort(404)
    require(action, application_resource(app))
    return app


@bp.route("/tasks/<int:item_id>/photos/<int:line_id>")
@allowed(policy.DOWNLOAD_PHOTO)
def line_photo(item_id: int, line_id: int):
    db = get_db()
    item = visible_item(db, item_id, current_actor())
    app = application_of(db, item.instance_id)
    if app is None:
        abort(404)
    line = _line_of(db, app, line_id)
    require(policy.DOWNLOAD_PHOTO, application_resource(app))
    return photo_response(
        db, db.get(StoredFile, line.photo_id), get_system().services, f"photo-{line.id}"
    )


@bp.route("/tasks/<int:item_id>/photos/<int:line_id>/match")
@allowed(policy.DOWNLOAD_PHOTO)
def line_photo_match(item_id: int, line_id: int):
    db = get_db()
    item = visible_item(db, item_id, current_actor())
    app = application_of(db, item.instance_id)
    if app is None:
        abort(404)
    line = _line_of(db, app, line_id)
    require(policy.DOWNLOAD_PHOTO, application_resource(app))  # the line's own application
    named = [
        flag["match"]["file_id"] for flag in line.flags or [] if isinstance(flag.get("match"), dict)
    ]
    if not named:
        abort(404)
    return photo_response(
        db, db.get(StoredFile, named[0]), get_system().services, f"photo-{line.id}-earlier"
    )


@bp.route("/applications/<int:application_id>/photos/<int:line_id>")
@allowed(policy.DOWNLOAD_PHOTO)
def application_photo(application_id: int, line_id: int):
    db = get_db()
    line = _line_of(db, _application(db, application_id, policy.DOWNLOAD_PHOTO), line_id)
    return photo_response(
        db, db.get(StoredFile, line.photo_id), get_system().services, f"photo-{line.id}"
    )


@bp.route("/applications/<int:application_id>/photos/<int:line_id>/original")
@allowed(policy.DOWNLOAD_ORIGINAL_PHOTO)
def original_photo(application_id: int, line_id: int):
    db = get_db()
    actor = current_actor()
    app = _application(db, application_id, policy.DOWNLOAD_ORIGINAL_PHOTO)
    line = _line_of(db, app, line_id)
    stored = db.get(StoredFile, line.photo_id)
    if stored is None:
        abort(404)
    services = get_system().services
    data = services.files.read(stored)
    audit.record(
        db,
        "original_photo_downloaded",
        actor=actor,
        at=services.now(),
        instance_id=app.instance_id,
        entity=f"stored_file:{stored.id}",
        detail={"application_id": app.id, "line_id": line.id},
    )
    db.commit()
    return _response(
        data,
        stored.media_type,
        "attachment",
        f"photo-{line.id}-original.{EXTENSIONS.get(stored.media_type, 'bin')}",
    )


@bp.app_template_global("may_download_original_photo")
def may_download_original_photo(app: Application) -> bool:
    return policy.allows(current_actor(), policy.DOWNLOAD_ORIGINAL_PHOTO, application_resource(app))
