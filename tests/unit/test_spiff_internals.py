"""What ``engine.spiff_internals`` relies on in SpiffWorkflow, pinned against the installed
version: a library upgrade that changes one of these fails here, not in a stored instance."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib.metadata import version

from packaging.specifiers import SpecifierSet
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine import spiff_internals as internals

TIMER_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="wait" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="an_hour">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="an_hour" />
    <bpmn:sequenceFlow id="f2" sourceRef="an_hour" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
"""


def waiting_workflow() -> BpmnWorkflow:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(TIMER_PROCESS.encode())
    wf = BpmnWorkflow(parser.get_spec("wait"))
    wf.do_engine_steps()
    return wf


def timer_task(wf: BpmnWorkflow):
    (task,) = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.name == "an_hour"]
    return task


def test_the_installed_spiffworkflow_is_in_the_supported_range():
    assert version("SpiffWorkflow") in SpecifierSet(",".join(internals.SUPPORTED))


def test_tree_links_by_id_match_the_public_parent_and_children():
    wf = waiting_workflow()
    for task in wf.get_tasks():
        assert internals.child_ids(task) == [child.id for child in task.children]
        assert internals.parent_id(task) == (task.parent.id if task.parent else None)


def test_setting_the_links_is_what_the_public_properties_read():
    wf = waiting_workflow()
    task = timer_task(wf)
    parent, children = task.parent, task.children
    internals.set_parent(task, None)
    internals.set_children(task, [])
    assert task.parent is None and task.children == []
    internals.set_parent(task, parent.id)
    internals.set_children(task, [c.id for c in children])
    assert task.parent is parent and task.children == children


def test_a_waiting_timer_keeps_its_due_time_and_moves_on_when_fired():
    wf = waiting_workflow()
    task = timer_task(wf)
    due = datetime.fromisoformat(internals.event_value(task))
    assert timedelta(minutes=59) < due - datetime.now(UTC) <= timedelta(hours=1)
    internals.fire_event(task)
    wf.refresh_waiting_tasks()
    wf.do_engine_steps()
    assert wf.completed


def test_encoding_writes_what_the_library_reads_back():
    wf = waiting_workflow()
    wf.data["at"] = datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))
    with internals.encoding(serializer.registry) as encoder:
        text = json.dumps(serializer.to_dict(wf), cls=encoder)
    dct = json.loads(text)
    dct[serializer.VERSION_KEY] = serializer.VERSION
    restored = serializer.from_dict(dct)
    assert restored.data["at"] == datetime(2026, 12, 2, 10, 30, tzinfo=UTC)
    assert timer_task(restored).id == timer_task(wf).id
