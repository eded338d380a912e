"""Seed the demo data into a fresh in-memory SQLite database and print how long it took.

    .venv/bin/python bench/demo_seed.py [--subscribers 1200] [--runs 3]

The argon2 hash of the demo password is left out of the timing (it is slow on purpose and done
once); what is timed is loading the data files, drawing the plan and writing the rows.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy.orm import Session  # noqa: E402

import engine.models  # noqa: E402,F401  (registers the tables)
import workflow.demo.seed as seeding  # noqa: E402
import workflow.models  # noqa: E402,F401
from engine.db import Base, make_engine  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    seeding.hash_password = lambda password: "not-argon2"  # type: ignore[assignment]
    times = []
    for _ in range(args.runs):
        db = make_engine("sqlite://")
        Base.metadata.create_all(db)
        with Session(db) as session:
            started = time.perf_counter()
            summary = seeding.seed_demo(
                session, today=date(2026, 3, 15), subscribers=args.subscribers
            )
            session.commit()
            times.append(time.perf_counter() - started)
        db.dispose()
    print(
        f"demo seed: {summary.subscribers} subscribers, {summary.meters} meters, {summary.readings} readings; "
        f"median {statistics.median(times):.2f} s over {args.runs} runs (min {min(times):.2f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
