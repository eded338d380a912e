"""Section 2 (a): engine/ with trivial operations on a deployed copy of the diagram."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict

from sqlalchemy import MetaData
from sqlalchemy.orm import Session, sessionmaker

import workflow.models  # noqa: F401  (registers the domain tables with Base.metadata)
from bench.engine_overhead.common import (
    LEASE,
    S_CLAIM,
    WARMUP,
    Segments,
    Stats,
    section,
    timed,
    trivial_registry,
    user_steps,
)
from engine import jobs as outbox
from engine.audit import Actor
from engine.db import Base, make_engine, make_session_factory
from engine.models import Account, Unit
from engine.runtime import Runtime
from engine.specs import SpecRegistry, read_directory
from engine.workitems import WorkItemFields
from engine.workitems import claim as claim_item
from workflow.process import DIAGRAM_DIR, LANES, PROCESS_ID

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
            operator = Account(
                username="bench-operator", display_name="Operator", role="operator", unit_id=unit.id
            )
            s.add_all([citizen, operator])
            s.commit()
            EngineWorld.unit_id = unit.id
            self.citizen = Actor(id=citizen.id, role="citizen", label="Citizen")
            self.operator = Actor(
                id=operator.id, role="operator", label="Operator", unit_id=unit.id
            )


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
        outbox.finish(s, job_id, rt.clock())
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


def build_engine_world(
    url: str, runtime_cls=Runtime, runtime_kwargs=None, session_cls=Session
) -> EngineWorld:
    db = make_engine(url)
    reset_tables(db)
    specs = SpecRegistry()
    rt = runtime_cls(
        specs, trivial_registry(), LANES, describe=trivial_describe, **(runtime_kwargs or {})
    )
    sessions = (
        make_session_factory(db)
        if session_cls is Session
        else sessionmaker(bind=db, expire_on_commit=False, class_=session_cls)
    )
    return EngineWorld(db, sessions, rt)


def bench_engine(
    url: str, label: str, n: int, paired_raw=None
) -> tuple[Stats, list[dict], EngineWorld]:
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
