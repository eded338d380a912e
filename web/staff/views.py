"""Unit staff: the work queue, lease renewal, reassignment, the heads' dashboard, the instance view.

Every query is the engine's (``engine.workqueue``), scoped there to what the person may see;
these views only read the request, call the engine and render. Anything a person may not see
does not exist for them (404, never 403).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from engine import incidents as incident_store
from engine import policy, workqueue
from engine.audit import timeline
from engine.db import as_utc
from engine.errors import NotFound, WorkItemError
from engine.models import Account, WorkItem
from engine.progress import instance_progress
from engine.workitems import get_for, resource_of
from web.auth import current_actor
from web.db import get_db, get_system
from web.i18n import STEP_TITLES, TASK_TITLES, translate
from web.route_policy import allowed, require
from web.staff.incidents import KIND_LABELS
from workflow.i18n import N_
from workflow.normalise import record_id
from workflow.review import monthly_use, reading_history, recent_overrides
from workflow.tasks import application_of

bp = Blueprint("staff", __name__, url_prefix="/staff", template_folder="templates")

VIEW_LABELS = {
    "all": N_("All"),
    "unclaimed": N_("Unclaimed"),
    "mine": N_("Mine"),
    "flagged": N_("Flagged"),
    "overdue": N_("Overdue"),
    "flagged_overdue": N_("Flagged and overdue"),
}
ACTION_LABELS = {
    "instance_started": N_("Application started"),
    "task_completed": N_("Step completed"),
    "task_ran": N_("Automatic step ran"),
    "timer_fired": N_("Deadline passed"),
    "work_item_claimed": N_("Task claimed"),
    "work_item_released": N_("Task put back in the queue"),
    "work_item_reassigned": N_("Task reassigned"),
    "review_decided": N_("Review decision"),
    "inspection_recorded": N_("On-site visit recorded"),
    "review_escalated": N_("Review escalated to the unit head"),
    "escalation_handled": N_("Escalation handled"),
    "instance_completed": N_("Application finished"),
    "application_status": N_("Status changed"),
    "application_routed": N_("Routed to a unit"),
    "invoice_computed": N_("Invoice computed"),
    "instance_migrated": N_("Moved to another diagram version"),
    "instance_error": N_("Stopped with an error"),
    "conflict_overridden": N_("Accepted despite the conflict (override)"),
    "original_photo_downloaded": N_("Original photo downloaded"),
    "meter_replaced": N_("Meter replaced"),
    "meter_seal_changed": N_("Meter seal changed"),
}


def _now() -> datetime:
    return get_system().services.now()


def _lease() -> timedelta:
    return timedelta(minutes=get_system().settings.work.lease_minutes)


@bp.app_template_filter("local_time")
def local_time(value: datetime | None) -> str:
    """A stored time in the utility's time zone, to the minute."""
    if value is None:
        return "–"
    zone = ZoneInfo(get_system().settings.app.timezone)
    return as_utc(value).astimezone(zone).strftime("%Y-%m-%d %H:%M")


@bp.app_template_filter("step_title")
def step_title(task_name: str) -> str:
    """A diagram step's title for people: the task page's title, or the automatic step's, else its id
    (a step a new diagram version added before it has a title)."""
    title = TASK_TITLES.get(task_name) or STEP_TITLES.get(task_name)
    return translate(title) if title else task_name


@bp.app_template_global("review_history")
def review_history(meter_id: int) -> dict:
    """The reading history table and the 12-month consumption chart of one meter (review page)."""
    system = get_system()
    db = get_db()
    months = monthly_use(db, meter_id, system.services.today())
    peak = max((m.cubic_metres or 0 for m in months), default=0) or 1
    bars = [
        {
            "month": m.month,
            "value": m.cubic_metres,
            "height": round(100 * (m.cubic_metres or 0) / peak),
        }
        for m in months
    ]
    return {
        "readings": reading_history(db, meter_id, system.services.review.history_rows),
        "bars": bars,
        "peak": peak,
    }


@bp.app_template_global("photo_flags")
def photo_flags(flags: list[dict]) -> list[dict]:
    """The photo evidence checks among a meter's flags (their codes start with "photo_")."""
    return [f for f in flags or [] if str(f.get("code", "")).startswith("photo_")]


@bp.app_template_global("lease_seconds")
def lease_seconds() -> int:
    return get_system().settings.work.lease_minutes * 60


@bp.app_template_global("reject_reasons")
def reject_reasons() -> tuple[str, ...]:
    return get_system().services.review.reject_reasons


def _int_arg(name: str, default: int) -> int:
    """A page number or size from the address; anything but 1 to 2,147,483,647 is the default."""
    return record_id(request.args.get(name)) or default


def _queue(lane: str) -> policy.Resource:
    return policy.Resource("queue", lane=lane, unit_id=current_actor().unit_id)


@bp.route("/queue")
@allowed(policy.SEE_QUEUE)
def queue():
    db = get_db()
    actor = current_actor()
    at = _now()
    view = request.args.get("view", "all")
    if view not in workqueue.VIEWS:
        view = "all"
    # the inspectors' queue for those the policy shows it to; anyone else asking gets the review queue
    wants_inspection = request.args.get("role") == "inspector"
    role = (
        "inspector"
        if wants_inspection and policy.allows(actor, policy.SEE_QUEUE, _queue("inspector"))
        else "operator"
    )
    require(policy.SEE_QUEUE, _queue(role))
    area = request.args.get("area") or None
    flt = workqueue.QueueFilter(view=view, area=area, page=_int_arg("page", 1))
    page = workqueue.unit_queue(db, actor, flt, at, role=role)
    holders = (
        {
            a.id: a.display_name
            for a in db.query(Account).filter(
                Account.id.in_({i.claimed_by_id for i in page.items if i.claimed_by_id})
            )
        }
        if page.items
        else {}
    )
    return render_template(
        "staff/queue.html",
        page=page,
        view=view,
        area=area,
        role=role,
        at=at,
        areas=workqueue.queue_areas(db, actor, role),
        holders=holders,
        view_labels=VIEW_LABELS,
        lease_live=lambda i: i.lease_until is not None and as_utc(i.lease_until) > at,
        overdue=lambda i: i.due_at is not None and as_utc(i.due_at) < at,
    )


@bp.route("/items/<int:item_id>/lease", methods=("POST",))
@allowed(policy.CLAIM)  # the holder's own item, found through the policy's reach
def renew_lease(item_id: int):
    """Called by the task page's script while it stays open: the holder keeps the task."""
    db = get_db()
    try:
        item = workqueue.renew_lease(db, item_id, current_actor(), _now(), _lease())
    except NotFound:
        abort(404)
    except WorkItemError:
        db.rollback()
        return jsonify({"held": False, "message": _("You no longer hold this task.")}), 409
    lease_until = as_utc(item.lease_until)
    assert lease_until is not None, "a renewed lease has an end"
    db.commit()
    return jsonify({"held": True, "lease_until": lease_until.isoformat()})


def _head_item(item_id: int) -> WorkItem:
    db = get_db()
    actor = current_actor()
    item = db.get(WorkItem, item_id)
    if (
        item is None
        or item.state != "open"
        or not policy.allows(actor, policy.REASSIGN, resource_of(item))
    ):
        abort(404)
    return item


@bp.route("/items/<int:item_id>/reassign", methods=("GET", "POST"))
@allowed(policy.REASSIGN)
def reassign(item_id: int):
    db = get_db()
    actor = current_actor()
    item = _head_item(item_id)
    people = workqueue.unit_people(db, actor, item.role)
    error = None
    if request.method == "POST":
        try:
            to_id = record_id(request.form.get("account_id"))
            if to_id is None:
                raise ValueError("no such person")
            workqueue.reassign(db, item.id, actor, to_id, _now(), _lease())
            db.commit()
        except (ValueError, WorkItemError):
            db.rollback()
            error = _("Choose a person of this unit who does this kind of task")
        except NotFound:
            abort(404)
        else:
            name = next((p.display_name for p in people if p.id == to_id), "")
            flash(_("The task now belongs to %(name)s.", name=name), "success")
            return redirect(
                url_for("staff.queue", role=item.role if item.role == "inspector" else None)
            )
    holder = db.get(Account, item.claimed_by_id) if item.claimed_by_id else None
    return render_template(
        "staff/reassign.html",
        item=item,
        people=people,
        holder=holder,
        error=error,
        application=application_of(db, item.instance_id),
    )


@bp.route("/dashboard")
@allowed(policy.SEE_UNIT_DASHBOARD, lambda actor: policy.Resource("unit", unit_id=actor.unit_id))
def dashboard():
    db = get_db()
    actor = current_actor()
    at = _now()
    board = workqueue.unit_dashboard(db, actor, at)
    escalations = workqueue.unit_queue(
        db, actor, workqueue.QueueFilter(per_page=50), at, role="unit_head"
    )
    overrides = recent_overrides(db, actor.unit_id, at - timedelta(days=30))
    return render_template(
        "staff/dashboard.html", board=board, escalations=escalations.items, overrides=overrides
    )


def _visible_instance(instance_id: int) -> None:
    if not workqueue.instance_visible(get_db(), current_actor(), instance_id):
        abort(404)


@bp.route("/instances/<int:instance_id>")
@allowed(policy.VIEW_INSTANCE)
def instance(instance_id: int):
    _visible_instance(instance_id)
    db = get_db()
    events = timeline(db, instance_id)
    return render_template(
        "staff/instance.html",
        instance_id=instance_id,
        events=events,
        application=application_of(db, instance_id),
        action_labels=ACTION_LABELS,
        progress=instance_progress(db, get_system().runtime, instance_id),
        incidents=incident_store.for_instance(db, instance_id),
        kind_labels=KIND_LABELS,
    )


@bp.route("/instances/<int:instance_id>/progress.json")
@allowed(policy.VIEW_INSTANCE)
def instance_json(instance_id: int):
    _visible_instance(instance_id)
    progress = instance_progress(get_db(), get_system().runtime, instance_id)
    return jsonify(
        {
            "xml": progress.xml,
            "completed": progress.completed,
            "current": progress.current,
            "version": progress.version,
            "status": progress.status,
        }
    )


def visible_item_or_404(item_id: int) -> WorkItem:
    try:
        return get_for(get_db(), item_id, current_actor())
    except NotFound:
        abort(404)
