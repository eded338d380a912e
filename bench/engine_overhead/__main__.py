"""What engine/ costs on top of SpiffWorkflow: the meter-reading accept path, raw and persisted.

    .venv/bin/python -m bench.engine_overhead [--n 200] [--n-full 60] [--postgres URL | --no-postgres]

One run prints:

1. raw SpiffWorkflow in memory: the diagram parsed once, then N lifecycles of the accept path
   (identify_subscriber, enter_readings, register, plausibility, DMN routing, assign, review
   accept, post, compute, render, notify) with three user-task completions, service calls that
   return small JSON dicts, no persistence. Shown with the library's own script engine (the
   reference for the ratio), with saygac's restricted ``SafeScriptEngine`` (what engine/ runs),
   and with a state dumps/loads at each wait (the least any persisted engine does, no database);
2. engine/ on SQLite (file in a temp dir, WAL, synchronous=FULL as ``engine/db.py`` sets):
   (a) the engine with the same trivial operations, a trivial ``describe`` and a deployed
   version of the same diagram: one session and one commit per step (start, three completions,
   the review's claim in the same unit of work as its completion, and the two async service
   tasks run as outbox jobs the way ``worker.jobs.execute`` does: a claim commit, then the run);
   (b) the full system with the real operations and domain tables, driven exactly like
   ``worker/lifecycle.py`` (its ``Lifecycle`` class, ``worker.dispatch.InlineDispatcher``
   for the async tasks and the e-mails, the invoice PDF, the .eml file);
3. the same (a) and (b) on PostgreSQL (database created if missing, tables dropped and recreated);
4. the ratios engine/raw for (a) against the issue's target (<= 2.0 on PostgreSQL), also
   "paired": a raw lifecycle timed right after each engine lifecycle, because a shared machine's
   background load drifts by tens of percent between sections;
5. the stored state size (``len(process_instance.state.encode())``) while waiting at review
   (its largest point) and at the end, against the library's own ``serialize_json`` of the same
   workflow (spec included) and the 8 KiB target;
6. where the time of (a) goes, from an instrumented pass (subclassing ``Runtime``, wrapping
   the serializer, SQLAlchemy cursor events, the session's flush and commit, the pool's ping,
   SpiffWorkflow's ``Task.run``); exclusive times, so a section nested in another (SQL inside a
   flush inside the projection) is counted once. The pass is separate from the timed one, so
   instrumentation does not inflate the headline figures. Then two probes: the per-step read of
   the ProcessVersion row, and the number of task-tree walks raw vs engine.

What (a) does not include: describe() queries, the domain handlers, the web layer's look-up of
the work item (the item ids come from the previous StepResult), the InlineDispatcher's polling;
(b) includes all of them.

Durability is the production setting throughout: SQLite synchronous=FULL, PostgreSQL
synchronous_commit as configured on the server (printed). Nothing here changes engine code.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.engine_overhead.common import (
    DEFAULT_PG,
    FULL_SAMPLE,
    RATIO_TARGET,
    S_CLAIM,
    S_COMMIT,
    S_DUMP,
    S_ENGINE,
    S_FLUSH,
    S_LOAD,
    S_LOAD_REST,
    S_OTHER,
    S_PING,
    S_PROJ,
    S_SQL,
    STATE_TARGET,
    WARMUP,
    Stats,
    percentile,
)
from bench.engine_overhead.full import bench_full, state_composition, state_sizes
from bench.engine_overhead.profile import bench_breakdown, walk_census
from bench.engine_overhead.raw import (
    RAW_REF,
    RAW_TRIP,
    TrivialServiceEngine,
    bench_raw,
    parse_raw,
    raw_lifecycle,
)
from bench.engine_overhead.world import STEP_LABELS, bench_engine

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# -- PostgreSQL set-up ----------------------------------------------------------------------------


def ensure_pg_database(url: str) -> dict:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            if (
                c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database})
                is None
            ):
                c.execute(text(f'CREATE DATABASE "{u.database}"'))
            return {
                name: c.scalar(text(f"SHOW {name}"))
                for name in (
                    "server_version",
                    "fsync",
                    "synchronous_commit",
                    "wal_sync_method",
                    "full_page_writes",
                )
            }
    finally:
        admin.dispose()


def pg_column_sizes(url: str) -> dict:
    db = create_engine(url)
    try:
        with db.connect() as c:
            row = c.execute(
                text(
                    "SELECT avg(octet_length(state)), avg(pg_column_size(state)), max(pg_column_size(state)) "
                    "FROM process_instance WHERE status = 'completed'"
                )
            ).one()
        return {
            "octets_mean": float(row[0] or 0),
            "stored_mean": float(row[1] or 0),
            "stored_max": int(row[2] or 0),
        }
    finally:
        db.dispose()


# -- output ---------------------------------------------------------------------------------------


def kb(v: float) -> str:
    return f"{v / 1024:5.2f} KiB"


def print_sizes(label: str, sizes: dict) -> None:
    r, e = sizes["review_state"], sizes["end_state"]
    print(f"  {label}")
    print(
        f"    waiting at review: mean {kb(r['mean'])}  max {kb(r['max'])}   "
        f"library serialize_json (spec incl.) mean {kb(r['full_mean'])}   zlib -6 of state {kb(r['zlib_mean'])}"
    )
    print(
        f"    at the end:        mean {kb(e['mean'])}  max {kb(e['max'])}   "
        f"library serialize_json (spec incl.) mean {kb(e['full_mean'])}   zlib -6 of state {kb(e['zlib_mean'])}"
    )
    print(
        f"    largest after any step: {kb(sizes['max_any_step'])}   target <= 8 KiB: "
        f"{'MET' if max(r['max'], e['max'], sizes['max_any_step']) <= STATE_TARGET else 'NOT MET'}"
    )


def print_steps(stats: Stats) -> None:
    parts = []
    for key, label in STEP_LABELS.items():
        if key in stats.steps:
            times = f" x{stats.step_counts[key]:.0f}" if stats.step_counts[key] != 1 else ""
            parts.append(f"      {label + times:<66} {stats.steps[key]:7.2f} ms")
    print("    per unit of work (mean wall):")
    print("\n".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="lifecycles per measured configuration")
    parser.add_argument(
        "--n-full",
        type=int,
        default=None,
        help="lifecycles for the full-system runs (b) (default: min(n, 60); they render PDFs)",
    )
    parser.add_argument(
        "--n-profile",
        type=int,
        default=None,
        help="lifecycles in the instrumented pass (default: min(n, 100))",
    )
    parser.add_argument("--postgres", default=os.environ.get("SAYGAC_BENCH_POSTGRES", DEFAULT_PG))
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--no-full", action="store_true", help="skip the full-system runs (b)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    n = args.n
    n_full = args.n_full if args.n_full is not None else min(n, 60)
    n_prof = args.n_profile if args.n_profile is not None else min(n, 100)
    started = time.perf_counter()
    report: dict = {"n": n, "n_full": n_full, "n_profile": n_prof}

    print(
        f"saygac engine overhead: accept path of meter_reading.bpmn, N={n} (full system N={n_full}), "
        f"{WARMUP} untimed warm-up lifecycles per configuration, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        "wall = perf_counter per lifecycle; CPU = process_time of this Python process (the database "
        "server's work and fsync waits are outside it)"
    )
    print()
    print(
        "1. Raw SpiffWorkflow in memory (parsed once, 3 user-task completions, trivial service calls, "
        "no persistence)"
    )
    raw = bench_raw(n)
    for st in raw.values():
        print(st.line())
    reference = raw[RAW_REF]
    report["raw"] = {k: v.as_dict() for k, v in raw.items()}
    spec_pair = parse_raw()

    def paired_raw(i):
        raw_lifecycle(spec_pair[0], spec_pair[1], TrivialServiceEngine, i)

    results: dict[str, dict] = {}
    with tempfile.TemporaryDirectory(prefix="saygac-bench-") as tmpdir:
        tmp = Path(tmpdir)
        print()
        print(
            "2. engine/ on SQLite (file in a temp dir, WAL, synchronous=FULL); one commit per unit of work in (a)"
        )
        url = f"sqlite:///{tmp / 'engine.sqlite3'}"
        st, probes, world = bench_engine(url, "(a) engine, trivial operations", n, paired_raw)
        print(st.line())
        print_steps(st)
        results["sqlite"] = {
            "a": st,
            "a_sizes": state_sizes(probes, world.runtime, spec_pair),
            "a_composition": state_composition(probes[0]["review_state"]),
        }
        world.db.dispose()
        if not args.no_full:
            (tmp / "full-sqlite").mkdir()
            st, fprobes, system = bench_full(
                f"sqlite:///{tmp / 'full.sqlite3'}",
                "(b) full lifecycle with domain work",
                n_full,
                tmp / "full-sqlite",
            )
            print(st.line())
            results["sqlite"]["b"] = st
            results["sqlite"]["b_sizes"] = state_sizes(fprobes, system.runtime, spec_pair)

        pg_ok = False
        if not args.no_postgres:
            print()
            print(
                f"3. engine/ on PostgreSQL ({make_url(args.postgres).render_as_string(hide_password=True)})"
            )
            try:
                server = ensure_pg_database(args.postgres)
                pg_ok = True
            except Exception as err:  # noqa: BLE001 - report and go on without PostgreSQL
                print(
                    f"  skipped: cannot reach PostgreSQL: {type(err).__name__}: {str(err).splitlines()[0]}"
                )
            if pg_ok:
                print("  server: " + ", ".join(f"{k}={v}" for k, v in server.items()))
                report["pg_server"] = server
                st, probes, world = bench_engine(
                    args.postgres, "(a) engine, trivial operations", n, paired_raw
                )
                print(st.line())
                print_steps(st)
                world.db.dispose()
                results["pg"] = {
                    "a": st,
                    "a_sizes": state_sizes(probes, world.runtime, spec_pair),
                    "a_stored": pg_column_sizes(args.postgres),
                }
                if not args.no_full:
                    (tmp / "full-pg").mkdir()
                    st, fprobes, system = bench_full(
                        args.postgres,
                        "(b) full lifecycle with domain work",
                        n_full,
                        tmp / "full-pg",
                    )
                    print(st.line())
                    results["pg"]["b"] = st
                    results["pg"]["b_sizes"] = state_sizes(fprobes, system.runtime, spec_pair)

        print()
        print(
            f"4. Engine overhead ratio (a)/raw per lifecycle; raw = library script engine, {reference.mean:.2f} ms "
            f"mean, {reference.p95:.2f} ms p95"
        )
        for key, label in (("pg", "PostgreSQL"), ("sqlite", "SQLite")):
            if key not in results:
                continue
            a = results[key]["a"]
            ratio = a.mean / reference.mean
            verdict = (
                f"   target <= {RATIO_TARGET}: {'MET' if ratio <= RATIO_TARGET else 'NOT MET'}"
                if key == "pg"
                else ""
            )
            print(
                f"  engine({label})/raw = {a.mean:.2f} / {reference.mean:.2f} = {ratio:5.2f}x  "
                f"(p95/p95 {a.p95 / reference.p95:5.2f}x; CPU only {a.cpu_mean / reference.cpu_mean:5.2f}x; "
                f"vs raw+dumps/loads {a.mean / raw[RAW_TRIP].mean:5.2f}x){verdict}"
            )
            paired = statistics.mean(a.paired_raw)
            print(
                f"      paired (a raw lifecycle timed right after each engine one, raw mean {paired:.2f} ms): "
                f"{a.mean / paired:5.2f}x; medians {percentile(a.wall, 0.5) / percentile(a.paired_raw, 0.5):5.2f}x"
            )
            report.setdefault("ratios", {})[key] = {
                "mean": ratio,
                "p95": a.p95 / reference.p95,
                "cpu": a.cpu_mean / reference.cpu_mean,
                "vs_roundtrip": a.mean / raw[RAW_TRIP].mean,
                "paired": a.mean / paired,
            }
            if "b" in results[key]:
                b = results[key]["b"]
                print(
                    f"      for scale, (b) full lifecycle with domain work on {label}: {b.mean:.2f} ms = "
                    f"{b.mean / reference.mean:.1f}x raw; (a) is {a.mean / b.mean:.0%} of (b)"
                )

        print()
        print(
            f"5. Stored state per instance, len(process_instance.state.encode()); the library's "
            f"serialize_json and zlib on the first {FULL_SAMPLE}"
        )
        for key, label in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
            if key not in results:
                continue
            print_sizes(f"{label} (a), trivial operations:", results[key]["a_sizes"])
            if "b_sizes" in results[key]:
                print_sizes(
                    f"{label} (b), full lifecycle with domain work:", results[key]["b_sizes"]
                )
            if "a_stored" in results[key]:
                stored = results[key]["a_stored"]
                print(
                    f"  PostgreSQL on disk (TOAST pglz) of the completed states of (a): pg_column_size mean "
                    f"{kb(stored['stored_mean'])}, max {kb(stored['stored_max'])} "
                    f"(octet_length mean {kb(stored['octets_mean'])})"
                )
        comp = results["sqlite"]["a_composition"]
        fields = sorted(comp["per_field"].items(), key=lambda kv: -kv[1])
        print(
            f"  composition of one state waiting at review: {comp['tasks']} tasks, {comp['bytes']} B, "
            f"{comp['bytes_per_task']:.0f} B/task, of which UUID strings {comp['uuid_bytes']} B; bytes per task "
            "field (key included): " + ", ".join(f"{k} {v}" for k, v in fields)
        )

        target = args.postgres if pg_ok else f"sqlite:///{tmp / 'profile.sqlite3'}"
        label = "PostgreSQL" if pg_ok else "SQLite (PostgreSQL unavailable)"
        print()
        print(
            f"6. Where the time of (a) goes on {label} (separate instrumented pass, N={n_prof}, "
            "exclusive times per lifecycle)"
        )
        bd = bench_breakdown(target, n_prof)
        order = [
            S_ENGINE,
            S_LOAD,
            S_LOAD_REST,
            S_DUMP,
            S_PROJ,
            S_SQL,
            S_FLUSH,
            S_COMMIT,
            S_PING,
            S_CLAIM,
            S_OTHER,
        ]
        for name in order:
            ms = bd["sections"].get(name, 0.0)
            print(f"  {name:<52} {ms:7.2f} ms  {ms / bd['total_ms']:6.1%}")
        timed_mean = results["pg" if pg_ok else "sqlite"]["a"].mean
        print(
            f"  {'total (instrumented)':<52} {bd['total_ms']:7.2f} ms   (timed pass without instrumentation: "
            f"{timed_mean:.2f} ms)"
        )
        if not bd["projection_hooks"]:
            print("  (no projection hook found in engine/runtime.py: its time is in 'rest')")
        print(
            f"  per lifecycle: {bd['sql_per_lifecycle']:.1f} SQL statements, {bd['commits_per_lifecycle']:.0f} "
            f"commits, {bd['pings_per_lifecycle']:.0f} pool pre-pings (PostgreSQL engines ping once per session)"
        )
        p = bd["probes"]
        print(
            f"  probe (median, in a transaction): the ProcessVersion row that start()/_load() read on every step "
            f"costs {p['version_full_row_ms']:.3f} ms (its 'files' JSON is {p['version_files_bytes'] / 1024:.1f} KB); "
            f"content_hash alone {p['version_hash_only_ms']:.3f} ms; SELECT 1 {p['select1_ms']:.3f} ms"
        )
        k = min(n, 30)
        walks = walk_census(f"sqlite:///{tmp / 'walks.sqlite3'}", k)
        print(
            f"  task-tree walks (Workflow.get_tasks, inclusive, N={k}): raw {walks['raw'][0]:.0f} calls "
            f"{walks['raw'][1]:.2f} ms per lifecycle; engine {walks['engine'][0]:.0f} calls "
            f"{walks['engine'][1]:.2f} ms per lifecycle"
        )
        report["breakdown"] = bd
        report["walks"] = walks

    report["results"] = {
        k: {
            kk: ({**vv.as_dict(), "steps_ms": vv.steps} if isinstance(vv, Stats) else vv)
            for kk, vv in v.items()
        }
        for k, v in results.items()
    }
    print()
    print(f"total run time {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    gc.collect()
    main()
