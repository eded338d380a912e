"""What ``workflow.pdf_fonts`` relies on inside fpdf2, pinned against the installed release: an
upgrade that renames or drops one of these fails here before an invoice comes out wrong."""

from __future__ import annotations

import inspect
from importlib.metadata import version

from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import OutputProducer
from packaging.specifiers import SpecifierSet

from workflow.pdf_fonts import DEFAULT_FONT_DIR, FONT_FILES, FPDF2_SUPPORTED


def test_the_installed_fpdf2_is_in_the_supported_range():
    assert version("fpdf2") in SpecifierSet(",".join(FPDF2_SUPPORTED))


def test_a_parsed_face_has_the_per_document_state_the_module_copies():
    pdf = FPDF()
    pdf.add_font("dejavu", "", str(DEFAULT_FONT_DIR / FONT_FILES[""]))
    font = pdf.fonts["dejavu"]
    assert isinstance(font, TTFFont) and font.fontkey == "dejavu" and font.i == 1
    for name in ("cw", "desc", "missing_glyphs", "biggest_size_pt", "_hbfont", "ttfont", "subset"):
        assert hasattr(font, name), name
    assert isinstance(font.subset, SubsetMap) and font.subset.font is font
    assert font.subset.pick(ord("ə")) is not None
    font.ttfont.close()  # fontTools keeps the file open while it reads lazily


def test_the_output_producer_builds_fonts_in_one_overridable_step():
    assert "_add_fonts" in vars(OutputProducer) and "_add_pdf_obj" in vars(OutputProducer)
    assert "output_producer_class" in inspect.signature(FPDF.output).parameters
