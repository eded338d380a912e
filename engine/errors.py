"""All exceptions of the runtime, in one place."""

from __future__ import annotations


class EngineError(Exception):
    """Base class; ``str(err)`` is a message fit to show an operator or analyst."""


class ExpressionError(EngineError):
    """Anything the safe evaluator refuses or cannot compute: the only errors it raises."""


class UnsafeExpression(ExpressionError):
    """An expression or script uses something the safe evaluator does not allow."""

    def __init__(self, message: str, expression: str = ""):
        super().__init__(message)
        self.expression = expression


class InvalidExpression(UnsafeExpression):
    """The text is not an expression at all: a syntax error, or nesting the parser gives up on."""


class EvaluationError(ExpressionError):
    """A safe expression failed while evaluating (unknown name, wrong type, too much work)."""


def N_(message: str) -> str:
    """Mark an engine message id for the catalogue extractor; the web layer translates it."""
    return message


class DiagramError(EngineError):
    """A diagram does not parse, validate or pass saygac's checks."""

    def __init__(
        self,
        message: str,
        element_id: str | None = None,
        file: str | None = None,
        line: int | None = None,
        params: dict[str, object] | None = None,
    ):
        """``message`` is a message id (``%(name)s`` placeholders filled from ``params``): the web
        layer shows it translated from ``msgid`` and ``params``; ``message`` is the English text."""
        self.msgid = message
        self.params = dict(params or {})
        message = message % self.params if self.params else message
        where = ", ".join(
            p
            for p in (
                f"file {file}" if file else "",
                f"line {line}" if line else "",
                f"element {element_id}" if element_id else "",
            )
            if p
        )
        super().__init__(f"{message} ({where})" if where else message)
        self.message = message
        self.element_id = element_id
        self.file = file
        self.line = line


class UnknownOperation(EngineError):
    pass


class OperationFailed(EngineError):
    """A service operation raised; the instance is left as it was before the step."""


class WorkItemError(EngineError):
    """A work item cannot be acted on: taken by someone else, not yours, or already done."""


class WorkItemConflict(WorkItemError):
    def __init__(self, message: str, holder: str | None = None):
        super().__init__(message)
        self.holder = holder


class NotFound(EngineError):
    pass
