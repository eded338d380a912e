"""The compact state-only format restores exactly what the library's own serializer would."""

from __future__ import annotations

import json

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.diagrams import parse_process
from engine.operations import OperationContext, OperationRegistry
from engine.scripting import SafeScriptEngine
from engine.serialization import STATE_FORMAT, StateSerializer
from engine.specs import read_directory
from workflow.process import DIAGRAM_DIR, PROCESS_ID

FULL = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))


def _engine():
    ops = OperationRegistry()
    results = {
        "register_application": {"application_id": 1, "number": "N", "district": "yasamal"},
        "check_plausibility": {"conflict": False, "flag_count": 0},
        "assign_unit": {"unit_id": 1, "review_due": "2030-01-02T18:00:00+04:00"},
    }  # the review SLA timer's due
    for name, params in [
        ("discard_draft", {"instance_note": "str"}),
        ("register_application", {}),
        ("check_plausibility", {"application_id": "int"}),
        ("assign_unit", {"application_id": "int", "unit_code": "str"}),
        ("escalate_review", {"application_id": "int"}),
        ("post_reading", {"application_id": "int"}),
        ("compute_invoice", {"application_id": "int"}),
        ("render_invoice", {"invoice_id": "int"}),
        ("notify_subscriber", {"application_id": "int"}),
        ("notify_rejection", {"application_id": "int"}),
    ]:
        ops.register(name, params)(lambda ctx, _n=name, **kw: results.get(_n, {"invoice_id": 7}))
    return SafeScriptEngine(
        ops, lambda task: OperationContext(None, 1, task.task_spec.name, task.data, None, None)
    )


def _snapshots():
    parsed = parse_process(read_directory(DIAGRAM_DIR), PROCESS_ID)
    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs, script_engine=_engine())
    wf.do_engine_steps()
    yield parsed, wf
    for data in (
        {"application_id": 1, "subscriber_id": 2},
        {"meter_count": 1, "note": "ə ş ç"},
        {"decision": "inspect"},
        {"outcome": "done"},
    ):
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.data.update(data)
        task.run()
        wf.do_engine_steps()
        yield parsed, wf


def _ms(value):
    """Times are kept to the millisecond."""
    if isinstance(value, dict):
        return {k: round(v, 3) if k == "last_state_change" else _ms(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ms(v) for v in value]
    return value


def test_restored_workflows_equal_the_originals_at_every_wait():
    ser = StateSerializer()
    for parsed, wf in _snapshots():
        text = ser.dumps(wf)
        restored = ser.loads(text, STATE_FORMAT, parsed.spec, parsed.subprocess_specs)
        original, copy = _ms(FULL.to_dict(wf)), _ms(FULL.to_dict(restored))
        assert json.dumps(copy, sort_keys=True, default=str) == json.dumps(
            original, sort_keys=True, default=str
        )
        assert len(text) < len(FULL.serialize_json(wf)) / 3
