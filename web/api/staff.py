"""Staff tools: the unit's review queue, claiming and releasing a task. Scope ``staff``; the same
engine calls as the pages (``engine.workqueue``, ``engine.workitems``), which ask the policy."""
from __future__ import annotations

from datetime import timedelta

from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engine import policy, workitems, workqueue
from engine.errors import NotFound, WorkItemConflict, WorkItemError
from web.api import tokens
from web.api.datatypes import UtcDateTime
from web.api.problems import problem
from web.db import get_db, get_system

blp = Blueprint("api_staff", __name__, description="Staff tools (scope `staff`)")


class QueueArgs(Schema):
    view = fields.String(load_default="all", validate=validate.OneOf(workqueue.VIEWS))
    role = fields.String(load_default="operator", validate=validate.OneOf(("operator", "inspector")))
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
    return {"id": item.id, "instance_id": item.instance_id, "task_name": item.task_name, "role": item.role,
            "unit_id": item.unit_id, "claimed_by_id": item.claimed_by_id, "lease_until": item.lease_until,
            "due_at": item.due_at}


@blp.route("/queue")
@tokens.requires("staff")
@blp.arguments(QueueArgs, location="query", as_kwargs=True)
@blp.response(200, QueueSchema)
def queue(view: str, role: str, page: int):
    """The unit's open tasks as the queue page lists them (the token holder's unit)."""
    actor = tokens.actor()
    if not policy.allows(actor, policy.SEE_QUEUE, policy.Resource("queue", unit_id=actor.unit_id, lane=role)):
        return problem(403, "This account has no queue of this kind.", kind="role")
    system = get_system()
    result = workqueue.unit_queue(get_db(), actor, workqueue.QueueFilter(view=view, page=page),
                                  system.services.now(), role=role)
    return {"items": [_item(i) for i in result.items], "total": result.total, "page": result.page,
            "pages": result.pages, "counts": result.counts}


def _change(item_id: int, claim: bool):
    actor = tokens.actor()
    system = get_system()
    db = get_db()
    now = system.services.now()
    try:
        if claim:
            item = workitems.claim(db, item_id, actor, now, timedelta(minutes=system.settings.work.lease_minutes))
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
