"""The engine against its floor on PostgreSQL: raw SpiffWorkflow plus the writes any engine must make.

    .venv/bin/python -m bench.engine_floor [--n 100] [--postgres URL]

One run, the four configurations interleaved (lifecycle i of each, in rotating order, before
lifecycle i + 1 of any), medians:

1. **raw**: SpiffWorkflow in memory, the accept path of ``meter_reading.bpmn`` with trivial
   service calls and the library's script engine (``bench.engine_overhead.raw.raw_lifecycle``);
2. **floor**: plain SQLAlchemy Core on PostgreSQL making the same durable writes as the engine
   with trivial operations, in the same 6 commits (start; identify; enter readings; claim and
   accept the review; the async job's claim; its run): the instance row with a state as large
   as saygac's, each work item inserted and completed, the timers, the job row, the audit rows and
   the analytics event rows (one INSERT each per step), a row lock per step; no ORM, no pool
   pre-ping, nothing read that is not needed;
3. **saygac, trivial operations**: ``engine.runtime.Runtime`` with the same trivial operations
   (``bench.engine_overhead.world.engine_lifecycle``: one session and commit per step, the job run as
   the worker runs it);
4. **saygac, real domain work**: the whole system (``workflow.system``) on the demo data: the
   citizen's three steps, the operator's claim and acceptance, the invoice job and the e-mail
   job run in-process (``bench/demo_world.py``).

Then the ratios against the targets (trivial <= 1.5 x (raw + floor), real <= 2.5 x (raw +
floor)), and per lifecycle: SQL statements, commits and connection-pool pings (counted by
SQLAlchemy events on each configuration's engine; the counting costs microseconds).

Durability is the production setting throughout: the server's ``synchronous_commit`` (printed).
The database (default ``saygac_bench_floor``) loses every table: use it for nothing else.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, insert, select, text, update

from bench import demo_world
from bench.engine_overhead.raw import TrivialServiceEngine, parse_raw, raw_lifecycle
from bench.engine_overhead.world import build_engine_world, engine_lifecycle
from engine.eventlog import ProcessEvent
from engine.models import AuditEvent, Job, ProcessInstance, Timer, WorkItem
from worker.dispatch import InlineDispatcher

DEFAULT_DB = "saygac_bench_floor"
WARMUP = 5
TRIVIAL_TARGET = 1.5
REAL_TARGET = 2.5
STATEMENT_TARGET = 25


class Counters:
    """Statements, commits and pool pings on one SQLAlchemy engine."""

    def __init__(self, db):
        self.sql = self.commits = self.pings = 0

        @event.listens_for(db, "before_cursor_execute")
        def _sql(*_args):
            self.sql += 1

        @event.listens_for(db, "commit")
        def _commit(_conn):
            self.commits += 1

        original = db.dialect.do_ping

        def ping(dbapi_connection):
            self.pings += 1
            return original(dbapi_connection)

        db.dialect.do_ping = ping

    def snapshot(self) -> tuple[int, int, int]:
        return self.sql, self.commits, self.pings


# -- the floor: the same durable writes in Core, 6 commits ------------------------------------


class Floor:
    def __init__(
        self,
        db,
        version_id: int,
        citizen_id: int,
        operator_id: int,
        unit_id: int,
        state_sizes: list[int],
    ):
        self.db = db
        self.version_id, self.citizen_id, self.operator_id, self.unit_id = (
            version_id,
            citizen_id,
            operator_id,
            unit_id,
        )
        self.states = [
            "x" * size for size in state_sizes
        ]  # as large as saygac's state after each step
        self.item_cols = {
            "form_key": "f",
            "lane": "citizen",
            "role": "citizen",
            "state": "open",
            "item_count": 0,
            "flagged": False,
            "evidence_flagged": False,
        }

    def _audit(self, c, now, instance_id, *actions):
        c.execute(
            insert(AuditEvent.__table__),
            [
                {
                    "action": a,
                    "actor_id": None,
                    "actor_label": "x",
                    "instance_id": instance_id,
                    "entity": None,
                    "detail": {},
                    "address": None,
                    "at": now,
                }
                for a in actions
            ],
        )

    def _events(self, c, now, instance_id, *kinds):
        c.execute(
            insert(ProcessEvent.__table__),
            [
                {
                    "kind": k,
                    "at": now,
                    "instance_id": instance_id,
                    "version_id": self.version_id,
                    "node": "n",
                    "unit_id": None,
                    "role": None,
                    "work_item_id": None,
                    "reference": None,
                    "due_at": None,
                    "detail": None,
                }
                for k in kinds
            ],
        )

    def _item(self, c, now, instance_id, name, role, **kw) -> int:
        return c.scalar(
            insert(WorkItem)
            .returning(WorkItem.id)
            .values(
                instance_id=instance_id,
                task_id=f"{instance_id}-{name}",
                task_name=name,
                created_at=now,
                **{**self.item_cols, "role": role},
                **kw,
            )
        )

    def _step(self, c, now, instance_id, item_id, state, actor_id):
        c.execute(
            select(ProcessInstance.id).where(ProcessInstance.id == instance_id).with_for_update()
        )
        c.execute(
            update(WorkItem)
            .where(WorkItem.id == item_id)
            .values(state="completed", completed_at=now, completed_by_id=actor_id)
        )
        c.execute(
            update(ProcessInstance)
            .where(ProcessInstance.id == instance_id)
            .values(state=state, updated_at=now)
        )

    def lifecycle(self, _i: int) -> None:
        now = datetime.now(UTC)
        s = self.states
        with self.db.begin() as c:  # start: waits at identify_subscriber (with its draft timer)
            iid = c.scalar(
                insert(ProcessInstance)
                .returning(ProcessInstance.id)
                .values(
                    version_id=self.version_id,
                    status="waiting",
                    state=s[0],
                    serializer_version="x",
                    started_by_id=self.citizen_id,
                    created_at=now,
                    updated_at=now,
                )
            )
            item = self._item(
                c, now, iid, "identify_subscriber", "citizen", assignee_id=self.citizen_id
            )
            c.execute(
                insert(Timer).values(
                    instance_id=iid,
                    task_id=f"{iid}-t0",
                    event_name="t",
                    due_at=now,
                    state="waiting",
                )
            )
            self._audit(c, now, iid, "instance_started")
            self._events(c, now, iid, "instance_started", "task_ready")
        with self.db.begin() as c:  # identify_subscriber
            self._step(c, now, iid, item, s[1], self.citizen_id)
            item = self._item(c, now, iid, "enter_readings", "citizen", assignee_id=self.citizen_id)
            self._audit(c, now, iid, "task_completed")
            self._events(c, now, iid, "task_completed", "task_ready")
        with (
            self.db.begin() as c
        ):  # enter_readings: the draft timer ends, the review's SLA timer starts
            self._step(c, now, iid, item, s[2], self.citizen_id)
            item = self._item(c, now, iid, "review_application", "operator", unit_id=self.unit_id)
            c.execute(
                update(Timer)
                .where(Timer.instance_id == iid, Timer.task_id == f"{iid}-t0")
                .values(state="done")
            )
            c.execute(
                insert(Timer).values(
                    instance_id=iid,
                    task_id=f"{iid}-t1",
                    event_name="t",
                    due_at=now,
                    state="waiting",
                )
            )
            self._audit(c, now, iid, "task_completed")
            self._events(c, now, iid, "task_completed", "task_ready")
        with self.db.begin() as c:  # the operator claims and accepts: the async job is written
            c.execute(
                update(WorkItem)
                .where(WorkItem.id == item, WorkItem.state == "open")
                .values(claimed_by_id=self.operator_id, lease_until=now + timedelta(minutes=30))
            )
            self._step(c, now, iid, item, s[3], self.operator_id)
            job = c.scalar(
                insert(Job)
                .returning(Job.id)
                .values(
                    name="run_task",
                    queue="engine",
                    args={"instance_id": iid},
                    dedupe_key=f"task:{iid}",
                    status="pending",
                    attempts=0,
                    max_attempts=3,
                    run_after=now,
                    created_at=now,
                    updated_at=now,
                )
            )
            c.execute(
                update(Timer)
                .where(Timer.instance_id == iid, Timer.task_id == f"{iid}-t1")
                .values(state="done")
            )
            self._audit(c, now, iid, "work_item_claimed", "task_completed")
            self._events(c, now, iid, "task_claimed", "task_completed")
        with self.db.begin() as c:  # the job's claim
            c.execute(
                update(Job)
                .where(Job.id == job, Job.status == "pending")
                .values(status="running", attempts=Job.attempts + 1, updated_at=now)
            )
        with self.db.begin() as c:  # the job's run: render, notify, the instance completes
            c.execute(select(ProcessInstance.id).where(ProcessInstance.id == iid).with_for_update())
            c.execute(
                update(ProcessInstance)
                .where(ProcessInstance.id == iid)
                .values(state=s[4], status="completed", end_event="executed", updated_at=now)
            )
            self._audit(c, now, iid, "task_ran", "instance_completed")
            self._events(c, now, iid, "job_run", "job_run", "instance_ended")
            c.execute(update(Job).where(Job.id == job).values(status="done", updated_at=now))


def saygac_state_sizes(world) -> list[int]:
    """The stored state's size after each of the 5 saves of one saygac lifecycle (start .. end)."""
    sizes = []

    @event.listens_for(world.db, "before_cursor_execute")
    def _sql(conn, cursor, statement, parameters, context, executemany):
        if (
            statement.startswith(("INSERT INTO process_instance", "UPDATE process_instance"))
            and isinstance(parameters, dict)
            and "state" in parameters
        ):
            sizes.append(len(parameters["state"].encode()))

    engine_lifecycle(world, 0)
    event.remove(world.db, "before_cursor_execute", _sql)
    return sizes


# -- the run --------------------------------------------------------------------------------


def real_lifecycle(world, i: int) -> None:
    jobs = demo_world.accept(world, demo_world.submit(world, i))
    InlineDispatcher(world.system).dispatch(jobs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100, help="lifecycles per configuration")
    parser.add_argument(
        "--postgres",
        default=os.environ.get(
            "SAYGAC_BENCH_FLOOR_POSTGRES", f"{demo_world.PG_SERVER}/{DEFAULT_DB}"
        ),
    )
    args = parser.parse_args()
    n = args.n
    started = time.perf_counter()
    print(
        f"saygac engine vs its floor: accept path of meter_reading.bpmn on PostgreSQL, N={n} per configuration, "
        f"interleaved, {WARMUP} warm-up lifecycles each; Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory(prefix="saygac-bench-floor-") as tmpdir:
        tmp = Path(tmpdir)
        # the domain world first (its own database), then the trivial engine's (which drops tables)
        real_url = args.postgres + "_real"
        server = demo_world.prepare_database(real_url)
        print("  server: " + ", ".join(f"{k}={v}" for k, v in server.items()))
        real = demo_world.build(
            real_url, tmp, subscribers=max(6000, 20 * (n + WARMUP)), citizens=max(50, n // 5)
        )
        if len(real.submissions) < n + WARMUP:
            raise SystemExit(f"only {len(real.submissions)} subscribers fit; lower --n")
        demo_world.prepare_database(args.postgres)
        world = build_engine_world(args.postgres)
        sizes = saygac_state_sizes(world)
        with world.sessions() as s:
            version_id = s.scalar(text("SELECT id FROM process_version"))
        floor_db = create_engine(args.postgres)  # plain SQLAlchemy: no pre-ping, default pool
        floor = Floor(
            floor_db, version_id, world.citizen.id, world.operator.id, world.unit_id, sizes
        )
        spec, subspecs = parse_raw()

        counters = {
            "floor": Counters(floor_db),
            "trivial": Counters(world.db),
            "real": Counters(real.system.db),
        }
        runs = {
            "raw": lambda i: raw_lifecycle(spec, subspecs, TrivialServiceEngine, i),
            "floor": floor.lifecycle,
            "trivial": lambda i: engine_lifecycle(world, i),
            "real": lambda i: real_lifecycle(real, i),
        }
        for i in range(WARMUP):
            for run in runs.values():
                run(i)
        before = {k: c.snapshot() for k, c in counters.items()}
        wall = defaultdict(list)
        cpu = defaultdict(list)
        order = list(runs)
        gc.collect()
        for i in range(WARMUP, WARMUP + n):
            order = order[1:] + order[:1]  # rotate: no configuration always runs after the same one
            for key in order:
                w0, c0 = time.perf_counter(), time.process_time()
                runs[key](i)
                wall[key].append((time.perf_counter() - w0) * 1000)
                cpu[key].append((time.process_time() - c0) * 1000)
        per = {
            k: [(a - b) / n for a, b in zip(c.snapshot(), before[k], strict=True)]
            for k, c in counters.items()
        }

    med = {k: statistics.median(v) for k, v in wall.items()}
    labels = {
        "raw": "raw SpiffWorkflow in memory",
        "floor": "floor: SQLAlchemy Core, same writes, 6 commits",
        "trivial": "saygac, trivial operations",
        "real": "saygac, real domain work (+ invoice, e-mail jobs)",
    }
    print()
    print(f"  {'configuration':<52} {'median':>9} {'p95':>9} {'CPU med':>9}   stmts commits pings")
    for key in runs:
        stats = per.get(key)
        extra = f"   {stats[0]:5.1f} {stats[1]:7.1f} {stats[2]:5.1f}" if stats else ""
        p95 = sorted(wall[key])[round(0.95 * (n - 1))]
        print(
            f"  {labels[key]:<52} {med[key]:7.2f}ms {p95:7.2f}ms {statistics.median(cpu[key]):7.2f}ms{extra}"
        )
    base = med["raw"] + med["floor"]
    trivial_ratio, real_ratio = med["trivial"] / base, med["real"] / base
    print()
    print(f"  raw + floor = {base:.2f} ms")
    print(
        f"  saygac trivial / (raw + floor) = {trivial_ratio:.2f}x   target <= {TRIVIAL_TARGET}: "
        f"{'MET' if trivial_ratio <= TRIVIAL_TARGET else 'NOT MET'}"
    )
    print(
        f"  saygac real    / (raw + floor) = {real_ratio:.2f}x   target <= {REAL_TARGET}: "
        f"{'MET' if real_ratio <= REAL_TARGET else 'NOT MET'}"
    )
    stmts = per["trivial"][0]
    print(
        f"  statements per trivial lifecycle {stmts:.1f}, target <= {STATEMENT_TARGET}: "
        f"{'MET' if stmts <= STATEMENT_TARGET else 'NOT MET'}; commits {per['trivial'][1]:.0f} "
        f"(wait states 4 + job boundaries 2); pool pings {per['trivial'][2]:.0f}"
    )
    print(
        f"  load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; total run time "
        f"{time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
