"""What happens to a photo after the upload: its job (hash, sanitised copy) and its evidence flags.

The job (:data:`PROCESS_PHOTO_JOB`, enqueued through the outbox in the upload's transaction)
decodes the stored original once and records on its ``stored_file`` row:

* ``phash``: ImageHash's 64-bit perceptual hash of the upright picture;
* ``sanitized_id``: a copy re-encoded upright with no metadata at all (EXIF, GPS, XMP, ICC,
  text chunks), stored as its own ``stored_file`` of kind :data:`SANITIZED_KIND`.

Staff and the citizen are only ever served the sanitised copy (:func:`served_photo`); until the
job has run, the copy is made on demand for that one response and not stored. The original is
kept as evidence. PDFs get neither (they are checked for active content at upload and served
only as attachments).

:func:`evidence_flags` are soft flags for staff (severity "inspect"), computed when the
application is registered: a photo identical or nearly identical (pHash distance at most
``near_duplicate_distance``) to one sent with another application, either for another
subscriber or for an earlier period of the same one, and an EXIF capture date more than
``exif_gap_days`` from the reading date. A near-duplicate flag names the other application and
photo so that the review page can show both side by side.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeGuard

from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import jobs
from engine.files import FileStore
from engine.models import StoredFile
from workflow.i18n import N_, Message
from workflow.models import Application, ApplicationMeter
from workflow.photos import MEDIA_TYPES, PhotoLimits, hamming, perceptual_hash, sanitize_image
from workflow.plausibility import Flag

DEFAULT_LIMITS = PhotoLimits()  # frozen: safe to share as a default

__all__ = [
    "PROCESS_PHOTO_JOB",
    "PHOTO_QUEUE",
    "PHOTO_KIND",
    "SANITIZED_KIND",
    "EarlierPhoto",
    "PhotoFlag",
    "enqueue_processing",
    "process_photo",
    "served_photo",
    "ensure_phash",
    "earlier_photos",
    "has_detail",
    "evidence_flags",
]

PROCESS_PHOTO_JOB = "process_photo"
PHOTO_QUEUE = "files"
PHOTO_KIND = "photo"
SANITIZED_KIND = "photo_sanitized"
IMAGE_TYPES = (MEDIA_TYPES["jpeg"], MEDIA_TYPES["png"])


# ---------------------------------------------------------------------------------------------
# The job
# ---------------------------------------------------------------------------------------------


def enqueue_processing(session: Session, stored: StoredFile, now: datetime) -> None:
    """Add the photo's job to the outbox; it commits with the upload (a PDF needs none)."""
    if stored.media_type in IMAGE_TYPES:
        jobs.enqueue(
            session,
            PROCESS_PHOTO_JOB,
            {"file_id": stored.id},
            queue=PHOTO_QUEUE,
            now=now,
            dedupe_key=f"photo:{stored.id}",
        )


def ensure_phash(stored: StoredFile, files: FileStore, limits: PhotoLimits) -> int | None:
    """The photo's pHash, computed now when its job has not run yet (None for a PDF)."""
    if stored.phash is None and stored.media_type in IMAGE_TYPES:
        stored.phash = perceptual_hash(files.read(stored), limits)
    return stored.phash


def process_photo(session: Session, file_id: int, files: FileStore, limits: PhotoLimits) -> None:
    """The job: pHash and sanitised copy of one uploaded photo; running it again changes nothing."""
    stored = session.get(StoredFile, file_id)
    if stored is None or stored.kind != PHOTO_KIND or stored.media_type not in IMAGE_TYPES:
        return
    data = files.read(stored)
    if stored.phash is None:
        stored.phash = perceptual_hash(data, limits)
    if stored.sanitized_id is None:
        clean = sanitize_image(data, limits)
        width, height = Image.open(
            io.BytesIO(clean)
        ).size  # upright: may differ from the original's
        copy = files.save(
            session,
            clean,
            media_type=stored.media_type,
            kind=SANITIZED_KIND,
            owner_id=stored.owner_id,
            original_name=stored.original_name,
            width=width,
            height=height,
        )
        stored.sanitized_id = copy.id
    session.flush()


def served_photo(
    session: Session, stored: StoredFile, files: FileStore, limits: PhotoLimits
) -> tuple[bytes, str]:
    """(bytes, media type) of what may be shown of an uploaded photo: the sanitised copy, made now
    (and not stored) when the job has not run yet; a PDF as it was checked at upload."""
    if stored.media_type not in IMAGE_TYPES:
        return files.read(stored), stored.media_type
    if stored.sanitized_id is not None:
        copy = session.get(StoredFile, stored.sanitized_id)
        assert copy is not None  # foreign key
        return files.read(copy), copy.media_type
    return sanitize_image(files.read(stored), limits), stored.media_type


# ---------------------------------------------------------------------------------------------
# Evidence flags
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EarlierPhoto:
    """A photo sent with another registered application."""

    sha256: str
    phash: int | None
    application_id: int
    number: str
    line_id: int
    file_id: int
    same_subscriber: bool


@dataclass(frozen=True)
class PhotoFlag(Flag):
    """A flag that points at the other photo (a re-used or near-duplicate photo)."""

    match: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "match": dict(self.match)}


def earlier_photos(session: Session, app: Application, since: datetime) -> list[EarlierPhoto]:
    """Photos of the other registered applications submitted since ``since`` (any subscriber)."""
    rows = session.execute(
        select(
            StoredFile.sha256,
            StoredFile.phash,
            Application.id,
            Application.number,
            ApplicationMeter.id,
            StoredFile.id,
            Application.subscriber_id,
        )
        .join(ApplicationMeter, ApplicationMeter.photo_id == StoredFile.id)
        .join(Application, Application.id == ApplicationMeter.application_id)
        .where(
            Application.id != app.id,
            Application.number.is_not(None),
            Application.status != "abandoned",
            Application.submitted_at >= since,
        )
        .order_by(Application.submitted_at.desc())
    ).all()
    photos = []
    for sha, ph, app_id, number, line_id, file_id, sub_id in rows:
        assert number is not None  # the query keeps registered (numbered) applications only
        photos.append(
            EarlierPhoto(sha, ph, app_id, number, line_id, file_id, sub_id == app.subscriber_id)
        )
    return photos


def lookback_start(now: datetime, limits: PhotoLimits) -> datetime:
    return now - timedelta(days=limits.near_duplicate_lookback_days)


def _match(photo: EarlierPhoto, distance: int) -> dict[str, Any]:
    return {
        "application_id": photo.application_id,
        "number": photo.number,
        "line_id": photo.line_id,
        "file_id": photo.file_id,
        "same_subscriber": photo.same_subscriber,
        "distance": distance,
    }


_IDENTICAL = {
    True: N_(
        "This photo is identical to the photo sent with application %(number)s for this subscriber"
    ),
    False: N_(
        "This photo is identical to the photo sent with application %(number)s for another subscriber"
    ),
}
_NEAR = {
    True: N_(
        "This photo is almost identical to the photo sent with application %(number)s for this "
        "subscriber (difference %(distance)s of 64)"
    ),
    False: N_(
        "This photo is almost identical to the photo sent with application %(number)s for another "
        "subscriber (difference %(distance)s of 64)"
    ),
}


def has_detail(phash: int | None) -> TypeGuard[int]:
    """Whether a pHash can tell pictures apart. pHash sets the bits of the DCT coefficients above
    their median, about half of them for any real photo; a flat picture (a blank or uniformly
    coloured frame) sets almost none, and all flat pictures hash alike, so they are never
    compared (identical bytes are still flagged)."""
    return phash is not None and 8 <= (phash & ((1 << 64) - 1)).bit_count() <= 56


def evidence_flags(
    sha256: str,
    phash: int | None,
    taken_at: datetime | None,
    declared_date: date,
    earlier: Sequence[EarlierPhoto],
    limits: PhotoLimits = DEFAULT_LIMITS,
) -> tuple[Flag, ...]:
    """Soft flags for staff (severity "inspect"); a photo is never refused for these.

    The closest earlier photo wins (identical bytes first, then the smallest pHash distance);
    pictures without detail are not compared by pHash (:func:`has_detail`).
    A missing capture date is deliberately *not* a flag: PNG has no EXIF as a rule, and
    messaging apps strip it, so its absence says nothing about the reading.
    """
    flags: list[Flag] = []
    identical = next((p for p in earlier if p.sha256 == sha256), None)
    if identical is not None:
        flags.append(
            PhotoFlag(
                "photo_reused",
                "inspect",
                Message(_IDENTICAL[identical.same_subscriber], {"number": identical.number}),
                _match(identical, 0),
            )
        )
    elif has_detail(phash):
        scored = [(hamming(phash, p.phash), p) for p in earlier if has_detail(p.phash)]
        if scored:
            distance, closest = min(scored, key=lambda pair: pair[0])
            if distance <= limits.near_duplicate_distance:
                flags.append(
                    PhotoFlag(
                        "photo_near_duplicate",
                        "inspect",
                        Message(
                            _NEAR[closest.same_subscriber],
                            {"number": closest.number, "distance": distance},
                        ),
                        _match(closest, distance),
                    )
                )
    if taken_at is not None:
        gap = abs((taken_at.date() - declared_date).days)
        if gap > limits.exif_gap_days:
            flags.append(
                Flag(
                    "photo_date_gap",
                    "inspect",
                    Message(
                        N_(
                            "The photo was taken on %(taken_on)s, %(days)s days from the reading date "
                            "%(date)s"
                        ),
                        {
                            "taken_on": taken_at.date().isoformat(),
                            "days": gap,
                            "date": declared_date.isoformat(),
                        },
                    ),
                )
            )
    return tuple(flags)
