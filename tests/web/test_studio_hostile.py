"""Diagrams and expressions that would hold a server thread: refused within two seconds.

The check runs in a thread of its own so a hang shows as a failed test instead of a stuck run;
the request after it proves the server answers again.
"""

from __future__ import annotations

import threading

from engine.specs import read_directory
from tests.web.test_studio import BPMN, Studio, analyst, studio  # noqa: F401  (fixtures)
from workflow.process import DIAGRAM_DIR
from workflow.system import shipped_scenarios

SHIPPED = read_directory(DIAGRAM_DIR)
LIMIT_SECONDS = 2.0

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


def _answer_within_limit(studio: Studio, method: str, url: str, body=None):  # noqa: F811
    answer: list = []
    worker = threading.Thread(
        target=lambda: answer.append(studio.call(method, url, body)), daemon=True
    )
    worker.start()
    worker.join(LIMIT_SECONDS)
    assert not worker.is_alive(), f"{method} {url} did not answer within {LIMIT_SECONDS} s"
    return answer[0]


def _server_answers_again(studio: Studio) -> None:  # noqa: F811
    status, body = studio.call("GET", "/studio/api/draft")
    assert status == 200 and body["readonly"] is False


def test_a_self_calling_diagram_is_refused_at_check_and_deploy(studio):  # noqa: F811
    status, _body = studio.save(
        {BPMN: SELF_CALLING}, scenarios=[{"name": "ends", "expect": {"end": "done"}}]
    )
    assert status == 200
    status, result = _answer_within_limit(studio, "POST", "/studio/api/check", {})
    assert status == 200 and result["ok"] is False and result["results"] == []
    recursion = "this call activity calls its own process again (meter_reading → meter_reading): the calls would never end"
    assert [(p["element_id"], p["message"]) for p in result["problems"]] == [("again", recursion)]
    status, body = _answer_within_limit(
        studio, "POST", "/studio/api/deploy", {"reason": "recursion"}
    )
    assert status == 400 and "calls its own process again" in body["error"]
    _server_answers_again(studio)


def test_an_expression_building_a_huge_list_fails_the_scenarios(studio):  # noqa: F811
    files = {
        **SHIPPED,
        BPMN: SHIPPED[BPMN].replace(
            'district = application["district"]', "district = str([[1] * 9999] * 9999)", 1
        ),
    }
    assert studio.save(files)[0] == 200
    status, result = _answer_within_limit(studio, "POST", "/studio/api/check", {})
    assert status == 200 and result["ok"] is False and result["problems"] == []
    # every scenario that reaches the routing fails there; only the abandoned draft never routes
    refused = "the diagram failed: EvaluationError:the expression does too much work. Error occurred in the Pre-Script"
    assert [(r["name"], r["passed"], r["message"]) for r in result["results"]] == [
        (sc["name"], True, "") if sc["name"] == "draft abandoned" else (sc["name"], False, refused)
        for sc in shipped_scenarios()
    ]
    status, body = _answer_within_limit(
        studio, "POST", "/studio/api/deploy", {"reason": "huge list"}
    )
    assert status == 400 and body["error"].startswith("these scenarios fail:")
    _server_answers_again(studio)


def test_a_deploy_reason_with_control_characters_is_refused(studio):  # noqa: F811
    for reason in ("why\x00not", "\u202ereversed", "bell\x07"):
        status, body = studio.deploy(reason)
        assert (status, body["error"]) == (
            400,
            "Remove the control or invisible formatting characters from this answer",
        )


def test_bodies_that_are_not_json_objects_are_refused_not_crashed_on(studio):  # noqa: F811
    for raw in ("[1, 2]", "[" * 50_000 + "]" * 50_000, '"text"', "not json"):
        response = studio.browser.client.post(
            "/studio/api/migrate",
            data=raw,
            content_type="application/json",
            headers={"X-CSRFToken": studio.csrf},
        )
        assert response.status_code == 400, raw[:20]
    status, body = studio.call(
        "POST", "/studio/api/migrate", {"source": "99999999999999999999", "target": 1, "ids": [1]}
    )
    assert (status, body["error"]) == (400, "Choose the versions and the instances to move.")
    status, body = studio.call(
        "POST", "/studio/api/migrate", {"source": 1, "target": 1, "ids": ["²"]}
    )
    assert (status, body["error"]) == (400, "Choose the versions and the instances to move.")
