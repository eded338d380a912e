"""PDF invoice and receipt: Azerbaijani text survives, fonts are embedded right, reuse is safe."""

from __future__ import annotations

import re
import threading
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO

import pytest
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from workflow.billing import compute_bill
from workflow.documents import (
    DEFAULT_FONT_DIR,
    FontUnavailableError,
    InvoiceDocument,
    InvoiceMeterLine,
    ReceiptDocument,
    ReceiptMeterLine,
    _Page,
    format_amount,
    format_percent,
    render_invoice_pdf,
    render_receipt_pdf,
)
from workflow.tariff_table import STANDARD_TARIFFS

NAME = "Gülməmmədov Şəmsəddin Əliağa oğlu"
# Every Azerbaijani letter outside ASCII, both cases, and the dotless/dotted i pair.
ADDRESS = "İçərişəhər, Ö. Ünsizadə küç. 7, Çöl Ğ-blok, ŞƏHƏR, Iğdır/Işıqlı, ə ğ ı ö ü ç ş"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def invoice(
    full_name: str = NAME, address: str = ADDRESS, number: str = "HF-2021-000123", meters: int = 1
) -> InvoiceDocument:
    bill = compute_bill(
        25, date(2021, 1, 15), date(2021, 2, 14), STANDARD_TARIFFS, "population", "baku"
    )
    return InvoiceDocument(
        number=number,
        issue_date=date(2021, 2, 15),
        due_date=date(2021, 2, 25),
        subscriber_code="1234567",
        full_name=full_name,
        address=address,
        application_number="M-7KQ2-94XD",
        period_start=date(2021, 1, 15),
        period_end=date(2021, 2, 14),
        meters=[
            InvoiceMeterLine(
                f"SN-{i:06d}", 99_995, date(2021, 1, 15), 20, date(2021, 2, 14), 25, "citizen", 5
            )
            for i in range(meters)
        ],
        bill=bill,
    )


def receipt(full_name: str = NAME) -> ReceiptDocument:
    return ReceiptDocument(
        application_number="M-7KQ2-94XD",
        registered_at=datetime(2021, 2, 14, 10, 5),
        subscriber_code="1234567",
        full_name=full_name,
        address=ADDRESS,
        meters=[
            ReceiptMeterLine("SN-000123", "PL-7781", 20, date(2021, 2, 14)),
            ReceiptMeterLine("SN-000124", "PL-7782", 1504, date(2021, 2, 13)),
        ],
        phone="+994 50 123 45 67",
        email="semseddin@example.az",
        confirmation="Müraciətiniz qəbul edildi; nəticə 5 iş günü ərzində e-poçtla göndəriləcək.",
    )


def embedded_fonts(pdf: bytes) -> list[dict]:
    """Per font of the first page: code → (unicode text, glyph name drawn, width), and the
    glyph name the embedded font's own cmap gives that text, and the font's advance width."""
    fonts = []
    page = PdfReader(BytesIO(pdf)).pages[0]
    for ref in page["/Resources"]["/Font"].values():
        type0 = ref.get_object()
        cid_font = type0["/DescendantFonts"][0].get_object()
        ttf = TTFont(BytesIO(cid_font["/FontDescriptor"]["/FontFile2"].get_object().get_data()))
        order, cmap, upem = ttf.getGlyphOrder(), ttf.getBestCmap(), ttf["head"].unitsPerEm
        gid_map = cid_font["/CIDToGIDMap"].get_object().get_data()
        widths: dict[int, int] = {}
        w = list(cid_font["/W"])
        for start, run in zip(w[::2], w[1::2], strict=False):
            widths.update({int(start) + k: int(width) for k, width in enumerate(run)})
        to_unicode = type0["/ToUnicode"].get_object().get_data().decode()
        bfchar = "".join(re.findall(r"beginbfchar(.*?)endbfchar", to_unicode, re.S))
        codes = {}
        for code, hex_text in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", bfchar):
            code, text = int(code, 16), bytes.fromhex(hex_text).decode("utf-16-be")
            if text == "\x00":
                continue
            drawn = order[int.from_bytes(gid_map[2 * code : 2 * code + 2], "big")]
            codes[code] = {
                "text": text,
                "drawn": drawn,
                "expected": cmap.get(ord(text)),
                "width": widths.get(code),
                "font_width": round(ttf["hmtx"][drawn][0] * 1000 / upem + 0.001),
            }
        fonts.append({"name": str(type0["/BaseFont"]), "codes": codes, "glyphs": set(order)})
    return fonts


# --------------------------------------------------------------------------- invoice


def test_invoice_text_comes_back_intact():
    pdf = render_invoice_pdf(invoice())
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    text = text_of(pdf)
    for expected in (
        NAME,
        ADDRESS,
        "HF-2021-000123",
        "Hesab-faktura",
        "Abonent kodu",
        "1234567",
        "Ünvan",
        "Dövr",
        "Sayğac",
        "Əvvəlki göstərici",
        "Cari göstərici",
        "İstehlak, m³",
        "Kanalizasiya",
        "Cəmi",
        "18,34 AZN",
        "o cümlədən ƏDV 18%",
        "2,80 AZN",
        "15,54 AZN",
        "Ödəniş müddəti: 25.02.2021",
        "99995 (15.01.2021)",
        "00020 (14.02.2021)",
    ):
        assert expected in text, expected


def test_invoice_lists_each_tariff_segment():
    text = text_of(render_invoice_pdf(invoice()))
    assert re.search(r"Su 16\.01\.2021 – 31\.01\.2021 16 13,333 0,35 4,67", text)
    assert re.search(r"Kanalizasiya 16\.01\.2021 – 31\.01\.2021 16 13,333 0,15 2,00", text)
    assert re.search(r"Su 01\.02\.2021 – 14\.02\.2021 14 11,667 0,70 8,17", text)
    assert re.search(r"Kanalizasiya 01\.02\.2021 – 14\.02\.2021 14 11,667 0,30 3,50", text)


def test_every_code_drawn_maps_to_the_right_glyph_and_width():
    # Text extraction only reads the ToUnicode map; this checks what a reader *sees*: the glyph
    # the CIDToGIDMap picks in the embedded font, and the advance width the PDF declares.
    fonts = embedded_fonts(render_invoice_pdf(invoice()))
    assert len(fonts) == 2  # regular and bold
    for font in fonts:
        assert "DejaVuSans" in font["name"]
        drawn_letters = {entry["text"] for entry in font["codes"].values()}
        assert set("əƏğĞıIİöÖüÜçÇşŞ") <= drawn_letters
        for code, entry in font["codes"].items():
            assert entry["drawn"] == entry["expected"], (font["name"], code, entry)
            assert entry["width"] == entry["font_width"], (font["name"], code, entry)


def test_a_long_address_wraps_and_stays_intact():
    address = ", ".join(["Şərifzadə küçəsi 14, mənzil 88, Yasamal rayonu"] * 4)
    text = text_of(render_invoice_pdf(invoice(address=address)))
    assert "Şərifzadə küçəsi" in text
    assert re.sub(r"\s+", " ", text).count("Şərifzadə küçəsi 14") == 4


def test_a_long_invoice_continues_on_the_next_page_with_the_table_heading():
    pdf = render_invoice_pdf(invoice(meters=45))
    pages = PdfReader(BytesIO(pdf)).pages
    assert len(pages) >= 2
    second = pages[1].extract_text()
    assert "Əvvəlki göstərici" in second and "SN-000044" in second
    assert "18,34 AZN" in text_of(pdf)


# --------------------------------------------------------------------------- receipt


def test_receipt_text_comes_back_intact():
    pdf = render_receipt_pdf(receipt())
    assert pdf.startswith(b"%PDF-")
    text = text_of(pdf)
    # registered at 10:05 UTC: 14:05 in Baku, where the citizen reads it
    for expected in (
        NAME,
        ADDRESS,
        "Müraciət qəbzi",
        "M-7KQ2-94XD",
        "14.02.2021 14:05",
        "PL-7781",
        "SN-000124",
        "1504",
        "+994 50 123 45 67",
        "semseddin@example.az",
        "Müraciətiniz qəbul edildi; nəticə 5 iş günü ərzində e-poçtla göndəriləcək.",
    ):
        assert expected in text, expected


# --------------------------------------------------------------------------- font reuse


def test_documents_rendered_one_after_another_keep_their_own_text():
    # The second name has letters outside the base set (Cyrillic, ñ): another subset is made.
    first = render_invoice_pdf(invoice(full_name=NAME, number="HF-1"))
    second = render_receipt_pdf(receipt(full_name="Ибрагимов Ильгар Шахин оглы / Nuñez Ĳ"))
    third = render_invoice_pdf(invoice(full_name="Hüseynova Çiçək İlqar qızı", number="HF-3"))
    assert NAME in text_of(first) and "HF-1" in text_of(first)
    assert "Ибрагимов Ильгар Шахин оглы / Nuñez Ĳ" in text_of(second)
    assert "Hüseynova Çiçək İlqar qızı" in text_of(third) and "HF-3" in text_of(third)
    assert NAME not in text_of(third)
    for pdf in (first, second, third):
        for font in embedded_fonts(pdf):
            assert all(entry["drawn"] == entry["expected"] for entry in font["codes"].values())
    # No glyph leaks from the Cyrillic document into the fonts of the next one.
    assert not any("И" == e["text"] for f in embedded_fonts(third) for e in f["codes"].values())
    assert not any(
        "afii10026" in f["glyphs"] or "uni0418" in f["glyphs"] for f in embedded_fonts(third)
    )


def test_documents_rendered_in_parallel_threads_keep_their_own_text():
    names = [f"Əliyev{i} Vüqar Şahin oğlu" for i in range(8)] + ["Иванов Пётр", "Müller Jörg Øre"]
    results: dict[int, bytes] = {}
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            for round_ in range(3):
                results[index * 10 + round_] = render_invoice_pdf(
                    invoice(full_name=names[index], number=f"HF-{index}-{round_}")
                )
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    for key, pdf in results.items():
        index, round_ = divmod(key, 10)
        text = text_of(pdf)
        assert names[index] in text and f"HF-{index}-{round_}" in text


def test_font_directory_can_be_passed(tmp_path):
    for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
        (tmp_path / name).symlink_to(DEFAULT_FONT_DIR / name)
    assert NAME in text_of(render_receipt_pdf(receipt(), font_dir=str(tmp_path)))


def test_missing_font_says_which_package_to_install(tmp_path):
    with pytest.raises(FontUnavailableError, match="fonts-dejavu-core"):
        render_invoice_pdf(invoice(), font_dir=tmp_path)


def test_fast_text_width_matches_fpdf():
    page = _Page(None, "width")
    for bold in (False, True):
        page.style(9.5, bold)
        for sample in (NAME, ADDRESS, "18,34 AZN", "İstehlak, m³"):
            assert page.text_width(sample) == pytest.approx(page.get_string_width(sample))


# --------------------------------------------------------------------------- formatting


def test_amounts_use_azerbaijani_number_format():
    assert format_amount(Decimal("1234.5")) == "1.234,50 AZN"
    assert format_amount(Decimal("0.00")) == "0,00 AZN"
    assert format_percent(Decimal("0.18")) == "18%"
    assert format_percent(Decimal("0.125")) == "12,5%"
