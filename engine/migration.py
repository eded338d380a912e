"""Moving a waiting instance to another version of its diagram, with the library's diff tools.

An instance can move when every step it is waiting at still exists in the new version and no
user task it waits at has changed (someone may be filling its form). Other waiting steps that
changed, such as a timer with a new duration, restart under the new version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState

from engine.diagrams import ParsedProcess


@dataclass
class Assessment:
    movable: bool = True
    reasons: list[str] = field(default_factory=list)
    restarts: list[str] = field(default_factory=list)
    top_diff: object = None
    sub_diffs: dict[UUID, Any] = field(default_factory=dict)


def assess(registry: DefaultRegistry, wf: BpmnWorkflow, target: ParsedProcess) -> Assessment:
    top, subs = diff_workflow(registry, wf, target.spec, target.subprocess_specs)
    result = Assessment(top_diff=top, sub_diffs=subs)
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
        diff = top if task.workflow is wf else subs.get(task.workflow.parent_task_id)
        name = task.task_spec.name
        if diff is None:
            result.reasons.append(
                f"the subprocess of step '{name}' does not exist in the new version"
            )
        elif task in diff.removed:
            result.reasons.append(f"the current step '{name}' does not exist in the new version")
        elif task in diff.changed:
            if isinstance(task.task_spec, UserTask):
                result.reasons.append(f"the current step '{name}' changed in the new version")
            else:
                result.restarts.append(name)
    result.movable = not result.reasons
    return result


def apply(wf: BpmnWorkflow, assessment: Assessment, target: ParsedProcess) -> None:
    """Put the workflow onto the target's specs; waiting steps restart under the new version."""
    migrate_workflow(assessment.top_diff, wf, target.spec)
    for sp_id, diff in assessment.sub_diffs.items():
        sub = wf.subprocesses[sp_id]
        migrate_workflow(diff, sub, target.subprocess_specs[sub.spec.name])
    wf.subprocess_specs = target.subprocess_specs
