"""Structured logs: one JSON object per line (structlog over the standard library's logging).

Every line carries what is bound in the current context: ``request_id`` and ``actor_id`` in a web
request, ``job_id`` (and the ``request_id`` of the request that created the job) in a worker,
``instance_id``, ``application_number`` and ``diagram_version`` where the code binds them. Ids
only: no names, addresses, e-mail addresses, tokens or secrets (the log lines of the application
name records by id; ``tests/web`` checks that a submission's log carries no personal data).

Production writes JSON lines (``[app] mode = "production"``); the embedded mode the same fields
readable for a person.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars
from structlog.typing import Processor

__all__ = ["bind", "carried", "clear", "configure", "context_for_job"]

CARRIED = ("request_id", "actor_id")  # what a job inherits from the request that created it


def configure(json_lines: bool, level: int = logging.INFO) -> None:
    """Route the standard library's logging (the application's and the libraries') through structlog."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
    ]
    renderer = (
        structlog.processors.JSONRenderer()
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def bind(**values: Any) -> None:
    bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def clear() -> None:
    clear_contextvars()


def context_for_job() -> dict[str, Any]:
    """The ids a job created now should log with (stored with the job)."""
    current = get_contextvars()
    return {key: current[key] for key in CARRIED if key in current}


def carried(args: dict[str, Any]) -> dict[str, Any]:
    return dict(args.get("_log") or {})
