"""saygac's own checks of a parsed diagram, beyond the schema and the library's parse.

Each problem names the element it is about, so a studio can highlight it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask

from engine import expressions
from engine.diagrams import ParsedProcess
from engine.errors import DiagramError, UnsafeExpression
from engine.operations import OperationRegistry


@dataclass(frozen=True)
class DeployRules:
    """What a deployable diagram may name: forms, lanes and service operations."""

    form_keys: frozenset[str]
    lane_roles: Mapping[str, str]
    automatic_lanes: frozenset[str]
    operations: OperationRegistry


def _all_specs(parsed: ParsedProcess) -> Iterable:
    yield parsed.spec
    yield from parsed.subprocess_specs.values()


def _expression_problem(source: str, element_id: str, what: str) -> DiagramError | None:
    try:
        expressions.check(source)
    except SyntaxError as err:
        return DiagramError(f"the {what} is not a valid expression: {err.msg}", element_id=element_id)
    except UnsafeExpression as err:
        return DiagramError(f"the {what} is not allowed: {err}", element_id=element_id)
    return None


def check_process(parsed: ParsedProcess, rules: DeployRules) -> list[DiagramError]:
    problems: list[DiagramError] = []
    add = problems.append
    for wf_spec in _all_specs(parsed):
        for spec in wf_spec.task_specs.values():
            props = (getattr(spec, "extensions", None) or {}).get("properties", {})
            lane = getattr(spec, "lane", None)
            if isinstance(spec, UserTask):
                key = props.get("formKey")
                if not key:
                    add(DiagramError("the user task names no form (formKey property)", element_id=spec.name))
                elif key not in rules.form_keys:
                    add(DiagramError(f"the form '{key}' does not exist", element_id=spec.name))
                if lane is None or lane not in rules.lane_roles:
                    add(DiagramError(f"the user task's lane '{lane}' maps to no role", element_id=spec.name))
            elif lane is not None and lane not in rules.lane_roles and lane not in rules.automatic_lanes:
                add(DiagramError(f"the lane '{lane}' maps to no role", element_id=spec.name))
            if isinstance(spec, ServiceTask):
                problems.extend(_check_service(spec, rules.operations))
            definition = getattr(spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                problems.extend(_check_timer(spec.name, definition))
            for condition, _target in getattr(spec, "cond_task_specs", None) or []:
                source = condition.args[0] if getattr(condition, "args", None) else None
                if isinstance(source, str):
                    p = _expression_problem(source, spec.name, "gateway condition")
                    if p:
                        add(p)
            for script_attr in ("script", "prescript", "postscript"):
                source = getattr(spec, script_attr, None)
                if isinstance(source, str) and source.strip():
                    try:
                        expressions.compile_script(source)
                    except (SyntaxError, UnsafeExpression) as err:
                        add(DiagramError(f"the {script_attr} is not allowed: {err}", element_id=spec.name))
            problems.extend(_check_decision(spec))
    return problems


def _check_service(spec, operations: OperationRegistry) -> list[DiagramError]:
    if spec.operation_name not in operations:
        return [DiagramError(f"the service operation '{spec.operation_name}' does not exist", element_id=spec.name)]
    op = operations.get(spec.operation_name)
    given = set(spec.operation_params or {})
    problems = []
    if given != set(op.params):
        problems.append(DiagramError(
            f"the operation '{op.name}' takes parameters {sorted(op.params) or 'none'}, "
            f"the diagram gives {sorted(given) or 'none'}", element_id=spec.name))
    for name, param in (spec.operation_params or {}).items():
        p = _expression_problem(param.get("value", ""), spec.name, f"parameter '{name}'")
        if p:
            problems.append(p)
    return problems


def _check_timer(element_id: str, definition: TimerEventDefinition) -> list[DiagramError]:
    p = _expression_problem(definition.expression, element_id, "timer expression")
    if p:
        return [p]
    try:
        value = expressions.evaluate(definition.expression, {})
        TimerEventDefinition.parse_time_or_duration(value)
    except Exception as err:  # the library raises plain exceptions for bad ISO 8601
        return [DiagramError(f"the timer expression is not an ISO 8601 date or duration: {err}",
                             element_id=element_id)]
    return []


def _check_decision(spec) -> list[DiagramError]:
    engine = getattr(spec, "dmnEngine", None)
    table = getattr(engine, "decision_table", None)
    if table is None:
        return []
    problems = []
    for rule in table.rules:
        for entry in rule.inputEntries:
            for lhs in entry.lhs:
                if lhs and lhs.strip() not in ("-", ""):
                    source = lhs.replace("?", "x")
                    try:
                        expressions.check(source)
                    except SyntaxError:
                        p = _expression_problem(f"x {source}", spec.name, f"decision rule {rule.row_number}")
                        if p:
                            problems.append(p)
                    except UnsafeExpression as err:
                        problems.append(DiagramError(f"decision rule {rule.row_number} is not allowed: {err}",
                                                     element_id=spec.name))
        for entry in rule.outputEntries:
            if entry.text:
                p = _expression_problem(entry.text, spec.name, f"decision rule {rule.row_number} output")
                if p:
                    problems.append(p)
    return problems


def checker(rules: DeployRules) -> Callable[[ParsedProcess, Mapping[str, str]], list[DiagramError]]:
    return lambda parsed, _files: check_process(parsed, rules)
