"""The incidents page (``/admin/incidents``): what failed and needs a person.

Administrators see everything; a unit head sees the incidents of their unit's applications
(the policy's ``view_incidents`` and ``act_on_incident``). Each entry shows the error and the
attempts, with a retry or cancel button for a failed job and a close button for the rest; every
action is audited (:func:`engine.incidents.resolve`). Anyone else gets 404.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from engine import policy
from engine.models import Incident
from engine.policy import ACT_ON_INCIDENT, allows
from web.auth import current_actor
from web.db import dispatch_jobs, get_db, get_system
from web.route_policy import allowed
from workflow.i18n import N_
from workflow.incident_board import act, board, may_view_board, unit_of

bp = Blueprint("incidents", __name__, url_prefix="/admin/incidents", template_folder="templates")

KIND_LABELS = {
    "job_failed": N_("A background step failed after all its attempts"),
    "instance_error": N_("An application stopped with an error"),
    "possibly_sent": N_("An e-mail may have been sent twice"),
    "step_failed": N_("A step failed while a member of staff completed it"),
}
JOB_LABELS = {
    "run_task": N_("Automatic step"),
    "send_email": N_("E-mail"),
    "wake_timers": N_("Deadline check"),
    "process_photo": N_("Photo processing"),
}
DONE_MESSAGES = {
    "retry": N_("The job will run again."),
    "cancel": N_("The job is cancelled and will not run again."),
    "close": N_("The incident is closed."),
}


@bp.app_template_global("may_view_incidents")
def may_view_incidents() -> bool:
    """For the header's link: whether the signed-in person may open the incidents page."""
    return may_view_board(current_actor())


@bp.route("")
@allowed(policy.VIEW_INCIDENTS)
def index():
    actor = current_actor()
    if not may_view_board(actor):
        abort(404)
    system = get_system()
    overdue_after = timedelta(minutes=system.settings.jobs.overdue_minutes)
    shown = board(get_db(), actor, system.services.now(), overdue_after)
    return render_template(
        "incidents/index.html",
        board=shown,
        kind_labels=KIND_LABELS,
        job_labels=JOB_LABELS,
        overdue_minutes=system.settings.jobs.overdue_minutes,
    )


@bp.route("/<int:incident_id>/<any(retry, cancel, close):action>", methods=("POST",))
@allowed(policy.ACT_ON_INCIDENT)
def resolve(incident_id: int, action: str):
    db = get_db()
    actor = current_actor()
    incident = db.get(Incident, incident_id, with_for_update=True)
    if incident is None or not allows(actor, ACT_ON_INCIDENT, _resource(db, incident)):
        abort(404)
    if act(db, incident, action, actor, get_system().services.now()):
        db.commit()
        dispatch_jobs()
        flash(_(DONE_MESSAGES[action]), "success")
    else:
        db.rollback()
        flash(_("This incident was already handled, or its job can no longer be changed."), "error")
    return redirect(url_for("incidents.index"))


def _resource(db, incident: Incident):
    from workflow.incident_board import resource

    return resource(unit_of(db, incident))
