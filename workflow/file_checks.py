"""Content checks for uploaded files that are not about pictures: ZIP polyglots and active PDFs.

Both work on the raw bytes, decode no picture and are cheap enough for the web request.

*ZIP polyglots.* A file that is a valid JPEG, PNG or PDF *and* a ZIP archive (``cat a.jpg b.zip``)
is refused: an archive opened from our storage could carry anything. A ZIP is recognised the
way ZIP readers find one: an end-of-central-directory record at the end of the file (checked
with :func:`zipfile.is_zipfile`), or a structurally plausible local file header anywhere (the
signature ``PK\\x03\\x04`` followed by a sane version and a stored or deflated method, so that
random compressed bytes practically never match). Data after a JPEG's end marker alone is *not*
a reason: phones store motion photos (an MP4) there, and an MP4 has neither record.

*Active PDFs.* After undoing ``#xx`` name escapes (``/J#61vaScript`` is ``/JavaScript``), and in
every Flate-compressed stream as well (object streams can hide dictionaries), a PDF must name
none of ``/JavaScript``, ``/JS``, ``/AA``, ``/Launch``, ``/EmbeddedFile(s)``, ``/RichMedia``; an
``/OpenAction`` is refused when it runs a script (``/S /JavaScript`` or ``/JS`` in its
dictionary). Inflating is bounded by ``inflate_budget`` bytes in total; a PDF that inflates to
more is refused as unreadable (a compression bomb).
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from typing import Literal

__all__ = ["is_zip_polyglot", "pdf_problem", "pdf_well_formed"]

_LOCAL_HEADER = re.compile(rb"PK\x03\x04[\x0a-\x3f]\x00[\x00-\xff]{2}[\x00\x08]\x00", re.DOTALL)

# A name token ends at whitespace or a delimiter (PDF 32000-1, 7.2.2/7.3.5).
_END = rb"(?=[\s()<>\[\]{}/%]|$)"
_ACTIVE = re.compile(rb"/(?:JavaScript|JS|AA|Launch|EmbeddedFiles?|RichMedia)" + _END)
_OPEN_ACTION_SCRIPT = re.compile(
    rb"/OpenAction\s*<<(?:(?!>>).){0,2000}?/(?:JavaScript|JS)" + _END, re.DOTALL
)
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_STREAM = re.compile(rb"stream\r?\n", re.DOTALL)
_PDF_END_WHITESPACE = b" \t\r\n\x00\x0c"

PdfProblem = Literal["active", "unreadable"]


def is_zip_polyglot(data: bytes) -> bool:
    """True when ``data`` is (also) a ZIP archive; a motion photo's trailing MP4 is not one."""
    if _LOCAL_HEADER.search(data):
        return True
    return zipfile.is_zipfile(io.BytesIO(data))


def pdf_well_formed(data: bytes) -> bool:
    """Starts with ``%PDF-`` and ends with ``%%EOF`` (trailing whitespace allowed)."""
    return data.startswith(b"%PDF-") and data.rstrip(_PDF_END_WHITESPACE).endswith(b"%%EOF")


def _unescape(chunk: bytes) -> bytes:
    return _NAME_ESCAPE.sub(lambda m: bytes((int(m[1], 16),)), chunk)


def _has_active(chunk: bytes) -> bool:
    plain = _unescape(chunk)
    return bool(_ACTIVE.search(plain) or _OPEN_ACTION_SCRIPT.search(plain))


def _inflated_streams(data: bytes, budget: int) -> Iterator[bytes]:
    """Yield every stream body that inflates with zlib; raise OverflowError past ``budget`` bytes."""
    used = 0
    for match in _STREAM.finditer(data):
        start = match.end()
        if data[start : start + 1] not in (
            b"\x78",
            b"\x08",
            b"\x18",
            b"\x28",
            b"\x38",
            b"\x48",
            b"\x58",
            b"\x68",
        ):
            continue  # not a zlib header: not Flate (or not a stream at all)
        inflater = zlib.decompressobj()
        try:
            body = inflater.decompress(data[start:], budget - used + 1)
        except zlib.error:
            continue
        used += len(body)
        if used > budget:
            raise OverflowError("the PDF inflates to more than the budget")
        yield body


def pdf_problem(data: bytes, inflate_budget: int = 50 * 1024 * 1024) -> PdfProblem | None:
    """Why this PDF cannot be accepted ("active" content, "unreadable"), or None."""
    if not pdf_well_formed(data):
        return "unreadable"
    if _has_active(data):
        return "active"
    try:
        for body in _inflated_streams(data, inflate_budget):
            if _has_active(body):
                return "active"
    except OverflowError:
        return "unreadable"
    return None
