"""Photos as staff receive them: the sanitised copy only, upright, typed, PDFs as attachments; the
original for the roles the policy names, audited; re-used photos and date gaps shown on the review."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import ExifTags, Image
from sqlalchemy import select

from engine.models import AuditEvent, StoredFile
from tests import factories as f
from tests.photo_files import fpdf_bytes, jpeg, textured
from tests.web.helpers import apply_from_preview, error_summary, identify, open_item, start
from workflow.models import Application, ApplicationMeter


def _sideways_gps_photo() -> bytes:
    im = Image.new("RGB", (400, 300), "blue")
    im.paste((255, 0, 0), (0, 0, 200, 300))  # left half red: upright (orientation 6), it is on top
    return jpeg(im, original="2026:02:28 09:15:00", gps=True, orientation=6)


def _apply(auth, username: str, subscriber: dict, photos: list[tuple[bytes, str]]) -> int:
    """The citizen's real readings form, one photo per meter; returns the application id."""
    citizen = auth.login(username)
    start(citizen)
    identify(citizen, subscriber["code"])
    count = len(subscriber["serials"])
    for i, (serial, seal) in enumerate(
        zip(subscriber["serials"], subscriber["seals"], strict=True)
    ):
        data = {
            f"meters-{i}-serial": serial,
            f"meters-{i}-seal": seal,
            f"meters-{i}-value": str(1206 + i),
            "phone": "050 123 45 67",
            ("submit" if i == count - 1 else "add_meter"): "1",
        }
        citizen.submit(data, files={f"meters-{i}-photo": photos[i]})
        assert not [e for e in error_summary(citizen.doc) if "photo" in e[0]], error_summary(
            citizen.doc
        )
    location = apply_from_preview(citizen)
    return int(location.split("/applications/")[1].split("?")[0])


def _lines(system, app_id: int) -> list[ApplicationMeter]:
    with system.sessions() as s:
        lines = s.scalars(
            select(ApplicationMeter)
            .where(ApplicationMeter.application_id == app_id)
            .order_by(ApplicationMeter.id)
        ).all()
        s.expunge_all()
        return lines


def test_staff_get_the_sanitised_photo_upright_without_gps_and_pdfs_as_attachments(
    auth, people, subscriber, system
):
    original = _sideways_gps_photo()
    app_id = _apply(
        auth, people["citizen"], subscriber, [(original, "meter.jpg"), (fpdf_bytes(), "scan.pdf")]
    )
    photo_line, pdf_line = _lines(system, app_id)
    operator = auth.login(people["operator"])
    review = open_item(system, "review_application")

    response = operator.get(f"/tasks/{review}/photos/{photo_line.id}")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"].startswith("inline")
    served = Image.open(io.BytesIO(response.get_data()))
    assert not served.getexif().get_ifd(ExifTags.IFD.GPSInfo) and len(served.getexif()) == 0
    assert served.size == (300, 400)  # upright
    top, bottom = (
        served.convert("RGB").getpixel((150, 50)),
        served.convert("RGB").getpixel((150, 350)),
    )
    assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60
    with system.sessions() as s:  # the original is kept as evidence, GPS included
        kept = s.get(StoredFile, photo_line.photo_id)
        assert system.services.files.read(kept) == original

    response = operator.get(f"/tasks/{review}/photos/{pdf_line.id}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"

    # the same through the application page's link
    response = operator.get(f"/applications/{app_id}/photos/{photo_line.id}")
    assert response.status_code == 200 and b"GPS" not in response.get_data()
    assert Image.open(io.BytesIO(response.get_data())).size == (300, 400)


def test_the_original_goes_only_to_the_roles_the_policy_names_and_every_download_is_audited(
    auth, people, subscriber, system
):
    original = _sideways_gps_photo()
    app_id = _apply(
        auth, people["citizen"], subscriber, [(original, "meter.jpg"), (fpdf_bytes(), "scan.pdf")]
    )
    line = _lines(system, app_id)[0]
    url = f"/applications/{app_id}/photos/{line.id}/original"
    for who in ("citizen", "operator", "operator_other_unit", "inspector"):
        browser = auth.login(people[who])
        assert browser.get(url).status_code == 404, who
    head = auth.login(people["unit_head"])
    response = head.get(url)
    assert response.status_code == 200 and response.get_data() == original
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert Image.open(io.BytesIO(response.get_data())).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    head.get(url)
    with system.sessions() as s:
        events = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "original_photo_downloaded")
        ).all()
        assert len(events) == 2
        assert {e.entity for e in events} == {f"stored_file:{line.photo_id}"}
        assert events[0].detail["application_id"] == app_id and events[0].actor_id is not None
    head.get(f"/applications/{app_id}")
    assert head.doc.xpath(f"//a[@href='{url}']")  # offered where it may be used
    operator = auth.login(people["operator"])
    operator.get(f"/applications/{app_id}")
    assert operator.response.status_code == 200 and not operator.doc.xpath(f"//a[@href='{url}']")


def test_a_photo_reused_for_another_subscriber_is_shown_beside_the_first_on_the_review(
    auth, people, subscriber, system
):
    with system.sessions() as s:
        other = f.subscriber(s, meters=1, last_read=system.services.today() - timedelta(days=30))
        s.commit()
        second = {
            "code": other.code,
            "serials": [m.serial for m in other.meters],
            "seals": [m.seal for m in other.meters],
        }
    photo = jpeg(textured(seed=40))
    first_id = _apply(
        auth, people["citizen"], subscriber, [(photo, "a.jpg"), (fpdf_bytes(), "scan.pdf")]
    )
    second_id = _apply(
        auth, people["citizen2"], second, [(jpeg(textured(seed=40), quality=70), "b.jpg")]
    )
    with system.sessions() as s:
        first_number = s.get(Application, first_id).number
    first_line, second_line = _lines(system, first_id)[0], _lines(system, second_id)[0]

    operator = auth.login(people["operator"])
    review = open_item(system, "review_application")
    operator.get(f"/tasks/{review}")
    doc = operator.doc
    pair = doc.xpath("//figure[@data-photo-match]")
    assert len(pair) == 1
    images = pair[0].xpath(".//img/@src")
    assert images == [
        f"/tasks/{review}/photos/{second_line.id}",
        f"/tasks/{review}/photos/{second_line.id}/match",
    ]
    assert (
        pair[0]
        .xpath(f".//a[@href='/applications/{first_id}']/text()")[0]
        .strip()
        .endswith(first_number)
    )
    assert pair[0].xpath(f".//a[@href='/applications/{second_id}']")
    assert (
        f"{first_number} nömrəli müraciətlə"
        in doc.xpath("//section[contains(@class, 'evidence')]")[0].text_content()
    )
    assert "başqa abonent" in operator.html

    response = operator.get(f"/tasks/{review}/photos/{second_line.id}/match")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"
    with system.sessions() as s:
        first_photo = s.get(StoredFile, first_line.photo_id)
        assert response.get_data() == system.services.files.read(
            s.get(StoredFile, first_photo.sanitized_id)
        )
    # only the photo the flag names: the other meter's line has none
    assert operator.get(f"/tasks/{review}/photos/{first_line.id}/match").status_code == 404


def test_a_capture_date_far_from_the_reading_date_is_shown_on_the_review(
    auth, people, subscriber, system
):
    taken = system.services.today() - timedelta(days=20)
    photo = jpeg(textured(seed=41), original=taken.strftime("%Y:%m:%d 10:00:00"))
    _apply(auth, people["citizen"], subscriber, [(photo, "a.jpg"), (fpdf_bytes(), "scan.pdf")])
    operator = auth.login(people["operator"])
    operator.get(f"/tasks/{open_item(system, 'review_application')}")
    evidence = operator.doc.xpath("//section[contains(@class, 'evidence')]")[0].text_content()
    assert taken.isoformat() in evidence and "20" in evidence
    assert "The photo was taken" not in operator.html  # in Azerbaijani
