"""Section 6: the instrumented pass (exclusive times per section) and the engine probes."""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from contextlib import contextmanager

from SpiffWorkflow.task import Task as SpiffTask
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from bench.engine_overhead.common import (
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
    WARMUP,
    Profile,
    section,
)
from bench.engine_overhead.raw import TrivialServiceEngine, parse_raw, raw_lifecycle
from bench.engine_overhead.world import EngineWorld, build_engine_world, engine_lifecycle
from engine.models import ProcessVersion
from engine.runtime import Runtime
from engine.serialization import StateSerializer

# -- 6. the instrumented pass -------------------------------------------------------------------


def make_profiled(prof: Profile):
    class TimedSerializer(StateSerializer):
        def dumps(self, workflow):
            with section(prof, S_DUMP):
                return super().dumps(workflow)

        def loads(self, *args):
            with section(prof, S_LOAD):
                return super().loads(*args)

    class ProfiledRuntime(Runtime):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.serializer = TimedSerializer()

        def _load(self, *args):
            with section(prof, S_LOAD_REST):
                return super()._load(*args)

        def _advance(self, *args):
            with section(prof, S_ENGINE):
                return super()._advance(*args)

    class TimedSession(Session):
        def flush(self, objects=None):
            with section(prof, S_FLUSH):
                return super().flush(objects)

        def commit(self):
            with section(prof, S_COMMIT):
                return super().commit()

    return ProfiledRuntime, TimedSession


def instrument_db(db, prof: Profile, counters: dict) -> None:
    @event.listens_for(db, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        counters["sql"] += 1
        prof.enter(S_SQL)

    @event.listens_for(db, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        prof.exit()

    @event.listens_for(db, "handle_error")
    def _error(ctx):
        if prof.stack and prof.stack[-1][0] == S_SQL:
            prof.exit()

    @event.listens_for(db, "commit")
    def _commit(conn):
        counters["commits"] += 1

    dialect = db.dialect
    original_ping = dialect.do_ping

    def ping(dbapi_connection):
        counters["pings"] += 1
        prof.enter(S_PING)
        try:
            return original_ping(dbapi_connection)
        finally:
            prof.exit()

    dialect.do_ping = ping


def wrap_projection(runtime: Runtime, prof: Profile) -> tuple[list[str], list]:
    """Time the work-item and timer projection wherever this version of engine/ keeps it
    (``Runtime._sync_*`` methods, or ``Runtime.projection`` and ``engine.runtime.sync_timers``)."""
    import engine.runtime as runtime_module

    found, restore = [], []
    for owner, name, label in (
        (runtime, "_sync_work_items", "Runtime._sync_work_items"),
        (runtime, "_sync_timers", "Runtime._sync_timers"),
        (getattr(runtime, "projection", None), "sync_work_items", "Projection.sync_work_items"),
        (runtime_module, "sync_timers", "engine.runtime.sync_timers"),
    ):
        if owner is not None and callable(getattr(owner, name, None)):
            original = getattr(owner, name)
            setattr(owner, name, prof.wrap(S_PROJ, original))
            restore.append((owner, name, original))
            found.append(label)
    return found, restore


def bench_breakdown(url: str, n: int) -> dict:
    prof = Profile()
    runtime_cls, session_cls = make_profiled(prof)
    world = build_engine_world(url, runtime_cls=runtime_cls, session_cls=session_cls)
    counters = defaultdict(int)
    instrument_db(world.db, prof, counters)
    hooks, restore = wrap_projection(world.runtime, prof)
    original_run = SpiffTask.run
    SpiffTask.run = prof.wrap(S_ENGINE, original_run)
    restore.append((SpiffTask, "run", original_run))
    try:
        for i in range(WARMUP):
            engine_lifecycle(world, i)
        prof.excl.clear()
        prof.calls.clear()
        counters.clear()
        total = 0.0
        for i in range(n):
            w0 = time.perf_counter()
            prof.enter(S_OTHER)
            engine_lifecycle(world, i, prof=prof)
            prof.exit()
            total += time.perf_counter() - w0
    finally:
        for owner, name, original in reversed(restore):
            setattr(owner, name, original)
    out = {
        "total_ms": total * 1000 / n,
        "sections": {k: v * 1000 / n for k, v in prof.excl.items()},
        "projection_hooks": hooks,
        "sql_per_lifecycle": counters["sql"] / n,
        "commits_per_lifecycle": counters["commits"] / n,
        "pings_per_lifecycle": counters["pings"] / n,
    }
    out["probes"] = engine_probes(
        world
    )  # after the snapshot: the probes' own SQL is not counted above
    world.db.dispose()
    return out


def engine_probes(world: EngineWorld, rounds: int = 300) -> dict:
    """Per-query cost, inside one transaction, of the ProcessVersion read that start() and _load()
    do on every step, against reading its content_hash alone (medians of interleaved rounds)."""
    with world.sessions() as s:
        version_id = s.scalar(select(ProcessVersion.id))
        files_bytes = len(json.dumps(s.get(ProcessVersion, version_id).files).encode())
        variants = {
            "version_full_row_ms": lambda: s.get(
                ProcessVersion, version_id, populate_existing=True
            ),
            "version_hash_only_ms": lambda: s.scalar(
                select(ProcessVersion.content_hash).where(ProcessVersion.id == version_id)
            ),
            "select1_ms": lambda: s.execute(text("SELECT 1")).scalar(),
        }
        times = defaultdict(list)
        for r in range(rounds + 20):
            for key, fn in variants.items():
                t0 = time.perf_counter()
                fn()
                if r >= 20:
                    times[key].append((time.perf_counter() - t0) * 1000)
        s.rollback()
    out = {key: statistics.median(v) for key, v in times.items()}
    out["version_files_bytes"] = files_bytes
    return out


class WalkCensus:
    """Counts the task-tree walks (Workflow.get_tasks, inclusive time, outermost calls only)."""

    def __init__(self):
        self.calls = 0
        self.seconds = 0.0
        self._depth = 0

    @contextmanager
    def installed(self):
        from SpiffWorkflow.workflow import Workflow

        original = Workflow.get_tasks
        census = self

        def get_tasks(wf, *args, **kwargs):
            census._depth += 1
            t0 = time.perf_counter()
            try:
                return original(wf, *args, **kwargs)
            finally:
                census._depth -= 1
                if census._depth == 0:
                    census.calls += 1
                    census.seconds += time.perf_counter() - t0

        Workflow.get_tasks = get_tasks
        try:
            yield self
        finally:
            Workflow.get_tasks = original


def walk_census(url: str, n: int) -> dict:
    spec, subspecs = parse_raw()
    out = {}
    with WalkCensus().installed() as census:
        for i in range(n):
            raw_lifecycle(spec, subspecs, TrivialServiceEngine, i)
    out["raw"] = (census.calls / n, census.seconds * 1000 / n)
    world = build_engine_world(url)
    for i in range(WARMUP):
        engine_lifecycle(world, i)
    with WalkCensus().installed() as census:
        for i in range(n):
            engine_lifecycle(world, i)
    out["engine"] = (census.calls / n, census.seconds * 1000 / n)
    world.db.dispose()
    return out
