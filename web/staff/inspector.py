"""Inspectors, phone first: "my field tasks" and the on-site visit form with a photo per meter.

The field queue is the engine's (``unit_queue`` with role "inspector": the inspector's unit,
or items assigned to them). The visit form is posted here, not on the generic task page,
because it carries photos taken with the phone's camera; completing still goes through
``System.complete_task``, which checks the claim in the same transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import Session

from engine import policy, workqueue
from engine.audit import Actor
from engine.db import as_utc
from engine.errors import NotFound, WorkItemError
from engine.models import Account, WorkItem
from engine.workitems import check_can_complete, get_for
from forms import FormContext
from forms.staff import FieldInspectionForm
from web.auth import current_actor
from web.db import DATABASE_ERRORS, dispatch_jobs, get_db, get_system
from web.route_policy import allowed
from web.tasks.pages import holder_name, initial_data, inspection_instruction, line_views
from web.tasks.views import collect_errors, report_step_failure
from web.uploads import MISSING_PHOTO, PhotoState, require_photos, take_photos
from workflow.i18n import N_, Message
from workflow.tasks import application_of

log = logging.getLogger(__name__)
bp = Blueprint("inspector", __name__, url_prefix="/inspector", template_folder="templates")

CAMERA_ACCEPT = "image/jpeg,image/png"
MISSING_SITE_PHOTO = Message(N_("Take a photo of the meter"))


def _item(db: Session, item_id: int, actor: Actor) -> WorkItem:
    try:
        item = get_for(db, item_id, actor)
    except NotFound:
        abort(404)
    if item.form_key != "field_inspection":
        abort(404)
    return item


def _lease_live(item: WorkItem, at: datetime) -> bool:
    return item.lease_until is not None and as_utc(item.lease_until) > at


@bp.route("/")
@allowed(policy.SEE_FIELD_TASKS, lambda actor: policy.Resource("queue", lane="inspector"))
def field_tasks():
    db = get_db()
    actor = current_actor()
    at = get_system().services.now()
    view = request.args.get("view", "all")
    page = workqueue.unit_queue(
        db,
        actor,
        workqueue.QueueFilter(view=view if view in ("all", "mine") else "all", per_page=50),
        at,
        role="inspector",
    )
    rows = []
    for item in page.items:
        app = application_of(db, item.instance_id)
        rows.append(
            {
                "item": item,
                "application": app,
                "instruction": inspection_instruction(db, item.instance_id),
                "holder": holder_name(db, item) if _lease_live(item, at) else None,
                "overdue": item.due_at is not None and as_utc(item.due_at) < at,
            }
        )
    return render_template("inspector/list.html", rows=rows, page=page, view=view)


@bp.route("/tasks/<int:item_id>", methods=("GET", "POST"))
@allowed(policy.SEE_FIELD_TASKS, lambda actor, item_id: policy.Resource("queue", lane="inspector"))
def task(item_id: int):
    db = get_db()
    system = get_system()
    actor = current_actor()
    at = system.services.now()
    item = _item(db, item_id, actor)
    if item.state != "open":
        flash(_("This task has already been completed."), "info")
        return redirect(url_for("inspector.field_tasks"))
    context = FormContext(
        session=db,
        today=system.services.today(),
        instance_id=item.instance_id,
        services=system.services,
        translate=_,
    )
    try:
        check_can_complete(item, actor, at)
        can_act = True
    except WorkItemError:
        can_act = False
    if request.method == "POST":
        if not can_act:
            flash(_("Claim this task before you complete it."), "error")
            return redirect(url_for("inspector.task", item_id=item.id))
        return _submit(db, item, FieldInspectionForm(request.form, context=context), actor, at)
    account = db.get(Account, actor.id)
    form = FieldInspectionForm(context=context, data=initial_data(db, item, context.today, account))
    form.visit_time.data = form.visit_time.data or at.astimezone(_zone()).strftime("%H:%M")
    return _render(db, item, form, can_act=can_act, at=at)


def _zone() -> ZoneInfo:
    return ZoneInfo(get_system().settings.app.timezone)


def _render(
    db: Session,
    item: WorkItem,
    form,
    *,
    errors=(),
    photos: PhotoState | None = None,
    can_act=True,
    at: datetime,
):
    app = application_of(db, item.instance_id)
    views = line_views(db, app) if app is not None else []
    return render_template(
        "inspector/task.html",
        item=item,
        form=form,
        errors=list(errors),
        photos=photos or PhotoState(),
        can_act=can_act,
        application=app,
        lines_by_id={str(v.line.id): v for v in views},
        instruction=inspection_instruction(db, item.instance_id),
        accept=CAMERA_ACCEPT,
        holds=item.claimed_by_id == current_user.id and _lease_live(item, at),
        holder=holder_name(db, item)
        if item.claimed_by_id not in (None, current_user.id) and _lease_live(item, at)
        else None,
        lease_seconds=get_system().settings.work.lease_minutes * 60,
        today=get_system().services.today(),
    )


def _submit(db: Session, item: WorkItem, form: FieldInspectionForm, actor: Actor, at: datetime):
    system = get_system()
    photos = take_photos(db, form.meters.entries, actor, system.services)
    done = form.outcome.data == "done"
    if done:
        require_photos(form.meters.entries, photos)
        for name, message in list(photos.errors.items()):
            if message is MISSING_PHOTO:
                photos.errors[name] = MISSING_SITE_PHOTO
    else:
        photos.errors.clear()
    valid = form.validate()
    errors = collect_errors(form, photos)
    if not valid or errors:
        if photos.saved:
            db.commit()  # the photos that did arrive are kept: the inspector does not take them again
            dispatch_jobs()
        return _render(db, item, form, errors=errors, photos=photos, at=at)
    try:
        system.complete_task(db, item.id, actor, form.to_task_data())
        db.commit()
    except WorkItemError:
        db.rollback()
        flash(_("Claim this task before you complete it."), "error")
        return redirect(url_for("inspector.task", item_id=item.id))
    except DATABASE_ERRORS:
        raise  # the database is away: the 503 page says so
    except Exception as err:  # noqa: BLE001 - any failure of the step: the inspector is told, an administrator too
        db.rollback()
        report_step_failure(item, actor, err)
        return redirect(url_for("inspector.task", item_id=item.id))
    dispatch_jobs()
    if done:
        flash(_("The visit is saved and the reading on site will be posted."), "success")
    else:
        flash(_("The visit is saved. The task is back in the queue for another visit."), "success")
    return redirect(url_for("inspector.field_tasks"))
