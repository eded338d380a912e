"""Loading what every job needs once, in the worker's main process, before it forks job processes.

rq's default worker forks a work horse per job; whatever the main process has loaded the horse
inherits for free, whatever it has not is loaded again in every job and thrown away when the
horse exits. Without this an invoice job re-read the fonts and re-parsed the diagram and the
DMN table (tens of milliseconds) on every run. Loaded here:

- the invoice fonts and their base subset (``workflow.documents.warm_up``);
- the parsed spec of the newest version of every process and of every version an unfinished
  instance runs on (``SpecRegistry.parsed_by_id``), so a job parses nothing;
- the modules a job imports lazily (the PDF library's pieces, the DMN engine).

The connection pool used to read the versions is emptied afterwards, so no database connection
is shared between the main process and its forks, and the objects loaded so far are moved out of
the garbage collector's reach (``gc.freeze``): a job's collections then do not touch, and so do
not copy, the pages its work horse shares with the main process.
"""

from __future__ import annotations

import gc
import logging
import time

from sqlalchemy import func, or_, select

from engine.models import ProcessInstance, ProcessVersion
from workflow import documents
from workflow.system import System

log = logging.getLogger(__name__)


def warm_up(system: System) -> dict[str, float]:
    """Load fonts and parsed specs now; returns what was loaded and how long it took (ms)."""
    started = time.perf_counter()
    documents.warm_up(system.settings.files.font_dir)
    fonts_ms = (time.perf_counter() - started) * 1000
    with system.sessions() as session:
        newest = select(func.max(ProcessVersion.id)).group_by(ProcessVersion.process_id)
        live = select(ProcessInstance.version_id).where(
            ProcessInstance.status.in_(("running", "waiting"))
        )
        ids = session.scalars(
            select(ProcessVersion.id).where(
                or_(ProcessVersion.id.in_(newest), ProcessVersion.id.in_(live))
            )
        ).all()
        for version_id in ids:
            system.specs.parsed_by_id(session, version_id)
    system.db.dispose()  # no connection may cross the fork
    gc.collect()
    gc.freeze()  # what is loaded now is never scanned by a job's collector (no copy-on-write of it)
    figures = {
        "fonts_ms": fonts_ms,
        "specs": len(ids),
        "total_ms": (time.perf_counter() - started) * 1000,
    }
    log.info(
        "worker warmed up: %(specs)d process versions parsed, fonts in %(fonts_ms).0f ms, "
        "%(total_ms).0f ms in all",
        figures,
    )
    return figures
