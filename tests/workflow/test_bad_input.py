"""Bad input gets a clear message naming the field, and nothing is half-stored."""

from __future__ import annotations

from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from engine.errors import OperationFailed
from forms import FORMS, FormContext
from worker.lifecycle import Lifecycle, make_people, new_subscriber


@pytest.fixture
def people(system):
    return make_people(system)


def _form(system, key, data, instance_id=0):
    with system.sessions() as s:
        form = FORMS[key](
            MultiDict(data),
            context=FormContext(
                session=s,
                today=system.services.today(),
                instance_id=instance_id,
                services=system.services,
            ),
        )
        ok = form.validate()
        return ok, form.errors, form


@pytest.mark.parametrize(
    "code, message",
    [
        ("", "Enter"),
        ("12345", "10 digits"),
        ("12345abcde", "digits"),
    ],
)
def test_subscriber_code_errors_name_what_to_do(system, people, code, message):
    ok, errors, _ = _form(system, "identify_subscriber", {"subscriber_code": code})
    assert not ok and message in errors["subscriber_code"][0]


def test_unknown_and_mistyped_subscriber_codes(system, people):
    code, _serials, _seals = new_subscriber(system)
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)
    ok, errors, _ = _form(system, "identify_subscriber", {"subscriber_code": typo})
    assert not ok and "check" in errors["subscriber_code"][0].lower()
    from workflow.identifiers import make_subscriber_code

    unknown = make_subscriber_code(987654)
    ok, errors, _ = _form(system, "identify_subscriber", {"subscriber_code": unknown})
    assert not ok and errors["subscriber_code"] == [
        "No subscriber has this code. Check the code on your bill."
    ]
    ok, _errors, form = _form(
        system, "identify_subscriber", {"subscriber_code": f" {code[:4]}-{code[4:]} "}
    )
    assert ok and form.subscriber_code.data == code


def test_reading_errors_are_given_per_meter_field(system, people):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system, meters=2)
    iid = life.start(people["citizen"])
    life.complete(iid, "identify_subscriber", people["citizen"], {"subscriber_code": code})
    future = (system.services.today() + timedelta(days=3)).isoformat()
    ok, errors, form = _form(
        system,
        "enter_readings",
        {
            "meters-0-serial": "SN-NOT-OURS",
            "meters-0-seal": seals[0],
            "meters-0-value": "12a4",
            "meters-0-read_on": future,
            "meters-1-serial": serials[1],
            "meters-1-seal": seals[1],
            "meters-1-value": "1234567",
            "meters-1-read_on": "31.02.2026",
            "phone": "12345",
            "email": "not-an-email",
        },
        instance_id=iid,
    )
    assert not ok
    first, second = errors["meters"][0], errors["meters"][1]
    assert "not on record" in first["serial"][0]
    assert "digits only" in first["value"][0]
    assert "future" in first["read_on"][0]
    assert "more digits than the meter" in second["value"][0]
    assert "YYYY-MM-DD" in second["read_on"][0]
    assert errors["phone"] and errors["email"]
    assert form.meters.entries[0].form.value.data == "12a4"  # what was typed is kept


def test_a_failing_step_leaves_nothing_half_stored(system, people):
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system, district="ganja")  # no unit U-GNC exists here
    iid = life.start(people["citizen"])
    life.complete(iid, "identify_subscriber", people["citizen"], {"subscriber_code": code})
    item = life.item(iid, "enter_readings")
    data = {
        "meters": [
            {
                "serial": serials[0],
                "seal": seals[0],
                "value": 1206,
                "read_on": system.services.today().isoformat(),
            }
        ],
        "phone": "+994501234567",
    }
    with system.sessions() as s:
        with pytest.raises(OperationFailed, match="U-GNC"):
            system.complete_task(s, item.id, people["citizen"], data)
        s.rollback()
    assert life.open_tasks(iid) == ["enter_readings"]
    app = life.application(iid)
    assert app.status == "draft" and app.number is None and app.lines == []
