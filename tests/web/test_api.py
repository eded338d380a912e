"""The JSON API as a machine client sees it: tokens and scopes, problem documents, the holder's
privacy, idempotent creation, the billing feed's cursor, claiming, and the OpenAPI document."""

from __future__ import annotations

from datetime import timedelta

import pytest
from openapi_spec_validator import validate
from sqlalchemy import func, select

from engine import api_access
from engine.models import Account, ProcessInstance, WorkItem
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow import factories as f

PROBLEM = "application/problem+json"


@pytest.fixture
def people(system):
    people = make_people(system)
    with system.sessions() as s:
        people["other_citizen"] = f.actor(f.account(s, "citizen", fin="7XYZ987"))
        people["other_operator"] = f.actor(
            f.account(s, "operator", f.unit(s, code="U-NSM", name="Nəsimi"))
        )
        people["admin"] = f.actor(f.account(s, "admin"))
        people["analyst"] = f.actor(f.account(s, "analyst"))
        s.commit()
    return people


def token(system, actor, *scopes: str, days: int = 1) -> dict:
    """Authorization headers for a new token of ``actor``'s account with ``scopes``."""
    now = system.services.now()
    with system.sessions() as s:
        text, _row = api_access.issue_token(
            s,
            s.get(Account, actor.id),
            name="test",
            scopes=list(scopes),
            expires_at=now + timedelta(days=days),
            now=now,
        )
        s.commit()
    return {"Authorization": f"Bearer {text}"}


def executed_application(system, people, life=None) -> tuple[str, int]:
    """A submitted, accepted and invoiced application of ``people["citizen"]``: (number, instance id)."""
    life = life or Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, people, code, serials, seals, [1206])
    life.complete(iid, "review_application", people["operator"], {"decision": "accept"}, claim=True)
    life.run_jobs()
    return life.application(iid).number, iid


def test_the_openapi_document_is_valid_and_lists_every_resource_group(client):
    document = client.get("/api/v1/openapi.json").get_json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    paths = set(document["paths"])
    assert {
        "/api/v1/applications/{number}",
        "/api/v1/feed/readings",
        "/api/v1/queue",
        "/api/v1/diagrams/validate",
    } <= paths
    assert client.get("/api/v1/docs").status_code == 200


def test_no_token_is_401_and_a_token_without_the_scope_is_403_as_problem_documents(
    system, client, people
):
    anonymous = client.get("/api/v1/start")
    assert anonymous.status_code == 401 and anonymous.content_type == PROBLEM
    assert anonymous.headers["WWW-Authenticate"] == "Bearer"
    wrong_scope = client.get("/api/v1/start", headers=token(system, people["citizen"], "billing"))
    assert wrong_scope.status_code == 403 and wrong_scope.content_type == PROBLEM
    assert "portal" in wrong_scope.get_json()["detail"]
    assert (
        client.get("/api/v1/start", headers=token(system, people["citizen"], "portal")).status_code
        == 200
    )


def test_expired_revoked_and_forged_tokens_authenticate_nobody(system, client, people):
    expired = token(system, people["operator"], "staff", days=-1)
    assert client.get("/api/v1/queue", headers=expired).status_code == 401
    good = token(system, people["operator"], "staff")
    forged = {"Authorization": good["Authorization"][:-4] + "AAAA"}
    assert client.get("/api/v1/queue", headers=forged).status_code == 401
    token_id = int(good["Authorization"].split("_")[1])
    with system.sessions() as s:
        assert api_access.revoke(s, token_id, system.services.now())
        s.commit()
    assert client.get("/api/v1/queue", headers=good).status_code == 401


def test_the_applicant_reads_their_application_and_another_citizen_cannot(system, client, people):
    number, _iid = executed_application(system, people)
    mine = client.get(
        f"/api/v1/applications/{number}", headers=token(system, people["citizen"], "portal")
    )
    assert mine.status_code == 200
    body = mine.get_json()
    assert body["status"] == "executed" and [s["code"] for s in body["timeline"]][0] == "registered"
    pdf = client.get(body["invoice_url"], headers=token(system, people["citizen"], "portal"))
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    pdf.close()
    theirs = token(system, people["other_citizen"], "portal")
    other = client.get(f"/api/v1/applications/{number}", headers=theirs)
    assert other.status_code == 404 and other.content_type == PROBLEM
    assert client.get(body["invoice_url"], headers=theirs).status_code == 404


def test_a_retried_post_with_one_idempotency_key_starts_one_application(system, client, people):
    headers = token(system, people["citizen"], "portal")

    def instances() -> int:
        with system.sessions() as s:
            return s.scalar(select(func.count(ProcessInstance.id)))

    before = instances()
    first = client.post(
        "/api/v1/applications", json={}, headers={**headers, "Idempotency-Key": "k-1"}
    )
    again = client.post(
        "/api/v1/applications", json={}, headers={**headers, "Idempotency-Key": "k-1"}
    )
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert instances() == before + 1
    other_key = client.post(
        "/api/v1/applications", json={}, headers={**headers, "Idempotency-Key": "k-2"}
    )
    assert other_key.status_code == 201 and other_key.get_json() != first.get_json()
    assert instances() == before + 2
    changed = client.post(
        "/api/v1/applications", json={"other": 1}, headers={**headers, "Idempotency-Key": "k-1"}
    )
    assert (
        changed.status_code == 422 and changed.get_json()["errors"][0]["field"] == "Idempotency-Key"
    )
    assert instances() == before + 2


def test_the_billing_feed_pages_through_posted_readings_and_invoices_once_each(
    system, client, people
):
    life = Lifecycle(system)
    numbers = [executed_application(system, people, life)[0] for _ in range(3)]
    headers = token(system, people["admin"], "billing")
    seen, cursor = [], ""
    for _ in range(10):
        page = client.get(
            "/api/v1/feed/readings", query_string={"since": cursor, "limit": 2}, headers=headers
        )
        assert page.status_code == 200
        body = page.get_json()
        seen += [item["application_number"] for item in body["items"]]
        cursor = body["next"]
        if not body["items"]:
            break
    assert sorted(seen) == sorted(numbers)
    invoices = client.get("/api/v1/feed/invoices", headers=headers).get_json()["items"]
    assert len(invoices) == 3 and [i["id"] for i in invoices] == sorted(i["id"] for i in invoices)
    bad = client.get(
        "/api/v1/feed/readings", query_string={"since": "i1"}, headers=headers
    )  # another feed's
    assert bad.status_code == 422 and [e["field"] for e in bad.get_json()["errors"]] == ["since"]
    operator = client.get(
        "/api/v1/feed/readings", headers=token(system, people["operator"], "billing")
    )
    assert operator.status_code == 403 and operator.content_type == PROBLEM


def test_staff_claim_through_the_api_and_a_second_claimant_is_refused(system, client, people):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, people, code, serials, seals, [1206])
    item_id = life.item(iid, "review_application").id
    operator = token(system, people["operator"], "staff")
    queue = client.get("/api/v1/queue", headers=operator).get_json()
    assert [i["id"] for i in queue["items"]] == [item_id]
    claimed = client.post(f"/api/v1/work-items/{item_id}/claim", headers=operator)
    assert (
        claimed.status_code == 200 and claimed.get_json()["claimed_by_id"] == people["operator"].id
    )
    head = token(system, people["unit_head"], "staff")
    assert (
        client.post(f"/api/v1/work-items/{item_id}/claim", headers=head).status_code == 404
    )  # not a head's lane
    other_unit = token(system, people["other_operator"], "staff")
    assert client.post(f"/api/v1/work-items/{item_id}/claim", headers=other_unit).status_code == 404
    released = client.post(f"/api/v1/work-items/{item_id}/release", headers=operator)
    assert released.status_code == 200
    with system.sessions() as s:
        assert s.get(WorkItem, item_id).claimed_by_id is None


def test_validation_errors_name_the_field(system, client, people):
    headers = token(system, people["analyst"], "studio")
    response = client.post(
        "/api/v1/diagrams/validate",
        json={"files": [{"name": "../evil.txt", "xml": "x"}]},
        headers=headers,
    )
    assert response.status_code == 422 and response.content_type == PROBLEM
    assert any(e["field"].startswith("files") for e in response.get_json()["errors"])
    versions = client.get("/api/v1/versions", headers=headers).get_json()
    assert versions[0]["version"] >= 1 and "meter_reading.bpmn" in versions[0]["files"]


def test_the_token_command_creates_a_working_token_and_revokes_it(
    system, client, people, capsys, monkeypatch
):
    from web import cli

    monkeypatch.setattr(cli, "_system", lambda settings: system)
    with system.sessions() as s:
        username = s.get(Account, people["admin"].id).username
    assert (
        cli.main(
            [
                "token",
                "create",
                "--user",
                username,
                "--scopes",
                "billing",
                "--name",
                "billing system",
            ]
        )
        == 0
    )
    text = capsys.readouterr().out.strip()
    headers = {"Authorization": f"Bearer {text}"}
    assert client.get("/api/v1/feed/invoices", headers=headers).status_code == 200
    assert cli.main(["token", "create", "--user", username, "--scopes", "everything"]) == 2
    token_id = text.split("_")[1]
    assert cli.main(["token", "revoke", token_id]) == 0
    assert client.get("/api/v1/feed/invoices", headers=headers).status_code == 401


def test_a_review_completed_through_the_api_is_validated_like_the_page(system, client, people):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    iid = submit(life, people, code, serials, seals, [1206])
    item_id = life.item(iid, "review_application").id
    operator = token(system, people["operator"], "staff")
    url = f"/api/v1/work-items/{item_id}/complete"
    unclaimed = client.post(url, json={"answers": {"decision": "accept"}}, headers=operator)
    assert unclaimed.status_code == 409 and unclaimed.content_type == PROBLEM
    assert client.post(f"/api/v1/work-items/{item_id}/claim", headers=operator).status_code == 200
    wrong = client.post(url, json={"answers": {"decision": "approve-everything"}}, headers=operator)
    assert wrong.status_code == 422 and [e["field"] for e in wrong.get_json()["errors"]] == [
        "decision"
    ]
    done = client.post(url, json={"answers": {"decision": "accept"}}, headers=operator)
    assert done.status_code == 200 and done.get_json()["completed"] is True
    life.run_jobs()
    assert life.instance(iid).end_event == "executed"
    again = client.post(url, json={"answers": {"decision": "accept"}}, headers=operator)
    assert again.status_code == 409 and "already been completed" in again.get_json()["detail"]


def test_deploying_through_the_api_needs_passing_scenarios_and_a_retry_deploys_once(
    system, client, people
):
    import json as jsonlib

    from engine.settings import PROJECT_ROOT

    folder = PROJECT_ROOT / "workflow" / "diagrams"
    files = [
        {"name": p.name, "xml": p.read_text()}
        for p in sorted(folder.glob("*.bpmn")) + sorted(folder.glob("*.dmn"))
    ]
    scenarios = jsonlib.loads((folder / "meter_reading.scenarios.json").read_text())["scenarios"]
    headers = token(system, people["analyst"], "studio")
    same = client.post(
        "/api/v1/versions",
        json={"files": files, "scenarios": scenarios, "reason": "again"},
        headers=headers,
    )
    assert same.status_code == 409 and "already version 1" in same.get_json()["detail"]
    changed = [
        {**f, "xml": f["xml"] + "\n<!-- reviewed -->\n"} if f["name"].endswith(".bpmn") else f
        for f in files
    ]
    body = {"files": changed, "scenarios": scenarios, "reason": "reviewed layout"}
    first = client.post(
        "/api/v1/versions", json=body, headers={**headers, "Idempotency-Key": "deploy-1"}
    )
    retry = client.post(
        "/api/v1/versions", json=body, headers={**headers, "Idempotency-Key": "deploy-1"}
    )
    assert first.status_code == retry.status_code == 201 and first.get_json() == retry.get_json()
    assert first.get_json()["version"] == 2
    assert [v["version"] for v in client.get("/api/v1/versions", headers=headers).get_json()] == [
        2,
        1,
    ]
    failing = client.post(
        "/api/v1/versions", json={**body, "scenarios": [], "reason": "no tests"}, headers=headers
    )
    assert failing.status_code == 422
