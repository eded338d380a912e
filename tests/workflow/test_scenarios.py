"""Scenario tests run against a diagram in memory, with canned results for the service operations."""

from __future__ import annotations

import copy
import json

import pytest

from engine import scenarios
from engine.diagrams import parse_process
from engine.specs import read_directory
from workflow.operations import OPERATIONS
from workflow.process import DIAGRAM_DIR, PROCESS_ID
from workflow.system import shipped_scenarios

SHIPPED = read_directory(DIAGRAM_DIR)
PARSED = parse_process(SHIPPED, PROCESS_ID)
SCENARIOS = shipped_scenarios()


def _by_name(name: str) -> dict:
    return copy.deepcopy(next(sc for sc in SCENARIOS if sc["name"] == name))


def test_the_shipped_scenarios_pass_and_cover_every_end_and_branch():
    results = scenarios.run_all(PARSED, OPERATIONS, SCENARIOS)
    assert [(r.name, r.passed, r.message) for r in results] == [
        (sc["name"], True, "") for sc in SCENARIOS
    ]
    assert {r.end for r in results} == {"executed", "rejected", "abandoned"}
    visited = {name for r in results for name in r.visited}
    flows = {
        "field_inspection",
        "notify_rejection",
        "post_reading",
        "discard_draft",
        "handle_escalation",
    }
    assert flows <= visited
    # the inspector's "no access" loop runs twice in one scenario
    loop = next(r for r in results if r.name == "no access, then inspected")
    assert loop.visited.count("field_inspection") == 2


def test_a_wrong_expected_end_fails_with_what_happened():
    sc = _by_name("rejected")
    sc["expect"]["end"] = "executed"
    result = scenarios.run_scenario(PARSED, OPERATIONS, sc)
    assert (
        not result.passed
        and result.message == "expected to end at 'executed', but it ended at 'rejected'"
    )


def test_a_branch_the_diagram_no_longer_takes_fails():
    files = {
        **SHIPPED,
        "meter_reading.bpmn": SHIPPED["meter_reading.bpmn"].replace(
            'decision == "reject"', 'decision == "refuse"'
        ),
    }
    parsed = parse_process(files, PROCESS_ID)
    result = scenarios.run_scenario(parsed, OPERATIONS, _by_name("rejected"))
    assert not result.passed and result.message.startswith("the diagram failed")


def test_a_step_at_a_task_that_is_not_waiting_names_what_waits():
    sc = _by_name("accepted")
    sc["steps"].insert(2, {"task": "field_inspection", "data": {"outcome": "done"}})
    result = scenarios.run_scenario(PARSED, OPERATIONS, sc)
    assert (
        result.message
        == "step 3: the task 'field_inspection' is not waiting; waiting: review_application, review_sla"
    )


def test_a_missing_service_result_fails_by_operation_name():
    sc = _by_name("accepted")
    del sc["services"]["compute_invoice"]
    result = scenarios.run_scenario(PARSED, OPERATIONS, sc)
    assert (
        not result.passed and "no result for service operation 'compute_invoice'" in result.message
    )


def test_the_stand_in_operations_have_the_real_signatures():
    stand_in = scenarios.stand_in_registry(OPERATIONS, {})
    assert stand_in.names() == OPERATIONS.names()
    for name in OPERATIONS.names():
        assert stand_in.get(name).params == OPERATIONS.get(name).params


def test_a_diagram_passing_a_parameter_the_operation_lacks_fails_its_scenarios():
    files = {
        **SHIPPED,
        "meter_reading.bpmn": SHIPPED["meter_reading.bpmn"].replace(
            '<spiffworkflow:parameter id="invoice_id" type="int"',
            '<spiffworkflow:parameter id="invoice_no" type="int"',
            1,
        ),
    }
    parsed = parse_process(files, PROCESS_ID)
    result = scenarios.run_scenario(parsed, OPERATIONS, _by_name("accepted"))
    assert not result.passed and "takes parameters ['invoice_id']" in result.message


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON"),
        (json.dumps([{"steps": []}]), "scenario 1 needs a name"),
        (json.dumps([{"name": "a"}, {"name": "a"}]), "two scenarios are called 'a'"),
        (json.dumps([{"name": "a", "steps": [{"wait": 1}]}]), "each step names a task or a timer"),
        (
            json.dumps([{"name": "a", "expect": {"ends": "executed"}}]),
            "'ends' is not an expectation",
        ),
        (
            json.dumps([{"name": "a", "expect": {"visited": 3}}]),
            "expect 'visited' must be a list of element ids",
        ),
        (
            json.dumps([{"name": "a", "expect": {"end": ["executed"]}}]),
            "expect 'end' must be an element id",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (
            json.dumps(
                [
                    {
                        "name": "a",
                        "steps": [
                            {
                                "task": "t",
                                "data": {
                                    "x": [
                                        [
                                            [
                                                [
                                                    [
                                                        [
                                                            [
                                                                [
                                                                    [
                                                                        [
                                                                            [
                                                                                [
                                                                                    [
                                                                                        [
                                                                                            [
                                                                                                [
                                                                                                    [
                                                                                                        [
                                                                                                            [
                                                                                                                [
                                                                                                                    [
                                                                                                                        [
                                                                                                                            [
                                                                                                                                [
                                                                                                                                    [
                                                                                                                                        [
                                                                                                                                            [
                                                                                                                                                [
                                                                                                                                                    [
                                                                                                                                                        [
                                                                                                                                                            [
                                                                                                                                                                [
                                                                                                                                                                    [
                                                                                                                                                                        1
                                                                                                                                                                    ]
                                                                                                                                                                ]
                                                                                                                                                            ]
                                                                                                                                                        ]
                                                                                                                                                    ]
                                                                                                                                                ]
                                                                                                                                            ]
                                                                                                                                        ]
                                                                                                                                    ]
                                                                                                                                ]
                                                                                                                            ]
                                                                                                                        ]
                                                                                                                    ]
                                                                                                                ]
                                                                                                            ]
                                                                                                        ]
                                                                                                    ]
                                                                                                ]
                                                                                            ]
                                                                                        ]
                                                                                    ]
                                                                                ]
                                                                            ]
                                                                        ]
                                                                    ]
                                                                ]
                                                            ]
                                                        ]
                                                    ]
                                                ]
                                            ]
                                        ]
                                    ]
                                },
                            }
                        ],
                    }
                ]
            ),
            "nest lists and objects more than 32 levels deep",
        ),
    ],
)
def test_badly_shaped_scenario_files_are_refused(text, message):
    with pytest.raises(scenarios.ScenarioError, match=message):
        scenarios.load(text)


def test_the_scenarios_file_sits_beside_the_diagram():
    path = DIAGRAM_DIR / f"{PROCESS_ID}.scenarios.json"
    assert scenarios.load(path.read_text(encoding="utf-8")) == SCENARIOS and len(SCENARIOS) == 8


@pytest.mark.parametrize(
    "scenario",
    [
        {"name": "nothing at all"},
        {
            "name": "steps but no expectation",
            "steps": [{"task": "identify_subscriber", "data": {}}],
            "services": {
                "register_application": {
                    "application_id": 1,
                    "number": "2026-000001",
                    "district": "yasamal",
                }
            },
        },
        {"name": "empty expectations", "expect": {"visited": [], "not_visited": []}},
    ],
)
def test_a_scenario_that_neither_ends_nor_expects_anything_fails(scenario):
    result = scenarios.run_scenario(PARSED, OPERATIONS, scenario)
    assert not result.passed
    assert (
        result.message
        == "the scenario neither reaches an end event nor expects anything: add steps or an expectation"
    )


def test_a_scenario_that_only_expects_where_it_waits_passes():
    result = scenarios.run_scenario(
        PARSED,
        OPERATIONS,
        {"name": "first step", "expect": {"waiting": ["draft_expired", "identify_subscriber"]}},
    )
    assert result.passed, result.message


SELF_CALLING = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="meter_reading" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again" />
    <bpmn:callActivity id="again" calledElement="meter_reading">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>
    <bpmn:sequenceFlow id="f2" sourceRef="again" targetRef="done" />
    <bpmn:endEvent id="done"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>"""


def test_a_runaway_diagram_fails_its_scenario_instead_of_running_forever():
    # the deploy checks refuse this diagram before any scenario runs; the budget is the second wall
    parsed = parse_process({"meter_reading.bpmn": SELF_CALLING}, PROCESS_ID)
    [result] = scenarios.run_all(
        parsed, OPERATIONS, [{"name": "runs away", "expect": {"end": "done"}}]
    )
    assert not result.passed and result.message.endswith("does the diagram loop without a way out?")


def test_scenarios_left_when_the_time_is_spent_fail_unrun(monkeypatch):
    monkeypatch.setattr(scenarios, "TOTAL_SECONDS", 0.0)
    [result] = scenarios.run_all(PARSED, OPERATIONS, [_by_name("accepted")])
    assert (
        not result.passed and result.message == "not run: the scenarios before it used all the time"
    )


def test_a_flagged_application_reaches_post_reading_from_the_review_only_with_an_override():
    results = {r.name: r for r in scenarios.run_all(PARSED, OPERATIONS, SCENARIOS)}
    overridden = results["conflict overridden"]
    assert overridden.passed and "field_inspection" not in overridden.visited
    unresolved = results["conflict accepted without a reason goes on site"]
    assert unresolved.passed
    assert unresolved.visited.index("field_inspection") < unresolved.visited.index("post_reading")
