"""Section 1: raw SpiffWorkflow in memory, and the task-tree walk census."""

from __future__ import annotations

import json
from types import SimpleNamespace

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

from bench.engine_overhead.common import TRIVIAL, WARMUP, timed, trivial_registry, user_steps
from engine.scripting import SafeScriptEngine
from engine.serialization import STATE_FORMAT, StateSerializer
from workflow.process import DIAGRAM_DIR, PROCESS_ID

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
        task = next(
            t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name
        )
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
    if not wf.is_completed():
        raise AssertionError("raw lifecycle did not complete")
    return wf


def raw_roundtrip_lifecycle(
    spec, subprocess_specs, make_engine_for, serializer: StateSerializer, i: int
):
    """Raw, plus what any persisted engine must do at least: dumps at every wait, loads to go on."""
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=make_engine_for())
    wf.do_engine_steps()
    for name, data in user_steps(i):
        wf = serializer.loads(serializer.dumps(wf), STATE_FORMAT, spec, subprocess_specs)
        wf.script_engine = make_engine_for()
        task = next(
            t for t in wf.get_tasks(state=TaskState.READY, manual=True) if t.task_spec.name == name
        )
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
