"""The engine overhead benchmark's shared pieces: trivial operations with the real names, the
user steps, timing statistics."""

from __future__ import annotations

import statistics
import time
from collections import defaultdict
from contextlib import contextmanager
from datetime import timedelta

from engine.operations import OperationRegistry

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/saygac_bench"

WARMUP = 5
STATE_TARGET = 8 * 1024
RATIO_TARGET = 2.0
LEASE = timedelta(minutes=30)
FULL_SAMPLE = 50


# -- the trivial operations: same names and parameters as workflow/operations.py, no database ---

REVIEW_DUE = "2100-01-04T09:00:00+04:00"  # the review SLA timer's due time (assign_unit's result)

TRIVIAL: dict[str, tuple[dict[str, str], object]] = {
    "discard_draft": ({"instance_note": "str"}, lambda d, instance_note: {"discarded": True}),
    "register_application": (
        {},
        lambda d: {
            "application_id": d["application_id"],
            "number": "M-260101-K7QX",
            "district": "yasamal",
        },
    ),
    "check_plausibility": (
        {"application_id": "int"},
        lambda d, application_id: {"conflict": False, "flag_count": 0},
    ),
    "assign_unit": (
        {"application_id": "int", "unit_code": "str"},
        lambda d, application_id, unit_code: {"unit_id": 1, "review_due": REVIEW_DUE},
    ),
    "escalate_review": (
        {"application_id": "int"},
        lambda d, application_id: {"escalated_at": "", "email_id": None},
    ),
    "post_reading": ({"application_id": "int"}, lambda d, application_id: {"readings": 1}),
    "compute_invoice": (
        {"application_id": "int"},
        lambda d, application_id: {"invoice_id": application_id},
    ),
    "render_invoice": ({"invoice_id": "int"}, lambda d, invoice_id: {"pdf_id": invoice_id}),
    "notify_subscriber": (
        {"application_id": "int"},
        lambda d, application_id: {"email_id": application_id},
    ),
    "notify_rejection": (
        {"application_id": "int"},
        lambda d, application_id: {"email_id": application_id},
    ),
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
        (
            "review_application",
            {
                "decision": "accept",
                "inspection_instruction": "",
                "flagged": False,
                "override_reason": "",
            },
        ),
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
        return (
            f"  {self.label:<46} mean {self.mean:7.2f} ms  p50 {percentile(self.wall, 0.5):7.2f}  "
            f"p95 {self.p95:7.2f}  (CPU of this process {self.cpu_mean:6.2f} ms)   n={len(self.wall)}"
        )

    def as_dict(self) -> dict:
        return {
            "mean_ms": self.mean,
            "p50_ms": percentile(self.wall, 0.5),
            "p95_ms": self.p95,
            "cpu_mean_ms": self.cpu_mean,
            "n": len(self.wall),
        }


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


# -- sections of the instrumented pass (profile.py), used by the engine lifecycle ----------------


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
