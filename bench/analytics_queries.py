"""Process analytics queries at 1,000,000 finished and 100,000 open instances on PostgreSQL.

    .venv/bin/python -m bench.analytics_queries                         # full size, 20 runs per query
    .venv/bin/python -m bench.analytics_queries --finished 100000 --open 10000 --runs 5
    .venv/bin/python -m bench.analytics_queries --keep                  # reuse a filled database

Fills ``saygac_bench_analytics`` (created if missing; **its tables are dropped** unless ``--keep``
finds them filled) with the process event log of a year of applications spread over 20 units and
two diagram versions, in SQL (``generate_series`` into a case table, then one INSERT ... SELECT
per kind of event: no rows travel through Python). The mix of paths: 70% accepted directly, 10%
inspected, 5% inspected with the reading replaced, 8% rejected, 4% escalated, 3% abandoned; the
open ones wait at the review (an open work item each). It then builds the analytics rollup the
way the sweep does (``engine.analytics_rollup.refresh`` over every day: timed and printed) and
times what the analytics page calls (``web/analytics/views.py``): the heat (per-node figures from
the rollup plus what waits now), the paths and the chart figures, for one unit and one month and
for all units and a year. Prints p50/p95 per query against the 500 ms target.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import engine.eventlog
import engine.models
import workflow.models  # noqa: F401
from engine import analytics, analytics_rollup
from engine.db import Base
from workflow.analytics import DIRECT, classify

ZONE = "Asia/Baku"

DEFAULT_URL = os.environ.get(
    "SAYGAC_BENCH_ANALYTICS_POSTGRES",
    "postgresql+psycopg://postgres@127.0.0.1:5432/saygac_bench_analytics",
)
UNITS = 20
TARGET_MS = 500


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


def filled(db) -> int:
    with db.connect() as conn:
        if not conn.execute(text("SELECT to_regclass('process_event')")).scalar_one():
            return 0
        return conn.execute(
            text("SELECT count(*) FROM process_event WHERE kind = 'instance_started'")
        ).scalar_one()


# One row per instance: its unit, version, start, path and waits (seconds), all drawn in SQL.
CASES = """
CREATE UNLOGGED TABLE bench_case AS
SELECT i AS id,
       1 + (i % {units}) AS unit_id,
       CASE WHEN i <= {finished} THEN
            '{now}'::timestamptz - (interval '1 second' * floor(random() * 365 * 86400)) - interval '3 days'
            ELSE '{now}'::timestamptz - (interval '1 second' * floor(random() * 10 * 86400)) END AS t0,
       CASE WHEN i > {finished} THEN 'open'
            ELSE (ARRAY['direct','direct','direct','direct','direct','direct','direct','direct','direct',
                        'direct','direct','direct','direct','direct','inspected','inspected','overridden',
                        'rejected','rejected','escalated'])[1 + floor(random() * 20)::int] END AS path,
       floor(60 + random() * 20 * 3600)::int AS w_review,
       floor(60 + random() * 3600)::int AS k_review,
       floor(3600 + random() * 48 * 3600)::int AS w_visit,
       floor(600 + random() * 2 * 3600)::int AS k_visit,
       'REF-' || i AS reference
FROM generate_series(1, {total}) AS i;
UPDATE bench_case SET path = 'abandoned' WHERE path = 'direct' AND id % 23 = 0;
UPDATE bench_case SET w_review = w_review + 2 * 86400 WHERE path = 'escalated';
"""

EVENTS = [
    # kind, node, unit?, work item offset, time expression, condition, extra columns (role, detail, due)
    ("instance_started", "NULL", False, None, "t0", "TRUE", "NULL", "NULL", "NULL"),
    ("task_ready", "'identify_subscriber'", False, 1, "t0", "TRUE", "'citizen'", "NULL", "NULL"),
    (
        "task_completed",
        "'identify_subscriber'",
        False,
        1,
        "t0 + interval '2 minutes'",
        "TRUE",
        "'citizen'",
        "NULL",
        "NULL",
    ),
    (
        "task_ready",
        "'enter_readings'",
        False,
        2,
        "t0 + interval '2 minutes'",
        "TRUE",
        "'citizen'",
        "NULL",
        "NULL",
    ),
    (
        "task_completed",
        "'enter_readings'",
        False,
        2,
        "t0 + interval '10 minutes'",
        "path <> 'abandoned'",
        "'citizen'",
        "NULL",
        "NULL",
    ),
    (
        "timer_fired",
        "'draft_expired'",
        False,
        None,
        "t0 + interval '30 days'",
        "path = 'abandoned'",
        "NULL",
        "NULL",
        "NULL",
    ),
    (
        "task_cancelled",
        "'enter_readings'",
        False,
        2,
        "t0 + interval '30 days'",
        "path = 'abandoned'",
        "'citizen'",
        "NULL",
        "NULL",
    ),
    (
        "task_ready",
        "'review_application'",
        True,
        3,
        "t0 + interval '10 minutes'",
        "path <> 'abandoned'",
        "'operator'",
        "NULL",
        "t0 + interval '2 days 10 minutes'",
    ),
    (
        "timer_fired",
        "'review_sla'",
        True,
        None,
        "t0 + interval '2 days 10 minutes'",
        "path = 'escalated'",
        "NULL",
        "NULL",
        "NULL",
    ),
    (
        "escalation",
        "'review_application'",
        True,
        3,
        "t0 + interval '2 days 10 minutes'",
        "path = 'escalated'",
        "'operator'",
        "'review_sla'",
        "NULL",
    ),
    (
        "task_ready",
        "'handle_escalation'",
        True,
        4,
        "t0 + interval '2 days 10 minutes'",
        "path = 'escalated'",
        "'unit_head'",
        "NULL",
        "NULL",
    ),
    (
        "task_claimed",
        "'review_application'",
        True,
        3,
        "t0 + interval '10 minutes' + w_review * interval '1 second'",
        "path NOT IN ('abandoned', 'open')",
        "'operator'",
        "NULL",
        "NULL",
    ),
    (
        "task_completed",
        "'review_application'",
        True,
        3,
        "t0 + interval '10 minutes' + (w_review + k_review) * interval '1 second'",
        "path NOT IN ('abandoned', 'open')",
        "'operator'",
        "NULL",
        "NULL",
    ),
    (
        "task_cancelled",
        "'handle_escalation'",
        True,
        4,
        "t0 + interval '10 minutes' + (w_review + k_review) * interval '1 second'",
        "path = 'escalated'",
        "'unit_head'",
        "NULL",
        "NULL",
    ),
    (
        "task_ready",
        "'field_inspection'",
        True,
        5,
        "t0 + interval '10 minutes' + (w_review + k_review) * interval '1 second'",
        "path IN ('inspected', 'overridden')",
        "'inspector'",
        "NULL",
        "t0 + interval '3 days 10 minutes' + (w_review + k_review) * interval '1 second'",
    ),
    (
        "task_claimed",
        "'field_inspection'",
        True,
        5,
        "t0 + interval '10 minutes' + (w_review + k_review + w_visit) * interval '1 second'",
        "path IN ('inspected', 'overridden')",
        "'inspector'",
        "NULL",
        "NULL",
    ),
    (
        "marker",
        "'field_inspection'",
        True,
        None,
        "t0 + interval '10 minutes' + (w_review + k_review + w_visit + k_visit) * interval '1 second'",
        "path = 'overridden'",
        "NULL",
        "'overridden'",
        "NULL",
    ),
    (
        "task_completed",
        "'field_inspection'",
        True,
        5,
        "t0 + interval '10 minutes' + (w_review + k_review + w_visit + k_visit) * interval '1 second'",
        "path IN ('inspected', 'overridden')",
        "'inspector'",
        "NULL",
        "NULL",
    ),
    (
        "job_run",
        "'render_invoice'",
        True,
        None,
        "{end}",
        "path IN ('direct', 'inspected', 'overridden', 'escalated')",
        "NULL",
        "NULL",
        "NULL",
    ),
    (
        "instance_ended",
        (
            "CASE path WHEN 'rejected' THEN 'rejected' WHEN 'abandoned' THEN 'abandoned' "
            "ELSE 'executed' END"
        ),
        True,
        None,
        "{end}",
        "path <> 'open'",
        "NULL",
        "'completed'",
        "NULL",
    ),
]
END = (
    "CASE WHEN path = 'abandoned' THEN t0 + interval '30 days' "
    "WHEN path IN ('inspected', 'overridden') THEN t0 + interval '11 minutes' "
    "+ (w_review + k_review + w_visit + k_visit) * interval '1 second' "
    "ELSE t0 + interval '11 minutes' + (w_review + k_review) * interval '1 second' END"
)


def fill(url: str, db, finished: int, open_: int, now: datetime) -> None:
    Base.metadata.drop_all(db)
    Base.metadata.create_all(db)
    started = time.perf_counter()
    total = finished + open_
    with db.begin() as conn:
        conn.execute(text("SELECT setseed(0.5)"))
        conn.execute(text("DROP TABLE IF EXISTS bench_case"))
        for statement in CASES.format(
            units=UNITS, finished=finished, total=total, now=now.isoformat()
        ).split(";"):
            if statement.strip():
                conn.execute(text(statement))
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, region) SELECT u, 'U-' || u, 'Unit ' || u, 'baku' "
                "FROM generate_series(1, :n) AS u"
            ),
            {"n": UNITS},
        )
        conn.execute(text("ALTER TABLE process_event SET UNLOGGED"))
        for index in engine.eventlog.ProcessEvent.__table__.indexes:
            conn.execute(text(f"DROP INDEX IF EXISTS {index.name}"))
        for kind, node, has_unit, offset, at, condition, role, detail, due in EVENTS:
            at = at.format(end=END)
            conn.execute(
                text(f"""
                INSERT INTO process_event (at, kind, instance_id, version_id, node, unit_id, role, work_item_id,
                                           reference, due_at, detail)
                SELECT {at}, '{kind}', id, CASE WHEN t0 < :half THEN 1 ELSE 2 END, {node},
                       {"unit_id" if has_unit else "NULL"}, {role}, {f"id * 10 + {offset}" if offset else "NULL"},
                       {"reference" if has_unit else "NULL"}, {due}, {detail}
                FROM bench_case WHERE {condition} AND {at} <= :now"""),
                {"now": now, "half": now - timedelta(days=182)},
            )
        conn.execute(text("ALTER TABLE process_event SET LOGGED"))
        conn.execute(
            text(
                "INSERT INTO process_version (id, process_id, version, content_hash, files, deployed_at, "
                "reason, scenarios) VALUES (1, 'meter_reading', 1, 'bench-1', '{}', :now, '', '[]'), "
                "(2, 'meter_reading', 2, 'bench-2', '{}', :now, '', '[]')"
            ),
            {"now": now},
        )
        conn.execute(
            text("""
            INSERT INTO process_instance (id, version_id, status, state, serializer_version, created_at, updated_at)
            SELECT id, CASE WHEN t0 < :half THEN 1 ELSE 2 END, CASE WHEN path = 'open' THEN 'waiting'
                   ELSE 'completed' END, '{}', 'bench', t0, t0 FROM bench_case"""),
            {"half": now - timedelta(days=182)},
        )
        conn.execute(
            text("""
            INSERT INTO work_item (id, instance_id, task_id, task_name, form_key, role, unit_id, state, reference,
                                   item_count, flagged, evidence_flagged, created_at, due_at)
            SELECT id * 10 + 3, id, 'bench-' || id, 'review_application', 'review_application', 'operator',
                   unit_id, 'open', reference, 1, false, false, t0 + interval '10 minutes',
                   t0 + interval '2 days 10 minutes'
            FROM bench_case WHERE path = 'open'""")
        )
        for index in engine.eventlog.ProcessEvent.__table__.indexes:
            index.create(conn)
        conn.execute(text("DROP TABLE bench_case"))
    with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE process_event"))
        conn.execute(text("VACUUM ANALYZE work_item"))
        conn.execute(text("VACUUM ANALYZE process_instance"))
        events = conn.execute(text("SELECT count(*) FROM process_event")).scalar_one()
    print(
        f"filled {finished:,} finished + {open_:,} open instances, {events:,} events "
        f"in {time.perf_counter() - started:.0f} s"
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--finished", type=int, default=1_000_000)
    parser.add_argument("--open", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="reuse the database when it is filled")
    args = parser.parse_args()
    ensure_database(args.url)
    db = create_engine(args.url)
    now = datetime.now(UTC).replace(microsecond=0)
    if not (args.keep and filled(db) >= args.finished + args.open):
        fill(args.url, db, args.finished, args.open, now)
        with Session(db) as session:
            first = analytics_rollup.first_day(session, ZONE)
            t = time.perf_counter()
            analytics_rollup.refresh(
                session, first, now.astimezone(ZoneInfo(ZONE)).date(), ZONE, classify, now
            )
            session.commit()
            print(f"rollup built for {first} .. today in {time.perf_counter() - t:.0f} s")
        with db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE analytics_node_day"))
            conn.execute(text("VACUUM ANALYZE analytics_case_day"))
        with Session(db) as session:
            t = time.perf_counter()
            today = now.astimezone(ZoneInfo(ZONE)).date()
            analytics_rollup.refresh(session, today - timedelta(days=1), today, ZONE, classify, now)
            session.rollback()
            print(f"a sweep's refresh (yesterday and today) takes {time.perf_counter() - t:.1f} s")
    rnd = random.Random(7)
    today = now.astimezone(ZoneInfo(ZONE)).date()
    cases = {
        "one unit, one month": lambda: (
            today - timedelta(days=30 + rnd.randrange(300)),
            30,
            (rnd.randrange(1, UNITS + 1),),
        ),
        "all units, a year": lambda: (today - timedelta(days=364), 365, None),
    }

    def heat(session, days):  # as web/analytics/views.py: the rollup plus what waits now
        tz = ZoneInfo(ZONE)
        scope = analytics.Scope(
            days.version_ids,
            datetime.combine(days.first, datetime.min.time(), tzinfo=tz),
            datetime.combine(days.last + timedelta(days=1), datetime.min.time(), tzinfo=tz),
            days.unit_ids,
        )
        return analytics_rollup.node_stats(session, days, analytics.open_counts(session, scope))

    queries = {
        "heat (per-node figures)": heat,
        "paths": lambda s, days: analytics_rollup.paths(s, days),
        "charts": lambda s, days: analytics_rollup.charts(s, days, DIRECT),
    }
    print(f"{args.runs} runs per query; target p95 <= {TARGET_MS} ms")
    for label, pick in cases.items():
        for name, query in queries.items():
            ms = []
            for _ in range(args.runs):
                first, length, units = pick()
                days = analytics_rollup.Days(
                    (1, 2), first, first + timedelta(days=length - 1), units
                )
                with Session(db) as session:
                    t = time.perf_counter()
                    query(session, days)
                    ms.append((time.perf_counter() - t) * 1000)
            p95 = percentile(ms, 0.95)
            verdict = "ok" if p95 <= TARGET_MS else "OVER"
            print(
                f"  {label:20s} {name:24s} p50 {statistics.median(ms):8.1f} ms   p95 {p95:8.1f} ms   {verdict}"
            )
    db.dispose()


if __name__ == "__main__":
    main()
