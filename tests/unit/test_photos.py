"""Photo evidence: what is accepted, what is refused, and what is stripped before storing."""

from __future__ import annotations

import hashlib
import io
import random
import struct
import warnings
import zlib
from datetime import date, datetime

import pytest
from PIL import ExifTags, Image, ImageEnhance

from tests.photo_files import fpdf_bytes, jpeg, png, png_chunk, textured
from workflow.photo_evidence import EarlierPhoto, evidence_flags
from workflow.photos import (
    PhotoLimits,
    PhotoRejected,
    exif_taken_at,
    hamming,
    inspect_upload,
    make_thumbnail,
    perceptual_hash,
    sanitize_image,
)

LIMITS = PhotoLimits()


HAND_PDF = (
    b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
    b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\n"
    b"trailer <</Root 1 0 R>>\n%%EOF\n"
)

PHOTO = jpeg(textured(), original="2026:02:28 09:15:00", plain="2026:03:02 18:00:00", gps=True)


def rejected(data: bytes, limits: PhotoLimits = LIMITS) -> PhotoRejected:
    with pytest.raises(PhotoRejected) as err:
        inspect_upload(data, limits)
    return err.value


# -- accepted uploads ----------------------------------------------------------------------------


def test_a_camera_jpeg_is_accepted_with_its_facts():
    info = inspect_upload(PHOTO)
    assert (info.kind, info.media_type, info.width, info.height) == ("jpeg", "image/jpeg", 800, 600)
    assert info.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert info.taken_at == datetime(2026, 2, 28, 9, 15)  # DateTimeOriginal wins over DateTime
    assert info.phash is None  # decoding is the worker's job
    assert inspect_upload(PHOTO, with_phash=True).phash == perceptual_hash(PHOTO)


def test_png_and_pdf_are_accepted():
    info = inspect_upload(png(textured()))
    assert (info.kind, info.media_type, info.taken_at) == ("png", "image/png", None)
    for pdf in (HAND_PDF, fpdf_bytes()):
        info = inspect_upload(pdf)
        assert (info.kind, info.media_type, info.width, info.phash) == (
            "pdf",
            "application/pdf",
            None,
            None,
        )


# -- refused uploads ----------------------------------------------------------------------------


def test_empty_upload_asks_to_select_a_photo():
    assert rejected(b"").message.text == "Select a photo of the meter"


def _gif() -> bytes:
    buf = io.BytesIO()
    textured().save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        b"This is my meter reading: 01120\n",  # a text file someone named meter.png
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">'
        b"<script>alert(1)</script></svg>",
        b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
        _gif(),
        b"PNG\r\n" + png(textured())[8:],  # a PNG missing its signature byte
    ],
    ids=["text", "svg", "html", "gif", "broken-signature"],
)
def test_anything_but_pdf_jpeg_png_is_refused_by_content(data):
    assert rejected(data).message.text == "The photo must be a PDF, JPG or PNG"


@pytest.mark.parametrize("cut", [4, 200, len(PHOTO) // 2, len(PHOTO) - 2])
def test_a_truncated_jpeg_could_not_be_read(cut):
    assert rejected(PHOTO[:cut]).message.text == "The photo could not be read: upload it again"


def test_a_truncated_or_corrupt_png_could_not_be_read():
    data = png(textured())
    assert rejected(data[: len(data) // 2]).reason == "unreadable"
    broken = bytearray(data)
    broken[60] ^= 0xFF  # inside the first IDAT: its CRC no longer matches
    assert rejected(bytes(broken)).reason == "unreadable"


def test_a_pdf_without_its_trailer_could_not_be_read():
    pdf = fpdf_bytes()
    assert rejected(pdf[: len(pdf) // 2]).reason == "unreadable"
    assert rejected(HAND_PDF + b"trailing junk after the end\n").reason == "unreadable"
    assert inspect_upload(HAND_PDF + b"\r\n \n").kind == "pdf"  # whitespace after %%EOF is fine


def png_with_corrupt_pixels() -> bytes:
    """Every chunk CRC is right (verify() passes) but the IDAT is not zlib data (load() fails)."""
    ihdr = struct.pack(">IIBBBBB", 400, 300, 8, 2, 0, 0, 0)
    garbage = bytes(random.Random(7).randrange(256) for _ in range(3000))
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", b"\x78\x9c" + garbage)
        + png_chunk(b"IEND", b"")
    )


def test_a_png_that_passes_verify_but_fails_to_decode_could_not_be_read():
    data = png_with_corrupt_pixels()
    Image.open(io.BytesIO(data)).verify()  # the container is sound
    assert rejected(data).reason == "unreadable"


def zip_bytes() -> bytes:
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("payload.html", "<script>alert(1)</script>")
    return buf.getvalue()


def test_a_photo_that_is_also_a_zip_archive_is_refused():
    assert rejected(PHOTO + zip_bytes()).reason == "archive"
    assert rejected(png(textured()) + zip_bytes()).reason == "archive"
    assert rejected(fpdf_bytes().rstrip() + b"\n" + zip_bytes() + b"\n%%EOF\n").reason == "archive"
    no_directory = zip_bytes().split(b"PK\x01\x02")[0]  # local headers only, no central directory
    assert rejected(PHOTO + no_directory).reason == "archive"


def test_a_motion_photo_with_a_video_after_the_jpeg_is_accepted():
    mp4 = (
        struct.pack(">I", 24)
        + b"ftypmp42"
        + b"\0\0\0\0mp42isom"
        + struct.pack(">I", 5008)
        + b"mdat"
        + bytes(random.Random(3).randrange(256) for _ in range(5000))
    )
    info = inspect_upload(PHOTO + mp4)
    assert (info.kind, info.width) == ("jpeg", 800)


def active_pdf(action: bytes) -> bytes:
    return (
        b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R " + action + b">> endobj\n"
        b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )


@pytest.mark.parametrize(
    "action",
    [
        b"/OpenAction <</S /JavaScript /JS (app.alert(1))>>",
        b"/OpenAction <</S /J#61vaScript /J#53 (app.alert(1))>>",
        b"/AA <</O <</S /Launch /F (cmd.exe)>>>>",
        b"/#41A <</O 3 0 R>>",
        b"/Names <</EmbeddedFiles <</Names [(a.exe) 4 0 R]>>>>",
        b"/Names <</#45mbedded#46ile 4 0 R>>",
        b"/RichMedia 5 0 R",
        b"/Next <</S /L#61unch /F (calc)>>",
    ],
    ids=[
        "js",
        "escaped-js",
        "aa-launch",
        "escaped-aa",
        "embedded",
        "escaped-embedded",
        "richmedia",
        "escaped-launch",
    ],
)
def test_a_pdf_with_scripts_actions_or_attachments_is_refused(action):
    err = rejected(active_pdf(action))
    assert (err.reason, err.message.text) == (
        "active",
        "The PDF contains scripts, actions or attached files: send a photo or a plain PDF",
    )


def test_a_script_hidden_in_a_compressed_object_stream_is_refused():
    hidden = zlib.compress(b"3 0 obj <</S /JavaScript /JS (app.alert(1))>> endobj")
    pdf = (
        b"%PDF-1.7\n1 0 obj <</Type /Catalog /Pages 2 0 R /OpenAction 3 0 R>> endobj\n"
        b"4 0 obj <</Type /ObjStm /Filter /FlateDecode /Length "
        + str(len(hidden)).encode()
        + b">>\nstream\n"
        + hidden
        + b"\nendstream endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n"
    )
    assert rejected(pdf).reason == "active"


def test_a_pdf_that_opens_on_a_page_or_names_similar_words_is_accepted():
    pdf = active_pdf(b"/OpenAction [3 0 R /Fit] /AAPL:Keywords [(meter)] /JBIG2Globals 7 0 R")
    assert inspect_upload(pdf).kind == "pdf"


def test_oversize_files_are_refused_before_anything_else():
    err = rejected(PHOTO, PhotoLimits(max_bytes=10_000))
    assert err.message.text == "The photo must be smaller than %(size)s MB"
    assert err.message.render() != err.message.text
    huge = b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024)
    assert rejected(huge).message.render() == "The photo must be smaller than 10 MB"


def test_too_many_pixels_are_refused():
    err = rejected(PHOTO, PhotoLimits(max_pixels=400_000))  # 800 x 600 = 480,000
    assert err.message.text == "The photo is too large: at most %(pixels)s megapixels"
    assert err.message.render() == "The photo is too large: at most 0.4 megapixels"


def test_a_png_decompression_bomb_is_refused_from_its_header():
    ihdr = struct.pack(">IIBBBBB", 100_000, 100_000, 8, 2, 0, 0, 0)
    bomb = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 10_000))
        + png_chunk(b"IEND", b"")
    )
    assert len(bomb) < 200
    err = rejected(bomb)  # the warnings filter is "error": a Pillow bomb warning would fail here
    assert err.reason == "pixels"
    assert err.message.render() == "The photo is too large: at most 40 megapixels"
    # the expensive functions refuse it too instead of decoding 30 GB
    with pytest.raises(PhotoRejected):
        sanitize_image(bomb)


def test_pixels_are_counted_from_the_header_before_pillow_sees_the_file():
    # 10,000 x 10,000 = 100 MP: above Pillow's own warning threshold (89 MP). Refused from the
    # header, Pillow never gets to warn (which would mean it had already parsed it).
    ihdr = struct.pack(">IIBBBBB", 10_000, 10_000, 8, 0, 0, 0, 0)
    big = (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000))
        + png_chunk(b"IEND", b"")
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert rejected(big).reason == "pixels"
    assert not [w for w in caught if issubclass(w.category, Image.DecompressionBombWarning)]


def test_a_jpeg_decompression_bomb_is_refused_from_its_header():
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 65_000, 65_000, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    bomb = b"\xff\xd8" + sof + sos + b"\x00" * 32 + b"\xff\xd9"
    assert rejected(bomb).reason == "pixels"


def test_a_tiny_picture_is_too_small_to_read():
    err = rejected(png(textured((150, 600))))
    assert (
        err.message.render() == "The photo is too small to read: at least 200 pixels on each side"
    )


def test_every_refusal_has_its_own_message():
    texts = {
        rejected(b"").message.text,
        rejected(b"hello").message.text,
        rejected(PHOTO[:300]).message.text,
        rejected(PHOTO, PhotoLimits(max_bytes=1000)).message.text,
        rejected(PHOTO, PhotoLimits(max_pixels=1000)).message.text,
        rejected(png(textured((150, 600)))).message.text,
    }
    assert len(texts) == 6


# -- EXIF capture time --------------------------------------------------------------------------


def test_capture_time_prefers_date_time_original_then_date_time():
    assert exif_taken_at(PHOTO) == datetime(2026, 2, 28, 9, 15)
    assert exif_taken_at(jpeg(textured(), plain="2026:03:02 18:00:00")) == datetime(
        2026, 3, 2, 18, 0
    )
    assert exif_taken_at(jpeg(textured())) is None
    assert exif_taken_at(jpeg(textured(), original="0000:00:00 00:00:00")) is None
    assert exif_taken_at(png(textured())) is None
    assert exif_taken_at(HAND_PDF) is None


# -- sanitising and thumbnails --------------------------------------------------------------------


def test_sanitize_strips_gps_and_all_exif():
    assert b"Exif" in PHOTO
    assert Image.open(io.BytesIO(PHOTO)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    clean = sanitize_image(jpeg(textured(), original="2026:02:28 09:15:00", gps=True, icc=True))
    out = Image.open(io.BytesIO(clean))
    assert out.format == "JPEG"
    assert len(out.getexif()) == 0
    assert "exif" not in out.info and "icc_profile" not in out.info
    assert b"Exif" not in clean and b"GPS" not in clean
    assert inspect_upload(clean).taken_at is None


def test_sanitize_applies_the_orientation_so_the_picture_stands_upright():
    im = Image.new("RGB", (400, 300), "blue")
    im.paste((255, 0, 0), (0, 0, 200, 300))  # left half red
    data = jpeg(im, orientation=6)  # stored sideways: display rotates 90° clockwise
    out = Image.open(io.BytesIO(sanitize_image(data))).convert("RGB")
    assert out.size == (300, 400)
    top, bottom = out.getpixel((150, 50)), out.getpixel((150, 350))
    assert top[0] > 200 and top[2] < 60  # the red half is now on top
    assert bottom[2] > 200 and bottom[0] < 60
    assert out.getexif().get(ExifTags.Base.Orientation) is None


def test_sanitize_keeps_png_as_png_without_text_chunks():
    im = textured().convert("RGBA")
    im.putpixel((0, 0), (0, 0, 0, 0))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Samsung"
    data = png(im, text="Samsung SM-A515F, lat 40.4 lon 49.8", exif=exif, icc=True)
    assert {"Comment", "exif", "icc_profile"} <= Image.open(io.BytesIO(data)).info.keys()
    clean = sanitize_image(data)
    out = Image.open(io.BytesIO(clean))
    assert out.format == "PNG" and out.mode == "RGBA"
    assert out.getpixel((0, 0))[3] == 0
    assert b"Samsung" not in clean
    assert not {"Comment", "exif", "icc_profile"} & out.info.keys()
    assert out.tobytes() == im.tobytes()  # lossless


def test_thumbnail_is_a_jpeg_with_the_configured_longest_side():
    thumb = Image.open(io.BytesIO(make_thumbnail(jpeg(textured((1200, 900))))))
    assert (thumb.format, thumb.size) == ("JPEG", (320, 240))
    upright = Image.open(io.BytesIO(make_thumbnail(jpeg(textured((1200, 900)), orientation=6))))
    assert upright.size == (240, 320)
    small = Image.open(
        io.BytesIO(
            make_thumbnail(
                png(textured((250, 250)).convert("RGBA")), PhotoLimits(thumbnail_side=320)
            )
        )
    )
    assert (small.format, small.size) == ("JPEG", (250, 250))  # never enlarged
    other = Image.open(io.BytesIO(make_thumbnail(PHOTO, PhotoLimits(thumbnail_side=100))))
    assert max(other.size) == 100
    assert len(other.getexif()) == 0


# -- perceptual hash -----------------------------------------------------------------------------


def test_phash_is_stable_for_copies_and_different_for_other_pictures():
    im = textured()
    h = perceptual_hash(png(im))
    assert -(2**63) <= h < 2**63  # fits a signed BIGINT column
    assert perceptual_hash(png(im, text="resaved", compress_level=0)) == h  # re-encoded copy
    assert perceptual_hash(jpeg(im, quality=92)) == perceptual_hash(jpeg(im, quality=75))
    brighter = ImageEnhance.Brightness(im).enhance(1.15)
    assert hamming(perceptual_hash(png(brighter)), h) <= LIMITS.near_duplicate_distance
    assert hamming(perceptual_hash(png(textured(seed=2))), h) > 16
    assert perceptual_hash(HAND_PDF) is None


def test_phash_sees_the_upright_picture():
    data = jpeg(textured((400, 300)), orientation=6)
    assert hamming(perceptual_hash(data), perceptual_hash(sanitize_image(data))) <= 2


def test_hamming_counts_differing_bits():
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(2**64 - 1, 0) == 64
    assert hamming(-1, 0) == 64  # signed storage form of all ones


# -- evidence flags ------------------------------------------------------------------------------


def _info(data: bytes):
    return inspect_upload(data, with_phash=True)


def _earlier(info, *, same_subscriber=False, number="20260201-00001") -> EarlierPhoto:
    return EarlierPhoto(info.sha256, info.phash, 11, number, 21, 31, same_subscriber)


def _flags(info, on: date, earlier=()):
    return evidence_flags(info.sha256, info.phash, info.taken_at, on, list(earlier))


def test_a_byte_identical_photo_is_flagged_as_reused_with_the_other_application():
    info = _info(PHOTO)
    unrelated = EarlierPhoto("0" * 64, None, 12, "20260101-00009", 22, 32, False)
    flags = _flags(info, date(2026, 2, 28), [unrelated, _earlier(info)])
    assert [(f.code, f.severity) for f in flags] == [("photo_reused", "inspect")]
    assert flags[0].to_dict()["match"] == {
        "application_id": 11,
        "number": "20260201-00001",
        "line_id": 21,
        "file_id": 31,
        "same_subscriber": False,
        "distance": 0,
    }
    assert flags[0].message.render() == (
        "This photo is identical to the photo sent with application 20260201-00001 for another subscriber"
    )
    own = _flags(info, date(2026, 2, 28), [_earlier(info, same_subscriber=True)])
    assert own[0].message.render().endswith("for this subscriber")


def test_a_nearly_identical_photo_is_flagged():
    im = textured()
    earlier = _info(png(im))
    info = _info(jpeg(ImageEnhance.Brightness(im).enhance(1.1)))
    flags = _flags(info, date(2026, 3, 1), [_earlier(earlier)])
    assert [f.code for f in flags] == ["photo_near_duplicate"]
    assert flags[0].severity == "inspect"
    assert flags[0].message.params["distance"] <= LIMITS.near_duplicate_distance
    assert flags[0].to_dict()["match"]["file_id"] == 31
    other = _info(png(textured(seed=3)))
    assert _flags(info, date(2026, 3, 1), [_earlier(other)]) == ()


def test_flat_pictures_are_not_compared_by_their_phash():
    blue, red = (
        _info(png(Image.new("RGB", (640, 480), colour)))
        for colour in ((40, 90, 160), (200, 10, 10))
    )
    assert blue.phash == red.phash  # every flat picture hashes alike: the hash says nothing
    assert _flags(red, date(2026, 3, 1), [_earlier(blue)]) == ()
    assert [f.code for f in _flags(blue, date(2026, 3, 1), [_earlier(blue)])] == ["photo_reused"]


def test_a_capture_date_far_from_the_reading_date_is_a_soft_flag():
    info = _info(PHOTO)  # taken 2026-02-28
    assert _flags(info, date(2026, 3, 3)) == ()  # 3 days: within the gap
    flags = _flags(info, date(2026, 3, 10))
    assert [(f.code, f.severity) for f in flags] == [("photo_date_gap", "inspect")]
    assert flags[0].message.params == {"taken_on": "2026-02-28", "days": 10, "date": "2026-03-10"}


def test_a_photo_without_capture_date_is_not_flagged():
    assert _flags(_info(png(textured())), date(2026, 3, 10)) == ()
    pdf = _info(HAND_PDF)
    assert _flags(pdf, date(2026, 3, 10), [EarlierPhoto("ab" * 32, 123, 1, "x", 2, 3, True)]) == ()
