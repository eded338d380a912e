"""A task form's answers kept on the server as the person goes (:class:`engine.models.FormDraft`).

Every POST of the citizen's readings form stores what was posted (photos by their stored ids);
the task page fills the form from it on any GET, so a reload, a language switch, "continue
draft" from the status page or a new sign-in shows everything typed and uploaded so far. The
draft is deleted once the task's answers are stored.
"""

from __future__ import annotations

from datetime import datetime

from flask import request
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from engine.audit import Actor
from engine.models import FormDraft, WorkItem

# The citizen's answers are kept on the server as they go (not the buttons or the CSRF token).
DRAFTED_FORMS = ("enter_readings",)
_NOT_ANSWERS = frozenset({"csrf_token", "submit", "final", "change", "add_meter", "remove_meter"})


def draft_of(db: Session, item: WorkItem, actor: Actor) -> FormDraft | None:
    if item.form_key not in DRAFTED_FORMS:
        return None
    return db.scalar(
        select(FormDraft).where(FormDraft.work_item_id == item.id, FormDraft.account_id == actor.id)
    )


def keep_draft(db: Session, item: WorkItem, actor: Actor, form, at: datetime) -> None:
    """Store the form's answers as posted (photos by the stored ids ``take_photos`` filled in)."""
    fields = [
        [name, value]
        for name, value in request.form.items(multi=True)
        if name not in _NOT_ANSWERS and not name.endswith("-photo_id")
    ]
    fields += [
        [entry.form.photo_id.name, entry.form.photo_id.data]
        for entry in form.meters.entries
        if entry.form.photo_id.data
    ]
    draft = draft_of(db, item, actor)
    if draft is None:
        db.add(FormDraft(work_item_id=item.id, account_id=actor.id, fields=fields, updated_at=at))
    else:
        draft.fields, draft.updated_at = fields, at


def forget_draft(db: Session, item: WorkItem) -> None:
    db.execute(delete(FormDraft).where(FormDraft.work_item_id == item.id))


def restored_form(db: Session, item: WorkItem, actor: Actor, form_cls, context):
    """The task's form filled from the person's draft, or None when there is none (only the
    readings form is drafted, so the form has meter blocks whose photos the page shows)."""
    draft = draft_of(db, item, actor)
    return (
        None
        if draft is None
        else form_cls(MultiDict([tuple(pair) for pair in draft.fields]), context=context)
    )
