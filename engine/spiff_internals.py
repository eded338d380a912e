"""Every use of SpiffWorkflow's private names, in one place (SpiffWorkflow 3.2.x).

The rest of ``engine/`` uses the library's public API; what follows has no public equivalent:

- The task tree's links are ids (``Task._parent``, ``Task._children``). The public ``parent`` and
  ``children`` properties look each id up in ``workflow.tasks``, which a loader has not filled
  yet while it builds the tasks, and which would drop links to tasks not (yet) in the tree.
- Timer and boundary events keep their state in the task's internal data under the keys
  ``event_fired`` and ``event_value`` (``EventDefinition.has_fired``,
  ``TimerEventDefinition.update_task``); firing a timer from outside (the sweep, scenario tests)
  sets the same key the library would.
- A subprocess's parent task is re-evaluated by ``TaskSpec._update`` when the subprocess ran a
  step, as the library's own ``do_engine_steps`` does.
- The serializer's JSON encoding: the registry's encoder mode makes ``convert`` leave nested
  values to the encoder (``serialize_json`` sets the same flag), so compact state is written
  in one pass.

``tests/unit/test_spiff_internals.py`` pins each of these against the installed version;
``SUPPORTED`` is the range it is known to hold for (``pyproject.toml`` pins the same range).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.helpers.encoder import create_encoder
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.task import Task

SUPPORTED = (">=3.2.0", "<3.3")
FIRED = "event_fired"
VALUE = "event_value"


def child_ids(task: Task) -> list[UUID]:
    """The ids of ``task``'s children, in order, whether or not they are in ``workflow.tasks``."""
    return list(task._children)


def parent_id(task: Task) -> UUID | None:
    parent: UUID | None = task._parent
    return parent


def set_children(task: Task, children: Iterable[UUID]) -> None:
    """Set ``task``'s children by id (a loader restoring a stored tree)."""
    task._children = list(children)


def set_parent(task: Task, parent: UUID | None) -> None:
    task._parent = parent


def fire_event(task: Task) -> None:
    """Mark a waiting timer (or other catching) event as fired; the next engine step moves on."""
    task.internal_data[FIRED] = True


def event_value(task: Task) -> Any:
    """What a timer event computed when it started waiting (an ISO date-time, or a cycle dict)."""
    return task.internal_data.get(VALUE)


def update_parent(task: Task) -> None:
    """Let the task that holds a subprocess look at the subprocess again (did it finish?)."""
    task.task_spec._update(task)


@contextmanager
def encoding(registry: DefaultRegistry) -> Iterator[type]:
    """The registry in encoder mode for the block, and the JSON encoder class that goes with it."""
    registry._encoder_mode = True
    try:
        yield _encoder(registry)
    finally:
        registry._encoder_mode = False


@lru_cache(maxsize=8)
def _encoder(registry: DefaultRegistry) -> type:
    encoder: type = create_encoder(registry)
    return encoder
