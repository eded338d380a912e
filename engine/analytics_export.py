"""The process event log as files for analysts: CSV for spreadsheets, XES (IEEE 1849-2016) for
process-mining tools (pm4py, ProM, Disco).

Both are filtered like the pages: versions, a half-open time range on the event's time, and units.
A case is one instance, named by its application reference (or ``instance-<id>`` before it has
one). Rows hold no personal data. Events stream out in (instance, id) order so a large export does
not sit in memory.

CSV cells that a spreadsheet would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return) are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from datetime import datetime
from xml.sax.saxutils import quoteattr

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.analytics import Scope
from engine.db import as_utc
from engine.eventlog import (
    INSTANCE_ENDED,
    INSTANCE_STARTED,
    TASK_CANCELLED,
    TASK_CLAIMED,
    TASK_COMPLETED,
    TASK_READY,
    ProcessEvent,
)

CSV_COLUMNS = (
    "case",
    "instance_id",
    "version_id",
    "activity",
    "event",
    "time",
    "unit",
    "role",
    "detail",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# XES standard lifecycle transitions of a user task's visit; other events are instantaneous
TRANSITIONS = {
    TASK_READY: "schedule",
    TASK_CLAIMED: "start",
    TASK_COMPLETED: "complete",
    TASK_CANCELLED: "withdraw",
}
BATCH = 5000


def neutralise(value: object) -> str:
    """A cell as text, with an apostrophe before anything a spreadsheet would take for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def scoped_events(session: Session, scope: Scope) -> Iterator[tuple[ProcessEvent, str]]:
    """The scope's events with their case name (the instance's application reference, as the
    exported events name it, or ``instance-<id>``)."""
    reference = func.max(ProcessEvent.reference).over(partition_by=ProcessEvent.instance_id)
    stmt = select(ProcessEvent, reference).where(
        ProcessEvent.version_id.in_(scope.version_ids),
        ProcessEvent.at >= scope.start,
        ProcessEvent.at < scope.end,
    )
    if scope.unit_ids is not None:
        stmt = stmt.where(ProcessEvent.unit_id.in_(scope.unit_ids))
    result = session.execute(
        stmt.order_by(ProcessEvent.instance_id, ProcessEvent.id).execution_options(yield_per=BATCH)
    )
    for event, ref in result:
        yield event, ref or f"instance-{event.instance_id}"


def activity(event: ProcessEvent) -> str:
    """What the event is called in a process-mining tool: the flow node, or the kind for an
    instance's start."""
    if event.kind == INSTANCE_STARTED:
        return "start"
    if event.kind == INSTANCE_ENDED:
        return f"end:{event.node or event.detail}"
    return event.node or event.kind


def to_csv(session: Session, scope: Scope, unit_codes: Mapping[int, str]) -> Iterator[str]:
    """The events as CSV text, a chunk at a time (header first)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for n, (ev, case) in enumerate(scoped_events(session, scope), start=1):
        writer.writerow(
            [
                neutralise(v)
                for v in (
                    case,
                    ev.instance_id,
                    ev.version_id,
                    activity(ev),
                    ev.kind,
                    as_utc(ev.at).isoformat(),
                    unit_codes.get(ev.unit_id, "") if ev.unit_id is not None else "",
                    ev.role,
                    ev.detail,
                )
            ]
        )
        if n % 1000 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _attr(kind: str, key: str, value: str) -> str:
    return f"<{kind} key={quoteattr(key)} value={quoteattr(value)}/>"


def _xes_time(value: datetime) -> str:
    return as_utc(value).isoformat(timespec="milliseconds")


XES_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<log xes.version="1849-2016" xes.features="" xmlns="http://www.xes-standard.org/">
<extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
<extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
<extension name="Lifecycle" prefix="lifecycle" uri="http://www.xes-standard.org/lifecycle.xesext"/>
<extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
<global scope="trace"><string key="concept:name" value="UNKNOWN"/></global>
<global scope="event"><string key="concept:name" value="UNKNOWN"/><date key="time:timestamp" \
value="1970-01-01T00:00:00.000+00:00"/><string key="lifecycle:transition" value="complete"/></global>
<classifier name="Activity" keys="concept:name"/>
<classifier name="Activity and transition" keys="concept:name lifecycle:transition"/>
"""


def to_xes(
    session: Session, scope: Scope, unit_codes: Mapping[int, str], title: str
) -> Iterator[str]:
    """The events as an XES log, one trace per instance, a chunk at a time."""
    yield XES_HEAD + _attr("string", "concept:name", title) + "\n"
    current = None
    parts: list[str] = []
    for ev, case in scoped_events(session, scope):
        if ev.instance_id != current:
            if current is not None:
                parts.append("</trace>\n")
            current = ev.instance_id
            parts.append(
                "<trace>"
                + _attr("string", "concept:name", case)
                + _attr("int", "instance", str(ev.instance_id))
                + _attr("int", "version", str(ev.version_id))
                + "\n"
            )
        attrs = [
            _attr("string", "concept:name", activity(ev)),
            _attr("date", "time:timestamp", _xes_time(ev.at)),
            _attr("string", "lifecycle:transition", TRANSITIONS.get(ev.kind, "complete")),
            _attr("string", "event", ev.kind),
        ]
        if ev.unit_id is not None:
            attrs.append(_attr("string", "org:group", unit_codes.get(ev.unit_id, str(ev.unit_id))))
        if ev.role:
            attrs.append(_attr("string", "org:role", ev.role))
        if ev.detail:
            attrs.append(_attr("string", "detail", ev.detail))
        parts.append("<event>" + "".join(attrs) + "</event>\n")
        if len(parts) >= 1000:
            yield "".join(parts)
            parts = []
    if current is not None:
        parts.append("</trace>\n")
    parts.append("</log>\n")
    yield "".join(parts)
