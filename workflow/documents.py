"""PDF documents for the citizen: the invoice (hesab-faktura) and the application receipt.

A4, Azerbaijani, rendered with fpdf2 in DejaVu Sans, which has every Azerbaijani letter
(ə Ə ğ Ğ ı I İ ö Ö ü Ü ç Ç ş Ş); the core PDF fonts lack "ə". The font comes from Debian's
``fonts-dejavu-core`` package; the caller may pass another directory holding the same files.

Fonts are parsed and embedded once per process by :mod:`workflow.pdf_fonts`. Text is placed
with ``FPDF.text`` at computed positions (``_Page``), not ``cell``, which is 20 times slower.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from fpdf.enums import Align, XPos, YPos
from fpdf.fonts import TTFFont

from engine.calendar import DEFAULT_ZONE
from engine.db import as_utc
from workflow.billing import Bill, BillLine
from workflow.pdf_fonts import (  # noqa: F401  (re-exported for callers)
    DEFAULT_FONT_DIR,
    DEFAULT_UTILITY_NAME,
    FONT_FAMILY,
    FontedPDF,
    FontUnavailableError,
    _fonts,
    _OutputProducer,
)

# --------------------------------------------------------------------------- formatting


def format_number(value: Decimal | int, places: int = 0) -> str:
    """Azerbaijani notation (CLDR az): ``1.234,56``."""
    text = f"{Decimal(value):,.{places}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def format_amount(amount: Decimal) -> str:
    return f"{format_number(amount, 2)} AZN"


def format_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def format_local_time(moment: datetime, zone: str = DEFAULT_ZONE) -> str:
    """A stored moment (UTC; naive means UTC) as people in ``zone`` read it: ``19.03.2026 20:00``."""
    return as_utc(moment).astimezone(ZoneInfo(zone)).strftime("%d.%m.%Y %H:%M")


def format_percent(rate: Decimal) -> str:
    """``Decimal("0.18")`` → ``18%``; decimals only when the rate has them (``12,5%``)."""
    percent = (rate * 100).normalize()
    exponent = percent.as_tuple().exponent
    assert isinstance(exponent, int)  # a finite rate (NaN and infinity have letters here)
    return f"{format_number(percent, max(0, -exponent))}%"


def format_reading(value: int, register_digits: int | None) -> str:
    """A register value as the meter shows it (leading zeros when the digit count is known)."""
    return str(value).zfill(register_digits) if register_digits else str(value)


SOURCE_LABELS = {"citizen": "abonent", "inspector": "nəzarətçi", "estimate": "hesablanmış"}


# --------------------------------------------------------------------------- documents


@dataclass
class InvoiceMeterLine:
    serial: str
    previous_reading: int
    previous_date: date
    current_reading: int
    current_date: date
    consumption_m3: int
    source: str  # "citizen" / "inspector"
    register_digits: int | None = None


@dataclass
class InvoiceDocument:
    number: str
    issue_date: date
    due_date: date  # issue date + the payment period (10 days), decided by the caller
    subscriber_code: str
    full_name: str  # surname, name and patronymic as the subscriber record spells them
    address: str
    application_number: str
    period_start: date
    period_end: date
    meters: Sequence[InvoiceMeterLine]
    bill: Bill
    utility_name: str = DEFAULT_UTILITY_NAME


@dataclass
class ReceiptMeterLine:
    serial: str
    seal: str
    reading: int
    reading_date: date


@dataclass
class ReceiptDocument:
    application_number: str
    registered_at: datetime  # as stored (UTC; naive means UTC); printed in ``zone``
    subscriber_code: str
    full_name: str
    address: str
    meters: Sequence[ReceiptMeterLine]
    phone: str | None
    email: str | None
    confirmation: str  # the sentence confirming what happens next, from the caller
    utility_name: str = DEFAULT_UTILITY_NAME
    zone: str = DEFAULT_ZONE  # the utility's time zone: people read times in Baku


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Column:
    heading: str
    width: float  # mm
    align: Align = Align.L


class _Page(FontedPDF):
    """A4 pages in DejaVu with the few layout pieces both documents use.

    Text is placed with ``FPDF.text`` at computed positions rather than with ``cell``: a
    ``cell`` costs ≈ 0.1 ms (fragment parsing, graphics state copies) against a few µs here,
    and a one-page invoice has some 60 pieces of text. ``multi_cell`` is kept for the rare
    value that needs wrapping.
    """

    MARGIN = 15.0  # mm
    LINE = 5.5  # mm per line of body text
    PAD = 1.5  # mm between a table cell's border and its text
    MIN_TABLE_FONT = 6.0  # pt: a too-long table value shrinks down to this, then overflows

    def __init__(self, font_dir: str | Path | None, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.attached_fonts = [
            (face, face.attach_to(self)) for face in _fonts(font_dir).faces.values()
        ]
        self.set_margins(self.MARGIN, self.MARGIN, self.MARGIN)
        self.set_auto_page_break(True, margin=self.MARGIN)
        self.set_title(title)
        self.set_creator("saygac")
        self.set_lang("az")
        self.add_page()

    def to_bytes(self) -> bytes:
        return bytes(self.output(output_producer_class=_OutputProducer))

    @property
    def content_width(self) -> float:
        return self.w - self.l_margin - self.r_margin

    def style(self, size: float = 10, bold: bool = False) -> None:
        self.set_font(FONT_FAMILY, "B" if bold else "", size)

    def room_for(self, height: float) -> bool:
        """Start a new page unless ``height`` mm fit above the bottom margin; True if it did."""
        if self.y + height <= self.page_break_trigger:
            return False
        self.add_page()
        return True

    def text_width(self, text: str) -> float:
        """Width of ``text`` in mm in the current font: ``get_string_width`` without its
        markdown and bidi passes, which cost 20 times more."""
        font = self.current_font
        assert isinstance(font, TTFFont)  # the page draws in its attached DejaVu faces only
        widths = font.cw
        return sum(widths[ord(char)] for char in text) * self.font_size_pt / 1000 / self.k

    def put(
        self,
        x: float,
        y: float,
        width: float,
        height: float,
        text: str,
        align: Align = Align.L,
        pad: float = 0.0,
    ) -> None:
        """``text`` on one line, vertically centred in the box; shrunk if it is too wide."""
        available = width - 2 * pad
        text_width = self.text_width(text)
        size = self.font_size_pt
        if text_width > available > 0:
            shrunk = max(self.MIN_TABLE_FONT, size * available / text_width)
            self.set_font_size(shrunk)
            text_width = self.text_width(text)
        if align == Align.R:
            left = x + width - pad - text_width
        elif align == Align.C:
            left = x + (width - text_width) / 2
        else:
            left = x + pad
        self.text(left, y + 0.5 * height + 0.3 * self.font_size, text)
        if self.font_size_pt != size:
            self.set_font_size(size)

    def line_of_text(self, text: str, height: float = LINE, align: Align = Align.L) -> None:
        """A full-width line at the cursor; wraps (``multi_cell``) only if it has to."""
        self.text_block(self.l_margin, text, height, align)

    def text_block(self, x: float, text: str, height: float = LINE, align: Align = Align.L) -> None:
        width = self.w - self.r_margin - x
        if "\n" in text or self.text_width(text) > width:
            self.set_x(x - self.c_margin)  # multi_cell pads its text by c_margin: line it up
            self.multi_cell(
                width + self.c_margin,
                height,
                text,
                align=align,
                new_x=XPos.LMARGIN,
                new_y=YPos.NEXT,
            )
            return
        self.room_for(height)
        self.put(x, self.y, width, height, text, align)
        self.set_y(self.y + height)

    def masthead(self, utility_name: str, title: str, number: str, date_line: str) -> None:
        self.style(10, bold=True)
        self.line_of_text(utility_name)
        self.ln(3)
        self.style(18, bold=True)
        self.line_of_text(title, height=10)
        self.style(11, bold=True)
        self.line_of_text(f"№ {number}", height=6)
        self.style(10)
        self.line_of_text(date_line)
        self.ln(4)

    def fields(self, rows: Sequence[tuple[str, str]], label_width: float = 48) -> None:
        """Label / value pairs; a long value wraps within the value column."""
        for label, value in rows:
            self.room_for(self.LINE)
            self.style(10, bold=True)
            self.put(self.l_margin, self.y, label_width, self.LINE, label)
            self.style(10)
            self.text_block(self.l_margin + label_width, value)
        self.ln(3)

    def section(self, heading: str) -> None:
        self.room_for(8 + 2 * 7)  # keep a heading with its table's first rows
        self.style(12, bold=True)
        self.line_of_text(heading, height=8)

    def bordered_table(
        self,
        columns: Sequence[_Column],
        rows: Sequence[Sequence[str]],
        header_height: float = 7,
        row_height: float = 6.5,
    ) -> None:
        """A bordered table; its heading row is repeated on every page it spans."""
        scale = self.content_width / sum(column.width for column in columns)
        widths = [column.width * scale for column in columns]
        self.set_fill_color(230, 233, 238)
        self.set_draw_color(120, 120, 120)
        self.set_line_width(0.2)

        def heading_row() -> None:
            self.style(8.5, bold=True)
            x = self.l_margin
            for column, width in zip(columns, widths, strict=False):
                self.rect(x, self.y, width, header_height, style="DF")
                self.put(x, self.y, width, header_height, column.heading, column.align, self.PAD)
                x += width
            self.set_y(self.y + header_height)

        self.room_for(header_height + row_height)
        heading_row()
        for row in rows:
            if self.room_for(row_height):
                heading_row()
            self.style(9)
            x = self.l_margin
            for column, width, text in zip(columns, widths, row, strict=False):
                self.rect(x, self.y, width, row_height)
                self.put(x, self.y, width, row_height, text, column.align, self.PAD)
                x += width
            self.set_y(self.y + row_height)
        self.ln(3)

    def totals(self, rows: Sequence[tuple[str, str, bool]], width: float = 100) -> None:
        """Right-aligned label / amount lines; the bold ones stand out."""
        amount_width = 40
        left = self.w - self.r_margin - width
        for label, amount, bold in rows:
            self.room_for(self.LINE + 0.5)
            self.style(10.5 if bold else 10, bold=bold)
            self.put(left, self.y, width - amount_width, self.LINE + 0.5, label, Align.R)
            self.put(
                left + width - amount_width, self.y, amount_width, self.LINE + 0.5, amount, Align.R
            )
            self.set_y(self.y + self.LINE + 0.5)
        self.ln(3)

    def paragraph(self, text: str, size: float = 10, bold: bool = False) -> None:
        self.style(size, bold)
        self.line_of_text(text)


# --------------------------------------------------------------------------- invoice


def _charge_label(service: str, line: BillLine) -> str:
    return service if line.block is None else f"{service}, blok {line.block}"


def _charge_rows(bill: Bill) -> list[list[str]]:
    rows = []
    for line in bill.lines:
        period = f"{format_date(line.date_from)} – {format_date(line.date_to)}"
        volume = format_number(line.m3, 3)
        for service, price, amount in (
            ("Su", line.water_price, line.water_amount),
            ("Kanalizasiya", line.sewer_price, line.sewer_amount),
        ):
            rows.append(
                [
                    _charge_label(service, line),
                    period,
                    str(line.days),
                    volume,
                    format_number(price, 2),
                    format_number(amount, 2),
                ]
            )
    return rows


def render_invoice_pdf(doc: InvoiceDocument, font_dir: str | Path | None = None) -> bytes:
    """The invoice as an A4 PDF in Azerbaijani."""
    bill = doc.bill
    page = _Page(font_dir, title=f"Hesab-faktura {doc.number}")
    page.masthead(
        doc.utility_name, "Hesab-faktura", doc.number, f"Tarix: {format_date(doc.issue_date)}"
    )
    days = (doc.period_end - doc.period_start).days
    page.fields(
        [
            ("Abonent kodu", doc.subscriber_code),
            ("Abonent", doc.full_name),
            ("Ünvan", doc.address),
            ("Müraciət №", doc.application_number),
            (
                "Dövr",
                f"{format_date(doc.period_start)} – {format_date(doc.period_end)} ({days} gün)",
            ),
        ]
    )
    page.section("Sayğac göstəriciləri")
    page.bordered_table(
        [
            _Column("Sayğac", 35),
            _Column("Əvvəlki göstərici", 42, Align.R),
            _Column("Cari göstərici", 42, Align.R),
            _Column("İstehlak, m³", 31, Align.R),
            _Column("Mənbə", 30),
        ],
        [
            [
                m.serial,
                f"{format_reading(m.previous_reading, m.register_digits)} ({format_date(m.previous_date)})",
                f"{format_reading(m.current_reading, m.register_digits)} ({format_date(m.current_date)})",
                format_number(m.consumption_m3),
                SOURCE_LABELS.get(m.source, m.source),
            ]
            for m in doc.meters
        ],
    )
    page.section("Hesablama")
    page.bordered_table(
        [
            _Column("Xidmət", 37),
            _Column("Dövr", 47),
            _Column("Gün", 14, Align.R),
            _Column("Həcm, m³", 24, Align.R),
            _Column("Tarif, AZN/m³", 29, Align.R),
            _Column("Məbləğ, AZN", 29, Align.R),
        ],
        _charge_rows(bill),
    )
    vat_label = "o cümlədən ƏDV " + ", ".join(format_percent(rate) for rate in bill.vat_rates)
    page.totals(
        [
            ("Cəmi", format_amount(bill.gross), True),
            (vat_label, format_amount(bill.vat), False),
            ("ƏDV-siz məbləğ", format_amount(bill.net), False),
        ]
    )
    page.paragraph(f"Ödəniş müddəti: {format_date(doc.due_date)}", size=11, bold=True)
    page.paragraph(
        "Tariflərə ƏDV daxildir. Tarif dövr ərzində dəyişibsə, istehlak günlərə mütənasib bölünür.",
        size=8.5,
    )
    return page.to_bytes()


# --------------------------------------------------------------------------- receipt


def render_receipt_pdf(doc: ReceiptDocument, font_dir: str | Path | None = None) -> bytes:
    """The citizen's receipt for a registered application, as an A4 PDF in Azerbaijani."""
    page = _Page(font_dir, title=f"Müraciət {doc.application_number}")
    page.masthead(
        doc.utility_name,
        "Müraciət qəbzi",
        doc.application_number,
        f"Qeydiyyat tarixi: {format_local_time(doc.registered_at, doc.zone)}",
    )
    page.fields(
        [
            ("Abonent kodu", doc.subscriber_code),
            ("Abonent", doc.full_name),
            ("Ünvan", doc.address),
            ("Telefon", doc.phone or "—"),
            ("E-poçt", doc.email or "—"),
        ]
    )
    page.section("Sayğac göstəriciləri")
    page.bordered_table(
        [
            _Column("Sayğac", 50),
            _Column("Plomb", 45),
            _Column("Göstərici", 45, Align.R),
            _Column("Tarix", 40, Align.R),
        ],
        [[m.serial, m.seal, str(m.reading), format_date(m.reading_date)] for m in doc.meters],
    )
    page.paragraph(doc.confirmation)
    return page.to_bytes()


def warm_up(font_dir: str | Path | None = None) -> None:
    """Parse the fonts and make the base subset now (e.g. at worker start), not on first use."""
    render_receipt_pdf(
        ReceiptDocument(
            application_number="-",
            registered_at=datetime(2000, 1, 1),
            subscriber_code="-",
            full_name="-",
            address="-",
            meters=[],
            phone=None,
            email=None,
            confirmation="-",
        ),
        font_dir,
    )
