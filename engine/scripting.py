"""The SpiffWorkflow script engine that saygac runs every diagram with.

Every gateway condition, timer expression, DMN entry, service parameter and script goes
through :mod:`engine.expressions`; service tasks dispatch to the operation registry. The
library does not keep a script engine across deserialisation, so the runtime attaches a
fresh one after every load (see ``engine.runtime``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import (
    BasePythonScriptEngineEnvironment,
)
from SpiffWorkflow.task import Task

from engine import expressions
from engine.errors import (
    ExpressionError,
    InvalidExpression,
    OperationFailed,
    UnsafeExpression,
)
from engine.operations import OperationContext, OperationRegistry


class SafeEnvironment(BasePythonScriptEngineEnvironment):  # type: ignore[misc]  # SpiffWorkflow is untyped
    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        names = dict(context)
        if external_context:
            names.update(external_context)
        return expressions.evaluate(expression, names)

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        names = dict(context)
        if external_context:
            names.update(external_context)
        before = set(names)
        expressions.execute(script, names)
        for key, value in names.items():
            if key not in before or context.get(key) is not value:
                if not external_context or key not in external_context:
                    context[key] = value
        return True

    def call_service(
        self, context: dict[str, Any], **kwargs: Any
    ) -> str:  # pragma: no cover - the engine overrides the path
        raise UnsafeExpression("service calls go through the script engine")


class SafeScriptEngine(PythonScriptEngine):  # type: ignore[misc]  # SpiffWorkflow is untyped
    """A script engine bound to one unit of work: it knows how to build an operation context."""

    def __init__(
        self,
        operations: OperationRegistry,
        context_factory: Callable[..., OperationContext] | None = None,
    ):
        super().__init__(environment=SafeEnvironment())
        self.operations = operations
        self.context_factory = context_factory

    def evaluate(
        self, task: Task, expression: str, external_context: dict[str, Any] | None = None
    ) -> Any:
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionError as err:
            raise WorkflowTaskException(
                f"expression {expression!r} cannot be evaluated: {err}", task=task, exception=err
            ) from err

    def validate(self, expression: str) -> None:
        # Used by the DMN engine to decide whether to add '=='; SyntaxError means "add a left side".
        try:
            expressions.compile_expression(expression)
        except InvalidExpression as err:
            raise SyntaxError(str(err)) from None

    def call_service(
        self,
        task: Task,
        operation_name: str,
        operation_params: dict[str, dict[str, Any]] | None = None,
        **_kwargs: Any,
    ) -> str:
        op = self.operations.get(operation_name)
        params = {name: spec["value"] for name, spec in (operation_params or {}).items()}
        missing = set(op.params) - set(params)
        extra = set(params) - set(op.params)
        if missing or extra:
            raise WorkflowTaskException(
                f"operation '{operation_name}' takes parameters {sorted(op.params)}; "
                f"the diagram gives {sorted(params)}",
                task=task,
            )
        if self.context_factory is None:
            raise OperationFailed(f"operation '{operation_name}' cannot run outside a unit of work")
        ctx = self.context_factory(task)
        try:
            result = op.func(ctx, **params)
        except WorkflowTaskException:
            raise
        except Exception as err:  # the real error, not the library's masking NameError
            raise WorkflowTaskException(
                f"operation '{operation_name}' failed: {type(err).__name__}: {err}",
                task=task,
                exception=err,
            ) from err
        return json.dumps(result if result is not None else {}, default=str)
