"""saygac's own checks of a parsed diagram, beyond the schema and the library's parse.

Each problem names the element it is about, so a studio can highlight it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.spiff.specs.mixins.service_task import ServiceTask

from engine import expressions
from engine.diagrams import BPMN_NS, ParsedProcess
from engine.errors import N_, DiagramError, InvalidExpression, UnsafeExpression
from engine.operations import OperationRegistry


@dataclass(frozen=True)
class DeployRules:
    """What a deployable diagram may name: forms, lanes and service operations."""

    form_keys: frozenset[str]
    lane_roles: Mapping[str, str]
    automatic_lanes: frozenset[str]
    operations: OperationRegistry


def _all_specs(parsed: ParsedProcess) -> Iterable[Any]:
    yield parsed.spec
    yield from parsed.subprocess_specs.values()


# What an expression problem is about: the message ids for an invalid and for an unsafe expression.
_GATEWAY = (
    N_("the gateway condition is not a valid expression: %(err)s"),
    N_("the gateway condition is not allowed: %(err)s"),
)
_PARAMETER = (
    N_("the parameter '%(name)s' is not a valid expression: %(err)s"),
    N_("the parameter '%(name)s' is not allowed: %(err)s"),
)
_TIMER = (
    N_("the timer expression is not a valid expression: %(err)s"),
    N_("the timer expression is not allowed: %(err)s"),
)
_RULE = (
    N_("decision rule %(row)s is not a valid expression: %(err)s"),
    N_("decision rule %(row)s is not allowed: %(err)s"),
)
_SCRIPT = {
    "script": N_("the script is not allowed: %(err)s"),
    "prescript": N_("the prescript is not allowed: %(err)s"),
    "postscript": N_("the postscript is not allowed: %(err)s"),
}
_RULE_OUTPUT = (
    N_("decision rule %(row)s output is not a valid expression: %(err)s"),
    N_("decision rule %(row)s output is not allowed: %(err)s"),
)


def _expression_problem(
    source: str, element_id: str, what: tuple[str, str], **params: Any
) -> DiagramError | None:
    try:
        expressions.check(source)
    except InvalidExpression as err:
        detail = str(err).removeprefix("not a valid expression: ")
        return DiagramError(what[0], element_id=element_id, params={**params, "err": detail})
    except UnsafeExpression as err:
        return DiagramError(what[1], element_id=element_id, params={**params, "err": str(err)})
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
                    add(
                        DiagramError(
                            N_("the user task names no form (formKey property)"),
                            element_id=spec.name,
                        )
                    )
                elif key not in rules.form_keys:
                    add(
                        DiagramError(
                            N_("the form '%(form)s' does not exist"),
                            element_id=spec.name,
                            params={"form": key},
                        )
                    )
                if lane is None or lane not in rules.lane_roles:
                    add(
                        DiagramError(
                            N_("the user task's lane '%(lane)s' maps to no role"),
                            element_id=spec.name,
                            params={"lane": str(lane)},
                        )
                    )
            elif (
                lane is not None
                and lane not in rules.lane_roles
                and lane not in rules.automatic_lanes
            ):
                add(
                    DiagramError(
                        N_("the lane '%(lane)s' maps to no role"),
                        element_id=spec.name,
                        params={"lane": lane},
                    )
                )
            if isinstance(spec, ServiceTask):
                problems.extend(_check_service(spec, rules.operations))
            definition = getattr(spec, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                problems.extend(_check_timer(spec.name, definition))
            for condition, _target in getattr(spec, "cond_task_specs", None) or []:
                source = condition.args[0] if getattr(condition, "args", None) else None
                if isinstance(source, str):
                    p = _expression_problem(source, spec.name, _GATEWAY)
                    if p:
                        add(p)
            for script_attr in ("script", "prescript", "postscript"):
                source = getattr(spec, script_attr, None)
                if isinstance(source, str) and source.strip():
                    try:
                        expressions.compile_script(source)
                    except UnsafeExpression as err:
                        add(
                            DiagramError(
                                _SCRIPT[script_attr], element_id=spec.name, params={"err": str(err)}
                            )
                        )
            problems.extend(_check_decision(spec))
    return problems


def _check_service(spec: ServiceTask, operations: OperationRegistry) -> list[DiagramError]:
    if spec.operation_name not in operations:
        return [
            DiagramError(
                N_("the service operation '%(operation)s' does not exist"),
                element_id=spec.name,
                params={"operation": spec.operation_name},
            )
        ]
    op = operations.get(spec.operation_name)
    given = set(spec.operation_params or {})
    problems = []
    if given != set(op.params):
        problems.append(
            DiagramError(
                N_(
                    "the operation '%(operation)s' takes parameters %(wanted)s, the diagram gives %(given)s"
                ),
                element_id=spec.name,
                params={
                    "operation": op.name,
                    "wanted": ", ".join(sorted(op.params)) or "—",
                    "given": ", ".join(sorted(given)) or "—",
                },
            )
        )
    for name, param in (spec.operation_params or {}).items():
        p = _expression_problem(param.get("value", ""), spec.name, _PARAMETER, name=name)
        if p:
            problems.append(p)
    return problems


def _check_timer(element_id: str, definition: TimerEventDefinition) -> list[DiagramError]:
    p = _expression_problem(definition.expression, element_id, _TIMER)
    if p:
        return [p]
    if any(
        isinstance(node, ast.Name)
        for node in ast.walk(ast.parse(definition.expression.strip(), mode="eval"))
    ):
        return []  # reads task data (e.g. a due date an operation computed): checked when it runs
    try:
        value = expressions.evaluate(definition.expression, {})
        TimerEventDefinition.parse_time_or_duration(value)
    except Exception as err:  # the library raises plain exceptions for bad ISO 8601
        return [
            DiagramError(
                N_("the timer expression is not an ISO 8601 date or duration: %(err)s"),
                element_id=element_id,
                params={"err": str(err)},
            )
        ]
    return []


def _check_decision(spec: TaskSpec) -> list[DiagramError]:
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
                    except InvalidExpression:
                        p = _expression_problem(
                            f"x {source}", spec.name, _RULE, row=rule.row_number
                        )
                        if p:
                            problems.append(p)
                    except UnsafeExpression as err:
                        problems.append(
                            DiagramError(
                                _RULE[1],
                                element_id=spec.name,
                                params={"row": rule.row_number, "err": str(err)},
                            )
                        )
        for entry in rule.outputEntries:
            if entry.text:
                p = _expression_problem(entry.text, spec.name, _RULE_OUTPUT, row=rule.row_number)
                if p:
                    problems.append(p)
    return problems


_NOT_NODES = {
    "sequenceFlow",
    "laneSet",
    "textAnnotation",
    "association",
    "dataObject",
    "dataObjectReference",
    "dataStoreReference",
    "group",
    "extensionElements",
    "documentation",
    "ioSpecification",
    "property",
}


def check_structure(files: Mapping[str, str]) -> list[DiagramError]:
    """Every flow node can be reached from a start event, and every path from it reaches an end.

    Each process and embedded subprocess is a graph of its own: sequence flows, plus an edge from
    an activity to each boundary event attached to it. A node reached from no start event is
    unreachable; a node with no way on is a dead end unless it is an end event; a node from which
    no end event can be reached (a loop with no way out) never ends.
    """
    from engine.diagrams import parse_xml  # the safe parser, as everywhere

    problems: list[DiagramError] = []
    roots = {
        name: parse_xml(text, name)
        for name, text in sorted(files.items())
        if name.endswith(".bpmn")
    }
    for name, root in roots.items():
        for scope in root.iter(f"{{{BPMN_NS}}}process", f"{{{BPMN_NS}}}subProcess"):
            problems.extend(_check_scope(scope, name))
    return problems + check_calls(roots)


_Call = tuple[str | None, str | None, str]  # (call activity id, called process id, file name)


def check_calls(roots: Mapping[str, etree._Element]) -> list[DiagramError]:
    """A call activity may not call, directly or through other processes, the process it is in.

    The library would run such a diagram without end, each call starting one more copy.
    """
    calls: dict[str | None, list[_Call]] = {}  # process id -> (activity id, called id, file)
    for name, root in roots.items():
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            calls[process.get("id")] = [
                (a.get("id"), a.get("calledElement"), name)
                for a in process.iter(f"{{{BPMN_NS}}}callActivity")
            ]
    problems = []
    for process_id, activities in sorted(calls.items()):
        for activity_id, called, name in activities:
            chain = _call_chain(called, process_id, calls)
            if chain is not None:
                problems.append(
                    DiagramError(
                        N_(
                            "this call activity calls its own process again (%(chain)s): the calls would never end"
                        ),
                        element_id=activity_id,
                        file=name,
                        params={"chain": " → ".join(str(step) for step in [process_id, *chain])},
                    )
                )
    return problems


def _call_chain(
    start: str | None, goal: str | None, calls: Mapping[str | None, list[_Call]]
) -> list[str | None] | None:
    """The processes called from ``start`` on until ``goal`` is called again, or None if it never is."""
    paths: dict[str | None, list[str | None]] = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        if current == goal:
            return paths[current]
        for _activity, called, _file in calls.get(current, ()):
            if called not in paths:
                paths[called] = [*paths[current], called]
                todo.append(called)
    return None


def _check_scope(scope: etree._Element, filename: str) -> list[DiagramError]:
    nodes: dict[str, str] = {}
    edges: dict[str, set[str]] = {}
    for child in scope:
        if not isinstance(child.tag, str) or not child.tag.startswith(f"{{{BPMN_NS}}}"):
            continue
        kind = child.tag.split("}", 1)[1]
        if kind not in _NOT_NODES and child.get("id"):
            nodes[child.get("id")] = kind
    for child in scope.iterchildren(f"{{{BPMN_NS}}}sequenceFlow"):
        source, target = child.get("sourceRef"), child.get("targetRef")
        if source in nodes and target in nodes:
            edges.setdefault(source, set()).add(target)
    for child in scope.iterchildren(f"{{{BPMN_NS}}}boundaryEvent"):
        host = child.get("attachedToRef")
        if host in nodes:
            edges.setdefault(host, set()).add(child.get("id"))
    starts = [n for n, kind in nodes.items() if kind == "startEvent"]
    ends = {n for n, kind in nodes.items() if kind == "endEvent"}
    reached = _closure(starts, edges)
    back: dict[str, set[str]] = {}
    for source, targets in edges.items():
        for target in targets:
            back.setdefault(target, set()).add(source)
    dead_ends = {n for n in reached if n not in ends and not edges.get(n)}
    finishing = _closure(
        ends | dead_ends, back
    )  # a dead end is reported once, not on every step before it
    problems = []
    for node_id, kind in nodes.items():
        if node_id not in reached:
            problems.append(
                DiagramError(
                    N_("this element cannot be reached from a start event"),
                    element_id=node_id,
                    file=filename,
                )
            )
        elif kind != "endEvent" and not edges.get(node_id):
            problems.append(
                DiagramError(
                    N_("the path stops here: add an outgoing flow or an end event"),
                    element_id=node_id,
                    file=filename,
                )
            )
        elif node_id not in finishing:
            problems.append(
                DiagramError(
                    N_("no path from this element reaches an end event"),
                    element_id=node_id,
                    file=filename,
                )
            )
    return problems


def _closure(starts: Iterable[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(starts)
    todo = list(seen)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def checker(rules: DeployRules) -> Callable[[ParsedProcess, Mapping[str, str]], list[DiagramError]]:
    return lambda parsed, files: check_process(parsed, rules) + check_structure(files)
