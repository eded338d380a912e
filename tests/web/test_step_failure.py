"""A step that raises while an operator completes it: the operator is told what failed and the
incident's number, nothing is saved, the task stays open, and the incident is on the
administrators' page. (The failure is injected into the review step's handler.)"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import OperationFailed
from engine.models import Incident, WorkItem
from tests import factories as f
from tests.web.staffing import submit_via_engine
from workflow.models import Application
from workflow.tasks import HANDLERS


def _raises(err: Exception):
    def handler(ctx, data):
        raise err

    return handler


def _reject(operator, item_id: int, reason: str):
    operator.get(f"/tasks/{item_id}")
    operator.submit(action=f"/tasks/{item_id}/claim", follow=True)
    return operator.submit(
        {"decision": "reject", "reject_key": reason, "reject_reason": "Şəkil bulanıqdır"},
        action=f"/tasks/{item_id}",
        follow=True,
    )


@pytest.mark.parametrize(
    ("err", "told"),
    [
        (
            OperationFailed("a billing period must end after it starts"),
            "a billing period must end after it starts",
        ),
        (ZeroDivisionError("division by zero"), "ZeroDivisionError"),
    ],
)
def test_a_failing_step_tells_the_operator_and_records_an_incident(
    system, people, subscriber, auth, monkeypatch, err, told
):
    sub = submit_via_engine(system, people, subscriber)
    monkeypatch.setitem(HANDLERS, "review_application", _raises(err))
    operator = auth.login(people["operator"])
    response = _reject(operator, sub.review_id, system.services.review.reject_reasons[0])

    assert response.status_code == 200
    with system.sessions() as s:
        incident = s.scalar(select(Incident).where(Incident.kind == "step_failed"))
        assert incident.instance_id == sub.instance_id and type(err).__name__ in incident.error
        assert s.get(WorkItem, sub.review_id).state == "open"  # nothing was saved
        assert s.scalar(select(Application)).status != "rejected"
    (notice,) = operator.doc.xpath("//div[contains(@class,'notice--error')]")
    assert told in notice.text_content() and str(incident.id) in notice.text_content()
    assert "The form could not be saved" not in operator.html

    with system.sessions() as s:
        f.account(s, "admin", username="admin")
        s.commit()
    admin = auth.login("admin")
    admin.get("/admin/incidents")
    assert [
        int(r.get("data-incident")) for r in admin.doc.xpath("//tr[@data-kind='step_failed']")
    ] == [incident.id]
    admin.get(f"/staff/instances/{sub.instance_id}")  # and on the application's history
    assert [
        int(li.get("data-incident")) for li in admin.doc.xpath("//li[@data-kind='step_failed']")
    ] == [incident.id]
