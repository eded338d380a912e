"""Scenario tests of a diagram, run in memory: no database, no real service operations.

A scenario is plain JSON kept beside its diagram (``<process>.scenarios.json``) and with each
deployed version::

    {"name": "accepted",
     "steps": [{"task": "identify_subscriber", "data": {...}},   # complete a waiting user task
               {"timer": "review_sla"},                          # fire a waiting timer
               ...],
     "services": {"register_application": {"application_id": 1}, # what each operation returns
                  "post_reading": [{"n": 1}, {"n": 2}]},         # a list: one result per call
     "expect": {"end": "executed", "visited": ["post_reading"]}}

The runner drives the real parsed spec with the safe script engine; service tasks call a stand-in
registry built from the real operations' signatures, so a parameter the operation does not take
fails the scenario just as it would fail in production.

A scenario must prove something: it either reaches an end event or states an expectation
(``end``, ``visited``, ``not_visited`` or ``waiting``); one with neither fails. Runs are
bounded so a diagram that loops without a wait state cannot hold the thread: each scenario
may run at most ``MAX_ENGINE_STEPS`` engine steps and ``SCENARIO_SECONDS`` seconds, and the
scenarios of one check together ``TOTAL_SECONDS``; the budget is checked before every step.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine import spiff_internals
from engine.diagrams import ParsedProcess
from engine.errors import EngineError
from engine.operations import OperationContext, OperationRegistry
from engine.scripting import SafeScriptEngine

MAX_STEPS = 200
MAX_SCENARIOS = 100
MAX_NESTING = 32
MAX_ENGINE_STEPS = 5_000
SCENARIO_SECONDS = 1.0
TOTAL_SECONDS = 5.0
EXPECTATIONS = {"end": str, "visited": list, "not_visited": list, "waiting": list}


class ScenarioError(EngineError):
    """A scenario file is not in the expected shape."""


@dataclass
class ScenarioResult:
    name: str
    passed: bool
    message: str = ""
    end: str | None = None
    visited: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "message": self.message,
            "end": self.end,
            "visited": self.visited,
        }


class _Failed(Exception):
    pass


def load(text: str | bytes) -> list[dict[str, Any]]:
    """Parse and check the shape of a scenarios file."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise ScenarioError("the scenarios are not valid JSON: nested too deeply") from None
    except (ValueError, TypeError) as err:
        raise ScenarioError(f"the scenarios are not valid JSON: {err}") from None
    if isinstance(data, dict):
        data = data.get("scenarios")
    validate_shape(data)
    scenarios: list[dict[str, Any]] = data
    return scenarios


def _too_deep(value: object, limit: int) -> bool:
    """True if lists and objects in ``value`` nest more than ``limit`` levels (walked without recursion)."""
    todo = [(value, 0)]
    while todo:
        item, depth = todo.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            todo.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            todo.extend((v, depth + 1) for v in item)
    return False


def validate_shape(data: object) -> None:
    if not isinstance(data, list) or len(data) > MAX_SCENARIOS:
        raise ScenarioError(f"scenarios must be a list of at most {MAX_SCENARIOS} objects")
    if _too_deep(data, MAX_NESTING):
        raise ScenarioError(
            f"the scenarios nest lists and objects more than {MAX_NESTING} levels deep"
        )
    names = set()
    for i, sc in enumerate(data, 1):
        if (
            not isinstance(sc, dict)
            or not isinstance(sc.get("name"), str)
            or not sc["name"].strip()
        ):
            raise ScenarioError(f"scenario {i} needs a name")
        if sc["name"] in names:
            raise ScenarioError(f"two scenarios are called '{sc['name']}'")
        names.add(sc["name"])
        steps = sc.get("steps", [])
        if (
            not isinstance(steps, list)
            or len(steps) > MAX_STEPS
            or not all(
                isinstance(s, dict)
                and (isinstance(s.get("task"), str) or isinstance(s.get("timer"), str))
                for s in steps
            )
        ):
            raise ScenarioError(f"scenario '{sc['name']}': each step names a task or a timer")
        if not isinstance(sc.get("services", {}), dict) or not isinstance(
            sc.get("expect", {}), dict
        ):
            raise ScenarioError(f"scenario '{sc['name']}': services and expect must be objects")
        for key, value in sc.get("expect", {}).items():
            kind = EXPECTATIONS.get(key)
            if kind is None:
                raise ScenarioError(
                    f"scenario '{sc['name']}': '{key}' is not an expectation; "
                    f"use {', '.join(EXPECTATIONS)}"
                )
            if not isinstance(value, kind) or (
                kind is list and not all(isinstance(v, str) for v in value)
            ):
                what = "an element id" if kind is str else "a list of element ids"
                raise ScenarioError(f"scenario '{sc['name']}': expect '{key}' must be {what}")


def stand_in_registry(real: OperationRegistry, results: Mapping[str, Any]) -> OperationRegistry:
    """Operations with the real names and parameters that return the scenario's canned results."""
    registry = OperationRegistry(real.namespace)
    calls: dict[str, int] = {}
    for name in real.names():
        op = real.get(name)

        def func(ctx: OperationContext, _name: str = name, **_params: Any) -> Any:
            if _name not in results:
                raise _Failed(f"the scenario gives no result for service operation '{_name}'")
            given = results[_name]
            n = calls.get(_name, 0)
            calls[_name] = n + 1
            if isinstance(given, list):
                if n >= len(given):
                    raise _Failed(
                        f"service operation '{_name}' ran {n + 1} times; the scenario gives {len(given)} results"
                    )
                given = given[n]
            return given

        registry.register(name, op.params)(func)
    return registry


class _Budget:
    """Engine steps and seconds left to one scenario; checked before every engine step."""

    def __init__(self, seconds: float = SCENARIO_SECONDS, steps: int = MAX_ENGINE_STEPS):
        self.deadline = time.monotonic() + seconds
        self.steps_left = steps

    def __call__(self, _task: Task | None = None) -> None:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise _Failed(
                f"the diagram ran more than {MAX_ENGINE_STEPS} steps without waiting: "
                "does it loop without a way out?"
            )
        if time.monotonic() > self.deadline:
            raise _Failed("the scenario ran out of time: does the diagram loop without a way out?")


def run_scenario(
    parsed: ParsedProcess,
    operations: OperationRegistry,
    scenario: dict[str, Any],
    seconds: float = SCENARIO_SECONDS,
) -> ScenarioResult:
    name = scenario.get("name", "?")
    visited: list[str] = []
    try:
        wf = _run(parsed, operations, scenario, _Budget(seconds))
        visited = _completed(wf)
        end = _end_event(wf) if wf.is_completed() else None
        expect = scenario.get("expect", {})
        if end is None and not any(expect.get(key) not in (None, []) for key in EXPECTATIONS):
            raise _Failed(
                "the scenario neither reaches an end event nor expects anything: "
                "add steps or an expectation"
            )
        _expect(expect, wf, end, visited)
    except (_Failed, ScenarioError) as err:
        return ScenarioResult(name, False, str(err), visited=visited)
    except (SpiffWorkflowException, EngineError) as err:
        return ScenarioResult(
            name, False, f"the diagram failed: {_root_cause(err)}", visited=visited
        )
    except RecursionError:
        return ScenarioResult(
            name, False, "the scenario's data is nested too deeply", visited=visited
        )
    return ScenarioResult(name, True, "", end=end, visited=visited)


def run_all(
    parsed: ParsedProcess, operations: OperationRegistry, scenarios: list[dict[str, Any]]
) -> list[ScenarioResult]:
    """Every scenario, within ``TOTAL_SECONDS`` together: those left when time is up fail unrun."""
    deadline = time.monotonic() + TOTAL_SECONDS
    results = []
    for sc in scenarios:
        left = deadline - time.monotonic()
        if left <= 0:
            results.append(
                ScenarioResult(
                    sc.get("name", "?"), False, "not run: the scenarios before it used all the time"
                )
            )
        else:
            results.append(run_scenario(parsed, operations, sc, min(SCENARIO_SECONDS, left)))
    return results


def _run(
    parsed: ParsedProcess, operations: OperationRegistry, scenario: dict[str, Any], budget: _Budget
) -> BpmnWorkflow:
    registry = stand_in_registry(operations, scenario.get("services", {}))

    def context(task: Task) -> OperationContext:
        # no database in a scenario run: the stand-in operations never touch the session
        return OperationContext(
            session=None,  # type: ignore[arg-type]
            instance_id=0,
            task_name=task.task_spec.name,
            data=task.data,
            now=datetime.now(UTC),
            services=None,
        )

    wf = BpmnWorkflow(parsed.spec, parsed.subprocess_specs)
    wf.script_engine = SafeScriptEngine(registry, context)
    _advance(wf, budget)
    for i, step in enumerate(scenario.get("steps", []), 1):
        if "task" in step:
            task = _find(wf, step["task"], TaskState.READY, manual=True)
            if task is None:
                raise _Failed(
                    f"step {i}: the task '{step['task']}' is not waiting; waiting: {_waiting(wf)}"
                )
            data = step.get("data") or {}
            if not isinstance(data, dict):
                raise ScenarioError(f"step {i}: data must be an object")
            task.data.update(
                json.loads(json.dumps(data))
            )  # a copy: scenarios never share nested values
            task.run()
        else:
            task = _find(wf, step["timer"], TaskState.WAITING)
            if task is None:
                raise _Failed(
                    f"step {i}: the timer '{step['timer']}' is not waiting; waiting: {_waiting(wf)}"
                )
            spiff_internals.fire_event(task)
        _advance(wf, budget)
    return wf


def _advance(wf: BpmnWorkflow, budget: _Budget) -> None:
    try:
        wf.refresh_timers()
        wf.do_engine_steps(will_complete_task=budget)
    except SpiffWorkflowException as err:
        cause = _root_cause(err)
        if isinstance(getattr(err, "exception", None), _Failed):
            raise err.exception from None
        raise _Failed(f"the diagram failed: {cause}") from None


def _root_cause(err: BaseException) -> str:
    inner = getattr(err, "exception", None)
    if isinstance(inner, _Failed):
        return str(inner)
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def _find(wf: BpmnWorkflow, name: str, state: TaskState, manual: bool | None = None) -> Task | None:
    kwargs: dict[str, Any] = {"state": state}
    if manual is not None:
        kwargs["manual"] = manual
    for task in wf.get_tasks(**kwargs):
        if task.task_spec.name == name:
            return task
    return None


def _waiting(wf: BpmnWorkflow) -> str:
    names = sorted(
        {t.task_spec.name for t in wf.get_tasks(state=TaskState.READY, manual=True)}
        | {
            t.task_spec.name
            for t in wf.get_tasks(state=TaskState.WAITING)
            if getattr(t.task_spec, "event_definition", None) is not None
        }
    )
    return ", ".join(names) or "nothing"


def _completed(wf: BpmnWorkflow) -> list[str]:
    tasks = sorted(wf.get_tasks(state=TaskState.COMPLETED), key=lambda t: t.last_state_change)
    return [t.task_spec.name for t in tasks if t.task_spec.bpmn_id]


def _end_event(wf: BpmnWorkflow) -> str | None:
    ends = [
        t
        for t in wf.get_tasks(state=TaskState.COMPLETED, skip_subprocesses=True)
        if isinstance(t.task_spec, EndEvent)
    ]
    return max(ends, key=lambda t: t.last_state_change).task_spec.name if ends else None


def _expect(expect: dict[str, Any], wf: BpmnWorkflow, end: str | None, visited: list[str]) -> None:
    wanted_end = expect.get("end")
    if wanted_end is not None:
        if not wf.is_completed():
            raise _Failed(
                f"expected to end at '{wanted_end}', but the process still waits at: {_waiting(wf)}"
            )
        if end != wanted_end:
            raise _Failed(f"expected to end at '{wanted_end}', but it ended at '{end}'")
    missing = [name for name in expect.get("visited", []) if name not in visited]
    if missing:
        raise _Failed(f"expected to pass through {', '.join(missing)}, but it did not")
    never = [name for name in expect.get("not_visited", []) if name in visited]
    if never:
        raise _Failed(f"expected not to pass through {', '.join(never)}, but it did")
    waiting = expect.get("waiting")
    if waiting is not None and _waiting(wf) != ", ".join(sorted(waiting)):
        raise _Failed(
            f"expected to wait at {', '.join(sorted(waiting))}, but it waits at {_waiting(wf)}"
        )
