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
   ``tests/workflow/lifecycle.py`` (its ``Lifecycle`` class, ``worker.dispatch.InlineDispatcher``
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
import zlib
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from SpiffWorkflow.bpmn import BpmnWorkflow  # noqa: E402
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine  # noqa: E402
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer  # noqa: E402
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser  # noqa: E402
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG  # noqa: E402
from SpiffWorkflow.task import Task as SpiffTask  # noqa: E402
from SpiffWorkflow.util.task import TaskState  # noqa: E402
from sqlalchemy import MetaData, create_engine, event, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

import engine.models  # noqa: E402,F401
import workflow.models  # noqa: E402,F401
from engine import jobs as outbox  # noqa: E402
from engine.audit import Actor  # noqa: E402
from engine.db import Base, make_engine, make_session_factory  # noqa: E402
from engine.models import Account, Job, ProcessVersion, Unit  # noqa: E402
from engine.operations import OperationRegistry  # noqa: E402
from engine.runtime import Runtime  # noqa: E402
from engine.scripting import SafeScriptEngine  # noqa: E402
from engine.serialization import STATE_FORMAT, StateSerializer  # noqa: E402
from engine.specs import SpecRegistry, read_directory  # noqa: E402
from engine.workitems import WorkItemFields  # noqa: E402
from engine.workitems import claim as claim_item  # noqa: E402
from workflow.process import DIAGRAM_DIR, LANES, PROCESS_ID  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/saygac_bench"
WARMUP = 5
STATE_TARGET = 8 * 1024
RATIO_TARGET = 2.0
LEASE = timedelta(minutes=30)
FULL_SAMPLE = 50

# -- the trivial operations: same names and parameters as workflow/operations.py, no database ---

TRIVIAL: dict[str, tuple[dict[str, str], object]] = {
    "discard_draft": ({"instance_note": "str"}, lambda d, instance_note: {"discarded": True}),
    "register_application": ({}, lambda d: {"application_id": d["application_id"], "number": "M-260101-K7QX",
                                            "district": "yasamal"}),
    "check_plausibility": ({"application_id": "int"}, lambda d, application_id: {"conflict": False, "flag_count": 0}),
    "assign_unit": ({"application_id": "int", "unit_code": "str"}, lambda d, application_id, unit_code: {"unit_id": 1}),
    "escalate_review": ({"application_id": "int"}, lambda d, application_id: {"escalated_at": "", "email_id": None}),
    "post_reading": ({"application_id": "int"}, lambda d, application_id: {"readings": 1}),
    "compute_invoice": ({"application_id": "int"}, lambda d, application_id: {"invoice_id": application_id}),
    "render_invoice": ({"invoice_id": "int"}, lambda d, invoice_id: {"pdf_id": invoice_id}),
    "notify_subscriber": ({"application_id": "int"}, lambda d, application_id: {"email_id": application_id}),
    "notify_rejection": ({"application_id": "int"}, lambda d, application_id: {"email_id": application_id}),
}


def trivial_registry() -> OperationRegistry:
    ops = OperationRegistry()
    for name, (params, fn) in TRIVIAL.items():
        ops.register(name, params)(lambda ctx, _fn=fn, **kw: _fn(ctx.data, **kw))
    return ops


def user_steps(i: int) -> list[tuple[str, dict]]:
    """The task data each user task adds (what the real handlers return: ids and decisions)."""
    return [
        ("identify_subscriber", {"application_id": i, "subscriber_id": i}),
        ("enter_readings", {"meter_count": 1}),
        ("review_application", {"decision": "accept", "inspection_instruction": ""}),
    ]


# -- small helpers -----------------------------------------------------------------------------

def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Stats:
    def __init__(self, label: str, wall: list[float], cpu: list[float]):
        self.label, self.wall, self.cpu = label, wall, cpu
        self.steps: dict[str, float] = {}
        self.step_counts: dict[str, float] = {}
        self.paired_raw: list[float] = []

    @property
    def mean(self) -> float:
        return statistics.mean(self.wall)

    @property
    def p95(self) -> float:
        return percentile(self.wall, 0.95)

    @property
    def cpu_mean(self) -> float:
        return statistics.mean(self.cpu)

    def line(self) -> str:
        return (f"  {self.label:<46} mean {self.mean:7.2f} ms  p50 {percentile(self.wall, 0.5):7.2f}  "
                f"p95 {self.p95:7.2f}  (CPU of this process {self.cpu_mean:6.2f} ms)   n={len(self.wall)}")

    def as_dict(self) -> dict:
        return {"mean_ms": self.mean, "p50_ms": percentile(self.wall, 0.5), "p95_ms": self.p95,
                "cpu_mean_ms": self.cpu_mean, "n": len(self.wall)}


def timed(label: str, n: int, run) -> Stats:
    """Run ``run(i)`` n times; ``run`` may return its own measured (wall, cpu) to exclude probes."""
    wall, cpu = [], []
    for i in range(n):
        w0, c0 = time.perf_counter(), time.process_time()
        own = run(i)
        w, c = (time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000
        if isinstance(own, tuple):
            w, c = own
        wall.append(w)
        cpu.append(c)
    return Stats(label, wall, cpu)


class Segments:
    """Accumulates the timed parts of a lifecycle that pauses for untimed probes."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self._w = self._c = None

    def go(self):
        self._w, self._c = time.perf_counter(), time.process_time()

    def stop(self):
        self.wall += (time.perf_counter() - self._w) * 1000
        self.cpu += (time.process_time() - self._c) * 1000

    def result(self):
        return self.wall, self.cpu


# -- 1. raw SpiffWorkflow --------------------------------------------------------------------

class TrivialServiceEngine(PythonScriptEngine):
    """The library's own script engine; service calls return the trivial operations' JSON."""

    def call_service(self, task, operation_name=None, operation_params=None, **_kwargs):
        params, fn = TRIVIAL[operation_name.removeprefix("saygac/")]
        values = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        return json.dumps(fn(task.data, **values))


def parse_raw():
    parser = SpiffBpmnParser()
    for path in sorted(DIAGRAM_DIR.iterdir()):
        if path.suffix == ".dmn":
            parser.add_dmn_file(str(path))
        elif path.suffix == ".bpmn":
            parser.add_bpmn_file(str(path))
    return parser.get_spec(PROCESS_ID), parser.get_subprocess_specs(PROCESS_ID)


def raw_lifecycle(spec, subprocess_specs, make_engine_for, i: int) -> BpmnWorkflow:
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=make_engine_for())
    wf.do_engine_steps()
    for name, data in user_steps(i):
        task = next(t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name)
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    if not wf.is_completed():
        raise AssertionError("raw lifecycle did not complete")
    return wf


def raw_roundtrip_lifecycle(spec, subprocess_specs, make_engine_for, serializer: StateSerializer, i: int):
    """Raw, plus what any persisted engine must do at least: dumps at every wait, loads to go on."""
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=make_engine_for())
    wf.do_engine_steps()
    for name, data in user_steps(i):
        wf = serializer.loads(serializer.dumps(wf), STATE_FORMAT, spec, subprocess_specs)
        wf.script_engine = make_engine_for()
        task = next(t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name)
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    serializer.dumps(wf)
    if not wf.is_completed():
        raise AssertionError("raw lifecycle did not complete")
    return wf


RAW_REF = "library PythonScriptEngine (reference)"
RAW_SAFE = "saygac SafeScriptEngine"
RAW_TRIP = "SafeScriptEngine + state dumps/loads at each wait"


def bench_raw(n: int) -> dict:
    spec, subspecs = parse_raw()
    registry = trivial_registry()

    def safe():
        return SafeScriptEngine(registry, lambda task: SimpleNamespace(data=task.data))

    serializer = StateSerializer()
    runs = {
        RAW_REF: lambda i: raw_lifecycle(spec, subspecs, TrivialServiceEngine, i),
        RAW_SAFE: lambda i: raw_lifecycle(spec, subspecs, safe, i),
        RAW_TRIP: lambda i: raw_roundtrip_lifecycle(spec, subspecs, safe, serializer, i),
    }
    out = {}
    for label, run in runs.items():
        for i in range(WARMUP):
            run(i)
        out[label] = timed(f"raw, {label}", n, run)
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


# -- the (a) engine set-up and lifecycle --------------------------------------------------------

def trivial_describe(session, instance, task, info) -> WorkItemFields:
    if info["role"] == "citizen":
        return WorkItemFields(assignee_id=instance.started_by_id)
    return WorkItemFields(unit_id=EngineWorld.unit_id)


class EngineWorld:
    unit_id: int | None = None

    def __init__(self, db, sessions, runtime: Runtime):
        self.db, self.sessions, self.runtime = db, sessions, runtime
        with sessions() as s:
            runtime.specs.deploy(s, PROCESS_ID, read_directory(DIAGRAM_DIR), reason="bench")
            unit = Unit(code="U-YSM", name="Yasamal", region="baku")
            s.add(unit)
            s.flush()
            citizen = Account(username="bench-citizen", display_name="Citizen", role="citizen")
            operator = Account(username="bench-operator", display_name="Operator", role="operator", unit_id=unit.id)
            s.add_all([citizen, operator])
            s.commit()
            EngineWorld.unit_id = unit.id
            self.citizen = Actor(id=citizen.id, role="citizen", label="Citizen")
            self.operator = Actor(id=operator.id, role="operator", label="Operator", unit_id=unit.id)


def run_outbox_job(world: EngineWorld, job_id: int, steps=None):
    """One outbox job the way worker.jobs.execute runs it: claim and commit, then run and commit."""
    rt, sessions = world.runtime, world.sessions
    t0 = time.perf_counter()
    with sessions() as s:
        job = outbox.claim(s, job_id, rt.clock(), LEASE)
        s.commit()
        args = dict(job.args)
    t1 = time.perf_counter()
    with sessions() as s:
        result = rt.run_task(s, args["instance_id"], args["task_id"])
        outbox.finish(s, s.get(Job, job_id), rt.clock())
        s.commit()
    if steps is not None:
        steps["job_claim"].append(t1 - t0)
        steps[_last_ran(result)].append(time.perf_counter() - t1)
    return result


def _last_ran(result) -> str:
    return "notify_subscriber" if result.instance.status == "completed" else "render_invoice"


STEP_LABELS = {
    "start": "start (runs to identify_subscriber)",
    "identify_subscriber": "complete identify_subscriber",
    "enter_readings": "complete enter_readings (+register, plausibility, DMN, assign)",
    "review_application": "claim + complete review (+post, compute)",
    "job_claim": "outbox job claim (own commit)",
    "render_invoice": "run_task render_invoice (async)",
    "notify_subscriber": "run_task render_invoice + notify_subscriber (async, one job, ends)",
}


def engine_lifecycle(world: EngineWorld, i: int, probe: dict | None = None, prof=None, steps=None):
    """The accept path through engine.runtime, one unit of work per step. Returns timed (wall, cpu)."""
    rt, sessions = world.runtime, world.sessions
    seg = Segments()
    clock = time.perf_counter
    seg.go()
    t = clock()
    with sessions() as s:
        result = rt.start(s, PROCESS_ID, world.citizen)
        s.commit()
    if steps is not None:
        steps["start"].append(clock() - t)
    sizes = [len(result.instance.state.encode())]
    for name, data in user_steps(i):
        (item,) = [it for it in result.new_items if it.task_name == name]
        actor = world.operator if name == "review_application" else world.citizen
        if name == "review_application" and probe is not None:
            seg.stop()
            probe["review_state"] = result.instance.state  # waiting at review (the largest point)
            seg.go()
        t = clock()
        with sessions() as s:
            if name == "review_application":
                with section(prof, S_CLAIM):
                    claim_item(s, item.id, actor, rt.clock(), LEASE)
            result = rt.complete(s, item.id, actor, data)
            s.commit()
        if steps is not None:
            steps[name].append(clock() - t)
        sizes.append(len(result.instance.state.encode()))
    pending = list(result.jobs)
    while pending:
        result = run_outbox_job(world, pending.pop(0), steps)
        pending.extend(result.jobs)
        sizes.append(len(result.instance.state.encode()))
    seg.stop()
    instance = result.instance
    if (instance.status, instance.end_event) != ("completed", "executed"):
        raise AssertionError(f"engine lifecycle ended {instance.status}/{instance.end_event}")
    if probe is not None:
        probe["end_state"] = instance.state
        probe["max_size"] = max(sizes)
        probe["instance_id"] = instance.id
    return seg.result()


def reset_tables(db) -> None:
    """Drop every table in the database (also ones an older schema left), then create ours."""
    existing = MetaData()
    existing.reflect(db)
    existing.drop_all(db)
    Base.metadata.create_all(db)


def build_engine_world(url: str, runtime_cls=Runtime, runtime_kwargs=None, session_cls=Session) -> EngineWorld:
    db = make_engine(url)
    reset_tables(db)
    specs = SpecRegistry()
    rt = runtime_cls(specs, trivial_registry(), LANES, describe=trivial_describe, **(runtime_kwargs or {}))
    sessions = (make_session_factory(db) if session_cls is Session
                else sessionmaker(bind=db, expire_on_commit=False, class_=session_cls))
    return EngineWorld(db, sessions, rt)


def bench_engine(url: str, label: str, n: int, paired_raw=None) -> tuple[Stats, list[dict], EngineWorld]:
    """N engine lifecycles; with ``paired_raw``, one raw lifecycle is timed right after each engine
    one, so that the ratio compares the two under the same background load of a shared machine."""
    world = build_engine_world(url)
    for i in range(WARMUP):
        engine_lifecycle(world, i)
    probes = [{} for _ in range(n)]
    steps = defaultdict(list)
    paired: list[float] = []

    def run(i):
        own = engine_lifecycle(world, i, probes[i], steps=steps)
        if paired_raw is not None:
            t0 = time.perf_counter()
            paired_raw(i)
            paired.append((time.perf_counter() - t0) * 1000)
        return own

    stats = timed(label, n, run)
    stats.steps = {k: statistics.mean(v) * 1000 for k, v in steps.items()}
    stats.step_counts = {k: len(v) / n for k, v in steps.items()}
    stats.paired_raw = paired
    return stats, probes, world


# -- state sizes --------------------------------------------------------------------------------

def state_sizes(probes: list[dict], runtime: Runtime, spec_and_subspecs) -> dict:
    spec, subspecs = spec_and_subspecs
    full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    out = {}
    for key in ("review_state", "end_state"):
        sizes, fulls, zipped = [], [], []
        for k, p in enumerate(probes):
            state = p[key]
            sizes.append(len(state.encode()))
            if k < FULL_SAMPLE:  # the library's serialisation of the same workflow, on a sample
                zipped.append(len(zlib.compress(state.encode(), 6)))
                wf = runtime.serializer.loads(state, STATE_FORMAT, spec, subspecs)
                fulls.append(len(full.serialize_json(wf).encode()))
        out[key] = {"mean": statistics.mean(sizes), "max": max(sizes), "full_mean": statistics.mean(fulls),
                    "full_max": max(fulls), "zlib_mean": statistics.mean(zipped)}
    out["max_any_step"] = max(p["max_size"] for p in probes)
    return out


def state_composition(state: str) -> dict:
    """Where the bytes of one stored state go (the compact format of engine/serialization.py)."""
    dct = json.loads(state)
    tasks = list(dct["tasks"])
    for sub in dct.get("subprocesses", {}).values():
        tasks += list(sub["tasks"])

    def size(v) -> int:
        return len(json.dumps(v, separators=(",", ":"), ensure_ascii=False).encode())

    per_field = defaultdict(int)
    for t in tasks:
        for k, v in t.items():
            per_field[k] += size(v) + len(k) + 4
    uuid_chars = sum(38 * (1 + len(t.get("c", ()))) for t in tasks)
    return {"tasks": len(tasks), "bytes": len(state.encode()), "per_field": dict(per_field),
            "uuid_bytes": uuid_chars, "bytes_per_task": len(state.encode()) / max(1, len(tasks))}


def build_full_system(url: str, tmp: Path):
    from engine.settings import load_settings
    from workflow import factories as f
    from workflow.system import build_system

    settings = load_settings(environ={}, overrides={
        "database": {"url": url},
        "files": {"root": str(tmp / "files")},
        "mail": {"outbox_dir": str(tmp / "mail")},
        "app": {"secret_key": "bench-secret-key-that-is-long-enough-000"},
    })
    system = build_system(settings)
    reset_tables(system.db)
    with system.sessions() as s:
        system.deploy_shipped(s)
        s.commit()
    with system.sessions() as s:
        f.tariffs(s)
        ysm = f.unit(s)
        f.unit(s, code="U-CTR", name="Mərkəzi dispetçer xidməti", head_email=None)
        people = {"citizen": f.actor(f.account(s, "citizen", fin="5ABC123")),
                  "operator": f.actor(f.account(s, "operator", ysm))}
        s.commit()
    return system, people


def seed_subscribers(system, count: int) -> list[tuple[str, str, str]]:
    from workflow import factories as f

    last_read = system.services.today() - timedelta(days=30)
    out = []
    with system.sessions() as s:
        for _ in range(count):
            sub = f.subscriber(s, last_read=last_read)
            out.append((sub.code, sub.meters[0].serial, sub.meters[0].seal))
        s.commit()
    return out


def full_lifecycle(life, people, sub, probe: dict | None = None):
    code, serial, seal = sub
    seg = Segments()
    seg.go()
    iid = life.start(people["citizen"])
    life.complete(iid, "identify_subscriber", people["citizen"], {"subscriber_code": code})
    today = life.system.services.today().isoformat()
    life.complete(iid, "enter_readings", people["citizen"], {
        "meters": [{"serial": serial, "seal": seal, "value": 1206, "read_on": today, "photo_id": None}],
        "phone": "+994501234567", "email": "citizen@example.az", "notes": ""})
    seg.stop()
    if probe is not None:
        probe["review_state"] = life.instance(iid).state
    seg.go()
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    seg.stop()
    instance = life.instance(iid)
    if (instance.status, instance.end_event) != ("completed", "executed"):
        raise AssertionError(f"full lifecycle ended {instance.status}/{instance.end_event}")
    if probe is not None:
        probe["end_state"] = instance.state
        probe["max_size"] = max(len(probe["review_state"].encode()), len(instance.state.encode()))
    return seg.result()


def bench_full(url: str, label: str, n: int, tmp: Path) -> tuple[Stats, list[dict], object]:
    from worker.lifecycle import Lifecycle

    system, people = build_full_system(url, tmp)
    subs = seed_subscribers(system, n + WARMUP)
    life = Lifecycle(system)
    for i in range(WARMUP):
        full_lifecycle(life, people, subs[n + i])
    probes = [{} for _ in range(n)]
    stats = timed(label, n, lambda i: full_lifecycle(life, people, subs[i], probes[i]))
    system.db.dispose()
    return stats, probes, system


# -- 6. the instrumented pass -------------------------------------------------------------------

class Profile:
    """Exclusive time per section: a nested section's time is not counted in its parent's."""

    def __init__(self):
        self.excl = defaultdict(float)
        self.calls = defaultdict(int)
        self.stack: list[list] = []

    def enter(self, name: str) -> None:
        self.stack.append([name, time.perf_counter(), 0.0])

    def exit(self) -> None:
        name, t0, child = self.stack.pop()
        elapsed = time.perf_counter() - t0
        self.excl[name] += elapsed - child
        self.calls[name] += 1
        if self.stack:
            self.stack[-1][2] += elapsed

    def wrap(self, name: str, fn):
        def wrapped(*args, **kwargs):
            self.enter(name)
            try:
                return fn(*args, **kwargs)
            finally:
                self.exit()
        return wrapped


@contextmanager
def section(prof: Profile | None, name: str):
    if prof is None:
        yield
        return
    prof.enter(name)
    try:
        yield
    finally:
        prof.exit()


S_ENGINE = "engine steps (Spiff task.run, _advance loop)"
S_LOAD = "deserialize state (StateSerializer.loads)"
S_LOAD_REST = "_load rest: ProcessVersion ORM load, attach engine"
S_DUMP = "serialize state"
S_PROJ = "projection: work items + timers (Python)"
S_SQL = "SQL statements (driver round trip + server)"
S_FLUSH = "ORM flush (unit-of-work bookkeeping)"
S_COMMIT = "COMMIT (WAL write + fsync)"
S_PING = "pool pre-ping (1 round trip per session)"
S_CLAIM = "claim (work queue, Python)"
S_OTHER = "rest: ORM queries/objects, audit rows, glue"


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
    for owner, name, label in ((runtime, "_sync_work_items", "Runtime._sync_work_items"),
                               (runtime, "_sync_timers", "Runtime._sync_timers"),
                               (getattr(runtime, "projection", None), "sync_work_items", "Projection.sync_work_items"),
                               (runtime_module, "sync_timers", "engine.runtime.sync_timers")):
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
    out = {"total_ms": total * 1000 / n, "sections": {k: v * 1000 / n for k, v in prof.excl.items()},
           "projection_hooks": hooks,
           "sql_per_lifecycle": counters["sql"] / n, "commits_per_lifecycle": counters["commits"] / n,
           "pings_per_lifecycle": counters["pings"] / n}
    out["probes"] = engine_probes(world)  # after the snapshot: the probes' own SQL is not counted above
    world.db.dispose()
    return out


def engine_probes(world: EngineWorld, rounds: int = 300) -> dict:
    """Per-query cost, inside one transaction, of the ProcessVersion read that start() and _load()
    do on every step, against reading its content_hash alone (medians of interleaved rounds)."""
    with world.sessions() as s:
        version_id = s.scalar(select(ProcessVersion.id))
        files_bytes = len(json.dumps(s.get(ProcessVersion, version_id).files).encode())
        variants = {
            "version_full_row_ms": lambda: s.get(ProcessVersion, version_id, populate_existing=True),
            "version_hash_only_ms": lambda: s.scalar(
                select(ProcessVersion.content_hash).where(ProcessVersion.id == version_id)),
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


# -- PostgreSQL set-up ----------------------------------------------------------------------------

def ensure_pg_database(url: str) -> dict:
    u = make_url(url)
    admin = create_engine(u.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            if c.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": u.database}) is None:
                c.execute(text(f'CREATE DATABASE "{u.database}"'))
            return {name: c.scalar(text(f"SHOW {name}")) for name in
                    ("server_version", "fsync", "synchronous_commit", "wal_sync_method", "full_page_writes")}
    finally:
        admin.dispose()


def pg_column_sizes(url: str) -> dict:
    db = create_engine(url)
    try:
        with db.connect() as c:
            row = c.execute(text(
                "SELECT avg(octet_length(state)), avg(pg_column_size(state)), max(pg_column_size(state)) "
                "FROM process_instance WHERE status = 'completed'")).one()
        return {"octets_mean": float(row[0] or 0), "stored_mean": float(row[1] or 0), "stored_max": int(row[2] or 0)}
    finally:
        db.dispose()


# -- output ---------------------------------------------------------------------------------------

def kb(v: float) -> str:
    return f"{v / 1024:5.2f} KiB"


def print_sizes(label: str, sizes: dict) -> None:
    r, e = sizes["review_state"], sizes["end_state"]
    print(f"  {label}")
    print(f"    waiting at review: mean {kb(r['mean'])}  max {kb(r['max'])}   "
          f"library serialize_json (spec incl.) mean {kb(r['full_mean'])}   zlib -6 of state {kb(r['zlib_mean'])}")
    print(f"    at the end:        mean {kb(e['mean'])}  max {kb(e['max'])}   "
          f"library serialize_json (spec incl.) mean {kb(e['full_mean'])}   zlib -6 of state {kb(e['zlib_mean'])}")
    print(f"    largest after any step: {kb(sizes['max_any_step'])}   target <= 8 KiB: "
          f"{'MET' if max(r['max'], e['max'], sizes['max_any_step']) <= STATE_TARGET else 'NOT MET'}")


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
    parser.add_argument("--n-full", type=int, default=None,
                        help="lifecycles for the full-system runs (b) (default: min(n, 60); they render PDFs)")
    parser.add_argument("--n-profile", type=int, default=None,
                        help="lifecycles in the instrumented pass (default: min(n, 100))")
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

    print(f"saygac engine overhead: accept path of meter_reading.bpmn, N={n} (full system N={n_full}), "
          f"{WARMUP} untimed warm-up lifecycles per configuration, Python {sys.version.split()[0]}, "
          f"{os.cpu_count()} CPUs")
    print("wall = perf_counter per lifecycle; CPU = process_time of this Python process (the database "
          "server's work and fsync waits are outside it)")
    print()
    print("1. Raw SpiffWorkflow in memory (parsed once, 3 user-task completions, trivial service calls, "
          "no persistence)")
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
        print("2. engine/ on SQLite (file in a temp dir, WAL, synchronous=FULL); one commit per unit of work in (a)")
        url = f"sqlite:///{tmp / 'engine.sqlite3'}"
        st, probes, world = bench_engine(url, "(a) engine, trivial operations", n, paired_raw)
        print(st.line())
        print_steps(st)
        results["sqlite"] = {"a": st, "a_sizes": state_sizes(probes, world.runtime, spec_pair),
                             "a_composition": state_composition(probes[0]["review_state"])}
        world.db.dispose()
        if not args.no_full:
            (tmp / "full-sqlite").mkdir()
            st, fprobes, system = bench_full(f"sqlite:///{tmp / 'full.sqlite3'}",
                                             "(b) full lifecycle with domain work", n_full, tmp / "full-sqlite")
            print(st.line())
            results["sqlite"]["b"] = st
            results["sqlite"]["b_sizes"] = state_sizes(fprobes, system.runtime, spec_pair)

        pg_ok = False
        if not args.no_postgres:
            print()
            print(f"3. engine/ on PostgreSQL ({make_url(args.postgres).render_as_string(hide_password=True)})")
            try:
                server = ensure_pg_database(args.postgres)
                pg_ok = True
            except Exception as err:  # noqa: BLE001 - report and go on without PostgreSQL
                print(f"  skipped: cannot reach PostgreSQL: {type(err).__name__}: {str(err).splitlines()[0]}")
            if pg_ok:
                print("  server: " + ", ".join(f"{k}={v}" for k, v in server.items()))
                report["pg_server"] = server
                st, probes, world = bench_engine(args.postgres, "(a) engine, trivial operations", n, paired_raw)
                print(st.line())
                print_steps(st)
                world.db.dispose()
                results["pg"] = {"a": st, "a_sizes": state_sizes(probes, world.runtime, spec_pair),
                                 "a_stored": pg_column_sizes(args.postgres)}
                if not args.no_full:
                    (tmp / "full-pg").mkdir()
                    st, fprobes, system = bench_full(args.postgres, "(b) full lifecycle with domain work", n_full,
                                                     tmp / "full-pg")
                    print(st.line())
                    results["pg"]["b"] = st
                    results["pg"]["b_sizes"] = state_sizes(fprobes, system.runtime, spec_pair)

        print()
        print(f"4. Engine overhead ratio (a)/raw per lifecycle; raw = library script engine, {reference.mean:.2f} ms "
              f"mean, {reference.p95:.2f} ms p95")
        for key, label in (("pg", "PostgreSQL"), ("sqlite", "SQLite")):
            if key not in results:
                continue
            a = results[key]["a"]
            ratio = a.mean / reference.mean
            verdict = (f"   target <= {RATIO_TARGET}: {'MET' if ratio <= RATIO_TARGET else 'NOT MET'}"
                       if key == "pg" else "")
            print(f"  engine({label})/raw = {a.mean:.2f} / {reference.mean:.2f} = {ratio:5.2f}x  "
                  f"(p95/p95 {a.p95 / reference.p95:5.2f}x; CPU only {a.cpu_mean / reference.cpu_mean:5.2f}x; "
                  f"vs raw+dumps/loads {a.mean / raw[RAW_TRIP].mean:5.2f}x){verdict}")
            paired = statistics.mean(a.paired_raw)
            print(f"      paired (a raw lifecycle timed right after each engine one, raw mean {paired:.2f} ms): "
                  f"{a.mean / paired:5.2f}x; medians {percentile(a.wall, 0.5) / percentile(a.paired_raw, 0.5):5.2f}x")
            report.setdefault("ratios", {})[key] = {
                "mean": ratio, "p95": a.p95 / reference.p95, "cpu": a.cpu_mean / reference.cpu_mean,
                "vs_roundtrip": a.mean / raw[RAW_TRIP].mean, "paired": a.mean / paired}
            if "b" in results[key]:
                b = results[key]["b"]
                print(f"      for scale, (b) full lifecycle with domain work on {label}: {b.mean:.2f} ms = "
                      f"{b.mean / reference.mean:.1f}x raw; (a) is {a.mean / b.mean:.0%} of (b)")

        print()
        print(f"5. Stored state per instance, len(process_instance.state.encode()); the library's "
              f"serialize_json and zlib on the first {FULL_SAMPLE}")
        for key, label in (("sqlite", "SQLite"), ("pg", "PostgreSQL")):
            if key not in results:
                continue
            print_sizes(f"{label} (a), trivial operations:", results[key]["a_sizes"])
            if "b_sizes" in results[key]:
                print_sizes(f"{label} (b), full lifecycle with domain work:", results[key]["b_sizes"])
            if "a_stored" in results[key]:
                stored = results[key]["a_stored"]
                print(f"  PostgreSQL on disk (TOAST pglz) of the completed states of (a): pg_column_size mean "
                      f"{kb(stored['stored_mean'])}, max {kb(stored['stored_max'])} "
                      f"(octet_length mean {kb(stored['octets_mean'])})")
        comp = results["sqlite"]["a_composition"]
        fields = sorted(comp["per_field"].items(), key=lambda kv: -kv[1])
        print(f"  composition of one state waiting at review: {comp['tasks']} tasks, {comp['bytes']} B, "
              f"{comp['bytes_per_task']:.0f} B/task, of which UUID strings {comp['uuid_bytes']} B; bytes per task "
              "field (key included): " + ", ".join(f"{k} {v}" for k, v in fields))

        target = args.postgres if pg_ok else f"sqlite:///{tmp / 'profile.sqlite3'}"
        label = "PostgreSQL" if pg_ok else "SQLite (PostgreSQL unavailable)"
        print()
        print(f"6. Where the time of (a) goes on {label} (separate instrumented pass, N={n_prof}, "
              "exclusive times per lifecycle)")
        bd = bench_breakdown(target, n_prof)
        order = [S_ENGINE, S_LOAD, S_LOAD_REST, S_DUMP, S_PROJ, S_SQL, S_FLUSH, S_COMMIT, S_PING, S_CLAIM, S_OTHER]
        for name in order:
            ms = bd["sections"].get(name, 0.0)
            print(f"  {name:<52} {ms:7.2f} ms  {ms / bd['total_ms']:6.1%}")
        timed_mean = results["pg" if pg_ok else "sqlite"]["a"].mean
        print(f"  {'total (instrumented)':<52} {bd['total_ms']:7.2f} ms   (timed pass without instrumentation: "
              f"{timed_mean:.2f} ms)")
        if not bd["projection_hooks"]:
            print("  (no projection hook found in engine/runtime.py: its time is in 'rest')")
        print(f"  per lifecycle: {bd['sql_per_lifecycle']:.1f} SQL statements, {bd['commits_per_lifecycle']:.0f} "
              f"commits, {bd['pings_per_lifecycle']:.0f} pool pre-pings (PostgreSQL engines ping once per session)")
        p = bd["probes"]
        print(f"  probe (median, in a transaction): the ProcessVersion row that start()/_load() read on every step "
              f"costs {p['version_full_row_ms']:.3f} ms (its 'files' JSON is {p['version_files_bytes'] / 1024:.1f} KB); "
              f"content_hash alone {p['version_hash_only_ms']:.3f} ms; SELECT 1 {p['select1_ms']:.3f} ms")
        k = min(n, 30)
        walks = walk_census(f"sqlite:///{tmp / 'walks.sqlite3'}", k)
        print(f"  task-tree walks (Workflow.get_tasks, inclusive, N={k}): raw {walks['raw'][0]:.0f} calls "
              f"{walks['raw'][1]:.2f} ms per lifecycle; engine {walks['engine'][0]:.0f} calls "
              f"{walks['engine'][1]:.2f} ms per lifecycle")
        report["breakdown"] = bd
        report["walks"] = walks

    report["results"] = {k: {kk: ({**vv.as_dict(), "steps_ms": vv.steps} if isinstance(vv, Stats) else vv)
                             for kk, vv in v.items()} for k, v in results.items()}
    print()
    print(f"total run time {time.perf_counter() - started:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    gc.collect()
    main()
