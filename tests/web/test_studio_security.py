"""Uploaded diagrams that try to break out: entities, entity expansion and expression escapes.

Every one is refused with a message that says what is not allowed, and the element to fix.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest

from engine.specs import read_directory
from tests.web.test_studio import BPMN, Studio, analyst, studio  # noqa: F401  (fixtures)
from workflow.process import DIAGRAM_DIR

SHIPPED = read_directory(DIAGRAM_DIR)
DMN = "route_to_unit.dmn"

XXE = (
    SHIPPED[BPMN]
    .replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        1,
    )
    .replace('decision == "accept"', "&x;", 1)
)
PARAMETER_ENTITY = (
    '<?xml version="1.0"?><!DOCTYPE d [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/x.dtd">'
    "%remote;]><definitions/>"
)
LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
    '<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL">&d;</definitions>'
)

PAYLOADS = [
    "__import__('os').system('id')",
    "().__class__.__base__.__subclasses__()",
    "''.__class__.__mro__[1].__subclasses__()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "(lambda: 1)()",
    "eval('1')",
    "exec('import os')",
    "open('/etc/passwd').read()",
    "globals()",
    "locals()['__builtins__']",
    "vars()",
    "getattr(decision, '__class__')",
    "decision.__class__",
    "__builtins__",
    "f'{decision.__class__}'",
    "decision.format('x')",
    "'a' * 10 ** 9",
    "9 ** 9 ** 9",
    "compile('1', 'x', 'eval')",
    "type(decision)",
    "[*range(10)]",
    "(lambda: __import__('os'))",
    "(x := 1)",
    "_ == 1",
    "breakpoint()",
    "setattr(application, 'x', 1)",
    "memoryview(b'x')",
    "[x for x in [1]]",
    "application['__class__'].mro()",
    "decision == 'accept' or __import__('subprocess')",
]


# where each payload goes, and the element the problem must name
PLACES = [
    ("gateway condition", BPMN, 'decision == "accept"', "review_decision"),
    ("timer expression", BPMN, 'assignment["review_due"]', "review_sla"),
    (
        "parameter",
        BPMN,
        (
            'value="application[&quot;application_id&quot;]" />\n          </spiffworkflow:parameters>\n'
            "        </spiffworkflow:serviceTaskOperator>\n      </bpmn:extensionElements>\n"
            "      <bpmn:incoming>flow_clear"
        ),
        "post_reading",
    ),
    ("prescript", BPMN, 'district = application["district"]', "route_to_unit"),
    ("decision rule", DMN, '<text>"U-BIN"</text>', "route_to_unit"),
]


def _place(payload: str, where: str, file: str, old: str) -> dict:
    assert old in SHIPPED[file], old
    if where == "parameter":
        new = old.replace(
            "application[&quot;application_id&quot;]", escape(payload, {'"': "&quot;"}), 1
        )
    elif where == "prescript":
        new = f"district = {escape(payload)}"
    elif where == "decision rule":
        new = f"<text>{escape(payload)}</text>"
    else:
        new = escape(payload)
    return {**SHIPPED, file: SHIPPED[file].replace(old, new, 1)}


@pytest.mark.parametrize(
    "payload, name", [(XXE, BPMN), (PARAMETER_ENTITY, BPMN), (LAUGHS, BPMN), (LAUGHS, DMN)]
)
def test_entities_and_dtds_in_an_upload_are_refused(studio, payload, name):  # noqa: F811
    browser = studio.browser
    browser.get("/studio/draft")
    browser.submit(
        action="/studio/draft/upload", files={"file": (payload.encode(), name)}, follow=True
    )
    notice = browser.doc.xpath("string(//div[contains(@class, 'notice--error')])").strip()
    assert notice == (
        f"The file {name} was not kept: document type declarations and entities are not allowed "
        f"in diagrams (file {name})"
    )
    assert studio.draft()["files"][name] == SHIPPED[name]
    status, body = studio.save({**SHIPPED, name: payload})
    assert (
        status == 400 and "document type declarations and entities are not allowed" in body["error"]
    )


def test_expression_escapes_in_uploaded_diagrams_are_refused(studio):  # noqa: F811
    assert len(PAYLOADS) >= 20
    browser = studio.browser
    outcomes = []
    for i, payload in enumerate(PAYLOADS):
        where, file, old, element = PLACES[i % len(PLACES)]
        files = _place(payload, where, file, old)
        browser.get("/studio/draft")
        browser.submit(action="/studio/draft/upload", files={"file": (files[file].encode(), file)})
        assert browser.response.status_code == 302
        result = studio.check()
        problems = [(p["element_id"], p["message"]) for p in result["problems"]]
        refused = any(
            e == element and (" is not allowed" in m or "is not a valid expression" in m)
            for e, m in problems
        )
        outcomes.append((payload, where, refused and not result["ok"]))
        studio.save(dict(SHIPPED))  # back to a clean draft for the next payload
    assert [o for o in outcomes if not o[2]] == []
    status, _body = studio.deploy("should never deploy")
    assert status == 400  # the clean draft equals version 1: nothing new was ever deployed
