"""Where an instance stands: the diagram of its own version, the steps done and the steps waiting.

For the staff's instance view. The diagram is the XML of the version the instance runs on (not
the latest), and the step states come from the restored workflow, so a step that ran without an
audit event (a synchronous service task, a gateway) still shows as done.
"""

from __future__ import annotations

from dataclasses import dataclass

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.models import ProcessInstance, ProcessVersion
from engine.runtime import Runtime


@dataclass(frozen=True)
class Progress:
    instance_id: int
    status: str
    process_id: str
    version: int
    xml: str
    completed: list[str]
    current: list[str]


def _diagram_xml(version: ProcessVersion) -> str:
    """The .bpmn file of the version that holds the process (a version may also carry .dmn files)."""
    for name, xml in sorted(version.files.items()):
        if name.endswith(".bpmn") and f'id="{version.process_id}"' in xml:
            return xml
    for name, xml in sorted(version.files.items()):
        if name.endswith(".bpmn"):
            return xml
    raise NotFound("this version has no diagram")


def instance_progress(session: Session, runtime: Runtime, instance_id: int) -> Progress:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("no such instance")
    version = session.get_one(ProcessVersion, instance.version_id)
    wf = runtime.load_workflow(session, instance)
    completed: set[str] = set()
    current: set[str] = set()
    for task in wf.get_tasks():
        bpmn_id = getattr(task.task_spec, "bpmn_id", None)
        if not bpmn_id:
            continue  # the library's own bookkeeping tasks (start, end, root)
        if task.state == TaskState.COMPLETED:
            completed.add(bpmn_id)
        elif task.state in (
            TaskState.READY,
            TaskState.STARTED,
            TaskState.WAITING,
        ) and not _is_idle_event(task):
            current.add(bpmn_id)
    return Progress(
        instance_id=instance.id,
        status=instance.status,
        process_id=version.process_id,
        version=version.version,
        xml=_diagram_xml(version),
        completed=sorted(completed - current),
        current=sorted(current),
    )


def _is_idle_event(task: Task) -> bool:
    """A boundary timer waiting beside its activity is not "the current step"; the activity is."""
    return task.state == TaskState.WAITING and type(task.task_spec).__name__ == "BoundaryEvent"
