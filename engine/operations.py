"""The registry of service operations that diagrams may call by name.

A diagram's service task names an operation and its parameters; the operation is a plain
vetted Python function registered here by the domain package at start-up. The engine passes
it an :class:`OperationContext` with the unit of work and collaborators.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from engine.errors import UnknownOperation

OpFunc = TypeVar("OpFunc", bound=Callable[..., dict[str, Any] | None])


@dataclass
class OperationContext:
    """What an operation may use: the session (it flushes, never commits) and collaborators."""

    session: Session
    instance_id: int
    task_name: str
    data: dict[
        str, Any
    ]  # the task's data (read it; return new values instead of mutating nested ones)
    now: datetime
    services: Any  # the application's collaborators (settings, file store, mail outbox, ...)
    actor_id: int | None = None


@dataclass(frozen=True)
class Operation:
    name: str
    func: Callable[..., dict[str, Any] | None]
    params: dict[str, str]  # parameter name -> type name as written in the diagram ("int", "str")


class OperationRegistry:
    """Operations by name. Diagrams write ``<namespace>/<name>`` (the operator's XML id must differ
    from its task's id, which is the bare name); the namespace prefix is optional here."""

    def __init__(self, namespace: str = "saygac") -> None:
        self.namespace = namespace
        self._ops: dict[str, Operation] = {}

    def _key(self, name: str) -> str:
        return name.removeprefix(f"{self.namespace}/")

    def register(
        self, name: str, params: dict[str, str] | None = None
    ) -> Callable[[OpFunc], OpFunc]:
        """Decorator: ``@ops.register("post_reading", {"application_id": "int"})``."""

        def deco(func: OpFunc) -> OpFunc:
            if name in self._ops:
                raise ValueError(f"operation {name} registered twice")
            self._ops[name] = Operation(name, func, dict(params or {}))
            return func

        return deco

    def get(self, name: str) -> Operation:
        try:
            return self._ops[self._key(name)]
        except KeyError:
            raise UnknownOperation(f"service operation '{name}' does not exist") from None

    def __contains__(self, name: str) -> bool:
        return self._key(name) in self._ops

    def names(self) -> list[str]:
        return sorted(self._ops)
