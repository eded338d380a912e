"""Photo evidence of a meter reading: upload checks, hashes, metadata stripping, thumbnails.

Two price classes:

* in the web request: :func:`inspect_upload` decides the type by content (magic bytes and a
  real parse), refuses ZIP polyglots and active PDFs (:mod:`workflow.file_checks`), reads the
  pixel size from the header *before* Pillow decodes anything (the decompression-bomb guard),
  runs Pillow's ``verify()`` on one open and a full ``load()`` on another, and reads the EXIF
  capture time. The full decode stays in the request on purpose: once the citizen has left the
  page, a job can no longer refuse the file with a field error, and a picture whose data is
  corrupt (a PNG that passes ``verify()``) must be refused while the citizen can pick another.
  The pixel limit bounds its cost (about 50 ms for a 12-megapixel JPEG).
* in the worker (:mod:`workflow.photo_evidence`): :func:`perceptual_hash` (ImageHash's pHash)
  and :func:`sanitize_image` (re-encode upright without any metadata, GPS included).
  :func:`make_thumbnail` runs on demand for the citizen's form.

PDFs are accepted as evidence (some people scan or export): checked for header, trailer and
active content, they have no perceptual hash, no thumbnail and are never re-encoded; they are
only ever served as attachments.
"""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Literal

import imagehash
from PIL import ExifTags, Image, ImageOps

from workflow.file_checks import is_zip_polyglot, pdf_problem
from workflow.i18n import N_, Message

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
    # Earlier photos compared for near-duplicates: those of applications registered this many
    # days back (a year and a season: the same month of the previous year is covered).
    near_duplicate_lookback_days: int = 400
    thumbnail_side: int = 320
    jpeg_quality: int = 85
    # zlib level for re-encoded PNGs: 4 is about 3x faster than Pillow's 6 for 5 % more bytes.
    png_compress_level: int = 4
    # Bytes a PDF's compressed streams may inflate to while they are searched for scripts.
    pdf_inflate_budget: int = 50 * MiB


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


def _reject_active_pdf() -> PhotoRejected:
    return PhotoRejected(
        Message(
            N_("The PDF contains scripts, actions or attached files: send a photo or a plain PDF")
        ),
        "active",
    )


def _reject_archive() -> PhotoRejected:
    return PhotoRejected(
        Message(N_("The file is also an archive: send the photo exactly as the camera saved it")),
        "archive",
    )


def _reject_pixels(limits: PhotoLimits) -> PhotoRejected:
    return PhotoRejected(
        Message(
            N_("The photo is too large: at most %(pixels)s megapixels"),
            {"pixels": _num(limits.max_pixels / 1_000_000)},
        ),
        "pixels",
    )


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
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        if length < 2:
            return None
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC) and size is None:
            if i + 9 > n:
                return None
            size = (
                int.from_bytes(data[i + 7 : i + 9], "big"),
                int.from_bytes(data[i + 5 : i + 7], "big"),
            )
        i += 2 + length
    return None


def _open(data: bytes, kind: Kind, limits: PhotoLimits) -> Image.Image:
    """Open (lazily) after checking the declared pixel size from the header."""
    header: tuple[int, ...] | None
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


def _parse_exif_datetime(value: object, offset: object) -> datetime | None:
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
        taken = _parse_exif_datetime(
            sub.get(ExifTags.Base.DateTimeOriginal), sub.get(ExifTags.Base.OffsetTimeOriginal)
        )
        if taken is None:
            taken = _parse_exif_datetime(
                exif.get(ExifTags.Base.DateTime), sub.get(ExifTags.Base.OffsetTime)
            )
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


def inspect_upload(
    data: bytes, limits: PhotoLimits = PhotoLimits(), *, with_phash: bool = False
) -> UploadInfo:
    """Accept a PDF, JPEG or PNG by its content or raise :class:`PhotoRejected`.

    ``with_phash=True`` also computes the perceptual hash (decodes the picture: worker side).
    """
    if not data:
        raise _reject_empty()
    if len(data) > limits.max_bytes:
        raise PhotoRejected(
            Message(
                N_("The photo must be smaller than %(size)s MB"),
                {"size": _num(limits.max_bytes / MiB)},
            ),
            "bytes",
        )
    kind = _sniff(data)
    if kind is None:
        raise _reject_type()
    digest = hashlib.sha256(data).hexdigest()
    if is_zip_polyglot(data):
        raise _reject_archive()
    if kind == "pdf":
        problem = pdf_problem(data, limits.pdf_inflate_budget)
        if problem == "active":
            raise _reject_active_pdf()
        if problem is not None:
            raise _reject_unreadable()
        return UploadInfo("pdf", MEDIA_TYPES["pdf"], None, None, digest, None, None, len(data))

    im = _open(data, kind, limits)
    width, height = im.size
    if min(width, height) < limits.min_side:
        raise PhotoRejected(
            Message(
                N_("The photo is too small to read: at least %(side)s pixels on each side"),
                {"side": limits.min_side},
            ),
            "small",
        )
    taken_at = _taken_at(im)
    if kind == "jpeg":
        # verify() is a no-op for JPEG; a complete file has an EOI marker after its first scan
        # (0xFFD9 cannot occur inside entropy-coded data, which stuffs every 0xFF).
        # Most files end with it: look at the end first, search backwards only for trailers.
        if not data.rstrip(b"\x00\r\n ").endswith(b"\xff\xd9"):
            header = _jpeg_header(data)
            assert header is not None  # _decoded above read this header
            if data.rfind(b"\xff\xd9", header[2] + 2) < 0:
                raise _reject_unreadable()
    try:
        im.verify()  # PNG: walks every chunk to IEND and checks the CRCs
    except Exception:
        raise _reject_unreadable() from None
    try:  # a second open: verify() leaves the image unusable; decode every pixel
        _open(data, kind, limits).load()
    except PhotoRejected:
        raise
    except Exception:  # truncated or corrupt pixel data (zlib, Huffman, a short read)
        raise _reject_unreadable() from None
    phash = perceptual_hash(data, limits) if with_phash else None
    return UploadInfo(kind, MEDIA_TYPES[kind], width, height, digest, phash, taken_at, len(data))


# ---------------------------------------------------------------------------------------------
# The expensive worker-side operations
# ---------------------------------------------------------------------------------------------


def _decoded(
    data: bytes, limits: PhotoLimits, draft: tuple[str, tuple[int, int]] | None = None
) -> tuple[Image.Image, Kind]:
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
    """64-bit pHash (ImageHash: DCT of the 32x32 grayscale picture) of the upright picture as a
    signed 64-bit integer, the form a BIGINT column holds; None for a PDF."""
    if _sniff(data) == "pdf":
        return None
    im, _ = _decoded(data, limits, draft=("L", (128, 128)))
    value = int(str(imagehash.phash(im)), 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    """Bits that differ between two 64-bit hashes (signed or unsigned)."""
    return ((a ^ b) & ((1 << 64) - 1)).bit_count()


def sanitize_image(data: bytes, limits: PhotoLimits = PhotoLimits()) -> bytes:
    """Re-encode upright with no metadata at all (EXIF, GPS, XMP, ICC, text chunks).

    JPEG stays JPEG (RGB or grayscale), PNG stays PNG (mode and transparency kept).
    """
    im, kind = _decoded(data, limits)
    keep: dict[str | tuple[int, int], Any] = (
        {"transparency": im.info["transparency"]} if "transparency" in im.info else {}
    )
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
