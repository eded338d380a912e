"""Process versions as the studio sees them: diff, deploy after validation and scenarios, migration plans.

Nothing here commits: the caller (a web request) owns the unit of work, except
:func:`migrate_one`, which the caller runs in a unit of work of its own per instance so one
failure leaves that instance untouched and the others moved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from lxml import etree
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import scenarios as scenario_runner
from engine.audit import Actor, record
from engine.diagrams import parse_xml
from engine.errors import DiagramError, EngineError
from engine.models import ProcessInstance, ProcessVersion
from engine.operations import OperationRegistry
from engine.specs import SpecRegistry

if TYPE_CHECKING:
    from engine.runtime import Runtime

DI_NAMESPACES = (
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "https://www.omg.org/spec/DMN/20191111/DMNDI/",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
)
_CONTAINERS = {
    "process",
    "subProcess",
    "laneSet",
    "collaboration",
    "definitions",
    "decision",
    "decisionTable",
}
_SKIP = {"incoming", "outgoing"}  # the sequence flows' sourceRef/targetRef say the same


# -- diff -----------------------------------------------------------------------------------------


@dataclass
class Diff:
    added: dict[str, dict[str, str]] = field(default_factory=dict)  # element id -> its properties
    removed: dict[str, dict[str, str]] = field(default_factory=dict)
    changed: dict[str, dict[str, tuple[str | None, str | None]]] = field(
        default_factory=dict
    )  # id -> {property: (old, new)}

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "removed": self.removed,
            "changed": {
                k: {p: list(v) for p, v in props.items()} for k, props in self.changed.items()
            },
        }


def elements(files: Mapping[str, str]) -> dict[str, dict[str, str]]:
    """Every element with an id that a person edits (not layout), with its properties flattened."""
    found: dict[str, dict[str, str]] = {}
    for name in sorted(files):
        root = parse_xml(files[name], name)
        for el in root.iter():
            if not isinstance(el.tag, str) or not el.get("id") or _is_layout(el):
                continue
            local = etree.QName(el).localname
            if local in ("definitions",) or not _is_element(el):
                continue
            props = {"type": local, "file": name}
            props.update({etree.QName(k).localname: v for k, v in el.attrib.items() if k != "id"})
            _flatten(el, "", props)
            found[el.get("id")] = props
    return found


def _is_layout(el: etree._Element) -> bool:
    return any(etree.QName(a).namespace in DI_NAMESPACES for a in [el, *el.iterancestors()])


def _is_element(el: etree._Element) -> bool:
    parent = el.getparent()
    return parent is not None and etree.QName(parent).localname in _CONTAINERS


def _flatten(el: etree._Element, prefix: str, props: dict[str, str]) -> None:
    for child in el:
        if not isinstance(child.tag, str) or _is_layout(child):
            continue
        local = etree.QName(child).localname
        if local in _SKIP or (child.get("id") and _is_element(child)):
            continue
        if local == "extensionElements":
            _flatten(child, prefix, props)
            continue
        qualifier = child.get("name") if local == "property" else child.get("id")
        key = f"{prefix}{local}" + (f"[{qualifier}]" if qualifier else "")
        if local == "flowNodeRef":
            key = f"{prefix}flowNodeRef[{(child.text or '').strip()}]"
        for attr, value in child.attrib.items():
            attr = etree.QName(attr).localname
            if attr not in ("id", "name") or local not in ("property", "parameter"):
                props[f"{key}@{attr}"] = value
        text = (child.text or "").strip()
        if text:
            props[key] = text
        _flatten(child, key + "/", props)


def diff(old_files: Mapping[str, str], new_files: Mapping[str, str]) -> Diff:
    old, new = elements(old_files), elements(new_files)
    result = Diff()
    for key in sorted(new.keys() - old.keys()):
        result.added[key] = new[key]
    for key in sorted(old.keys() - new.keys()):
        result.removed[key] = old[key]
    for key in sorted(old.keys() & new.keys()):
        a, b = old[key], new[key]
        changes = {
            p: (a.get(p), b.get(p)) for p in sorted(a.keys() | b.keys()) if a.get(p) != b.get(p)
        }
        if changes:
            result.changed[key] = changes
    return result


# -- deploy ---------------------------------------------------------------------------------------


@dataclass
class Check:
    problems: list[DiagramError]
    results: list[scenario_runner.ScenarioResult]

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.results) and all(r.passed for r in self.results)


def check_draft(
    specs: SpecRegistry,
    operations: OperationRegistry,
    process_id: str,
    files: Mapping[str, str],
    scenarios: list[dict[str, Any]],
) -> Check:
    """Validation (schema, parse, saygac's checks) and, when it passes, every scenario in memory."""
    problems = specs.problems(process_id, files)
    if problems:
        return Check(problems, [])
    scenario_runner.validate_shape(scenarios)
    parsed = specs.validate(process_id, files)
    return Check([], scenario_runner.run_all(parsed, operations, scenarios))


def deploy(
    session: Session,
    specs: SpecRegistry,
    operations: OperationRegistry,
    process_id: str,
    files: Mapping[str, str],
    scenarios: list[dict[str, Any]],
    *,
    actor: Actor,
    reason: str,
) -> ProcessVersion:
    """A new immutable version, only with a reason, no problems and every scenario passing."""
    reason = (reason or "").strip()
    if not reason:
        raise EngineError("give the reason for this version")
    check = check_draft(specs, operations, process_id, files, scenarios)
    if check.problems:
        raise check.problems[0]
    if not check.results:
        raise EngineError("add at least one scenario before deploying")
    failed = [r.name for r in check.results if not r.passed]
    if failed:
        raise EngineError(f"these scenarios fail: {', '.join(failed)}")
    before = session.scalar(
        select(func.count(ProcessVersion.id)).where(ProcessVersion.process_id == process_id)
    )
    version = specs.deploy(
        session, process_id, files, deployed_by_id=actor.id, reason=reason, scenarios=scenarios
    )
    after = session.scalar(
        select(func.count(ProcessVersion.id)).where(ProcessVersion.process_id == process_id)
    )
    if after == before:
        raise EngineError(f"these files are already version {version.version}")
    record(
        session,
        "process_deployed",
        actor=actor,
        entity=f"process_version:{version.id}",
        detail={
            "process": process_id,
            "version": version.version,
            "reason": reason[:500],
            "scenarios": len(scenarios),
        },
    )
    return version


# -- migration ------------------------------------------------------------------------------------


@dataclass
class PlanEntry:
    instance_id: int
    movable: bool
    waiting_at: list[str]
    reasons: list[str]
    restarts: list[str]


def waiting_instances(session: Session, version: ProcessVersion) -> list[int]:
    return list(
        session.scalars(
            select(ProcessInstance.id)
            .where(
                ProcessInstance.version_id == version.id,
                ProcessInstance.status.in_(("waiting", "running")),
            )
            .order_by(ProcessInstance.id)
        )
    )


def dry_run(
    session: Session, runtime: Runtime, source: ProcessVersion, target: ProcessVersion
) -> list[PlanEntry]:
    """Which waiting instances of ``source`` can move to ``target``, and why not."""
    if source.process_id != target.process_id or source.id == target.id:
        raise EngineError("choose two different versions of the same process")
    plan = []
    for instance_id in waiting_instances(session, source):
        instance = session.get_one(ProcessInstance, instance_id)
        wf = runtime.load_workflow(session, instance)
        waiting = sorted(
            {
                t.task_spec.name
                for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING)
                if t.task_spec.bpmn_id
            }
        )
        try:
            check = runtime.check_migration(session, instance, target)
            plan.append(
                PlanEntry(instance_id, check.movable, waiting, check.reasons, check.restarts)
            )
        except Exception as err:  # noqa: BLE001  (a state the library cannot diff is a reason, not a crash)
            plan.append(PlanEntry(instance_id, False, waiting, [f"cannot be compared: {err}"], []))
    return plan


def migrate_one(
    sessions: Callable[[], Session],
    runtime: Runtime,
    instance_id: int,
    target_id: int,
    actor: Actor,
) -> tuple[bool, str]:
    """Move one instance in its own unit of work; on failure nothing of it changes."""
    with sessions() as session:
        try:
            target = session.get_one(ProcessVersion, target_id)
            runtime.migrate(session, instance_id, target, actor)
            session.commit()
            return True, ""
        except Exception as err:  # noqa: BLE001  (any failure: report it, leave the instance as it was)
            session.rollback()
            return False, str(err) or type(err).__name__


def record_migration(
    session: Session,
    actor: Actor,
    source: ProcessVersion,
    target: ProcessVersion,
    moved: list[int],
    failed: dict[int, str],
) -> None:
    record(
        session,
        "instances_migrated",
        actor=actor,
        entity=f"process_version:{target.id}",
        detail={
            "from": source.version,
            "to": target.version,
            "moved": moved[:1000],
            "failed": {str(k): v[:200] for k, v in list(failed.items())[:1000]},
        },
    )
