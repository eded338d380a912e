"""DejaVu Sans for the PDF documents, parsed and subset once per process and shared.

Fonts are the expensive part. Adding DejaVu to each document the ordinary way
(``FPDF.add_font``) parses the 750 KB TTF, and writing the document runs fontTools' subsetter
and rebuilds the CID-to-glyph map: ≈ 40 ms per face and document. Here that work is done once
per process and shared, read-only, by every document:

1. ``_Face`` parses each face once with ``FPDF.add_font`` into a *template* ``TTFFont``
   (metrics, cmap, glyph ids). A document gets a shallow copy whose per-document state is
   its own: font number, ``SubsetMap`` (the codes of the glyphs it draws), missing-glyph list,
   font descriptor (the writer sets its object id) and width table. Nothing a document writes
   is shared, so one document's glyphs never leak into another's font and documents can be
   rendered in parallel threads.
2. Every document's ``SubsetMap`` starts from the same codes for ``BASE_CHARACTERS`` (ASCII,
   the Azerbaijani letters, some punctuation), so nearly all documents map codes to glyphs
   identically. For each such mapping the embedded font (a fontTools subset), the
   CIDToGIDMap, the ToUnicode CMap and the widths are made once, deflated, and kept in a small
   LRU cache; a name with a letter outside the base set makes (and caches) one more.
3. ``_OutputProducer``, passed to ``FPDF.output`` (fpdf2's documented hook), writes the font
   objects of those faces from the cache, the same objects fpdf2 writes; everything else is
   fpdf2's own writer.

Text is placed with ``FPDF.text`` at computed positions (``_Page``), not ``cell``, which is
20 times slower. Result: a one-page invoice in ≈ 3 ms of CPU instead of ≈ 90 ms
(``bench/pdf_render.py``). The price is reliance on fpdf2 internals (``TTFFont`` and
``SubsetMap`` attributes, ``OutputProducer._add_fonts`` and ``_add_pdf_obj``): this module is
the only one that touches them, for the fpdf2 releases in ``FPDF2_SUPPORTED`` (the range
``pyproject.toml`` allows); ``tests/unit/test_fpdf_internals.py`` pins them and
``tests/unit/test_documents.py`` checks the output against fpdf2's own.
"""

from __future__ import annotations

import copy
import logging
import string
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any, TypeVar

from fontTools import subset as ftsubset
from fontTools.ttLib import TTFont
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, PDFType3Font
from fpdf.syntax import Name, PDFArray, PDFContentStream

DEFAULT_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
FONT_FAMILY = "dejavu"
DEFAULT_UTILITY_NAME = "Azərsu ASC"

BASE_CHARACTERS = (
    "".join(ch for ch in string.printable if ch.isprintable())
    + "ƏəĞğİıÖöÜüÇçŞş"
    + "³№–—«»“”„‘’…•°×·"
)
FPDF2_SUPPORTED = (">=2.8.0", "<2.9")
CACHE_SIZE = 64  # subsets and embeddings kept per face

# Tables a PDF viewer does not use for a simple-text CID font.
_DROPPED_TABLES = [
    "FFTM",
    "GDEF",
    "GPOS",
    "GSUB",
    "MATH",
    "kern",
    "hdmx",
    "meta",
    "sbix",
    "CBDT",
    "CBLC",
    "EBDT",
    "EBLC",
    "EBSC",
    "SVG ",
    "CPAL",
    "COLR",
]


LOGGER = logging.getLogger(__name__)

_K = TypeVar("_K")
_V = TypeVar("_V")
# (code, glyph name, unicode code points, width) of each glyph a document draws; fpdf2 types
# ``Glyph.unicode`` as ``int | tuple[int, ...]``, and a SubsetMap's glyphs hold tuples.
_GlyphMapping = tuple[tuple[int, str, Any, int], ...]


class FontUnavailableError(FileNotFoundError):
    """The DejaVu font files are not where the settings say."""


# --------------------------------------------------------------------------- fonts


@dataclass(frozen=True)
class _Subset:
    """A TrueType subset made by fontTools: its file and its glyph ids by name."""

    data: bytes
    glyph_ids: dict[str, int]


@dataclass(frozen=True)
class _Embedding:
    """What a PDF needs to embed a face for one code → glyph mapping, deflated and ready."""

    font_file: bytes
    font_file_length: int  # /Length1: the font file's size before deflating
    cid_to_gid: bytes
    to_unicode: bytes
    widths: str  # the /W array


class _Face:
    """One font face, parsed once, with the subsets and embeddings made from it."""

    def __init__(self, path: Path, style: str) -> None:
        self.path = path
        self._source = path.read_bytes()
        scratch = FPDF()
        scratch.add_font(FONT_FAMILY, style, path)
        template = scratch.fonts[FONT_FAMILY + style]
        assert isinstance(template, TTFFont)  # add_font of a .ttf file
        self.template = template
        if self.template.is_cff or self.template.color_font is not None:
            raise ValueError(f"{path} is not a plain TrueType font")
        self.template.close()  # its fontTools object is not used again
        self._base = SubsetMap(self.template)
        for char in BASE_CHARACTERS:
            self._base.pick(ord(char))
        self._subsets: OrderedDict[frozenset[str], _Subset] = OrderedDict()
        self._embeddings: OrderedDict[_GlyphMapping, _Embedding] = OrderedDict()
        self._lock = threading.Lock()

    def attach_to(self, pdf: FPDF) -> TTFFont:
        """Add a copy of the template with fresh per-document state to ``pdf.fonts``."""
        font = copy.copy(self.template)
        font.i = len(pdf.fonts) + 1
        font.cw = self.template.cw.copy()  # a defaultdict: reading a missing key writes it
        font.desc = copy.copy(self.template.desc)  # the writer sets its object id, name, file
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font._hbfont = None
        font.ttfont = None  # never read: _OutputProducer embeds the face from the cache
        font.subset = copy.copy(self._base)  # the base characters, already picked
        for attribute, value in vars(font.subset).items():
            if isinstance(value, (dict, list, set)):
                setattr(font.subset, attribute, copy.copy(value))
        font.subset.font = font
        pdf.fonts[font.fontkey] = font
        return font

    def embedding_for(self, font: TTFFont) -> _Embedding:
        mapping: _GlyphMapping = tuple(
            sorted(
                (code, glyph.glyph_name, glyph.unicode, glyph.glyph_width)
                for glyph, code in font.subset.items()
                if glyph is not None
            )
        )
        with self._lock:
            embedding = _lru_get(self._embeddings, mapping)
            if embedding is None:
                names = frozenset(name for _, name, _, _ in mapping)
                subset = _lru_get(self._subsets, names)
                if subset is None:
                    subset = _lru_put(self._subsets, names, self._make_subset(names))
                embedding = _lru_put(self._embeddings, mapping, _make_embedding(mapping, subset))
            return embedding

    def _make_subset(self, names: frozenset[str]) -> _Subset:
        ttfont = TTFont(BytesIO(self._source), recalcTimestamp=False, lazy=True)
        options = ftsubset.Options(notdef_outline=True, recommended_glyphs=True, glyph_names=True)
        options.drop_tables += _DROPPED_TABLES
        subsetter = ftsubset.Subsetter(options)
        subsetter.populate(glyphs=sorted(names))
        subsetter.subset(ttfont)
        out = BytesIO()
        ttfont.save(out)
        ids = {name: gid for gid, name in enumerate(ttfont.getGlyphOrder())}
        missing = names - ids.keys()
        if missing:
            raise RuntimeError(f"the subset of {self.path.name} lost glyphs {sorted(missing)}")
        return _Subset(out.getvalue(), ids)


def _lru_get(cache: OrderedDict[_K, _V], key: _K) -> _V | None:
    value = cache.get(key)
    if value is not None:
        cache.move_to_end(key)
    return value


def _lru_put(cache: OrderedDict[_K, _V], key: _K, value: _V) -> _V:
    cache[key] = value
    if len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    return value


def _make_embedding(mapping: _GlyphMapping, subset: _Subset) -> _Embedding:
    """The font file, CIDToGIDMap, ToUnicode CMap and widths for codes mapped to glyphs."""
    gid_map = bytearray(2 * 65536)
    bfchar = []
    widths: list[str] = []
    run: list[str] = []
    previous = None
    for code, name, unicode, width in mapping:
        gid = subset.glyph_ids[name]
        gid_map[2 * code : 2 * code + 2] = gid.to_bytes(2, "big")
        text = "".join(chr(point) for point in unicode).encode("utf-16-be").hex().upper()
        bfchar.append(f"<{code:04X}> <{text}>")
        if previous is None or code != previous + 1:
            if run:
                widths.append(f"[{' '.join(run)}]")
            widths.append(str(code))
            run = []
        run.append(str(width))
        previous = code
    if run:
        widths.append(f"[{' '.join(run)}]")
    blocks = "".join(
        f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n"
        for chunk in (bfchar[i : i + 100] for i in range(0, len(bfchar), 100))  # ≤ 100 per block
    )
    cmap = (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo\n<</Registry (Adobe)\n/Ordering (UCS)\n/Supplement 0\n>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    )
    return _Embedding(
        font_file=zlib.compress(subset.data),
        font_file_length=len(subset.data),
        cid_to_gid=zlib.compress(bytes(gid_map)),
        to_unicode=zlib.compress(cmap.encode("ascii")),
        widths=f"[{' '.join(widths)}]",
    )


class FontedPDF(FPDF):
    """An FPDF document with the faces ``_Face.attach_to`` attached (set by the subclass)."""

    attached_fonts: list[tuple[_Face, TTFFont]]


class _DeflatedStream(PDFContentStream):
    """A stream whose contents are already deflated (cached across documents)."""

    def __init__(self, deflated: bytes) -> None:
        super().__init__(contents=deflated)
        self.filter = Name("FlateDecode")


class _OutputProducer(OutputProducer):
    """fpdf2's PDF writer, except that faces attached by ``_Face`` are embedded from its cache.

    fpdf2 would subset the font with fontTools and rebuild the CIDToGIDMap for every document
    (≈ 5 ms a face even for a pre-subset font); the objects written here are the same ones
    (Type0 font, CIDFontType2 with widths, ToUnicode, CIDSystemInfo, descriptor,
    CIDToGIDMap, FontFile2), with the expensive parts from the cache.
    """

    fpdf: FontedPDF

    def _add_fonts(self, *args: Any, **kwargs: Any) -> dict[int, PDFFont | PDFType3Font]:
        fpdf = self.fpdf
        attached = [
            (face, font)
            for face, font in fpdf.attached_fonts
            if fpdf.fonts.get(font.fontkey) is font
        ]
        registry = fpdf.fonts  # fpdf2 embeds what is left in it (core fonts, say)
        ours = {font.fontkey: registry.pop(font.fontkey) for _, font in attached}
        try:
            objects = super()._add_fonts(*args, **kwargs)
        finally:
            registry.update(ours)
        for face, font in attached:
            objects[font.i] = self._add_cached_font(font, face.embedding_for(font))
        return objects

    def _add_deflated(self, deflated: bytes, **attributes: Any) -> _DeflatedStream:
        stream = _DeflatedStream(deflated)
        for name, value in attributes.items():
            setattr(stream, name, value)
        self._add_pdf_obj(stream, "fonts")
        return stream

    def _add_cached_font(self, font: TTFFont, embedding: _Embedding) -> PDFFont:
        if font.missing_glyphs:
            LOGGER.warning(
                "%s has no glyph for %s",
                font.name,
                ", ".join(repr(chr(point)) for point in font.missing_glyphs[:10]),
            )
        name = f"MPDFAA+{font.name}"
        type0 = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        self._add_pdf_obj(type0, "fonts")
        cid_font = PDFFont(
            subtype="CIDFontType2", base_font=name, d_w=font.desc.missing_width, w=embedding.widths
        )
        self._add_pdf_obj(cid_font, "fonts")
        type0.descendant_fonts = PDFArray([cid_font])
        type0.to_unicode = self._add_deflated(embedding.to_unicode)
        system_info = CIDSystemInfo()
        self._add_pdf_obj(system_info, "fonts")
        cid_font.c_i_d_system_info = system_info
        descriptor = font.desc  # this document's own copy (_Face.attach_to)
        descriptor.font_name = Name(name)
        self._add_pdf_obj(descriptor, "fonts")
        cid_font.font_descriptor = descriptor
        cid_font.c_i_d_to_g_i_d_map = self._add_deflated(embedding.cid_to_gid)
        # fpdf2's PDFFontDescriptor does not declare font_file2, which its writer serialises
        descriptor.font_file2 = self._add_deflated(  # type: ignore[attr-defined]
            embedding.font_file, length1=embedding.font_file_length
        )
        # fpdf2 memoizes SubsetMap lookups in a process-wide cache and clears it here too.
        font.subset.pick.cache_clear()
        font.subset.get_glyph.cache_clear()
        return type0


class _FontSet:
    def __init__(self, font_dir: Path) -> None:
        self.faces: dict[str, _Face] = {}
        for style, filename in FONT_FILES.items():
            path = font_dir / filename
            if not path.is_file():
                raise FontUnavailableError(
                    f"font file {path} not found: install the Debian package fonts-dejavu-core "
                    f"(apt-get install fonts-dejavu-core) or set the font directory to one that "
                    f"holds {', '.join(FONT_FILES.values())}"
                )
            self.faces[style] = _Face(path, style)


_font_sets: dict[tuple[Path, tuple[tuple[int, int] | None, ...]], _FontSet] = {}
_font_sets_lock = threading.Lock()


def _fonts(font_dir: str | Path | None) -> _FontSet:
    directory = Path(font_dir) if font_dir is not None else DEFAULT_FONT_DIR
    stamp: list[tuple[int, int] | None] = []
    for filename in FONT_FILES.values():
        try:
            stat = (directory / filename).stat()
            stamp.append((stat.st_mtime_ns, stat.st_size))
        except OSError:
            stamp.append(None)
    key = (directory.resolve(), tuple(stamp))  # a replaced file is parsed again
    with _font_sets_lock:
        fonts = _font_sets.get(key)
        if fonts is None:
            fonts = _FontSet(directory)
            for stale in [k for k in _font_sets if k[0] == key[0]]:
                del _font_sets[stale]
            _font_sets[key] = fonts
        return fonts
