"""The generic task page: the person's open work, starting an application, one page per task.

``GET /tasks/<id>`` renders the item's form (``forms.FORMS[item.form_key]``); a valid POST
completes it through ``System.complete_task``, commits, dispatches the jobs and goes on to
the person's next item of the same application, or to the application's page. Staff items
are claimed first. Items a person may not see do not exist for them (404, never 403).
"""

from __future__ import annotations

import logging
import traceback
from datetime import datetime, timedelta

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import FieldList, FormField

from engine import incidents, policy, workitems
from engine.audit import Actor
from engine.db import as_utc
from engine.errors import EngineError, NotFound, WorkItemError
from engine.models import Account, WorkItem
from forms import FORMS, FormContext
from web import limits
from web.auth import current_actor
from web.citizen.pages import timeline
from web.db import DATABASE_ERRORS, dispatch_jobs, get_db, get_system
from web.route_policy import allowed, public, require, signed_in
from web.tasks.drafts import forget_draft, keep_draft, restored_form
from web.tasks.pages import (
    SEVERITY_LABELS,
    blank_meter_block,
    holder_name,
    initial_data,
    page_context,
)
from web.uploads import ACCEPT, PhotoState, require_photos, take_photos
from workflow import invoicing, privacy
from workflow.i18n import Message
from workflow.models import Application, Invoice
from workflow.review import review_due_on
from workflow.tasks import application_of

log = logging.getLogger(__name__)
bp = Blueprint("tasks", __name__, template_folder="templates")

SERVICE = policy.Resource("service")


def _citizen(actor: Actor) -> bool:
    """Whether the person uses the citizens' e-service (their list shows applications, not a queue)."""
    return policy.allows(actor, policy.START_APPLICATION, SERVICE)


# -- helpers -----------------------------------------------------------------------------------


def _now() -> datetime:
    return get_system().services.now()


def _visible_item(db: Session, item_id: int, actor: Actor) -> WorkItem:
    try:
        return workitems.get_for(db, item_id, actor)
    except NotFound:
        abort(404)


def _lease_live(item: WorkItem, at: datetime) -> bool:
    return item.lease_until is not None and as_utc(item.lease_until) > at


def _can_act(item: WorkItem, actor: Actor, at: datetime) -> bool:
    try:
        workitems.check_can_complete(item, actor, at)
    except WorkItemError:
        return False
    return True


def _conflict_message(db: Session, item_id: int, actor: Actor, at: datetime) -> str:
    """Why this person cannot act on the item now, read afresh from the database."""
    item = db.get(WorkItem, item_id, populate_existing=True)
    if item is None or item.state != "open":
        return _("This task has already been completed.")
    if item.claimed_by_id not in (None, actor.id) and _lease_live(item, at):
        return _(
            "%(name)s is working on this task. Choose another task or try again later.",
            name=holder_name(db, item) or "?",
        )
    return _("Claim this task before you complete it.")


def _next_item_url(db: Session, instance_id: int, actor: Actor) -> str | None:
    item_id = db.scalar(
        select(WorkItem.id)
        .where(
            WorkItem.instance_id == instance_id,
            WorkItem.state == "open",
            WorkItem.assignee_id == actor.id,
        )
        .order_by(WorkItem.id)
        .limit(1)
    )
    return url_for("tasks.task", item_id=item_id) if item_id is not None else None


def _after_completion(db: Session, instance_id: int, actor: Actor) -> str:
    url = _next_item_url(db, instance_id, actor)
    if url:
        return url
    app = application_of(db, instance_id)
    if app is not None and app.number and app.applicant_id == actor.id:
        return url_for("tasks.application", application_id=app.id, registered=1)
    flash(_("The task is completed."), "success")
    return url_for("tasks.task_list")


def collect_errors(form, photos: PhotoState | None = None) -> list[tuple[str, object]]:
    """(field id, message) for the error summary, in page order; one message per field."""
    found: list[tuple[str, object]] = []

    def walk(field) -> None:
        if isinstance(field, FieldList):
            before = len(found)
            for entry in field.entries:
                walk(entry)
                if photos is not None and entry.name in photos.errors:
                    found.append((photos.input_id(entry.name), photos.errors[entry.name]))
            if len(found) == before:  # a message about the list as a whole
                anchor = next(iter(field.entries[0].form)).id if field.entries else field.id
                found.extend((anchor, e) for e in field.errors if isinstance(e, (str, Message)))
        elif isinstance(field, FormField):
            for sub in field.form:
                walk(sub)
        elif field.errors:
            found.append((field.id, field.errors[0]))

    for field in form:
        walk(field)
    return found


def _block_action(form) -> str | None:
    """ "add" or "remove" for the meter-block buttons of the readings form, else None."""
    if "add_meter" in request.form:
        if len(form.meters.entries) < (form.meters.max_entries or 20):
            form.meters.append_entry()
            form.meters.entries[-1].form.read_on.data = get_system().services.today().isoformat()
        return "add"
    target = request.form.get("remove_meter")
    if target:
        kept = [e for e in form.meters.entries if e.name != target]
        if kept and len(kept) < len(form.meters.entries):
            form.meters.entries = kept
        return "remove"
    return None


def _render(
    db: Session,
    item: WorkItem,
    form,
    *,
    errors=(),
    photos: PhotoState | None = None,
    can_act: bool = True,
    at: datetime | None = None,
    step: str = "edit",
    focus: str | None = None,
):
    at = at or _now()
    context = page_context(db, item)
    if item.form_key == "enter_readings" and context["application"] is not None:
        context["subscriber"] = privacy.view_for(current_actor(), context["application"])
        context["blank_block"] = blank_meter_block(get_system().services.today())
    return render_template(
        "tasks/task.html",
        item=item,
        form=form,
        errors=list(errors),
        photos=photos or PhotoState(),
        can_act=can_act,
        holds=item.claimed_by_id == current_user.id and _lease_live(item, at),
        holder=holder_name(db, item)
        if item.claimed_by_id not in (None, current_user.id) and _lease_live(item, at)
        else None,
        staff_item=item.assignee_id != current_user.id,
        accept=ACCEPT,
        severity_labels=SEVERITY_LABELS,
        today=get_system().services.today(),
        max_photo_mb=get_system().services.photos.max_bytes // (1024 * 1024),
        lines_by_id={str(v.line.id): v for v in context["lines"]},
        step=step,
        focus=focus,
        **context,
    )


# -- views -------------------------------------------------------------------------------------


@bp.route("/")
@public
def index():
    if current_user.is_authenticated:
        return redirect(
            url_for("citizen.start" if _citizen(current_actor()) else "tasks.task_list")
        )
    return redirect(url_for("auth.login"))


@bp.route("/tasks")
@signed_in
def task_list():
    db = get_db()
    actor = current_actor()
    at = _now()
    items = workitems.open_items_for(db, actor)
    claims = {}
    for item in items:
        if item.claimed_by_id is not None and _lease_live(item, at):
            claims[item.id] = None if item.claimed_by_id == actor.id else holder_name(db, item)
    applications, open_by_instance = [], {}
    if _citizen(actor):
        applications = list(
            db.scalars(
                select(Application)
                .where(Application.applicant_id == actor.id)
                .order_by(Application.submitted_at.desc(), Application.id.desc())
                .limit(50)
            )
        )
        open_by_instance = {i.instance_id: i.id for i in items}
    return render_template(
        "tasks/list.html",
        items=items,
        claims=claims,
        applications=applications,
        open_by_instance=open_by_instance,
    )


@bp.route("/applications/new", methods=("POST",))
@allowed(policy.START_APPLICATION, lambda actor: SERVICE)
def new_application():
    db = get_db()
    actor = current_actor()
    result = get_system().start_application(db, actor)
    target = _next_item_url(db, result.instance.id, actor) or url_for(
        "tasks.task_list"
    )  # before the commit:
    db.commit()  # after it the connection goes back to the pool, and another read would take one again
    dispatch_jobs()
    return redirect(target)


@bp.route("/tasks/<int:item_id>", methods=("GET", "POST"))
@allowed(policy.SEE_WORK_ITEM)  # the item is found through the policy's reach (engine.workitems)
def task(item_id: int):
    db = get_db()
    system = get_system()
    actor = current_actor()
    at = system.services.now()
    item = _visible_item(db, item_id, actor)
    if item.state != "open":
        flash(_("This task has already been completed."), "info")
        app = application_of(db, item.instance_id)
        if app is not None and app.number and app.applicant_id == actor.id:
            return redirect(url_for("tasks.application", application_id=app.id))
        return redirect(url_for("tasks.task_list"))
    if (
        item.form_key == "field_inspection"
        and policy.allows(  # inspectors have their own phone page
            actor, policy.SEE_FIELD_TASKS, policy.Resource("queue", lane="inspector")
        )
    ):
        return redirect(url_for("inspector.task", item_id=item.id))
    form_cls = FORMS.get(item.form_key)
    if form_cls is None:
        abort(404)
    can_act = _can_act(item, actor, at)
    context = FormContext(
        session=db,
        today=system.services.today(),
        instance_id=item.instance_id,
        services=system.services,
        actor=actor,
        lookup_window=limits.lookup_window(actor, system.services.lookups),
    )
    if request.method == "POST":
        if not can_act:
            flash(_conflict_message(db, item.id, actor, at), "error")
            return redirect(url_for("tasks.task", item_id=item.id))
        return _submit(db, item, form_cls(request.form, context=context), actor, at)
    form = restored_form(db, item, actor, form_cls, context)
    if (
        form is not None
    ):  # what they typed and uploaded so far: a reload, language switch, "continue"
        return _render(
            db,
            item,
            form,
            photos=take_photos(db, form.meters.entries, actor, system.services),
            can_act=can_act,
            at=at,
        )
    account = db.get(Account, actor.id)
    form = form_cls(context=context, data=initial_data(db, item, context.today, account))
    return _render(db, item, form, can_act=can_act, at=at)


def _submit(db: Session, item: WorkItem, form, actor: Actor, at: datetime):
    """A POST of the task's form: re-render with errors, or complete, commit, dispatch, go on."""
    system = get_system()
    photos = None
    if item.form_key == "enter_readings":
        photos = take_photos(db, form.meters.entries, actor, system.services)
        keep_draft(db, item, actor, form, at)
        change = request.form.get("change")
        if (
            _block_action(form) is not None or change
        ):  # add / remove a meter, "change" a row: no validation yet
            page = _render(
                db,
                item,
                form,
                errors=collect_errors(form, photos),
                photos=photos,
                at=at,
                focus=change,
            )
            db.commit()  # the draft, and any stored photos
            dispatch_jobs()  # the stored photos' jobs
            return page
        require_photos(form.meters.entries, photos)
    valid = form.validate()
    errors = collect_errors(form, photos)
    # A re-shown form keeps what this request stored: the photos that did arrive (never asked for
    # again) and the counted code lookups (the throttle). Validation writes nothing else.
    # Pages are rendered before the commit: after it the connection goes back to the pool, and
    # the page's reads would take one again.
    if not valid or errors:
        page = _render(db, item, form, errors=errors, photos=photos, at=at)
        db.commit()
        dispatch_jobs()  # the stored photos' jobs
        return page
    if item.form_key == "enter_readings" and (
        form.needs_confirmation or "final" not in request.form
    ):
        # readings the rules flag are confirmed or corrected first; then "check your answers"
        page = _render(
            db,
            item,
            form,
            photos=photos,
            at=at,
            step="confirm" if form.needs_confirmation else "preview",
        )
        db.commit()
        dispatch_jobs()  # the stored photos' jobs
        return page
    try:
        system.complete_task(db, item.id, actor, form.to_task_data())
        forget_draft(db, item)  # the answers are stored now
        target = _after_completion(db, item.instance_id, actor)
        db.commit()
    except WorkItemError:
        db.rollback()
        flash(_conflict_message(db, item.id, actor, at), "error")
        return redirect(url_for("tasks.task", item_id=item.id))
    except DATABASE_ERRORS:
        raise  # the database is away: the 503 page says so
    except Exception as err:  # noqa: BLE001 - any failure of the step: the person is told, an administrator too
        db.rollback()
        report_step_failure(item, actor, err)
        return redirect(url_for("tasks.task", item_id=item.id))
    dispatch_jobs()
    return redirect(target)


def report_step_failure(item: WorkItem, actor: Actor, err: Exception) -> None:
    """A step that raised while a person completed it: nothing was saved (the caller rolled
    back); an incident records the error for an administrator and the person is told what
    failed, with the incident's number, instead of being left to try the same form for ever."""
    log.error("completing work item %s (%s) failed", item.id, item.task_name, exc_info=err)
    system = get_system()
    with system.sessions() as session:
        incident = incidents.open_incident(
            session,
            "step_failed",
            f"step {item.task_name} failed for {actor.label} (task {item.id})",
            error=traceback.format_exc(),
            now=system.services.now(),
            instance_id=item.instance_id,
        )
        session.commit()
    if isinstance(err, EngineError):  # its message is written for the person completing the step
        flash(
            _(
                "This step could not be completed: %(reason)s. Nothing was saved. The failure is recorded as "
                "incident %(number)s for an administrator.",
                reason=str(err),
                number=incident.id,
            ),
            "error",
        )
    else:
        flash(
            _(
                "This step could not be completed because of an internal error (%(error)s). Nothing was saved. "
                "The failure is recorded as incident %(number)s for an administrator.",
                error=type(err).__name__,
                number=incident.id,
            ),
            "error",
        )


@bp.route("/tasks/<int:item_id>/claim", methods=("POST",))
@allowed(policy.CLAIM)
def claim(item_id: int):
    db = get_db()
    actor = current_actor()
    at = _now()
    _visible_item(db, item_id, actor)
    lease = timedelta(minutes=get_system().settings.work.lease_minutes)
    try:
        workitems.claim(db, item_id, actor, at, lease)
        db.commit()
    except WorkItemError:
        db.rollback()
        flash(_conflict_message(db, item_id, actor, at), "error")
    return redirect(url_for("tasks.task", item_id=item_id))


@bp.route("/tasks/<int:item_id>/release", methods=("POST",))
@allowed(policy.RELEASE)
def release(item_id: int):
    db = get_db()
    actor = current_actor()
    _visible_item(db, item_id, actor)
    try:
        workitems.release(db, item_id, actor, _now())
        db.commit()
    except WorkItemError:
        db.rollback()
        return redirect(url_for("tasks.task", item_id=item_id))
    flash(_("The task is back in the queue."), "info")
    return redirect(url_for("tasks.task_list"))


def _application_or_404(db: Session, application_id: int, action: str) -> Application:
    app = db.get(Application, application_id)
    if app is None:
        abort(404)
    require(action, privacy.application_resource(app))
    return app


@bp.route("/applications/<int:application_id>")
@allowed(policy.SEE_APPLICATION)
def application(application_id: int):
    db = get_db()
    actor = current_actor()
    app = _application_or_404(db, application_id, policy.SEE_APPLICATION)
    invoice = db.scalar(select(Invoice).where(Invoice.application_id == app.id))
    registered = (
        bool(request.args.get("registered")) and bool(app.number) and app.applicant_id == actor.id
    )
    if app.applicant_id == actor.id:  # the citizen's own view: timeline, receipt, what happens next
        return render_template(
            "citizen/application.html",
            app=app,
            invoice=invoice,
            registered=registered,
            steps=timeline(db, app),
            next_url=_next_item_url(db, app.instance_id, actor),
            view=privacy.view_for(actor, app),
            review_due=review_due_on(db, app.instance_id, get_system().services.calendar),
            review_days=get_system().settings.work.review_due_working_days,
        )
    return render_template(
        "tasks/application.html",
        app=app,
        invoice=invoice,
        registered=registered,
        next_url=_next_item_url(db, app.instance_id, actor),
    )


@bp.route("/applications/<int:application_id>/invoice.pdf")
@allowed(policy.DOWNLOAD_INVOICE)
def invoice_pdf(application_id: int):
    """The holder's invoice; anyone else the policy lets download it gets it with the holder masked."""
    db = get_db()
    app = _application_or_404(db, application_id, policy.DOWNLOAD_INVOICE)
    invoice = db.scalar(select(Invoice).where(Invoice.application_id == app.id))
    if invoice is None or invoice.pdf_id is None:
        abort(404)
    pdf = invoicing.invoice_pdf(
        db, invoice, privacy.view_for(current_actor(), app), get_system().services
    )
    return Response(
        pdf,
        mimetype="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{invoice.number}.pdf"',
            "Cache-Control": "no-store",
        },
    )
