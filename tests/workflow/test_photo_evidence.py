"""A photo's job (pHash, sanitised copy) and the evidence flags staff see, through the real process."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import ExifTags, Image
from sqlalchemy import select

from engine.models import Job, StoredFile
from tests.photo_files import jpeg, textured
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow import factories as f
from workflow.photo_evidence import SANITIZED_KIND, enqueue_processing, served_photo
from workflow.photos import hamming, inspect_upload


@pytest.fixture
def world(system):
    people = make_people(system)
    with system.sessions() as s:
        people["citizen2"] = f.actor(f.account(s, "citizen", fin="7XYZ987"))
        s.commit()
    return people


def upload(life: Lifecycle, owner, data: bytes) -> int:
    """What the upload does: check, store the original, enqueue its job; then the jobs run."""
    system = life.system
    info = inspect_upload(data, system.services.photos)
    with system.sessions() as s:
        stored = system.services.files.save(
            s,
            data,
            media_type=info.media_type,
            kind="photo",
            owner_id=owner.id,
            original_name="meter.jpg",
            width=info.width,
            height=info.height,
            taken_at=info.taken_at,
        )
        enqueue_processing(s, stored, system.services.now())
        s.commit()
        file_id = stored.id
    life.run_jobs()
    return file_id


def test_the_job_stores_a_sanitised_upright_copy_without_gps_and_the_phash(system, world):
    life = Lifecycle(system)
    im = Image.new("RGB", (400, 300), "blue")
    im.paste((255, 0, 0), (0, 0, 200, 300))  # left half red; orientation 6 shows it on top
    data = jpeg(im, original="2026:02:28 09:15:00", gps=True, orientation=6)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    file_id = upload(life, world["citizen"], data)
    with system.sessions() as s:
        original = s.get(StoredFile, file_id)
        assert s.scalar(select(Job.status).where(Job.name == "process_photo")) == "done"
        assert original.phash is not None and original.sanitized_id is not None
        copy = s.get(StoredFile, original.sanitized_id)
        assert (copy.kind, copy.owner_id, copy.width, copy.height) == (
            SANITIZED_KIND,
            world["citizen"].id,
            300,
            400,
        )
        served, media_type = served_photo(
            s, original, system.services.files, system.services.photos
        )
        assert system.services.files.read(original) == data  # the original is kept as evidence
    out = Image.open(io.BytesIO(served))
    assert media_type == "image/jpeg" and out.format == "JPEG"
    assert not out.getexif().get_ifd(ExifTags.IFD.GPSInfo) and len(out.getexif()) == 0
    assert out.size == (300, 400)
    top = out.convert("RGB").getpixel((150, 50))
    assert top[0] > 200 and top[2] < 60  # upright: the red half on top


def test_a_photo_reused_for_another_subscriber_is_flagged_with_both_applications(system, world):
    life = Lifecycle(system)
    first_code, serials1, seals1 = new_subscriber(system)
    second_code, serials2, seals2 = new_subscriber(system)
    photo = jpeg(textured(seed=5))
    first_photo = upload(life, world["citizen"], photo)
    first = submit(life, world, first_code, serials1, seals1, [1206], photo_ids=[first_photo])
    assert life.application(first).lines[0].flags == []

    resaved = jpeg(textured(seed=5), quality=70)  # the same picture saved again: other bytes
    second_photo = upload(life, world["citizen2"], resaved)
    second = submit(
        life,
        world,
        second_code,
        serials2,
        seals2,
        [1206],
        photo_ids=[second_photo],
        citizen="citizen2",
    )

    first_app, second_app = life.application(first), life.application(second)
    evidence = [flag for flag in second_app.lines[0].flags if flag["code"].startswith("photo_")]
    assert [flag["code"] for flag in evidence] == ["photo_near_duplicate"]
    match = evidence[0]["match"]
    assert (match["application_id"], match["number"], match["line_id"], match["file_id"]) == (
        first_app.id,
        first_app.number,
        first_app.lines[0].id,
        first_photo,
    )
    assert (
        match["same_subscriber"] is False
        and match["distance"] <= system.services.photos.near_duplicate_distance
    )
    with system.sessions() as s:
        a, b = s.get(StoredFile, first_photo), s.get(StoredFile, second_photo)
        assert hamming(a.phash, b.phash) == match["distance"]


def test_a_capture_date_far_from_the_reading_date_is_flagged(system, world):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    taken = system.services.today() - timedelta(days=20)
    photo = upload(
        life, world["citizen"], jpeg(textured(seed=9), original=taken.strftime("%Y:%m:%d 10:00:00"))
    )
    iid = submit(life, world, code, serials, seals, [1206], photo_ids=[photo])
    flags = [
        flag for flag in life.application(iid).lines[0].flags if flag["code"].startswith("photo_")
    ]
    assert [flag["code"] for flag in flags] == ["photo_date_gap"]
    assert flags[0]["message"]["params"]["days"] == 20
