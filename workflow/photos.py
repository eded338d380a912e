"""Photo evidence of a meter reading: upload checks, hashes, metadata stripping, thumbnails.

Two price classes (DESIGN.md, "Costs"):

* cheap, in the web request: :func:`inspect_upload` decides the type by content (magic bytes
  and a real parse), reads the pixel size from the header *before* Pillow decodes anything
  (the decompression-bomb guard), runs Pillow's ``verify()`` and reads the EXIF capture time.
  No pixel data is decoded unless ``with_phash=True``.
* expensive, in the worker: :func:`perceptual_hash`, :func:`sanitize_image` (re-encode upright
  without any metadata, GPS included) and :func:`make_thumbnail`.

PDFs are accepted as evidence (some people scan or export), are checked for a PDF header and
trailer only, have no perceptual hash, no thumbnail and are never re-encoded here.
"""
from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Literal, Sequence

from PIL import ExifTags, Image, ImageOps

from workflow.i18n import Message, N_
from workflow.plausibility import Flag

__all__ = [
    "PhotoLimits",
    "PhotoRejected",
    "UploadInfo",
    "inspect_upload",
    "perceptual_hash",
    "hamming",
    "exif_taken_at",
    "sanitize_image",
    "make_thumbnail",
    "evidence_flags",
]

MiB = 1024 * 1024
Kind = Literal["pdf", "jpeg", "png"]
MEDIA_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}


@dataclass(frozen=True)
class PhotoLimits:
    max_bytes: int = 10 * MiB
    max_pixels: int = 40_000_000
    min_side: int = 200
    exif_gap_days: int = 3
    near_duplicate_distance: int = 6
    thumbnail_side: int = 320
    jpeg_quality: int = 85
    # zlib level for re-encoded PNGs: 4 is about 3x faster than Pillow's 6 for 5 % more bytes.
    png_compress_level: int = 4
    # The PDF trailer ("%%EOF") must lie within this many bytes of the end.
    pdf_trailer_window: int = 1024


class PhotoRejected(ValueError):
    """The upload cannot be accepted; ``message`` says what to do, ``reason`` is a stable code."""

    def __init__(self, message: Message, reason: str):
        super().__init__(message.render())
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class UploadInfo:
    kind: Kind
    media_type: str
    width: int | None
    height: int | None
    sha256: str
    phash: int | None
    taken_at: datetime | None
    size: int = 0


def _num(x: float) -> int | float:
    x = round(x, 1)
    return int(x) if x == int(x) else x


def _reject_empty() -> PhotoRejected:
    return PhotoRejected(Message(N_("Select a photo of the meter")), "empty")


def _reject_type() -> PhotoRejected:
    return PhotoRejected(Message(N_("The photo must be a PDF, JPG or PNG")), "type")


def _reject_unreadable() -> PhotoRejected:
    return PhotoRejected(Message(N_("The photo could not be read: upload it again")), "unreadable")


def _reject_pixels(limits: PhotoLimits) -> PhotoRejected:
    return PhotoRejected(Message(N_("The photo is too large: at most %(pixels)s megapixels"),
                                 {"pixels": _num(limits.max_pixels / 1_000_000)}), "pixels")


# ---------------------------------------------------------------------------------------------
# Content sniffing and header parsing (no decoding)
# ---------------------------------------------------------------------------------------------

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PDF_HEADER = re.compile(rb"%PDF-\d\.\d")


def _sniff(data: bytes) -> Kind | None:
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_PNG_MAGIC):
        return "png"
    if _PDF_HEADER.match(data):
        return "pdf"
    return None


def _png_header(data: bytes) -> tuple[int, int] | None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def _jpeg_header(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, offset of the first SOS) from the marker segments, or None."""
    i, n, size = 2, len(data), None
    while i + 4 <= n:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # stand-alone markers
            i += 2
            continue
        if marker == 0xD9:
            return None
        if marker == 0xDA:
            return (size[0], size[1], i) if size else None
        length = int.from_bytes(data[i + 2:i + 4], "big")
        if length < 2:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and size is None:
            if i + 9 > n:
                return None
            size = (int.from_bytes(data[i + 7:i + 9], "big"), int.from_bytes(data[i + 5:i + 7], "big"))
        i += 2 + length
    return None


def _open(data: bytes, kind: Kind, limits: PhotoLimits) -> Image.Image:
    """Open (lazily) after checking the declared pixel size from the header."""
    if kind == "png":
        header = _png_header(data)
        dims = header
    else:
        header = _jpeg_header(data)
        dims = header[:2] if header else None
    if dims is None:
        raise _reject_unreadable()
    if dims[0] * dims[1] > limits.max_pixels:
        raise _reject_pixels(limits)
    try:
        im = Image.open(io.BytesIO(data), formats=["PNG" if kind == "png" else "JPEG"])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Only reachable when max_pixels is configured above Pillow's own MAX_IMAGE_PIXELS.
        raise _reject_pixels(limits) from None
    except Exception:
        raise _reject_unreadable() from None
    if im.width * im.height > limits.max_pixels:
        raise _reject_pixels(limits)
    return im


# ---------------------------------------------------------------------------------------------
# EXIF capture time
# ---------------------------------------------------------------------------------------------

def _parse_exif_datetime(value, offset) -> datetime | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    try:
        taken = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:  # "0000:00:00 00:00:00", blanks, garbage
        return None
    if isinstance(offset, str):
        m = re.fullmatch(r"([+-])(\d\d):(\d\d)", offset.strip("\x00 "))
        if m:
            delta = timedelta(hours=int(m[2]), minutes=int(m[3]))
            taken = taken.replace(tzinfo=timezone(delta if m[1] == "+" else -delta))
    return taken


def _taken_at(im: Image.Image) -> datetime | None:
    """DateTimeOriginal, else DateTime, from EXIF already read with the header (no decode)."""
    raw = im.info.get("exif")
    if not raw:
        return None
    try:
        exif = Image.Exif()
        exif.load(raw)
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        taken = _parse_exif_datetime(sub.get(ExifTags.Base.DateTimeOriginal),
                                     sub.get(ExifTags.Base.OffsetTimeOriginal))
        if taken is None:
            taken = _parse_exif_datetime(exif.get(ExifTags.Base.DateTime),
                                         sub.get(ExifTags.Base.OffsetTime))
        return taken
    except Exception:  # broken EXIF is no reason to refuse a photo
        return None


def exif_taken_at(data: bytes, limits: PhotoLimits = PhotoLimits()) -> datetime | None:
    """Capture time from EXIF (DateTimeOriginal, else DateTime); None when absent or a PDF.

    Naive unless the camera wrote an offset (OffsetTimeOriginal / OffsetTime).
    """
    kind = _sniff(data)
    if kind in (None, "pdf"):
        return None
    try:
        return _taken_at(_open(data, kind, limits))
    except PhotoRejected:  # unreadable or oversized: inspect_upload says so, not this helper
        return None


# ---------------------------------------------------------------------------------------------
# The cheap request-side check
# ---------------------------------------------------------------------------------------------

def inspect_upload(data: bytes, limits: PhotoLimits = PhotoLimits(), *, with_phash: bool = False) -> UploadInfo:
    """Accept a PDF, JPEG or PNG by its content or raise :class:`PhotoRejected`.

    ``with_phash=True`` also computes the perceptual hash (decodes the picture: worker side).
    """
    if not data:
        raise _reject_empty()
    if len(data) > limits.max_bytes:
        raise PhotoRejected(Message(N_("The photo must be smaller than %(size)s MB"),
                                    {"size": _num(limits.max_bytes / MiB)}), "bytes")
    kind = _sniff(data)
    if kind is None:
        raise _reject_type()
    digest = hashlib.sha256(data).hexdigest()
    if kind == "pdf":
        if b"%%EOF" not in data[-limits.pdf_trailer_window:]:
            raise _reject_unreadable()
        return UploadInfo("pdf", MEDIA_TYPES["pdf"], None, None, digest, None, None, len(data))

    im = _open(data, kind, limits)
    width, height = im.size
    if min(width, height) < limits.min_side:
        raise PhotoRejected(Message(N_(
            "The photo is too small to read: at least %(side)s pixels on each side"
        ), {"side": limits.min_side}), "small")
    taken_at = _taken_at(im)
    if kind == "jpeg":
        # verify() is a no-op for JPEG; a complete file has an EOI marker after its first scan
        # (0xFFD9 cannot occur inside entropy-coded data, which stuffs every 0xFF).
        # Most files end with it: look at the end first, search backwards only for trailers.
        if not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
            if data.rfind(b"\xff\xd9", _jpeg_header(data)[2] + 2) < 0:
                raise _reject_unreadable()
    try:
        im.verify()  # PNG: walks every chunk to IEND and checks the CRCs
    except Exception:
        raise _reject_unreadable() from None
    phash = perceptual_hash(data, limits) if with_phash else None
    return UploadInfo(kind, MEDIA_TYPES[kind], width, height, digest, phash, taken_at, len(data))


# ---------------------------------------------------------------------------------------------
# The expensive worker-side operations
# ---------------------------------------------------------------------------------------------

def _decoded(data: bytes, limits: PhotoLimits, draft: tuple[str, tuple[int, int]] | None = None) -> tuple[Image.Image, Kind]:
    kind = _sniff(data)
    if kind is None:
        raise _reject_type()
    if kind == "pdf":
        raise ValueError("a PDF is not an image")
    im = _open(data, kind, limits)
    try:
        if draft is not None and kind == "jpeg":
            im.draft(*draft)  # DCT scaling: decode at 1/2, 1/4 or 1/8 size
        im.load()
    except Exception:
        raise _reject_unreadable() from None
    try:
        return ImageOps.exif_transpose(im), kind
    except Exception:  # a broken orientation tag: keep the picture as stored
        return im, kind


def perceptual_hash(data: bytes, limits: PhotoLimits = PhotoLimits()) -> int | None:
    """64-bit dHash of the upright picture (grayscale, 9x8); None for a PDF.

    Bit ``8*y + x`` is set when cell (x+1, y) is brighter than cell (x, y).
    """
    if _sniff(data) == "pdf":
        return None
    im, _ = _decoded(data, limits, draft=("L", (64, 64)))
    small = im.convert("L").resize((9, 8), Image.Resampling.BOX)
    px = small.tobytes()
    bits = 0
    for y in range(8):
        row = px[9 * y:9 * y + 9]
        for x in range(8):
            if row[x + 1] > row[x]:
                bits |= 1 << (8 * y + x)
    return bits


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def sanitize_image(data: bytes, limits: PhotoLimits = PhotoLimits()) -> bytes:
    """Re-encode upright with no metadata at all (EXIF, GPS, XMP, ICC, text chunks).

    JPEG stays JPEG (RGB or grayscale), PNG stays PNG (mode and transparency kept).
    """
    im, kind = _decoded(data, limits)
    keep = {"transparency": im.info["transparency"]} if "transparency" in im.info else {}
    im.info = keep if kind == "png" else {}
    out = io.BytesIO()
    if kind == "png":
        im.save(out, "PNG", compress_level=limits.png_compress_level)
    else:
        if im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        im.save(out, "JPEG", quality=limits.jpeg_quality)
    return out.getvalue()


def make_thumbnail(data: bytes, limits: PhotoLimits = PhotoLimits()) -> bytes:
    """Upright JPEG whose longest side is ``thumbnail_side`` (smaller pictures are not enlarged)."""
    side = limits.thumbnail_side
    im, _ = _decoded(data, limits, draft=("RGB", (side, side)))
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        im = Image.new("RGB", rgba.size, "white")
        im.paste(rgba, mask=rgba.getchannel("A"))
    elif im.mode != "RGB":
        im = im.convert("RGB")
    im.thumbnail((side, side), Image.Resampling.LANCZOS)
    im.info = {}
    out = io.BytesIO()
    im.save(out, "JPEG", quality=limits.jpeg_quality)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Evidence flags
# ---------------------------------------------------------------------------------------------

def evidence_flags(
    info: UploadInfo,
    declared_date: date,
    earlier: Sequence[tuple[str, int | None]],
    limits: PhotoLimits = PhotoLimits(),
) -> tuple[Flag, ...]:
    """Soft flags for staff (severity "inspect"); a photo is never refused for these.

    ``earlier``: (sha256, phash) of this subscriber's earlier photos.
    A missing capture date is deliberately *not* a flag: PNG has no EXIF as a rule, and
    messaging apps strip it, so its absence says nothing about the reading.
    """
    flags: list[Flag] = []
    if any(sha == info.sha256 for sha, _ in earlier):
        flags.append(Flag("photo_reused", "inspect", Message(N_(
            "This photo is identical to a photo sent earlier for this subscriber"
        ))))
    elif info.phash is not None:
        distances = [hamming(info.phash, p) for _, p in earlier if p is not None]
        if distances and min(distances) <= limits.near_duplicate_distance:
            flags.append(Flag("photo_near_duplicate", "inspect", Message(N_(
                "This photo is almost identical to a photo sent earlier for this subscriber "
                "(difference %(distance)s of 64)"
            ), {"distance": min(distances)})))
    if info.taken_at is not None:
        gap = abs((info.taken_at.date() - declared_date).days)
        if gap > limits.exif_gap_days:
            flags.append(Flag("photo_date_gap", "inspect", Message(N_(
                "The photo was taken on %(taken_on)s, %(days)s days from the reading date "
                "%(date)s"
            ), {"taken_on": info.taken_at.date().isoformat(), "days": gap,
                "date": declared_date.isoformat()})))
    return tuple(flags)
