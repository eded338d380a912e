"""Sections 2 (b) and 5: the full system driven like the workflow tests, and stored state sizes."""

from __future__ import annotations

import json
import statistics
import zlib
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from bench.engine_overhead.common import FULL_SAMPLE, WARMUP, Segments, Stats, timed
from bench.engine_overhead.world import reset_tables
from engine.runtime import Runtime
from engine.serialization import STATE_FORMAT

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
        out[key] = {
            "mean": statistics.mean(sizes),
            "max": max(sizes),
            "full_mean": statistics.mean(fulls),
            "full_max": max(fulls),
            "zlib_mean": statistics.mean(zipped),
        }
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
    return {
        "tasks": len(tasks),
        "bytes": len(state.encode()),
        "per_field": dict(per_field),
        "uuid_bytes": uuid_chars,
        "bytes_per_task": len(state.encode()) / max(1, len(tasks)),
    }


def build_full_system(url: str, tmp: Path):
    from engine.settings import load_settings
    from workflow import factories as f
    from workflow.system import build_system

    settings = load_settings(
        environ={},
        overrides={
            "database": {"url": url},
            "files": {"root": str(tmp / "files")},
            "mail": {"outbox_dir": str(tmp / "mail")},
            "app": {"secret_key": "bench-secret-key-that-is-long-enough-000"},
        },
    )
    system = build_system(settings)
    reset_tables(system.db)
    with system.sessions() as s:
        system.deploy_shipped(s)
        s.commit()
    with system.sessions() as s:
        f.tariffs(s)
        ysm = f.unit(s)
        f.unit(s, code="U-CTR", name="Mərkəzi dispetçer xidməti", head_email=None)
        people = {
            "citizen": f.actor(f.account(s, "citizen", fin="5ABC123")),
            "operator": f.actor(f.account(s, "operator", ysm)),
        }
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
    life.complete(
        iid,
        "enter_readings",
        people["citizen"],
        {
            "meters": [
                {"serial": serial, "seal": seal, "value": 1206, "read_on": today, "photo_id": None}
            ],
            "phone": "+994501234567",
            "email": "citizen@example.az",
            "notes": "",
        },
    )
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
