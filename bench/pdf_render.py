"""Render 200 one-page invoices and print the time per invoice.

    .venv/bin/python bench/pdf_render.py [--count 200] [--font-dir DIR]

The first invoice pays for parsing the DejaVu faces and making the base subset; it is shown
apart. Wall-clock and CPU (thread) times are both printed: on a shared machine the CPU time is
the steadier figure. Subscriber names vary (one in six is an old Cyrillic record, whose glyphs
are outside the base set), so the font caches are exercised the way real ones would be.

For scale, the same run times two references on the same machine: a two-line page in a core
font (no embedding, but no "ə" either), and the same page with both DejaVu faces added to
each document the ordinary way (``FPDF.add_font``), which is what the cache replaces.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fpdf import FPDF  # noqa: E402

from workflow.billing import compute_bill  # noqa: E402
from workflow.documents import InvoiceDocument, InvoiceMeterLine, render_invoice_pdf  # noqa: E402
from workflow.pdf_fonts import DEFAULT_FONT_DIR, FONT_FILES  # noqa: E402
from workflow.tariff_table import STANDARD_TARIFFS  # noqa: E402

NAMES = [
    "Gülməmmədov Şəmsəddin Əliağa oğlu",
    "Hüseynova Çiçək İlqar qızı",
    "Əliyev Vüqar Şahin oğlu",
    "Qurbanova Gülşən Ağabəy qızı",
    "Məmmədov Ülvi Rövşən oğlu",
    "Ибрагимов Ильгар Шахин оглы",  # an old record in Cyrillic: a glyph set outside the base one
]


def invoice(index: int) -> InvoiceDocument:
    start = date(2021, 1, 1 + index % 28)
    end = date(2021, 2, 1 + index % 28)
    used = 5 + index % 40
    bill = compute_bill(used, start, end, STANDARD_TARIFFS, "population", "baku")
    return InvoiceDocument(
        number=f"HF-2021-{index:06d}",
        issue_date=end,
        due_date=date(2021, 3, 1 + index % 28),
        subscriber_code=f"{1000000 + index}",
        full_name=NAMES[index % len(NAMES)],
        address=f"Bakı şəh., Nəsimi r-nu, Ş. Bədəlbəyli küç. {index % 90 + 1}, mənzil {index % 70 + 1}",
        application_number=f"M-{index:04d}-KQ",
        period_start=start,
        period_end=end,
        meters=[
            InvoiceMeterLine(
                "SN-48213", 1200 + index, start, 1200 + index + used, end, used, "citizen", 5
            )
        ],
        bill=bill,
    )


def reference_page(font_dir: Path | None) -> bytes:
    """Two lines of text; with ``font_dir``, in DejaVu added per document by ``add_font``."""
    pdf = FPDF()
    pdf.add_page()
    family = "helvetica"
    if font_dir is not None:
        family = "dejavu"
        for style, filename in FONT_FILES.items():
            pdf.add_font(family, style, font_dir / filename)
    pdf.set_font(family, "B", 16)
    pdf.cell(0, 10, "Hesab-faktura", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    pdf.cell(0, 10, NAMES[0] if font_dir is not None else "Gulmammadov Shamsaddin")
    return bytes(pdf.output())


def cpu_ms(function, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.thread_time()
        function()
        times.append((time.thread_time() - start) * 1000)
    return statistics.median(times)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--font-dir", default=None)
    args = parser.parse_args()

    docs = [invoice(i) for i in range(args.count)]
    wall, cpu, sizes = [], [], []
    for doc in docs:
        w0, c0 = time.perf_counter(), time.thread_time()
        pdf = render_invoice_pdf(doc, args.font_dir)
        cpu.append((time.thread_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
        sizes.append(len(pdf))

    print(f"invoices rendered: {args.count}")
    print(f"first invoice:     {wall[0]:7.1f} ms wall, {cpu[0]:7.1f} ms CPU (parses the fonts)")
    rest_wall, rest_cpu = wall[1:], cpu[1:]
    for label, values in (("wall", rest_wall), ("CPU ", rest_cpu)):
        print(
            f"next {len(values)} ({label}): mean {statistics.mean(values):5.2f} ms, "
            f"median {statistics.median(values):5.2f} ms, p95 {percentile(values, 0.95):5.2f} ms, "
            f"max {max(values):6.2f} ms"
        )
    print(f"PDF size:          mean {statistics.mean(sizes) / 1024:.1f} KiB")
    font_dir = Path(args.font_dir) if args.font_dir else DEFAULT_FONT_DIR
    print(
        f"reference, CPU median: core-font page {cpu_ms(lambda: reference_page(None), 50):.2f} ms; "
        f"page with DejaVu added per document {cpu_ms(lambda: reference_page(font_dir), 10):.1f} ms"
    )


if __name__ == "__main__":
    main()
