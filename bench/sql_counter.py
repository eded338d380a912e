"""Counts SQL statements, commits and pool pings inside server processes the benchmarks start.

``install(directory)`` hooks SQLAlchemy's engine events in the current process; after each
transaction ends the process writes its totals to ``<directory>/<pid>.json``. A forked child
(an rq work horse) starts from zero and writes its own file, so the sum over the files is the
total. Only the benchmarks load this (through ``bench/gunicorn_conf.py`` and the worker command
of ``bench/http_load.py``); the application knows nothing of it.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

_counts = {"statements": 0, "commits": 0, "rollbacks": 0, "pings": 0}
_directory: Path | None = None


def _dump() -> None:
    """Write the totals; never raises (it runs inside SQLAlchemy's commit and rollback events,
    possibly in two threads of one process at once: the embedded mode's sweep thread)."""
    if _directory is not None:
        path = _directory / f"{os.getpid()}.json"
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            tmp.write_text(json.dumps(_counts))
            tmp.replace(path)
        except OSError:  # the next transaction writes them again
            pass


def _reset() -> None:
    for key in _counts:
        _counts[key] = 0


def install(directory: str | Path) -> None:
    global _directory
    from sqlalchemy import event
    from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
    from sqlalchemy.engine import Engine

    _directory = Path(directory)
    _directory.mkdir(parents=True, exist_ok=True)

    @event.listens_for(Engine, "before_cursor_execute")
    def _statement(*_args):
        _counts["statements"] += 1

    @event.listens_for(Engine, "commit")
    def _commit(_conn):
        _counts["commits"] += 1
        _dump()

    @event.listens_for(Engine, "rollback")
    def _rollback(_conn):
        _counts["rollbacks"] += 1
        _dump()

    original = PGDialect_psycopg.do_ping

    def do_ping(self, dbapi_connection):
        _counts["pings"] += 1
        return original(self, dbapi_connection)

    PGDialect_psycopg.do_ping = do_ping
    os.register_at_fork(after_in_child=_reset)


def totals(directory: str | Path) -> dict[str, int]:
    out = dict.fromkeys(_counts, 0)
    for path in Path(directory).glob("*.json"):
        try:
            values = json.loads(path.read_text())
        except (OSError, ValueError):  # being replaced right now: the next read sees it
            continue
        for key in out:
            out[key] += values.get(key, 0)
    return out
