"""Meter photos sent with the readings form: checked by content, stored, kept across re-renders.

A photo is stored as soon as it arrives (even when the rest of the form has errors) and its
``stored_file`` id goes into the block's hidden ``photo_id``, so the citizen never has to pick
it again. An id coming back from the browser is honoured only for a photo this person uploaded.
A refused file is a field error (:func:`workflow.photos.inspect_upload` says why). Each stored
photo's job (pHash, sanitised copy) is added to the outbox with it: the view that commits calls
``dispatch_jobs()``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from flask import request
from sqlalchemy.orm import Session

from engine.audit import Actor
from engine.models import StoredFile
from workflow.i18n import N_, Message
from workflow.normalise import record_id
from workflow.photo_evidence import PHOTO_KIND, enqueue_processing
from workflow.photos import PhotoRejected, inspect_upload
from workflow.services import Services

ACCEPT = ".pdf,.jpg,.jpeg,.png"
MISSING_PHOTO = Message(N_("Select a photo of the meter"))


@dataclass
class PhotoState:
    """Per meter block (by the block's field name): the stored photo, or why there is none."""

    photos: dict[str, StoredFile] = field(default_factory=dict)
    errors: dict[str, Message] = field(default_factory=dict)
    saved: bool = False

    def input_id(self, block_name: str) -> str:
        return f"{block_name}-photo"


def _clean_name(name: str | None) -> str | None:
    if not name:
        return None
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C").strip()
    return base[:200] or None


def own_photo(session: Session, raw_id: str | None, actor: Actor) -> StoredFile | None:
    file_id = record_id(raw_id)
    if file_id is None:
        return None
    stored = session.get(StoredFile, file_id)
    if stored is None or stored.kind != PHOTO_KIND or stored.owner_id != actor.id:
        return None
    return stored


def take_photos(session: Session, blocks, actor: Actor, services: Services) -> PhotoState:
    """Store the photos sent with this request and fill every block's ``photo_id``."""
    state = PhotoState()
    limits = services.photos
    for entry in blocks:
        sub = entry.form
        current = own_photo(session, sub.photo_id.data, actor)
        upload = request.files.get(state.input_id(entry.name))
        if upload is not None and upload.filename:
            data = upload.stream.read(limits.max_bytes + 1)
            try:
                info = inspect_upload(data, limits)
            except PhotoRejected as err:
                state.errors[entry.name] = err.message
            else:
                current = services.files.save(
                    session,
                    data,
                    media_type=info.media_type,
                    kind=PHOTO_KIND,
                    owner_id=actor.id,
                    original_name=_clean_name(upload.filename),
                    width=info.width,
                    height=info.height,
                    taken_at=info.taken_at,
                )
                enqueue_processing(session, current, services.now())
                state.saved = True
        sub.photo_id.data = str(current.id) if current is not None else ""
        if current is not None:
            state.photos[entry.name] = current
    return state


def require_photos(blocks, state: PhotoState) -> None:
    for entry in blocks:
        if entry.name not in state.photos and entry.name not in state.errors:
            state.errors[entry.name] = MISSING_PHOTO
