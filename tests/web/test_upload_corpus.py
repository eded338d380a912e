"""A corpus of hostile and ordinary files through the real readings form, as a citizen.

Every file is either refused with a translated field error in the error summary (the other
answers kept) or stored and, for a picture, sanitised by its job; no server error. The corpus
is made here, file by file.
"""

from __future__ import annotations

import io
import random
import struct
import zipfile
import zlib
from pathlib import Path

import pytest
from babel.support import Translations
from PIL import ExifTags, Image
from sqlalchemy import func, select

from engine.models import StoredFile
from tests.photo_files import fpdf_bytes, jpeg, png, png_chunk, textured
from tests.web.helpers import error_summary, identify, start
from workflow.photo_evidence import SANITIZED_KIND

TRANSLATIONS = Path(__file__).resolve().parents[2] / "web" / "translations"
TYPE = "The photo must be a PDF, JPG or PNG"
UNREADABLE = "The photo could not be read: upload it again"
ACTIVE = "The PDF contains scripts, actions or attached files: send a photo or a plain PDF"
ARCHIVE = "The file is also an archive: send the photo exactly as the camera saved it"
PIXELS = "The photo is too large: at most %(pixels)s megapixels"
BYTES = "The photo must be smaller than %(size)s MB"
EMPTY = "Select a photo of the meter"
SMALL = "The photo is too small to read: at least %(side)s pixels on each side"
PARAMS = {PIXELS: {"pixels": 40}, BYTES: {"size": 10}, SMALL: {"side": 200}}


def _zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.html", "<script>alert(document.cookie)</script>")
    return buf.getvalue()


def _pdf(extra: bytes) -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R " + extra + b">> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )


def _pdf_with_hidden_script() -> bytes:
    hidden = zlib.compress(b"3 0 obj <</S /JavaScript /JS (app.launchURL('http://x'))>> endobj")
    return (
        b"%PDF-1.7\n1 0 obj <</Type /Catalog /OpenAction 3 0 R>> endobj\n"
        b"4 0 obj <</Type /ObjStm /Filter /FlateDecode /Length "
        + str(len(hidden)).encode()
        + b">>\nstream\n"
        + hidden
        + b"\nendstream endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )


def _png_bomb() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 10_000))
        + png_chunk(b"IEND", b"")
    )


def _jpeg_bomb() -> bytes:
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65_000, 65_000, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + sof + sos + b"\x00" * 32 + b"\xff\xd9"


def _png_corrupt_pixels() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 400, 300, 8, 2, 0, 0, 0)
    garbage = b"\x78\x9c" + bytes(random.Random(11).randrange(256) for _ in range(3000))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", garbage)
        + png_chunk(b"IEND", b"")
    )


def _gif() -> bytes:
    buf = io.BytesIO()
    textured().save(buf, "GIF")
    return buf.getvalue()


def _motion_photo() -> bytes:
    mp4 = (
        struct.pack(">I", 24)
        + b"ftypmp42"
        + b"\0\0\0\0mp42isom"
        + struct.pack(">I", 4008)
        + b"mdat"
        + bytes(random.Random(5).randrange(256) for _ in range(4000))
    )
    return jpeg(textured(seed=21)) + mp4


GPS_JPEG = jpeg(textured(seed=20), original="2026:02:28 09:15:00", gps=True)
CAMERA = jpeg(textured(seed=22))

# (name, file name, bytes, the refusal's message id or None when accepted)
CORPUS = [
    ("jpeg-with-gps", "meter.jpg", GPS_JPEG, None),
    ("jpeg-rotated", "meter.jpg", jpeg(textured(seed=23), orientation=6), None),
    ("png-with-text", "meter.png", png(textured(seed=24), text="lat 40.4 lon 49.8"), None),
    ("motion-photo", "meter.jpg", _motion_photo(), None),
    ("pdf-plain", "meter.pdf", fpdf_bytes(), None),
    ("pdf-whitespace-after-eof", "meter.pdf", _pdf(b"") + b"\r\n\n  ", None),
    ("pdf-open-page", "meter.pdf", _pdf(b"/OpenAction [2 0 R /Fit]"), None),
    (
        "pdf-javascript",
        "meter.pdf",
        _pdf(b"/OpenAction <</S /JavaScript /JS (app.alert(1))>>"),
        ACTIVE,
    ),
    (
        "pdf-javascript-escaped",
        "meter.pdf",
        _pdf(b"/OpenAction <</S /#4Aava#53cript /J#53 (x)>>"),
        ACTIVE,
    ),
    ("pdf-launch", "meter.pdf", _pdf(b"/Next <</S /Launch /F (cmd.exe)>>"), ACTIVE),
    ("pdf-additional-actions-escaped", "meter.pdf", _pdf(b"/#41#41 <</O 3 0 R>>"), ACTIVE),
    ("pdf-embedded-file", "meter.pdf", _pdf(b"/Names <</EmbeddedFiles 5 0 R>>"), ACTIVE),
    ("pdf-richmedia", "meter.pdf", _pdf(b"/Annots [<</Subtype /RichMedia>>]"), ACTIVE),
    ("pdf-script-in-object-stream", "meter.pdf", _pdf_with_hidden_script(), ACTIVE),
    ("pdf-no-eof", "meter.pdf", fpdf_bytes()[:-200], UNREADABLE),
    ("pdf-junk-after-eof", "meter.pdf", _pdf(b"") + b"<html>", UNREADABLE),
    ("png-passes-verify-fails-load", "meter.png", _png_corrupt_pixels(), UNREADABLE),
    ("jpeg-zip-polyglot", "meter.jpg", CAMERA + _zip(), ARCHIVE),
    ("png-zip-polyglot", "meter.png", png(textured(seed=25)) + _zip(), ARCHIVE),
    ("png-bomb", "meter.png", _png_bomb(), PIXELS),
    ("jpeg-bomb", "meter.jpg", _jpeg_bomb(), PIXELS),
    ("oversize", "meter.jpg", CAMERA + b"\0" * (10 * 1024 * 1024), BYTES),
    ("gif", "meter.gif", _gif(), TYPE),
    (
        "svg-named-jpg",
        "meter.jpg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        TYPE,
    ),
    (
        "html-named-jpg",
        "meter.jpg",
        b"<!DOCTYPE html><html><body onload=alert(1)></body></html>",
        TYPE,
    ),
    ("zero-bytes", "meter.jpg", b"", EMPTY),
    ("truncated-jpeg", "meter.jpg", CAMERA[: len(CAMERA) // 2], UNREADABLE),
    ("truncated-png", "meter.png", png(textured(seed=26))[:900], UNREADABLE),
    ("too-small", "meter.png", png(textured((120, 90), seed=27)), SMALL),
]


def _az(msgid: str) -> str:
    text = Translations.load(str(TRANSLATIONS), ["az"]).gettext(msgid)
    assert text != msgid, f"not translated: {msgid}"
    return text % PARAMS.get(msgid, {}) if "%(" in text else text


@pytest.fixture
def readings_page(auth, people, subscriber):
    citizen = auth.login(people["citizen"])
    start(citizen)
    identify(citizen, subscriber["code"])
    return citizen


def test_every_file_of_the_corpus_is_refused_with_a_field_error_or_stored_sanitised(
    readings_page, subscriber, system, capsys
):
    citizen = readings_page
    serial, seal = subscriber["serials"][0], subscriber["seals"][0]
    refused = stored = server_errors = 0
    for name, filename, data, refusal in CORPUS:
        with system.sessions() as s:
            before = s.scalar(select(func.max(StoredFile.id))) or 0
        # the reading is left empty on purpose: the page comes back with errors, the photo is
        # judged (and, when it is acceptable, stored) all the same
        citizen.submit(
            {
                "meters-0-serial": serial,
                "meters-0-seal": seal,
                "meters-0-value": "",
                "meters-0-photo_id": "",
                "add_meter": "1",
            },
            files={"meters-0-photo": (data, filename)},
        )
        # the test client spools a large body to a temporary file that nothing closes
        citizen.response.request.environ["wsgi.input"].close()
        status = citizen.response.status_code
        server_errors += status >= 500
        assert status == 200, (name, status)
        doc = citizen.doc
        assert doc.xpath("//input[@name='meters-0-serial']/@value") == [serial], (
            name
        )  # other answers kept
        photo_errors = [text for href, text in error_summary(doc) if href == "#meters-0-photo"]
        with system.sessions() as s:
            new = s.scalars(
                select(StoredFile).where(StoredFile.id > before, StoredFile.kind == "photo")
            ).all()
            if refusal is not None:
                assert photo_errors == [_az(refusal)], name
                assert doc.xpath("//p[@id='meters-0-photo-error']"), name
                assert new == [], name
                refused += 1
                continue
            assert photo_errors == [], (name, photo_errors)
            assert len(new) == 1 and new[0].sha256 and system.services.files.read(new[0]) == data, (
                name
            )
            if new[0].media_type == "application/pdf":
                assert new[0].sanitized_id is None, (
                    name
                )  # checked, kept as sent, served as an attachment
            else:
                copy = s.get(StoredFile, new[0].sanitized_id)
                assert copy.kind == SANITIZED_KIND, name
                clean = system.services.files.read(copy)
                out = Image.open(io.BytesIO(clean))
                assert (
                    len(out.getexif()) == 0
                    and not {"exif", "icc_profile", "Comment"} & out.info.keys()
                ), name
                assert b"lat 40.4" not in clean and b"ftypmp42" not in clean, name
            stored += 1
    assert (refused, stored, server_errors) == (
        sum(r is not None for *_, r in CORPUS),
        sum(r is None for *_, r in CORPUS),
        0,
    )
    with capsys.disabled():
        print(
            f"\nupload corpus: {len(CORPUS)} files tried, {refused} refused with a field error, "
            f"{stored} stored ({stored - sum(d.startswith(b'%PDF') for _, _, d, r in CORPUS if r is None)} "
            f"pictures sanitised), {server_errors} server errors"
        )


def test_the_gps_photo_in_the_corpus_really_carries_gps():
    assert Image.open(io.BytesIO(GPS_JPEG)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
