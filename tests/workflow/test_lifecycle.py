"""The whole lifecycle through engine/, reloading the instance from the database between steps."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from email import message_from_bytes
from email.utils import parsedate_to_datetime

import pytest
from sqlalchemy import select

from engine.errors import NotFound
from engine.models import AuditEvent, Email, Timer, WorkItem
from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit
from workflow import factories as f
from workflow.models import Application, Invoice, Meter, Reading
from workflow.tasks import SubmissionRefused


@pytest.fixture
def world(system):
    return make_people(system)


_subscriber = new_subscriber
_submit = submit
# accepting a flagged application without a site visit: a configured reason and the operator's words
OVERRIDE = {
    "decision": "accept",
    "override_key": "The photo clearly shows the declared reading",
    "override_reason": "The photo shows the register clearly",
}


@pytest.mark.parametrize("meters", [1, 3])
def test_happy_path_posts_reading_and_mails_invoice(system, world, meters):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(
        system, meters=meters, fin="5ABC123"
    )  # the citizen's own meters
    iid = _submit(life, world, code, serials, seals, [1206] * meters)

    app = life.application(iid)
    assert app.status == "in_review" and app.number and not app.conflict
    review = life.item(iid, "review_application")
    assert review.role == "operator" and review.unit_id == world["operator"].unit_id
    assert (
        review.reference == app.number and review.item_count == meters and review.due_at is not None
    )

    life.complete(iid, "review_application", world["operator"], {"decision": "accept"}, claim=True)

    instance = life.instance(iid)
    assert (instance.status, instance.end_event) == ("completed", "executed")
    app = life.application(iid)
    assert app.status == "executed"
    with system.sessions() as s:
        posted = s.scalars(select(Reading).where(Reading.application_id == app.id)).all()
        assert sorted(r.value for r in posted) == [1206] * meters and {
            r.source for r in posted
        } == {"citizen"}
        invoice = s.scalar(select(Invoice).where(Invoice.application_id == app.id))
        # 6 m³ per meter at 0.70 + 0.30 AZN (VAT included) = 6.00 AZN per meter
        assert invoice.consumption_m3 == 6 * meters
        assert invoice.gross == Decimal("6.00") * meters
        assert invoice.vat == (invoice.gross * Decimal("0.18") / Decimal("1.18")).quantize(
            Decimal("0.01")
        )
        assert invoice.pdf_id is not None
        # the holder applied: the invoice goes to the address typed in the form and to the one on record
        emails = s.scalars(select(Email).order_by(Email.to_addr)).all()
        assert [(e.to_addr, e.status, e.attachments) for e in emails] == [
            ("abonent@example.az", "sent", [invoice.pdf_id]),
            ("citizen@example.az", "sent", [invoice.pdf_id]),
        ]
        assert not s.scalars(
            select(WorkItem).where(WorkItem.instance_id == iid, WorkItem.state == "open")
        ).all()
    mails = list((system.settings.path(system.settings.mail.outbox_dir)).glob("*.eml"))
    assert len(mails) == 2 and all("hesab-faktura" in m.read_text(errors="replace") for m in mails)
    for mail in mails:
        sent = message_from_bytes(mail.read_bytes())
        written = parsedate_to_datetime(sent["Date"])  # in Baku's time, when the letter was written
        assert written.utcoffset() == timedelta(hours=4) and written == system.services.now()
        assert sent["Message-ID"].startswith("<") and sent["Message-ID"].endswith(
            "@saygac.invalid>"
        )


def test_conflict_goes_to_inspection_and_the_inspectors_reading_is_posted(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(
        life, world, code, serials, seals, [1290]
    )  # 90 m³ in a month: far above the usual 6
    app = life.application(iid)
    assert app.conflict
    assert "above_expected" in {fl["code"] for fl in app.lines[0].flags}
    review = life.item(iid, "review_application")
    assert review.flagged

    life.complete(
        iid,
        "review_application",
        world["operator"],
        {"decision": "inspect", "inspection_instruction": "Check the register"},
        claim=True,
    )
    visit = life.item(iid, "field_inspection")
    assert visit.role == "inspector" and visit.unit_id == world["inspector"].unit_id
    life.complete(
        iid,
        "field_inspection",
        world["inspector"],
        {"outcome": "no_access", "note": "nobody home"},
        claim=True,
    )
    assert life.open_tasks(iid) == ["field_inspection"]  # a new visit
    line_id = life.application(iid).lines[0].id
    life.complete(
        iid,
        "field_inspection",
        world["inspector"],
        {
            "outcome": "done",
            "meters": [
                {"line_id": line_id, "value": 1207, "read_on": system.services.today().isoformat()}
            ],
        },
        claim=True,
    )

    assert life.instance(iid).end_event == "executed"
    with system.sessions() as s:
        posted = s.scalar(select(Reading).where(Reading.application_id == life.application(iid).id))
        assert (posted.value, posted.source) == (1207, "inspector")
        invoice = s.scalar(select(Invoice))
        assert invoice.consumption_m3 == 7 and invoice.gross == Decimal("7.00")


def _inspect(life, world, iid, entry: dict) -> None:
    life.complete(iid, "review_application", world["operator"], {"decision": "inspect"}, claim=True)
    line_id = life.application(iid).lines[0].id
    today = life.system.services.today().isoformat()
    life.complete(
        iid,
        "field_inspection",
        world["inspector"],
        {
            "outcome": "done",
            "meters": [{"line_id": line_id, "read_on": today, "visit_time": "11:20", **entry}],
        },
        claim=True,
    )


def test_conflict_inspection_posts_the_inspectors_reading_and_the_new_seal(system, world, clock):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1290])
    _inspect(life, world, iid, {"value": 1209, "seal_intact": False, "new_seal": "PL777001"})
    assert life.instance(iid).end_event == "executed"
    with system.sessions() as s:
        meter = s.scalar(select(Meter).where(Meter.serial == serials[0]))
        assert meter.seal == "PL777001"
        last = s.scalar(
            select(Reading)
            .where(Reading.meter_id == meter.id)
            .order_by(Reading.read_on.desc(), Reading.id.desc())
        )
        assert (last.value, last.source) == (1209, "inspector")
        changed = s.scalar(select(AuditEvent).where(AuditEvent.action == "meter_seal_changed"))
        assert changed.detail == {"serial": serials[0], "from": seals[0], "to": "PL777001"}
    # the next application is compared with the new seal and starts from the inspector's reading
    clock.advance(days=30)
    again = _submit(life, world, code, serials, ["PL777001"], [1215])
    app = life.application(again)
    assert not app.conflict and app.lines[0].flags == []


def test_a_meter_replaced_on_site_is_closed_and_the_new_one_starts_from_its_first_reading(
    system, world, clock
):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1290])
    _inspect(
        life,
        world,
        iid,
        {
            "value": 1211,
            "seal_intact": False,
            "new_seal": "PL880002",
            "new_serial": "SN9000001",
            "new_initial": 3,
        },
    )
    with system.sessions() as s:
        old = s.scalar(select(Meter).where(Meter.serial == serials[0]))
        new = s.scalar(select(Meter).where(Meter.serial == "SN9000001"))
        assert not old.active and old.seal == seals[0]
        assert (new.active, new.seal, new.register_digits, new.subscriber_id) == (
            True,
            "PL880002",
            old.register_digits,
            old.subscriber_id,
        )
        assert [
            (r.value, r.source)
            for r in s.scalars(select(Reading).where(Reading.meter_id == new.id))
        ] == [(3, "inspector")]
        final = s.scalar(
            select(Reading).where(Reading.meter_id == old.id).order_by(Reading.id.desc())
        )
        assert (final.value, final.source) == (1211, "inspector")
        assert (
            s.scalar(select(Invoice)).consumption_m3 == 11
        )  # billed on the old meter up to its last reading
    # the old meter can no longer be sent; the new one can, and a reading below its first one is refused
    clock.advance(days=30)
    with pytest.raises(NotFound, match="not on record"):
        _submit(life, world, code, serials, seals, [1215])
    with pytest.raises(SubmissionRefused, match="only counts up"):
        _submit(life, world, code, ["SN9000001"], ["PL880002"], [2])


def test_a_flagged_application_cannot_be_accepted_without_an_override(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1290])  # 90 m³ in a month: flagged
    with pytest.raises(SubmissionRefused, match="conflicts with the records"):
        life.complete(
            iid, "review_application", world["operator"], {"decision": "accept"}, claim=True
        )
    with pytest.raises(SubmissionRefused):  # a configured reason without the operator's words
        life.complete(
            iid,
            "review_application",
            world["operator"],
            {**OVERRIDE, "override_reason": "  "},
            claim=True,
        )
    assert life.open_tasks(iid) == ["review_application"]
    app = life.application(iid)
    assert app.status == "in_review"
    with system.sessions() as s:
        assert s.scalars(select(Reading).where(Reading.application_id == app.id)).all() == []


def test_an_override_with_a_reason_posts_the_citizens_reading_and_is_audited(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1290])
    life.complete(iid, "review_application", world["operator"], OVERRIDE, claim=True)
    assert life.instance(iid).end_event == "executed"
    app = life.application(iid)
    with system.sessions() as s:
        posted = s.scalar(select(Reading).where(Reading.application_id == app.id))
        assert (posted.value, posted.source) == (1290, "citizen")
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "conflict_overridden"))
        assert event.actor_id == world["operator"].id and event.instance_id == iid
        assert event.detail["reason_key"] == OVERRIDE["override_key"]
        assert event.detail["reason"] == "The photo shows the register clearly"
        assert event.detail["number"] == app.number and "above_expected" in event.detail["flags"]


def test_rejection_ends_rejected_with_reason_mailed(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1206])
    life.complete(
        iid,
        "review_application",
        world["operator"],
        {
            "decision": "reject",
            "reject_key": "The photo does not show the meter's register",
            "reject_reason": "The photo does not show the register",
        },
        claim=True,
    )
    assert (life.instance(iid).status, life.instance(iid).end_event) == ("completed", "rejected")
    app = life.application(iid)
    assert app.status == "rejected" and app.reject_reason == "The photo does not show the register"
    with system.sessions() as s:
        email = s.scalar(select(Email))
        assert (
            "imtina" in email.subject and "The photo does not show the register" in email.body_text
        )
        # the configured reason in the letter's language, Azerbaijani, never as its English message id
        assert "Fotoşəkildə sayğacın göstərici paneli görünmür" in email.body_text
        assert "The photo does not show the meter's register" not in email.body_text
        assert s.scalar(select(Reading).where(Reading.application_id == app.id)) is None


def test_abandoned_draft_is_ended_by_its_timer(system, world, clock):
    life = Lifecycle(system)
    code, _serials, _seals = _subscriber(system)
    iid = life.start(world["citizen"])
    life.complete(iid, "identify_subscriber", world["citizen"], {"subscriber_code": code})
    assert life.open_tasks(iid) == ["enter_readings"]
    clock.advance(days=29)
    assert life.sweep() == 0
    assert life.open_tasks(iid) == ["enter_readings"]
    clock.advance(days=2)
    assert life.sweep() == 1
    instance = life.instance(iid)
    assert (instance.status, instance.end_event) == ("completed", "abandoned")
    assert life.open_tasks(iid) == []
    assert life.application(iid).status == "abandoned"


def test_sla_escalation_creates_the_unit_heads_item_and_mails_the_head(system, world, clock):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1206])
    review = life.item(iid, "review_application")
    with system.sessions() as s:
        timer = s.scalar(
            select(Timer).where(
                Timer.instance_id == iid, Timer.event_name == "review_sla", Timer.state == "waiting"
            )
        )
        assert abs(
            timer.due_at.replace(tzinfo=None) - review.due_at.replace(tzinfo=None)
        ) < timedelta(seconds=1)
    clock.advance(days=2, minutes=1)
    assert life.sweep() == 1
    assert life.open_tasks(iid) == ["handle_escalation", "review_application"]
    head_item = life.item(iid, "handle_escalation")
    assert head_item.role == "unit_head" and head_item.unit_id == world["unit_head"].unit_id
    with system.sessions() as s:
        mail = s.scalar(select(Email).where(Email.to_addr == "head.ysm@saygac.invalid"))
        assert mail is not None and mail.status == "sent"
    # the review still completes; the application ends and the head's item is withdrawn
    life.complete(iid, "review_application", world["operator"], {"decision": "accept"}, claim=True)
    assert life.instance(iid).end_event == "executed"
    assert life.open_tasks(iid) == []


def test_tariff_change_mid_period_is_prorated_to_the_qepik(system, world):
    life = Lifecycle(system)
    with system.sessions() as s:
        sub = f.subscriber(s, last_read=date(2021, 1, 16), start_value=1000, monthly=6)
        s.commit()
        code, serial, seal = sub.code, sub.meters[0].serial, sub.meters[0].seal
    # 31 days from 16 Jan to 16 Feb 2021: 16 days at the 2016 tariff, 15 at the 2021 tariff
    iid = _submit(life, world, code, [serial], [seal], [1031], read_on=date(2021, 2, 16))
    life.complete(
        iid, "review_application", world["operator"], OVERRIDE, claim=True
    )  # 31 m³: flagged
    with system.sessions() as s:
        invoice = s.scalar(select(Invoice))
        lines = invoice.bill["bill"]["lines"]
        assert [(ln["date_from"], ln["date_to"], ln["days"]) for ln in lines] == [
            ("2021-01-17", "2021-01-31", 15),
            ("2021-02-01", "2021-02-16", 16),
        ]
        # 31 m³ over 31 days: 15 m³ at 0.35 + 0.15 = 7.50 AZN, 16 m³ at 0.70 + 0.30 = 16.00 AZN
        assert [Decimal(ln["gross"]) for ln in lines] == [Decimal("7.50"), Decimal("16.00")]
        assert invoice.gross == Decimal("23.50")
        assert invoice.vat == Decimal("3.58")  # 23.50 × 18 / 118 = 3.5847…
        assert invoice.net == Decimal("19.92")


def test_register_rollover_is_billed_as_one_turn_of_the_register(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system, start_value=99_995, monthly=6)
    iid = _submit(life, world, code, serials, seals, [7])
    app = life.application(iid)
    assert "rollover" in {fl["code"] for fl in app.lines[0].flags}
    life.complete(iid, "review_application", world["operator"], OVERRIDE, claim=True)
    with system.sessions() as s:
        invoice = s.scalar(select(Invoice))
        assert invoice.consumption_m3 == 12 and invoice.bill["meters"][0]["rollover"] is True
        assert invoice.gross == Decimal("12.00")


def test_a_reading_lower_than_the_last_one_is_refused_at_submission(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system, start_value=1200)
    with pytest.raises(SubmissionRefused) as refused:
        _submit(life, world, code, serials, seals, [1100])
    assert [m.params["previous"] for m in refused.value.messages] == [1200]
    assert "only counts up" in str(refused.value)
    with system.sessions() as s:
        assert s.scalars(select(Application).where(Application.number.is_not(None))).all() == []


def test_a_second_application_for_a_meter_with_an_open_one_is_refused_naming_it(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    first = life.application(_submit(life, world, code, serials, seals, [1206]))
    assert first.status == "in_review"
    with pytest.raises(SubmissionRefused) as refused:
        _submit(life, world, code, serials, seals, [1206])
    assert first.number in str(refused.value) and serials[0] in str(refused.value)
    with system.sessions() as s:
        numbered = s.scalars(
            select(Application.number).where(Application.number.is_not(None))
        ).all()
    assert numbered == [first.number]


def test_every_state_change_is_audited(system, world):
    life = Lifecycle(system)
    code, serials, seals = _subscriber(system)
    iid = _submit(life, world, code, serials, seals, [1206])
    life.complete(iid, "review_application", world["operator"], {"decision": "accept"}, claim=True)
    with system.sessions() as s:
        actions = [
            e.action
            for e in s.scalars(
                select(AuditEvent).where(AuditEvent.instance_id == iid).order_by(AuditEvent.id)
            )
        ]
    assert actions[0] == "instance_started"
    assert actions.count("task_completed") == 3
    assert {
        "work_item_claimed",
        "review_decided",
        "application_routed",
        "invoice_computed",
        "instance_completed",
    } <= set(actions)
