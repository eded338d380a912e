"""Staff tools: the unit's review queue, claiming and releasing a task. Scope ``staff``; the same
engine calls as the pages (``engine.workqueue``, ``engine.workitems``), which ask the policy."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from werkzeug.datastructures import MultiDict

from engine import incidents, policy, workitems, workqueue
from engine.errors import EngineError, NotFound, WorkItemConflict, WorkItemError
from forms import FORMS, FormContext
from web.api import tokens
from web.api.datatypes import UtcDateTime
from web.api.problems import field_errors, problem
from web.db import DATABASE_ERRORS, dispatch_jobs, get_db, get_system

blp = Blueprint("api_staff", __name__, description="Staff tools (scope `staff`)")


class QueueArgs(Schema):
    view = fields.String(load_default="all", validate=validate.OneOf(workqueue.VIEWS))
    role = fields.String(
        load_default="operator", validate=validate.OneOf(("operator", "inspector"))
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class WorkItemSchema(Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    task_name = fields.String(required=True)
    role = fields.String(required=True)
    unit_id = fields.Integer(allow_none=True)
    claimed_by_id = fields.Integer(allow_none=True)
    lease_until = UtcDateTime(allow_none=True)
    due_at = UtcDateTime(allow_none=True)


class QueueSchema(Schema):
    items = fields.List(fields.Nested(WorkItemSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    pages = fields.Integer(required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


def _item(item) -> dict:
    return {
        "id": item.id,
        "instance_id": item.instance_id,
        "task_name": item.task_name,
        "role": item.role,
        "unit_id": item.unit_id,
        "claimed_by_id": item.claimed_by_id,
        "lease_until": item.lease_until,
        "due_at": item.due_at,
    }


@blp.route("/queue")
@tokens.requires("staff")
@blp.arguments(QueueArgs, location="query", as_kwargs=True)
@blp.response(200, QueueSchema)
def queue(view: str, role: str, page: int):
    """The unit's open tasks as the queue page lists them (the token holder's unit)."""
    actor = tokens.actor()
    if not policy.allows(
        actor, policy.SEE_QUEUE, policy.Resource("queue", unit_id=actor.unit_id, lane=role)
    ):
        return problem(403, "This account has no queue of this kind.", kind="role")
    system = get_system()
    result = workqueue.unit_queue(
        get_db(),
        actor,
        workqueue.QueueFilter(view=view, page=page),
        system.services.now(),
        role=role,
    )
    return {
        "items": [_item(i) for i in result.items],
        "total": result.total,
        "page": result.page,
        "pages": result.pages,
        "counts": result.counts,
    }


def _change(item_id: int, claim: bool):
    actor = tokens.actor()
    system = get_system()
    db = get_db()
    now = system.services.now()
    try:
        if claim:
            item = workitems.claim(
                db, item_id, actor, now, timedelta(minutes=system.settings.work.lease_minutes)
            )
        else:
            item = workitems.release(db, item_id, actor, now)
    except NotFound:
        db.rollback()
        return problem(404, "No such task is visible to this client.")
    except (WorkItemConflict, WorkItemError) as err:
        db.rollback()
        return problem(409, str(err), kind="conflict")
    body = _item(item)
    db.commit()
    return body


@blp.route("/work-items/<int:item_id>/claim", methods=["POST"])
@tokens.requires("staff")
@blp.response(200, WorkItemSchema)
@blp.alt_response(404, description="No such task for this client")
@blp.alt_response(409, description="Someone else holds the task, or it is done")
def claim(item_id: int):
    """Take the task (or renew one's own lease); exactly one of two simultaneous claimants wins."""
    return _change(item_id, claim=True)


@blp.route("/work-items/<int:item_id>/release", methods=["POST"])
@tokens.requires("staff")
@blp.response(200, WorkItemSchema)
@blp.alt_response(404, description="No such task for this client")
@blp.alt_response(409, description="The task is not held by this client")
def release(item_id: int):
    """Put a task one holds back in the queue."""
    return _change(item_id, claim=False)


# Tasks whose form needs the citizen's uploads are completed on their pages only.
PAGE_ONLY = ("enter_readings", "identify_subscriber")


class CompleteBody(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=100)),
        values=fields.String(validate=validate.Length(max=5000)),
        required=True,
        validate=validate.Length(max=200),
        metadata={
            "description": "The task form's fields by name, as the page posts them "
            "(e.g. `decision`, `reject_reason`, `meters-0-value`)"
        },
    )


class CompletedSchema(Schema):
    id = fields.Integer(required=True)
    instance_id = fields.Integer(required=True)
    completed = fields.Boolean(required=True)


@blp.route("/work-items/<int:item_id>/complete", methods=["POST"])
@tokens.requires("staff")
@blp.arguments(CompleteBody)
@blp.response(200, CompletedSchema)
@blp.alt_response(404, description="No such task for this client")
@blp.alt_response(409, description="The task is held by someone else, or done")
@blp.alt_response(
    422, description="The answers do not pass the task form's validation (fields named)"
)
def complete(body: dict, item_id: int):
    """Complete a review or an inspection with the same form and validation as its page; claim it first."""
    actor = tokens.actor()
    system = get_system()
    db = get_db()
    try:
        item = workitems.get_for(db, item_id, actor)
    except NotFound:
        return problem(404, "No such task is visible to this client.")
    if item.state != "open":
        return problem(409, "This task has already been completed.", kind="conflict")
    if item.form_key in PAGE_ONLY or item.form_key not in FORMS:
        return problem(
            409, "This task is completed on its page, not through the API.", kind="page_only"
        )
    context = FormContext(
        session=db,
        today=system.services.today(),
        instance_id=item.instance_id,
        services=system.services,
        actor=actor,
        translate=gettext,
    )
    form = FORMS[item.form_key](MultiDict(body["answers"]), context=context)
    if not form.validate():
        return problem(
            422, "The answers do not pass the task's form.", errors=field_errors(form.errors)
        )
    try:
        system.complete_task(db, item.id, actor, form.to_task_data())
        db.commit()
    except WorkItemError as err:
        db.rollback()
        return problem(409, str(err), kind="conflict")
    except DATABASE_ERRORS:
        raise
    except Exception as err:  # noqa: BLE001 - the step failed: recorded for an administrator, the client told
        db.rollback()
        with system.sessions() as session:
            incident = incidents.open_incident(
                session,
                "step_failed",
                f"step {item.task_name} failed for {actor.label} (task {item.id})",
                error=repr(err)[:2000],
                now=system.services.now(),
                instance_id=item.instance_id,
            )
            session.commit()
        reason = str(err) if isinstance(err, EngineError) else type(err).__name__
        return problem(
            422 if isinstance(err, EngineError) else 500,
            f"The step could not be completed ({reason}); nothing was saved. Incident {incident.id}.",
        )
    dispatch_jobs()
    return {"id": item.id, "instance_id": item.instance_id, "completed": True}
