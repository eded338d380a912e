"""Pictures and documents made in the tests: textured photos, EXIF (dates, GPS, orientation), PDFs."""

from __future__ import annotations

import io
import random
import struct
import zlib

from fpdf import FPDF
from PIL import ExifTags, Image, PngImagePlugin


def textured(size=(800, 600), seed=1) -> Image.Image:
    """A picture with structure at every scale (random blocks, smoothly enlarged)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (16, 12))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(16 * 12)])
    return small.resize(size, Image.Resampling.BICUBIC)


def jpeg(
    im: Image.Image,
    *,
    original=None,
    plain=None,
    gps=False,
    orientation=None,
    quality=90,
    icc=False,
) -> bytes:
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
