"""Validation before a diagram is deployable: one broken diagram per check, each naming its element.

The studio shows every problem at once (``SpecRegistry.problems``); each must carry the id of
the element to highlight and a message that says what is wrong.
"""

from __future__ import annotations

import re

import pytest

from engine.checks import check_structure, checker
from engine.specs import SpecRegistry, read_directory
from workflow.process import DIAGRAM_DIR, PROCESS_ID
from workflow.system import deploy_rules

SHIPPED = read_directory(DIAGRAM_DIR)
BPMN = "meter_reading.bpmn"


@pytest.fixture(scope="module")
def specs():
    return SpecRegistry(checker(deploy_rules()))


def _with(old: str, new: str, count: int = 1) -> dict:
    assert old in SHIPPED[BPMN], old
    return {**SHIPPED, BPMN: SHIPPED[BPMN].replace(old, new, count)}


def _problems(specs, files) -> list[tuple[str | None, str]]:
    return [(p.element_id, p.message) for p in specs.problems(PROCESS_ID, files)]


def _one(specs, files, element: str, fragment: str) -> None:
    problems = _problems(specs, files)
    assert any(e == element and fragment in m for e, m in problems), problems


def test_the_shipped_diagram_has_no_problems(specs):
    assert _problems(specs, SHIPPED) == []


def test_xsd_a_duplicate_id_is_refused_with_its_line(specs):
    files = _with(
        '<bpmn:endEvent id="rejected" name="Rejected">',
        '<bpmn:endEvent id="executed" name="Rejected">',
    )
    [problem] = specs.problems(PROCESS_ID, files)
    assert problem.message.startswith("the diagram does not follow the BPMN schema")
    assert "'executed' is not a valid value" in problem.message
    assert problem.file == BPMN and SHIPPED[BPMN].splitlines()[problem.line - 1].strip().startswith(
        '<bpmn:endEvent id="rejected"'
    )


def test_library_parse_a_flow_to_a_missing_element_is_refused_naming_it(specs):
    files = _with(
        'sourceRef="post_reading" targetRef="compute_invoice"',
        'sourceRef="post_reading" targetRef="nowhere"',
    )
    [problem] = specs.problems(PROCESS_ID, files)
    assert problem.element_id == "post_reading"
    assert (
        problem.message
        == "the sequence flow 'flow_to_compute_invoice' leads to 'nowhere', which does not exist"
    )


def test_every_form_key_has_a_form(specs):
    _one(
        specs,
        _with('value="field_inspection"', 'value="no_such_form"'),
        "field_inspection",
        "the form 'no_such_form' does not exist",
    )


def test_a_user_task_without_form_key_is_named(specs):
    files = _with('<spiffworkflow:property name="formKey" value="handle_escalation" />', "")
    _one(specs, files, "handle_escalation", "names no form")


def test_every_lane_maps_to_a_role(specs):
    _one(
        specs,
        _with('name="unit_head"', 'name="janitor"'),
        "handle_escalation",
        "lane 'janitor' maps to no role",
    )


def test_every_service_operation_exists(specs):
    _one(
        specs,
        _with('id="saygac/compute_invoice"', 'id="saygac/print_money"'),
        "compute_invoice",
        "the service operation 'saygac/print_money' does not exist",
    )


def test_service_operations_get_their_parameters(specs):
    files = _with(
        '<spiffworkflow:parameter id="invoice_id" type="int" value="invoice[&quot;invoice_id&quot;]" />',
        "",
    )
    _one(specs, files, "render_invoice", "takes parameters invoice_id, the diagram gives —")


def test_a_parameter_expression_must_be_safe(specs):
    _one(
        specs,
        _with('value="unit_code"', 'value="unit_code.__class__"'),
        "assign_unit",
        "parameter 'unit_code' is not allowed",
    )


def test_gateway_conditions_must_be_accepted_by_the_safe_evaluator(specs):
    _one(
        specs,
        _with('outcome == "done"', 'open("/etc/passwd").read()'),
        "inspection_outcome",
        "gateway condition is not allowed",
    )


def test_a_gateway_condition_must_be_an_expression(specs):
    _one(
        specs,
        _with('decision == "reject"', "decision ==="),
        "review_decision",
        "not a valid expression",
    )


def test_scripts_must_be_accepted_by_the_safe_evaluator(specs):
    _one(
        specs,
        _with('district = application["district"]', "import os"),
        "route_to_unit",
        "prescript is not allowed",
    )


def test_timers_parse(specs):
    _one(
        specs, _with('"P30D"', '"thirty days"'), "draft_expired", "not an ISO 8601 date or duration"
    )


def test_a_timer_expression_must_be_safe(specs):
    _one(
        specs,
        _with('"P30D"', '__import__("time").sleep(9)'),
        "draft_expired",
        "timer expression is not allowed",
    )


def test_decision_tables_must_be_safe(specs):
    dmn = SHIPPED["route_to_unit.dmn"].replace(
        '<text>"U-BIN"</text>', "<text>().__class__</text>", 1
    )
    assert dmn != SHIPPED["route_to_unit.dmn"]
    _one(specs, {**SHIPPED, "route_to_unit.dmn": dmn}, "route_to_unit", "output is not allowed")


def test_no_element_is_unreachable(specs):
    # the escalation no longer starts from the SLA timer: everything after it cannot be reached
    files = _with(
        '<bpmn:sequenceFlow id="flow_to_escalate_review" sourceRef="review_sla" targetRef="escalate_review" />',
        '<bpmn:sequenceFlow id="flow_to_escalate_review" sourceRef="escalate_review" targetRef="escalate_review" />',
    )
    files = {
        **files,
        BPMN: files[BPMN].replace(
            '<bpmn:outgoing>flow_to_escalate_review</bpmn:outgoing>\n      <bpmn:timerEventDefinition id="review_sla_timer">',
            '<bpmn:timerEventDefinition id="review_sla_timer">',
        ),
    }
    problems = _problems(specs, files)
    assert ("escalate_review", "this element cannot be reached from a start event") in problems
    assert ("handle_escalation", "this element cannot be reached from a start event") in problems


def test_every_path_ends_a_dead_end_is_named(specs):
    files = _with(
        '<bpmn:sequenceFlow id="flow_to_escalation_closed" sourceRef="handle_escalation" targetRef="escalation_closed" />',
        "",
    )
    files = {
        **files,
        BPMN: re.sub(
            r"<bpmn:outgoing>flow_to_escalation_closed</bpmn:outgoing>|"
            r"<bpmn:incoming>flow_to_escalation_closed</bpmn:incoming>",
            "",
            files[BPMN],
        ),
    }
    problems = check_structure(files)
    assert [(p.element_id, p.message) for p in problems] == [
        ("handle_escalation", "the path stops here: add an outgoing flow or an end event"),
        ("escalation_closed", "this element cannot be reached from a start event"),
    ]


def test_every_path_ends_a_loop_without_way_out_is_named(specs):
    # the inspection can only repeat: 'done' leads back to the inspection too
    files = _with(
        'sourceRef="inspection_outcome" targetRef="post_reading"',
        'sourceRef="inspection_outcome" targetRef="field_inspection"',
    )
    problems = [(p.element_id, p.message) for p in check_structure(files)]
    assert ("field_inspection", "no path from this element reaches an end event") in problems
    assert ("inspection_outcome", "no path from this element reaches an end event") in problems


def _calling(process_id: str, activity_id: str, called: str) -> str:
    """A small process: start, one call activity calling ``called``, end."""
    return f'''<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="{process_id}_definitions"
                  targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="{process_id}" isExecutable="true">
    <bpmn:startEvent id="{process_id}_start"><bpmn:outgoing>{process_id}_f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="{process_id}_f1" sourceRef="{process_id}_start" targetRef="{activity_id}" />
    <bpmn:callActivity id="{activity_id}" calledElement="{called}">
      <bpmn:incoming>{process_id}_f1</bpmn:incoming><bpmn:outgoing>{process_id}_f2</bpmn:outgoing>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="{process_id}_f2" sourceRef="{activity_id}" targetRef="{process_id}_end" />
    <bpmn:endEvent id="{process_id}_end"><bpmn:incoming>{process_id}_f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>'''


def _recursion(chain: str) -> str:
    return f"this call activity calls its own process again ({chain}): the calls would never end"


def test_a_call_activity_calling_its_own_process_is_refused(specs):
    files = {BPMN: _calling(PROCESS_ID, "call_again", PROCESS_ID)}
    assert _problems(specs, files) == [("call_again", _recursion("meter_reading → meter_reading"))]


def test_a_call_activity_calling_back_through_another_process_is_refused(specs):
    files = {
        BPMN: _calling(PROCESS_ID, "call_helper", "helper"),
        "helper.bpmn": _calling("helper", "call_back", PROCESS_ID),
    }
    assert _problems(specs, files) == [
        ("call_back", _recursion("helper → meter_reading → helper")),
        ("call_helper", _recursion("meter_reading → helper → meter_reading")),
    ]


def test_a_call_activity_calling_another_process_is_accepted(specs):
    files = {
        BPMN: _calling(PROCESS_ID, "call_helper", "helper"),
        "helper.bpmn": _calling("helper", "call_other", "other"),
        "other.bpmn": _calling("other", "call_nothing", "nowhere_process")
        .replace(
            '<bpmn:callActivity id="call_nothing" calledElement="nowhere_process">',
            '<bpmn:task id="call_nothing">',
        )
        .replace("</bpmn:callActivity>", "</bpmn:task>"),
    }
    assert _problems(specs, files) == []
