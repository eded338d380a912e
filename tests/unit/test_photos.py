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
from fpdf import FPDF
from PIL import ExifTags, Image, ImageEnhance, PngImagePlugin

from workflow.photos import (
    PhotoLimits,
    PhotoRejected,
    evidence_flags,
    exif_taken_at,
    hamming,
    inspect_upload,
    make_thumbnail,
    perceptual_hash,
    sanitize_image,
)

LIMITS = PhotoLimits()


# -- making test files -------------------------------------------------------------------------

def textured(size=(800, 600), seed=1) -> Image.Image:
    """A picture with structure at every scale (random blocks, smoothly enlarged)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (16, 12))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(16 * 12)])
    return small.resize(size, Image.Resampling.BICUBIC)


def jpeg(im: Image.Image, *, original=None, plain=None, gps=False, orientation=None,
         quality=90, icc=False) -> bytes:
    exif = Image.Exif()
    if plain:
        exif[ExifTags.Base.DateTime] = plain
    if original:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = original
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    if gps:
        g = exif.get_ifd(ExifTags.IFD.GPSInfo)
        g[1], g[2], g[3], g[4] = "N", (40.0, 24.0, 32.5), "E", (49.0, 51.0, 12.0)
    buf = io.BytesIO()
    extra = {"icc_profile": b"\0" * 64} if icc else {}
    im.save(buf, "JPEG", quality=quality, exif=exif, **extra)
    return buf.getvalue()


def png(im: Image.Image, *, text=None, compress_level=1, exif=None, icc=False) -> bytes:
    buf = io.BytesIO()
    extra = {}
    if text:
        extra["pnginfo"] = PngImagePlugin.PngInfo()
        extra["pnginfo"].add_text("Comment", text)
    if exif:
        extra["exif"] = exif
    if icc:
        extra["icc_profile"] = b"\0" * 64
    im.save(buf, "PNG", compress_level=compress_level, **extra)
    return buf.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def fpdf_bytes() -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(text="Meter 12345678: 01120")
    return bytes(pdf.output())


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
        assert (info.kind, info.media_type, info.width, info.phash) == ("pdf", "application/pdf", None, None)


# -- refused uploads ----------------------------------------------------------------------------

def test_empty_upload_asks_to_select_a_photo():
    assert rejected(b"").message.text == "Select a photo of the meter"


def _gif() -> bytes:
    buf = io.BytesIO()
    textured().save(buf, "GIF")
    return buf.getvalue()


@pytest.mark.parametrize("data", [
    b"This is my meter reading: 01120\n",  # a text file someone named meter.png
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="800" height="600">'
    b'<script>alert(1)</script></svg>',
    b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>",
    _gif(),
    b"PNG\r\n" + png(textured())[8:],  # a PNG missing its signature byte
], ids=["text", "svg", "html", "gif", "broken-signature"])
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
    bomb = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
            + png_chunk(b"IDAT", zlib.compress(b"\0" * 10_000)) + png_chunk(b"IEND", b""))
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
    big = (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
           + png_chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + png_chunk(b"IEND", b""))
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
    assert err.message.render() == "The photo is too small to read: at least 200 pixels on each side"


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
    assert exif_taken_at(jpeg(textured(), plain="2026:03:02 18:00:00")) == datetime(2026, 3, 2, 18, 0)
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
    small = Image.open(io.BytesIO(make_thumbnail(png(textured((250, 250)).convert("RGBA")),
                                                 PhotoLimits(thumbnail_side=320))))
    assert (small.format, small.size) == ("JPEG", (250, 250))  # never enlarged
    other = Image.open(io.BytesIO(make_thumbnail(PHOTO, PhotoLimits(thumbnail_side=100))))
    assert max(other.size) == 100
    assert len(other.getexif()) == 0


# -- perceptual hash -----------------------------------------------------------------------------

def test_dhash_is_stable_for_copies_and_different_for_other_pictures():
    im = textured()
    h = perceptual_hash(png(im))
    assert 0 <= h < 2**64
    assert perceptual_hash(png(im, text="resaved", compress_level=0)) == h  # re-encoded copy
    assert perceptual_hash(jpeg(im, quality=92)) == perceptual_hash(jpeg(im, quality=75))
    brighter = ImageEnhance.Brightness(im).enhance(1.15)
    assert hamming(perceptual_hash(png(brighter)), h) <= LIMITS.near_duplicate_distance
    assert hamming(perceptual_hash(png(textured(seed=2))), h) > 16
    assert perceptual_hash(HAND_PDF) is None


def test_dhash_sees_the_upright_picture():
    data = jpeg(textured((400, 300)), orientation=6)
    assert hamming(perceptual_hash(data), perceptual_hash(sanitize_image(data))) <= 2


def test_hamming_counts_differing_bits():
    assert hamming(0b1011, 0b0001) == 2
    assert hamming(2**64 - 1, 0) == 64


# -- evidence flags ------------------------------------------------------------------------------

def _info(data: bytes):
    return inspect_upload(data, with_phash=True)


def test_a_byte_identical_photo_is_flagged_as_reused():
    info = _info(PHOTO)
    flags = evidence_flags(info, date(2026, 2, 28), [("0" * 64, None), (info.sha256, info.phash)])
    assert [(f.code, f.severity) for f in flags] == [("photo_reused", "inspect")]


def test_a_nearly_identical_photo_is_flagged():
    im = textured()
    earlier = _info(png(im))
    info = _info(jpeg(ImageEnhance.Brightness(im).enhance(1.1)))
    flags = evidence_flags(info, date(2026, 3, 1), [(earlier.sha256, earlier.phash)])
    assert [f.code for f in flags] == ["photo_near_duplicate"]
    assert flags[0].severity == "inspect"
    assert flags[0].message.params["distance"] <= LIMITS.near_duplicate_distance
    other = _info(png(textured(seed=3)))
    assert evidence_flags(info, date(2026, 3, 1), [(other.sha256, other.phash)]) == ()


def test_a_capture_date_far_from_the_reading_date_is_a_soft_flag():
    info = _info(PHOTO)  # taken 2026-02-28
    assert evidence_flags(info, date(2026, 3, 3), []) == ()  # 3 days: within the gap
    flags = evidence_flags(info, date(2026, 3, 10), [])
    assert [(f.code, f.severity) for f in flags] == [("photo_date_gap", "inspect")]
    assert flags[0].message.params == {"taken_on": "2026-02-28", "days": 10, "date": "2026-03-10"}


def test_a_photo_without_capture_date_is_not_flagged():
    assert evidence_flags(_info(png(textured())), date(2026, 3, 10), []) == ()
    assert evidence_flags(_info(HAND_PDF), date(2026, 3, 10), [("ab" * 32, 123)]) == ()
