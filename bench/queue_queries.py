"""Unit work queue queries at a million open work items on PostgreSQL.

    .venv/bin/python -m bench.queue_queries                      # 1,000,000 open items, 200 runs per query
    .venv/bin/python -m bench.queue_queries --items 200000 --runs 50 --keep   # reuse the filled database

Fills ``saygac_bench_queue`` (created if missing; **its tables are dropped** unless ``--keep`` finds
them filled) with open review and inspection items spread over all units, plus completed ones, using
COPY; then times the statements ``engine.workqueue.unit_queue`` runs, exactly as it builds them:
the default page (view "all", first page, by due date), the "flagged and overdue" page, and the
counts row behind the filter tabs. Prints p50/p95 over ``--runs`` runs (each run a random unit and
operator) and the query plans (EXPLAIN ANALYZE, BUFFERS). Target: p95 <= 20 ms for the page queries.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import engine.models  # noqa: F401
import workflow.models  # noqa: F401
from engine.audit import Actor
from engine.db import Base
from engine.models import Account, ProcessVersion, Unit
from engine.workqueue import QueueFilter, counts_statement, page_statement, unit_queue

DEFAULT_URL = os.environ.get(
    "SAYGAC_BENCH_QUEUE_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/saygac_bench_queue"
)
UNITS = 60
OPERATORS_PER_UNIT = 6


def ensure_database(url: str) -> None:
    u = make_url(url)
    admin = psycopg.connect(
        host=u.host,
        port=u.port or 5432,
        user=u.username,
        password=u.password,
        dbname="postgres",
        autocommit=True,
    )
    with admin:
        if (
            admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (u.database,)).fetchone()
            is None
        ):
            admin.execute(f'CREATE DATABASE "{u.database}"')


def _raw(url: str) -> psycopg.Connection:
    u = make_url(url)
    return psycopg.connect(
        host=u.host, port=u.port or 5432, user=u.username, password=u.password, dbname=u.database
    )


def filled(db) -> int:
    with db.connect() as conn:
        try:
            return conn.execute(
                text("SELECT count(*) FROM work_item WHERE state = 'open'")
            ).scalar_one()
        except Exception:
            return 0


def fill(url: str, db, items: int, completed: int, now: datetime, seed: int = 5) -> None:
    rnd = random.Random(seed)
    Base.metadata.drop_all(db)
    Base.metadata.create_all(db)
    started = time.perf_counter()
    areas = [f"district-{i:02d}" for i in range(UNITS)]
    with Session(
        db
    ) as session:  # the small tables through the ORM (its defaults fill the other columns)
        session.add(
            ProcessVersion(
                id=1, process_id="meter_reading", version=1, content_hash="bench", files={}
            )
        )
        session.add_all(
            Unit(id=u, code=f"U-{u:03d}", name=f"Unit {u}") for u in range(1, UNITS + 1)
        )
        session.flush()
        aid = 0
        for u in range(1, UNITS + 1):
            for role, n in (("operator", OPERATORS_PER_UNIT), ("inspector", 2), ("unit_head", 1)):
                for _ in range(n):
                    aid += 1
                    session.add(
                        Account(
                            id=aid,
                            username=f"{role}-{aid}",
                            display_name=f"{role} {aid}",
                            role=role,
                            unit_id=u,
                        )
                    )
        session.commit()
    with _raw(url) as conn:
        with conn.cursor() as cur:
            total = items + completed
            with cur.copy(
                "COPY process_instance (id, version_id, status, state, serializer_version, created_at, "
                "updated_at) FROM STDIN"
            ) as cp:
                for i in range(1, total + 1):
                    cp.write_row((i, 1, "waiting", "{}", "bench", now, now))
            with cur.copy(
                "COPY work_item (id, instance_id, task_id, task_name, form_key, role, unit_id, "
                "claimed_by_id, lease_until, due_at, state, reference, subject, area, item_count, flagged, "
                "evidence_flagged, created_at, completed_at) FROM STDIN"
            ) as cp:
                for i in range(1, total + 1):
                    unit = rnd.randrange(1, UNITS + 1)
                    inspection = rnd.random() < 0.15
                    created = now - timedelta(minutes=rnd.randrange(0, 60 * 24 * 10))
                    due = created + timedelta(days=2 if not inspection else 3)
                    is_open = i <= items
                    claimed = None
                    lease = None
                    if is_open and rnd.random() < 0.1:
                        claimed = (unit - 1) * 9 + 1 + rnd.randrange(OPERATORS_PER_UNIT)
                        lease = now + timedelta(minutes=rnd.randrange(-30, 30))
                    cp.write_row(
                        (
                            i,
                            i,
                            f"{i:036d}",
                            "field_inspection" if inspection else "review_application",
                            "field_inspection" if inspection else "review_application",
                            "inspector" if inspection else "operator",
                            unit,
                            claimed,
                            lease,
                            due,
                            "open" if is_open else "completed",
                            f"2026-{i:09d}",
                            f"{rnd.randrange(10**9, 10**10)}",
                            areas[unit - 1],
                            rnd.choice((1, 1, 1, 2, 2, 3)),
                            rnd.random() < 0.10,
                            rnd.random() < 0.05,
                            created,
                            None if is_open else created + timedelta(hours=rnd.randrange(1, 72)),
                        )
                    )
        conn.commit()
        conn.commit()
    with _raw(url) as conn:
        conn.autocommit = True
        conn.execute(
            "VACUUM ANALYZE work_item"
        )  # as autovacuum would: visibility map for index-only scans
    print(
        f"filled {items:,} open + {completed:,} completed work items over {UNITS} units "
        f"in {time.perf_counter() - started:.1f} s"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def operator(unit: int, k: int = 0) -> Actor:
    return Actor(id=(unit - 1) * 9 + 1 + k, role="operator", label="bench", unit_id=unit)


def time_statement(db, make, runs: int, rnd: random.Random) -> list[float]:
    out = []
    with Session(db) as session:
        for _ in range(runs):
            stmt = make(operator(rnd.randrange(1, UNITS + 1), rnd.randrange(OPERATORS_PER_UNIT)))
            t0 = time.perf_counter()
            session.execute(stmt).all()
            out.append((time.perf_counter() - t0) * 1000)
    return out


def explain(db, stmt) -> str:
    compiled = stmt.compile(db, compile_kwargs={"literal_binds": True})
    with db.connect() as conn:
        rows = conn.execute(text(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}")).scalars().all()
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--postgres", default=DEFAULT_URL)
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--completed", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument(
        "--keep", action="store_true", help="reuse the database when it already holds the items"
    )
    args = parser.parse_args()

    now = datetime.now(UTC)
    ensure_database(args.postgres)
    db = create_engine(args.postgres)
    if not (args.keep and filled(db) == args.items):
        fill(args.postgres, db, args.items, args.completed, now)
    rnd = random.Random(1)
    default = QueueFilter()
    flagged_overdue = QueueFilter(view="flagged_overdue")
    cases = {
        "default page (all, page 1, by due date)": lambda a: page_statement(a, default, now),
        "flagged + overdue page": lambda a: page_statement(a, flagged_overdue, now),
        "counts row (6 filter tabs)": lambda a: counts_statement(a, default, now),
    }
    for make in cases.values():  # warm the cache: the figures are for a server in use
        time_statement(db, make, 20, rnd)
    print(
        f"\n{args.runs} runs each, random unit and operator; {args.items:,} open items, "
        f"~{args.items // UNITS:,} per unit"
    )
    for label, make in cases.items():
        ms = time_statement(db, make, args.runs, rnd)
        print(
            f"  {label:42s} p50 {statistics.median(ms):6.2f} ms   p95 {percentile(ms, 0.95):6.2f} ms   "
            f"max {max(ms):6.2f} ms"
        )
    with Session(db) as session:
        ms = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            unit_queue(session, operator(rnd.randrange(1, UNITS + 1)), default, now)
            ms.append((time.perf_counter() - t0) * 1000)
    print(
        f"  {'whole unit_queue() call (counts + page, ORM)':42s} p50 {statistics.median(ms):6.2f} ms   "
        f"p95 {percentile(ms, 0.95):6.2f} ms   max {max(ms):6.2f} ms"
    )
    sample = operator(7)
    for label, stmt in (
        ("default page", page_statement(sample, default, now)),
        ("flagged + overdue page", page_statement(sample, flagged_overdue, now)),
        ("counts row", counts_statement(sample, default, now)),
    ):
        print(f"\n-- plan: {label}\n{explain(db, stmt)}")
    db.dispose()


if __name__ == "__main__":
    main()
