"""State-only serialisation of workflows.

SpiffWorkflow's serializer writes the whole spec into every instance. saygac stores only the
instance's state and takes the spec from the parsed-spec cache of the instance's process
version, which halves size and load time. Tasks are written compactly too: short keys, no
values the loader can restore (the parent, which the children give; empty data; false flags).
The stored ``serializer_version`` says which format a row holds; an older library format is
upgraded through the library's own migrations by putting the spec back in before restoring.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_FORMAT
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskState

from engine import spiff_internals as internals

STATE_FORMAT = f"spiff-{SPIFF_FORMAT}/state-2"


def _tasks_to_list(
    registry: DefaultRegistry, workflow: BpmnWorkflow | BpmnSubWorkflow
) -> list[dict[str, Any]]:
    """Each task as a small dict: id, spec, state, time, children, and only non-empty extras.
    Data is stored as the change from the parent task, as the library itself does."""
    out = []
    for task in workflow.tasks.values():
        item: dict[str, Any] = {
            "i": str(task.id),
            "s": task.task_spec.name,
            "st": task.state,
            "t": round(task.last_state_change, 3),
        }
        if children := internals.child_ids(task):
            item["c"] = [str(c) for c in children]
        if task.triggered:
            item["tr"] = 1
        if task.internal_data:
            item["in"] = registry.convert(task.internal_data)
        if task.parent is None:
            if task.data:
                item["d"] = registry.convert(registry.clean(task.data))
        else:
            updates = DeepMerge.get_updated_keys(task.parent.data, task.data)
            deletions = DeepMerge.get_deleted_keys(task.parent.data, task.data)
            if updates:
                item["u"] = registry.convert(registry.clean(updates))
            if deletions:
                item["x"] = list(deletions)
        out.append(item)
    return out


def _tasks_from_list(
    registry: DefaultRegistry, items: list[dict[str, Any]], workflow: BpmnWorkflow | BpmnSubWorkflow
) -> dict[UUID, Task]:
    tasks: dict[UUID, Task] = {}
    children_of: dict[UUID, dict[str, Any]] = {}
    for item in items:
        spec = workflow.spec.task_specs.get(item["s"])
        task = Task(workflow, spec, state=item["st"], id=UUID(item["i"]))
        internals.set_children(task, [UUID(c) for c in item.get("c", ())])
        task.last_state_change = item["t"]
        task.triggered = bool(item.get("tr"))
        task.internal_data = registry.restore(item.get("in", {}))
        tasks[task.id] = task
        children_of[task.id] = item
    for task in tasks.values():
        for child in internals.child_ids(task):
            if child in tasks:
                internals.set_parent(tasks[child], task.id)
    workflow.tasks = tasks
    roots = [t for t in tasks.values() if internals.parent_id(t) is None]
    stack = list(roots)
    while stack:  # data: the root's in full, every other task's as a change to its parent's
        task = stack.pop()
        item = children_of[task.id]
        parent = internals.parent_id(task)
        if parent is None:
            task.data = registry.restore(item.get("d", {}))
        else:
            data = DeepMerge.merge({}, tasks[parent].data)
            data.update(registry.restore(item.get("u", {})))
            for key in item.get("x", ()):
                data.pop(key, None)
            task.data = data
        stack.extend(tasks[c] for c in internals.child_ids(task) if c in tasks)
    for task in tasks.values():
        if isinstance(task.task_spec, CatchingEvent) and task.has_state(TaskState.WAITING):
            workflow.top_workflow.event_manager.add_task(task)
    return tasks


def _workflow_to_dict(
    registry: DefaultRegistry, workflow: BpmnWorkflow | BpmnSubWorkflow
) -> dict[str, Any]:
    """What the library's ``WorkflowConverter.to_dict`` writes, with the tasks in compact form."""
    return {
        "data": registry.convert(registry.clean(workflow.data)),
        "correlations": workflow.correlations,
        "last_task": str(workflow.last_task.id) if workflow.last_task is not None else None,
        "success": workflow.success,
        "completed": workflow.completed,
        "tasks": _tasks_to_list(registry, workflow),
        "root": str(workflow.task_tree.id),
    }


class CompactSubWorkflowConverter(BpmnSubWorkflowConverter):  # type: ignore[misc]  # SpiffWorkflow is untyped
    def to_dict(self, workflow: BpmnSubWorkflow) -> dict[str, Any]:
        dct = _workflow_to_dict(self.registry, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name
        return dct

    def from_dict(
        self, dct: dict[str, Any], task: Task, top_workflow: BpmnWorkflow
    ) -> BpmnSubWorkflow:
        spec = top_workflow.subprocess_specs.get(task.task_spec.spec)
        subprocess = self.target_class(spec, task.id, top_workflow, deserializing=True)
        _tasks_from_list(self.registry, dct["tasks"], subprocess)
        subprocess.task_tree = subprocess.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(subprocess, dct)
        return subprocess


class StateOnlyWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """Writes a workflow without its specs; restores it onto specs given by the caller."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = _workflow_to_dict(self.registry, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(
        self, dct: dict[str, Any], spec: Any = None, subprocess_specs: dict[str, Any] | None = None
    ) -> BpmnWorkflow:
        if spec is None:  # a full (library-format) dict, e.g. after a migration
            return super().from_dict(dct)
        dct.pop("spec", None)
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        _tasks_from_list(self.registry, dct["tasks"], workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


class StateSerializer:
    """Turns a workflow into compact JSON text and back, given the parsed spec."""

    def __init__(self) -> None:
        config = dict(SPIFF_CONFIG)
        config[BpmnWorkflow] = StateOnlyWorkflowConverter
        config[BpmnSubWorkflow] = CompactSubWorkflowConverter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self._full = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    @property
    def registry(self) -> DefaultRegistry:
        """The library's converter registry (its diff tools compare specs through it)."""
        return self._full.registry

    def dumps(self, workflow: BpmnWorkflow) -> str:
        with internals.encoding(self._serializer.registry) as encoder:
            dct = self._serializer.to_dict(workflow)
            return json.dumps(dct, cls=encoder, separators=(",", ":"), ensure_ascii=False)

    def loads(
        self, text: str, version: str, spec: Any, subprocess_specs: dict[str, Any]
    ) -> BpmnWorkflow:
        dct = json.loads(text)
        if version == STATE_FORMAT:
            return self._serializer.from_dict(dct, spec=spec, subprocess_specs=subprocess_specs)
        return self._upgrade(dct, version, spec, subprocess_specs)

    def _upgrade(
        self, dct: dict[str, Any], version: str, spec: Any, subprocess_specs: dict[str, Any]
    ) -> BpmnWorkflow:
        """Restore a state written by another library format through the library's migrations."""
        library_version = version.removeprefix("spiff-").split("/")[0]
        full = self._full
        dct["spec"] = full.to_dict(spec)
        dct["subprocess_specs"] = {name: full.to_dict(s) for name, s in subprocess_specs.items()}
        dct[full.VERSION_KEY] = library_version
        full.migrate(dct)
        return full.from_dict(dct)
