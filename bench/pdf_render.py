"""Render 200 one-page invoices and print the time per invoice.

    .venv/bin/python bench/pdf_render.py [--count 200] [--font-dir DIR]

The first invoice pays for parsing the DejaVu faces and making the base subset; it is shown
apart. Wall-clock and CPU (thread) times are both printed: on a shared machine the CPU time is
the steadier figure. Each invoice has a different subscriber name, so the glyph sets vary the
way real ones do.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from workflow.billing import compute_bill  # noqa: E402
from workflow.documents import InvoiceDocument, InvoiceMeterLine, render_invoice_pdf  # noqa: E402
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
        meters=[InvoiceMeterLine("SN-48213", 1200 + index, start, 1200 + index + used, end, used, "citizen", 5)],
        bill=bill,
    )


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
    print(f"next {len(rest_wall)}:  mean {statistics.mean(rest_wall):5.2f} ms wall, "
          f"p95 {percentile(rest_wall, 0.95):5.2f} ms wall; "
          f"mean {statistics.mean(rest_cpu):5.2f} ms CPU, p95 {percentile(rest_cpu, 0.95):5.2f} ms CPU")
    print(f"PDF size:          mean {statistics.mean(sizes) / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
