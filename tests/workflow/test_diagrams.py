"""The shipped diagrams, deployment checks and versions."""

from __future__ import annotations

import re

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask
from sqlalchemy import select

from engine.diagrams import parse_process, parse_xml
from engine.errors import DiagramError
from engine.models import ProcessInstance, ProcessVersion
from engine.scripting import SafeScriptEngine
from engine.specs import read_directory
from forms import FORMS
from tests.conftest import next_working_monday
from workflow import factories as f
from workflow.operations import OPERATIONS
from workflow.process import DIAGRAM_DIR, LANES, PROCESS_ID
from workflow.system import deploy_rules
from workflow.tasks import HANDLERS

SHIPPED = read_directory(DIAGRAM_DIR)


def _specs(parsed):
    return [parsed.spec, *parsed.subprocess_specs.values()]


def test_every_form_lane_and_operation_named_in_every_diagram_exists():
    parsed = parse_process(SHIPPED, PROCESS_ID)
    user_tasks, services = [], []
    for wf_spec in _specs(parsed):
        for spec in wf_spec.task_specs.values():
            if isinstance(spec, UserTask):
                user_tasks.append(spec)
            if isinstance(spec, ServiceTask):
                services.append(spec)
    assert {t.name for t in user_tasks} == {
        "identify_subscriber",
        "enter_readings",
        "review_application",
        "handle_escalation",
        "field_inspection",
    }
    for task in user_tasks:
        key = task.extensions["properties"]["formKey"]
        assert key in FORMS and key in HANDLERS, key
        assert LANES.roles[task.lane]
    assert len(services) == 10
    for task in services:
        op = OPERATIONS.get(task.operation_name)
        assert set(task.operation_params) == set(op.params), task.name
    lanes = {
        spec.lane for wf_spec in _specs(parsed) for spec in wf_spec.task_specs.values() if spec.lane
    }
    assert lanes <= set(LANES.roles) | LANES.automatic


def test_the_diagram_keeps_its_layout_for_bpmn_editors():
    root = etree.fromstring(SHIPPED["meter_reading.bpmn"].encode())
    ns = {
        "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
        "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    }
    drawn = {el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNShape", ns)} | {
        el.get("bpmnElement") for el in root.iterfind(".//bpmndi:BPMNEdge", ns)
    }
    process = root.find("bpmn:process", ns)
    elements = {
        el.get("id")
        for el in process.iter()
        if el.get("id")
        and etree.QName(el).localname
        not in ("laneSet", "process", "incoming", "outgoing", "conditionExpression", "timeDuration")
        and etree.QName(el).namespace == ns["bpmn"]
        and not etree.QName(el).localname.endswith("Definition")
    }
    assert elements and elements <= drawn, sorted(elements - drawn)


def _with(files: dict, old: str, new: str) -> dict:
    changed = dict(files)
    assert old in changed["meter_reading.bpmn"], old
    changed["meter_reading.bpmn"] = changed["meter_reading.bpmn"].replace(old, new, 1)
    return changed


def test_external_entities_and_entity_expansion_are_refused_at_deploy(system):
    xxe = SHIPPED["meter_reading.bpmn"].replace(
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        1,
    )
    assert "<!DOCTYPE" in xxe
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;">]><definitions>&c;</definitions>'
    )
    with system.sessions() as s:
        for payload in (xxe, laughs):
            with pytest.raises(
                DiagramError, match="document type declarations and entities are not allowed"
            ):
                system.specs.deploy(
                    s,
                    PROCESS_ID,
                    {
                        "meter_reading.bpmn": payload,
                        "route_to_unit.dmn": SHIPPED["route_to_unit.dmn"],
                    },
                )
        assert s.scalar(select(ProcessVersion).where(ProcessVersion.version > 1)) is None


# the shipped review SLA (two working days, computed when the application is routed) and a plain five days
REVIEW_DUE = (
    '<bpmn:timeDate xsi:type="bpmn:tFormalExpression">assignment["review_due"]</bpmn:timeDate>'
)
FIVE_DAYS = '<bpmn:timeDuration xsi:type="bpmn:tFormalExpression">"P5D"</bpmn:timeDuration>'


@pytest.mark.parametrize(
    "old, new, element, message",
    [
        ('decision == "accept"', "().__class__.__base__", "review_decision", "not allowed"),
        ('assignment["review_due"]', '__import__("os").system("id")', "review_sla", "not allowed"),
        ('"P30D"', '"thirty days"', "draft_expired", "ISO 8601"),
        (
            'value="review_application"',
            'value="no_such_form"',
            "review_application",
            "form 'no_such_form'",
        ),
        (
            'id="saygac/post_reading"',
            'id="saygac/launch_rockets"',
            "post_reading",
            "launch_rockets",
        ),
        ('name="inspector"', 'name="astronaut"', "field_inspection", "maps to no role"),
    ],
)
def test_saygac_checks_name_the_element(system, old, new, element, message):
    with system.sessions() as s:
        with pytest.raises(DiagramError) as err:
            system.specs.deploy(s, PROCESS_ID, _with(SHIPPED, old, new))
    assert err.value.element_id == element
    assert message in err.value.message


def test_wrong_operation_parameters_are_refused(system):
    broken = re.sub(
        r'(<spiffworkflow:serviceTaskOperator id="saygac/post_reading"[^>]*>\s*<spiffworkflow:parameters>)',
        r'\1<spiffworkflow:parameter id="extra" type="int" value="1" />',
        SHIPPED["meter_reading.bpmn"],
        count=1,
    )
    assert broken != SHIPPED["meter_reading.bpmn"]
    with system.sessions() as s, pytest.raises(DiagramError) as err:
        system.specs.deploy(s, PROCESS_ID, {**SHIPPED, "meter_reading.bpmn": broken})
    assert err.value.element_id == "post_reading" and "takes parameters" in err.value.message


def test_malformed_xml_names_file_and_line():
    with pytest.raises(DiagramError) as err:
        parse_xml(b"<definitions>\n<process id='x'>\n</definitions>", "broken.bpmn")
    assert err.value.file == "broken.bpmn" and err.value.line == 3


def test_a_changed_file_is_a_new_version_and_running_instances_keep_theirs(system):
    with system.sessions() as s:
        citizen = f.actor(f.account(s, "citizen"))
        first = system.start_application(s, citizen).instance
        same = system.deploy_shipped(s)
        assert same.version == 1
        v2 = system.specs.deploy(
            s, PROCESS_ID, _with(SHIPPED, '"P30D"', '"P14D"'), reason="shorter drafts"
        )
        second = system.start_application(s, citizen).instance
        s.commit()
        assert v2.version == 2 and v2.reason == "shorter drafts"
        assert (first.version_id, second.version_id) == (same.id, v2.id)
        due = {
            i.id: system.runtime.load_workflow(s, s.get(ProcessInstance, i.id))
            .waiting_events()[0]
            .value
            for i in (first, second)
        }
    from datetime import datetime

    days = round(
        (
            datetime.fromisoformat(due[first.id]) - datetime.fromisoformat(due[second.id])
        ).total_seconds()
        / 86400
    )
    assert days == 16  # 30-day drafts on version 1, 14-day drafts on version 2


def test_the_script_engine_is_the_safe_one_after_every_reload(system):
    with system.sessions() as s:
        citizen = f.actor(f.account(s, "citizen"))
        instance = system.start_application(s, citizen).instance
        s.commit()
    with system.sessions() as s:
        wf = system.runtime.load_workflow(s, s.get(ProcessInstance, instance.id))
        assert isinstance(wf.script_engine, SafeScriptEngine)
        for sub in wf.subprocesses.values():
            assert isinstance(sub.script_engine, SafeScriptEngine)
        task = wf.get_tasks(manual=True)[0]
        with pytest.raises(WorkflowTaskException) as err:
            wf.script_engine.evaluate(task, "__import__('os').getcwd()")
        assert err.value.error_type == "UnsafeExpression" and "not allowed" in str(err.value)


def test_deploy_rules_cover_every_form_and_handler():
    rules = deploy_rules()
    assert rules.form_keys == frozenset(FORMS) == frozenset(HANDLERS)


def test_a_waiting_instance_moves_to_a_new_version_and_follows_it(system, clock):
    """The SLA changes from 2 working days to 5 days: a dry run says the old application can move, and after
    moving its review is due by the new rule while an untouched one keeps the old."""
    from datetime import timedelta

    from engine.models import WorkItem
    from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit

    next_working_monday(clock, system.services.calendar)  # two working days are 48 hours
    people = make_people(system)
    life = Lifecycle(system)
    code, serials, seals = new_subscriber(system)
    old = submit(life, people, code, serials, seals, [1206])
    stays = submit(life, people, *new_subscriber(system), [1206])
    clock.advance(hours=1)
    with system.sessions() as s:
        v2 = system.specs.deploy(
            s, PROCESS_ID, _with(SHIPPED, REVIEW_DUE, FIVE_DAYS), reason="longer review"
        )
        s.commit()
    with system.sessions() as s:
        check = system.runtime.check_migration(s, s.get(ProcessInstance, old), v2)
        assert check.movable and check.restarts == ["review_sla"] and check.reasons == []
        system.runtime.migrate(s, old, v2, people["operator"])
        s.commit()
    with system.sessions() as s:
        moved = s.get(ProcessInstance, old)
        assert moved.version_id == v2.id
        due = {
            w.instance_id: w.due_at
            for w in s.scalars(
                select(WorkItem).where(
                    WorkItem.task_name == "review_application", WorkItem.state == "open"
                )
            )
        }
    # the moved review is due five days from its move (an hour after the start), the untouched one
    # two working days from its start
    assert due[old] - due[stays] == timedelta(days=3, hours=1)
    clock.advance(days=2, minutes=1)
    assert life.sweep() == 1  # only the untouched one escalates after two days
    assert life.open_tasks(stays) == ["handle_escalation", "review_application"]
    assert life.open_tasks(old) == ["review_application"]


def test_an_instance_waiting_at_a_removed_step_cannot_move_and_is_left_untouched(system):
    from worker.lifecycle import Lifecycle, make_people, new_subscriber, submit

    people = make_people(system)
    life = Lifecycle(system)
    iid = submit(life, people, *new_subscriber(system), [1206])
    renamed = SHIPPED["meter_reading.bpmn"].replace(
        '"review_application"', '"review_application_v2"'
    )
    renamed = renamed.replace(">review_application<", ">review_application_v2<")
    with system.sessions() as s:
        v2 = system.specs.deploy(
            s,
            PROCESS_ID,
            {
                **SHIPPED,
                "meter_reading.bpmn": renamed.replace(
                    'value="review_application_v2"', 'value="review_application"'
                ),
            },
            reason="renamed",
        )
        s.commit()
        before = s.get(ProcessInstance, iid).state
        check = system.runtime.check_migration(s, s.get(ProcessInstance, iid), v2)
        assert not check.movable and "does not exist in the new version" in check.reasons[0]
        with pytest.raises(Exception, match="does not exist"):
            system.runtime.migrate(s, iid, v2, people["operator"])
        s.rollback()
        assert s.get(ProcessInstance, iid).state == before
