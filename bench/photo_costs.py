"""Time the photo work per upload: the request's checks and the job's hash and sanitised copy.

    .venv/bin/python bench/photo_costs.py [--megapixels 12] [--repeat 10]

Makes a camera-like JPEG (detail at every scale, EXIF with GPS and an orientation), then prints the median wall-clock and CPU (thread) time of: ``inspect_upload`` (the
request: type, ZIP and header checks, ``verify()`` and a full decode), ``perceptual_hash`` and
``sanitize_image`` (the job). On a shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import ExifTags, Image  # noqa: E402

from workflow.photos import inspect_upload, perceptual_hash, sanitize_image  # noqa: E402


def camera_jpeg(megapixels: float) -> bytes:
    rng = random.Random(1)
    small = Image.new("RGB", (64, 48))
    small.putdata([tuple(rng.randrange(256) for _ in range(3)) for _ in range(64 * 48)])
    width = int((megapixels * 1_000_000 * 4 / 3) ** 0.5)
    im = small.resize((width, width * 3 // 4), Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:02:28 09:15:00"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1], gps[2], gps[3], gps[4] = "N", (40.0, 24.0, 32.5), "E", (49.0, 51.0, 12.0)
    exif[ExifTags.Base.Orientation] = 6
    out = io.BytesIO()
    im.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def measure(fn, repeat: int) -> tuple[float, float]:
    fn()
    walls, cpus = [], []
    for _ in range(repeat):
        w, c = time.perf_counter(), time.thread_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.thread_time() - c)
    return statistics.median(walls) * 1000, statistics.median(cpus) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megapixels", type=float, default=12)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    data = camera_jpeg(args.megapixels)
    print(f"JPEG {args.megapixels:g} MP, {len(data) / 1024:.0f} KiB, median of {args.repeat}")
    for name, fn in (
        ("request: inspect_upload", lambda: inspect_upload(data)),
        ("job: perceptual_hash", lambda: perceptual_hash(data)),
        ("job: sanitize_image", lambda: sanitize_image(data)),
    ):
        wall, cpu = measure(fn, args.repeat)
        print(f"  {name:<26} {wall:7.1f} ms wall  {cpu:7.1f} ms CPU")


if __name__ == "__main__":
    main()
