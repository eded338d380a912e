"""The analyst studio over HTTP: who sees it, the version list, draft, checks, deploy, diff, files."""

from __future__ import annotations

import io
import json

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from engine.models import AuditEvent, ProcessVersion
from engine.specs import read_directory
from workflow import factories as f
from workflow.process import DIAGRAM_DIR

SHIPPED = read_directory(DIAGRAM_DIR)
BPMN = "meter_reading.bpmn"


class Studio:
    """An analyst's browser plus the CSRF header the modeler sends with JSON calls."""

    def __init__(self, browser):
        self.browser = browser
        browser.get("/studio/draft?lang=en")  # messages asserted in English below
        assert browser.response.status_code == 200
        self.csrf = browser.doc.xpath("//*[@data-studio]/@data-csrf")[0]

    def call(self, method: str, url: str, body=None):
        response = self.browser.client.open(
            url, method=method, json=body, headers={"X-CSRFToken": self.csrf}
        )
        return response.status_code, response.get_json()

    def draft(self) -> dict:
        return self.call("GET", "/studio/api/draft")[1]

    def save(self, files: dict, scenarios=None):
        draft = self.draft()
        return self.call(
            "PUT",
            "/studio/api/draft",
            {"files": files, "scenarios": draft["scenarios"] if scenarios is None else scenarios},
        )

    def check(self) -> dict:
        return self.call("POST", "/studio/api/check", {})[1]

    def deploy(self, reason: str):
        return self.call("POST", "/studio/api/deploy", {"reason": reason})


@pytest.fixture
def analyst(system):
    with system.sessions() as s:
        f.account(s, "analyst", username="analitik", name="Nərmin Cəfərova")
        s.commit()
    return "analitik"


@pytest.fixture
def studio(auth, analyst):
    return Studio(auth.login(analyst))


REVIEW_DUE = (
    '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">assignment["review_due"]</bpmn:timeDate>'
)


def with_sla(duration: str) -> dict:
    """The shipped diagram with the review SLA (two working days) replaced by a plain duration."""
    assert REVIEW_DUE in SHIPPED[BPMN]
    plain = f'<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"{duration}"</bpmn:timeDuration>'
    return {**SHIPPED, BPMN: SHIPPED[BPMN].replace(REVIEW_DUE, plain)}


@pytest.mark.parametrize("role", ["citizen", "operator", "inspector", "unit_head"])
def test_the_studio_does_not_exist_for_other_roles(auth, system, role):
    with system.sessions() as s:
        f.account(s, role, f.unit(s), username=f"x-{role}")
        s.commit()
    browser = auth.login(f"x-{role}")
    for url in (
        "/studio",
        "/studio/draft",
        "/studio/api/draft",
        "/studio/versions/1",
        "/studio/migrate",
    ):
        assert browser.get(url).status_code == 404, url
    assert browser.client.post("/studio/api/deploy", json={"reason": "x"}).status_code in (400, 404)
    assert "Process studio" not in browser.get("/tasks?lang=en").get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/studio")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_version_list_shows_who_deployed_when_and_why(auth, analyst, system):
    browser = auth.login(analyst)
    browser.get("/studio?lang=en")
    row = browser.doc.xpath("//tr[@data-version='1']")[0]
    assert row.xpath("string(.//td[@data-reason])") == "shipped diagrams"
    assert "Process studio" in browser.html
    assert "style-src 'self' 'unsafe-inline'" in browser.response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in browser.response.headers["Content-Security-Policy"]


def test_validation_names_the_element_on_the_draft(studio):
    broken = {
        **SHIPPED,
        BPMN: SHIPPED[BPMN].replace('value="review_application"', 'value="no_such_form"'),
    }
    assert studio.save(broken)[0] == 200
    result = studio.check()
    assert result["ok"] is False and result["results"] == []
    assert [(p["element_id"], p["message"]) for p in result["problems"]] == [
        ("review_application", "the form 'no_such_form' does not exist")
    ]


def test_deploy_needs_a_reason_and_passing_scenarios(studio, system):
    assert studio.save(with_sla("P5D"))[0] == 200
    status, body = studio.deploy("   ")
    assert status == 400 and body["error"] == "give the reason for this version"
    failing = json.loads(json.dumps(studio.draft()["scenarios"]))
    failing[0]["expect"]["end"] = "rejected"
    assert studio.save(with_sla("P5D"), failing)[0] == 200
    status, body = studio.deploy("longer review")
    assert status == 400 and body["error"] == "these scenarios fail: accepted"
    with system.sessions() as s:
        assert s.scalar(select(ProcessVersion.version).order_by(ProcessVersion.version.desc())) == 1


def test_deploy_makes_a_new_version_with_its_scenarios_and_an_audit_event(studio, system):
    studio.save(with_sla("P5D"))
    assert all(r["passed"] for r in studio.check()["results"])
    status, body = studio.deploy("longer review")
    assert status == 200 and body["version"] == 2
    studio.browser.get(body["redirect"])
    assert "Version 2 is deployed" in studio.browser.html
    assert (
        studio.browser.doc.xpath("string(//tr[@data-version='2']//td[@data-reason])")
        == "longer review"
    )
    with system.sessions() as s:
        v2 = s.scalar(select(ProcessVersion).where(ProcessVersion.version == 2))
        assert '"P5D"' in v2.files[BPMN] and len(v2.scenarios) == 8
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "process_deployed"))
        assert event.detail["version"] == 2 and event.detail["reason"] == "longer review"
        assert event.actor_label == "Nərmin Cəfərova"
    status, body = studio.deploy("again")
    assert status == 400 and body["error"] == "these files are already version 2"


def test_the_diff_lists_and_marks_changed_elements(studio):
    files = with_sla("P5D")
    files[BPMN] = files[BPMN].replace('value="handle_escalation"', 'value="review_application"')
    studio.save(files)
    assert studio.deploy("SLA and form")[0] == 200
    page = studio.browser.get("/studio/diff?from=1&to=2")
    assert page.status_code == 200
    doc = studio.browser.doc
    rows = {
        (
            r.get("data-changed"),
            r.xpath("string(td[3])"),
            r.xpath("string(td[4])"),
            r.xpath("string(td[5])"),
        )
        for r in doc.xpath("//tr[@data-changed]")
    }
    # the review SLA: two working days (a date the routing computed) became a plain five days
    assert rows == {
        (
            "review_sla",
            "timerEventDefinition[review_sla_timer]/timeDate",
            'assignment["review_due"]',
            "–",
        ),
        (
            "review_sla",
            "timerEventDefinition[review_sla_timer]/timeDate@type",
            "bpmn:tFormalExpression",
            "–",
        ),
        ("review_sla", "timerEventDefinition[review_sla_timer]/timeDuration", "–", '"P5D"'),
        (
            "review_sla",
            "timerEventDefinition[review_sla_timer]/timeDuration@type",
            "–",
            "bpmn:tFormalExpression",
        ),
        (
            "handle_escalation",
            "properties/property[formKey]@value",
            "handle_escalation",
            "review_application",
        ),
    }
    assert doc.xpath("//*[@data-studio='diff']/@data-changed")[0].split() == [
        "handle_escalation",
        "review_sla",
    ]


def test_the_diff_lists_added_and_removed_elements(system):
    from engine.versions import diff

    files = dict(SHIPPED)
    files[BPMN] = files[BPMN].replace(
        '<bpmn:endEvent id="escalation_closed" name="Escalation closed">',
        '<bpmn:endEvent id="escalation_done" name="Escalation closed">',
    )
    result = diff(SHIPPED, files)
    assert list(result.added) == ["escalation_done"] and list(result.removed) == [
        "escalation_closed"
    ]
    assert result.added["escalation_done"]["type"] == "endEvent"


def test_files_download_and_upload_into_the_draft(studio):
    browser = studio.browser
    response = browser.get(f"/studio/versions/1/files/{BPMN}")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == SHIPPED[BPMN]
    scen = browser.get("/studio/draft/files/meter_reading.scenarios.json")
    assert len(json.loads(scen.get_data(as_text=True))["scenarios"]) == 8
    browser.get("/studio/draft")
    changed = with_sla("P4D")[BPMN].encode()
    browser.submit(action="/studio/draft/upload", files={"file": (changed, BPMN)}, follow=True)
    assert "The file meter_reading.bpmn is in the draft" in browser.html
    assert '"P4D"' in studio.draft()["files"][BPMN]


def test_an_upload_that_is_not_a_diagram_is_not_kept(studio):
    browser = studio.browser
    browser.get("/studio/draft")
    browser.submit(
        action="/studio/draft/upload", files={"file": (b"MZ\x90\x00", "tool.exe")}, follow=True
    )
    assert "Only .bpmn, .dmn and .scenarios.json files can be uploaded." in browser.html
    browser.submit(
        action="/studio/draft/upload", files={"file": (b"<definitions>", BPMN)}, follow=True
    )
    assert (
        "The file meter_reading.bpmn was not kept: the file is not well-formed XML" in browser.html
    )
    assert studio.draft()["files"][BPMN] == SHIPPED[BPMN]


def test_an_upload_over_the_size_limit_is_refused(studio):
    from engine.diagrams import MAX_DIAGRAM_BYTES

    browser = studio.browser
    browser.get("/studio/draft")
    big = SHIPPED[BPMN].replace(
        "<bpmn:process ", "<!--" + "x" * MAX_DIAGRAM_BYTES + "-->\n<bpmn:process ", 1
    )
    # encoded in memory: the test client would spool a body this large to a file it never closes
    _url, values = browser.form("/studio/draft/upload")
    boundary, body = encode_multipart(
        {**values, "file": FileStorage(io.BytesIO(big.encode()), BPMN)}
    )
    browser.client.post(
        "/studio/draft/upload", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    ).close()
    browser.get("/studio/draft")
    assert "was not kept: The file is larger than 2 MB." in browser.html
    status, body = studio.save({**SHIPPED, BPMN: big})
    assert status == 400 and "larger than 2 MB" in body["error"]


def test_a_version_opens_read_only_and_can_seed_the_draft(studio):
    browser = studio.browser
    browser.get("/studio/versions/1")
    assert browser.doc.xpath("//*[@data-studio]/@data-readonly") == ["true"]
    assert browser.doc.xpath("//button[@data-action='deploy']") == []
    studio.save(with_sla("P9D"))
    browser.submit(action="/studio/versions/1/edit", follow=True)
    assert studio.draft()["files"][BPMN] == SHIPPED[BPMN]
