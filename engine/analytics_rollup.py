"""Pre-aggregated analytics: what the pages read, so a year of a million applications answers fast.

:func:`refresh` folds the event log day by day (a *day* is a local calendar day) with the same
rules as :mod:`engine.analytics` (visits, cases, submissions) and stores per day, version, unit
and node (or path) the counts and duration histograms; a month's rows are the sum of its days'.
A query for a range reads the months wholly inside it and the days at its edges.

Durations are kept in histograms with classes 10% wide (the first class is under a minute), so
medians and 90th percentiles read from here are within 10% of the exact figures; counts and
shares are exact. :func:`refresh_due` (called by the sweep) refreshes the current and previous
day every few minutes; the page names the time of the last refresh.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    ColumnElement,
    Date,
    DateTime,
    Integer,
    Row,
    String,
    and_,
    case,
    delete,
    func,
    insert,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine import analytics
from engine.analytics import CYCLE_BUCKETS_DAYS, Case, Scope, cycle_histogram
from engine.db import Base, as_utc
from engine.eventlog import ProcessEvent

GROWTH = 1.1  # each duration class is 10% wider than the one before
FIRST = 60.0  # seconds: the first class holds everything under a minute
SUBMITTED = "_submitted"  # the case row that counts submissions rather than ended cases
REFRESH_EVERY = timedelta(minutes=5)
CATCH_UP_DAYS = 31
NO_UNIT = 0


class NodeDay(Base):
    """Visits that passed a node on one day (``grain`` "d") or in one month ("m", day = the 1st)."""

    __tablename__ = "analytics_node_day"
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no unit
    node: Mapped[str] = mapped_column(String(64), primary_key=True)
    passed: Mapped[int] = mapped_column(Integer)
    breached: Mapped[int] = mapped_column(Integer)
    wait_hist: Mapped[dict[str, int]] = mapped_column(JSON)  # class -> count
    work_hist: Mapped[dict[str, int]] = mapped_column(JSON)


class CaseDay(Base):
    """Cases that ended on a day (or month) by path, and (path ``_submitted``) cases submitted."""

    __tablename__ = "analytics_case_day"
    grain: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    version_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(String(32), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer)
    cycle_hist: Mapped[dict[str, int]] = mapped_column(JSON)  # duration class -> count
    cycle_days: Mapped[list[int]] = mapped_column(JSON)  # counts per CYCLE_BUCKETS_DAYS bucket


class RollupState(Base):
    """When the rollup was last refreshed (one row)."""

    __tablename__ = "analytics_rollup_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    refreshed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def duration_class(seconds: float) -> int:
    return 0 if seconds < FIRST else 1 + int(math.log(seconds / FIRST, GROWTH))


def class_bounds(k: int) -> tuple[float, float]:
    return (0.0, FIRST) if k == 0 else (FIRST * GROWTH ** (k - 1), FIRST * GROWTH**k)


def histogram(values: Iterable[float]) -> dict[str, int]:
    return {str(k): n for k, n in Counter(duration_class(v) for v in values).items()}


def hist_percentile(hist: Counter[int], q: float) -> float | None:
    """The q-quantile read from a histogram: ranks interpolated linearly as in
    :func:`engine.analytics.percentile`, each rank's value placed evenly inside its class."""
    total = sum(hist.values())
    if not total:
        return None
    classes = sorted(hist.items())

    def value_at(rank: int) -> float:
        seen = 0
        for k, n in classes:
            if seen + n > rank:
                low, high = class_bounds(k)
                return low + (high - low) * ((rank - seen + 0.5) / n)
            seen += n
        return class_bounds(classes[-1][0])[1]

    rank = q * (total - 1)
    low = int(rank)
    high = min(low + 1, total - 1)
    return value_at(low) + (value_at(high) - value_at(low)) * (rank - low)


def _known(values: Iterable[float | None]) -> list[float]:
    """The values that are known: a completed visit's waiting and working times always are."""
    return [v for v in values if v is not None]


def _merge(rows: Iterable[dict[str, int]]) -> Counter[int]:
    total: Counter[int] = Counter()
    for hist in rows:
        for k, n in hist.items():
            total[int(k)] += n
    return total


# -- refreshing -------------------------------------------------------------------------------


def _bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=zone)
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)


def _refresh_day(
    session: Session,
    day: date,
    zone: ZoneInfo,
    version_ids: tuple[int, ...],
    classify: Callable[[Case], str],
) -> None:
    start, end = _bounds(day, zone)
    scope = Scope(version_ids, start, end)
    session.execute(delete(NodeDay).where(NodeDay.grain == "d", NodeDay.day == day))
    session.execute(delete(CaseDay).where(CaseDay.grain == "d", CaseDay.day == day))
    groups: dict[tuple[int, int, str], list[analytics.Visit]] = defaultdict(list)
    for visit in analytics.visits(session, scope):
        groups[(visit.version_id, visit.unit_id or NO_UNIT, visit.node)].append(visit)
    rows = [
        {
            "grain": "d",
            "day": day,
            "version_id": v,
            "unit_id": u,
            "node": node,
            "passed": len(group),
            "breached": sum(x.breached for x in group),
            "wait_hist": histogram(_known(x.waiting for x in group)),
            "work_hist": histogram(_known(x.working for x in group)),
        }
        for (v, u, node), group in groups.items()
    ]
    if rows:
        session.execute(insert(NodeDay), rows)
    ended: dict[tuple[int, int, str], list[float]] = defaultdict(list)
    for ended_case in analytics.cases(session, scope):
        key = (ended_case.version_id, ended_case.unit_id or NO_UNIT, classify(ended_case))
        ended[key].append(ended_case.cycle_seconds or 0.0)
    submitted: Counter[tuple[int, int, str]] = Counter(
        (v, u, SUBMITTED) for _i, v, u, _at in analytics.submissions(session, scope)
    )
    rows = [
        {
            "grain": "d",
            "day": day,
            "version_id": v,
            "unit_id": u,
            "path": path,
            "cases": len(cycles),
            "cycle_hist": histogram(cycles),
            "cycle_days": cycle_histogram(cycles),
        }
        for (v, u, path), cycles in ended.items()
    ]
    rows += [
        {
            "grain": "d",
            "day": day,
            "version_id": v,
            "unit_id": u,
            "path": path,
            "cases": n,
            "cycle_hist": {},
            "cycle_days": [0] * (len(CYCLE_BUCKETS_DAYS) + 1),
        }
        for (v, u, path), n in submitted.items()
    ]
    if rows:
        session.execute(insert(CaseDay), rows)


def _refresh_month(session: Session, month: date) -> None:
    """A month's rows as the sum of its days' rows."""
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    for table, key, count_cols, hist_cols in (
        (NodeDay, "node", ("passed", "breached"), ("wait_hist", "work_hist")),
        (CaseDay, "path", ("cases",), ("cycle_hist",)),
    ):
        session.execute(delete(table).where(table.grain == "m", table.day == month))
        merged: dict[tuple[int, int, str], dict[str, Any]] = {}  # counts, Counters and cycle_days
        for row in session.execute(
            select(table.__table__).where(
                table.grain == "d", table.day >= month, table.day < following
            )
        ):
            group = (row.version_id, row.unit_id, getattr(row, key))
            acc = merged.setdefault(
                group,
                dict.fromkeys(count_cols, 0)
                | {h: Counter() for h in hist_cols}
                | ({"cycle_days": [0] * (len(CYCLE_BUCKETS_DAYS) + 1)} if table is CaseDay else {}),
            )
            for c in count_cols:
                acc[c] += getattr(row, c)
            for h in hist_cols:
                acc[h].update({int(k): n for k, n in getattr(row, h).items()})
            if table is CaseDay:
                acc["cycle_days"] = [
                    a + b for a, b in zip(acc["cycle_days"], row.cycle_days, strict=False)
                ]
        rows = [
            {
                "grain": "m",
                "day": month,
                "version_id": v,
                "unit_id": u,
                key: name,
                **{
                    k: ({str(c): n for c, n in val.items()} if isinstance(val, Counter) else val)
                    for k, val in acc.items()
                },
            }
            for (v, u, name), acc in merged.items()
        ]
        if rows:
            session.execute(insert(table), rows)


def refresh(
    session: Session,
    first: date,
    last: date,
    zone: str,
    classify: Callable[[Case], str],
    now: datetime,
) -> None:
    """Recompute the days ``first``..``last`` (local days) and their months; the caller commits."""
    tz = ZoneInfo(zone)
    version_ids = tuple(session.scalars(select(ProcessEvent.version_id).distinct()))
    day = first
    months = set()
    while day <= last:
        _refresh_day(session, day, tz, version_ids, classify)
        months.add(day.replace(day=1))
        day += timedelta(days=1)
    session.flush()
    for month in sorted(months):
        _refresh_month(session, month)
    state = session.get(RollupState, 1)
    if state is None:
        session.add(RollupState(id=1, refreshed_at=now))
    else:
        state.refreshed_at = now
    session.flush()


def refreshed_at(session: Session) -> datetime | None:
    state = session.get(RollupState, 1)
    return as_utc(state.refreshed_at) if state else None


def first_day(session: Session, zone: str) -> date | None:
    """The local day of the oldest event (None when the log is empty)."""
    oldest = session.scalar(select(func.min(ProcessEvent.at)))
    return as_utc(oldest).astimezone(ZoneInfo(zone)).date() if oldest else None


def refresh_due(
    session: Session, now: datetime, zone: str, classify: Callable[[Case], str]
) -> bool:
    """Refresh the days since the last refresh (at least yesterday and today) when it is older than
    ``REFRESH_EVERY``. A pass reaches back at most ``CATCH_UP_DAYS``, so the sweep never stalls on a
    long history: ``saygac analytics-backfill`` rebuilds everything."""
    last = refreshed_at(session)
    if last is not None and now - last < REFRESH_EVERY:
        return False
    today = now.astimezone(ZoneInfo(zone)).date()
    since = last.astimezone(ZoneInfo(zone)).date() if last else first_day(session, zone) or today
    first = max(min(since, today - timedelta(days=1)), today - timedelta(days=CATCH_UP_DAYS))
    refresh(session, first, today, zone, classify, now)
    return True


# -- reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """A range of whole local days for the rollup: versions, first and last day, units (None: all)."""

    version_ids: tuple[int, ...]
    first: date
    last: date
    unit_ids: tuple[int, ...] | None = None


def _pieces(days: Days) -> list[tuple[str, date, date]]:
    """(grain, from, to) pieces covering the range: whole months as month rows, the rest as days."""
    pieces = []
    day = days.first
    while day <= days.last:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= days.last:
            pieces.append(("m", day, day))
            day = month_end + timedelta(days=1)
        else:
            stop = min(month_end, days.last)
            pieces.append(("d", day, stop))
            day = stop + timedelta(days=1)
    return pieces


def _rows(
    session: Session,
    table: type[NodeDay] | type[CaseDay],
    days: Days,
    *conditions: ColumnElement[bool],
    columns: tuple[Any, ...] = (),
) -> list[Row[Any]]:
    """The rows (plain rows, of ``columns`` or whole) covering the range, in one query: month rows
    inside it, day rows at its edges."""
    units = [table.unit_id.in_(days.unit_ids)] if days.unit_ids is not None else []
    pieces = or_(
        *(
            and_(table.grain == grain, table.day >= start, table.day <= stop)
            for grain, start, stop in _pieces(days)
        )
    )
    return list(
        session.execute(
            select(*(columns or (table.__table__,))).where(
                pieces, table.version_id.in_(days.version_ids), *units, *conditions
            )
        )
    )


def node_stats(
    session: Session, days: Days, open_now: dict[str, int]
) -> dict[str, dict[str, float | None]]:
    """As :func:`engine.analytics.node_stats`, from the rollup (percentiles within 10%)."""
    by_node: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in _rows(
        session,
        NodeDay,
        days,
        columns=(
            NodeDay.node,
            NodeDay.passed,
            NodeDay.breached,
            NodeDay.wait_hist,
            NodeDay.work_hist,
        ),
    ):
        by_node[row.node].append(row)
    stats: dict[str, dict[str, float | None]] = {}
    for node in sorted(set(by_node) | set(open_now)):
        rows = by_node.get(node, [])
        passed = sum(r.passed for r in rows)
        breached = sum(r.breached for r in rows)
        waits, works = _merge(r.wait_hist for r in rows), _merge(r.work_hist for r in rows)
        stats[node] = {
            "passed": passed,
            "open": open_now.get(node, 0),
            "breached": breached,
            "breach_share": breached / passed if passed else None,
            "wait_median": hist_percentile(waits, 0.5),
            "wait_p90": hist_percentile(waits, 0.9),
            "work_median": hist_percentile(works, 0.5),
            "work_p90": hist_percentile(works, 0.9),
        }
    return stats


def paths(session: Session, days: Days) -> list[dict[str, Any]]:
    """As :func:`engine.analytics.paths` (without the visited nodes), from the rollup."""
    by_path: dict[str, list[Row[Any]]] = defaultdict(list)
    for row in _rows(
        session,
        CaseDay,
        days,
        CaseDay.path != SUBMITTED,
        columns=(CaseDay.path, CaseDay.cases, CaseDay.cycle_hist),
    ):
        by_path[row.path].append(row)
    total = sum(r.cases for rows in by_path.values() for r in rows)
    result: list[dict[str, Any]] = []
    for name, rows in by_path.items():
        hist = _merge(r.cycle_hist for r in rows)
        count = sum(r.cases for r in rows)
        result.append(
            {
                "path": name,
                "count": count,
                "share": count / total,
                "median": hist_percentile(hist, 0.5),
                "p90": hist_percentile(hist, 0.9),
                "max": class_bounds(max(hist))[1] if hist else None,
            }
        )
    return sorted(result, key=lambda p: (-p["count"], p["path"]))


def _week(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _unit_filter(table: type[NodeDay] | type[CaseDay], days: Days) -> list[ColumnElement[bool]]:
    return [table.unit_id.in_(days.unit_ids)] if days.unit_ids is not None else []


def charts(session: Session, days: Days, direct_path: str) -> dict[str, Any]:
    """The chart figures: submissions per day and week, cycle-time histogram, backlog per unit at
    the end of each day, accepted directly out of finished per week, SLA breaches per unit."""
    ended = CaseDay.path != SUBMITTED
    rows = session.execute(
        select(
            CaseDay.day,
            func.sum(CaseDay.cases).filter(CaseDay.path == SUBMITTED),
            func.sum(CaseDay.cases).filter(CaseDay.path == direct_path),
            func.sum(CaseDay.cases).filter(ended),
        )
        .where(
            CaseDay.grain == "d",
            CaseDay.day >= days.first,
            CaseDay.day <= days.last,
            CaseDay.version_id.in_(days.version_ids),
            *_unit_filter(CaseDay, days),
        )
        .group_by(CaseDay.day)
        .order_by(CaseDay.day)
    ).all()
    per_week: Counter[date] = Counter()
    direct: dict[date, list[int]] = defaultdict(lambda: [0, 0])
    for day, submitted, accepted, finished in rows:
        per_week[_week(day)] += submitted or 0
        if finished:
            direct[_week(day)][0] += accepted or 0
            direct[_week(day)][1] += finished
    cycle = [0] * (len(CYCLE_BUCKETS_DAYS) + 1)
    for row in _rows(session, CaseDay, days, ended, columns=(CaseDay.cycle_days,)):
        cycle = [a + b for a, b in zip(cycle, row.cycle_days, strict=False)]
    breaches: Counter[int | None] = Counter()
    for row in _rows(
        session, NodeDay, days, NodeDay.breached > 0, columns=(NodeDay.unit_id, NodeDay.breached)
    ):
        breaches[row.unit_id or None] += row.breached
    return {
        "per_day": [(day, n) for day, n, _a, _f in rows if n],
        "per_week": sorted((week, n) for week, n in per_week.items() if n),
        "cycle_histogram": cycle,
        "backlog": backlog(session, days),
        "direct_share": [(week, d, n) for week, (d, n) in sorted(direct.items())],
        "breaches_per_unit": sorted(breaches.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)),
    }


def backlog(session: Session, days: Days) -> dict[int | None, list[tuple[date, int]]]:
    """Per unit, submitted and not yet ended at the end of each day: submissions minus ended cases
    (of units) up to that day; months before the range are read as month rows."""
    units = _unit_filter(CaseDay, days) or [CaseDay.unit_id != NO_UNIT]
    change = func.sum(case((CaseDay.path == SUBMITTED, CaseDay.cases), else_=-CaseDay.cases))
    month_start = days.first.replace(day=1)
    base = [CaseDay.version_id.in_(days.version_ids), *units]
    before: Counter[int] = Counter(
        dict(
            session.execute(
                select(CaseDay.unit_id, change)
                .where(CaseDay.grain == "m", CaseDay.day < month_start, *base)
                .group_by(CaseDay.unit_id)
            ).all()
        )
    )
    flows: dict[int, Counter[date]] = defaultdict(Counter)
    for unit, day, n in session.execute(
        select(CaseDay.unit_id, CaseDay.day, change)
        .where(CaseDay.grain == "d", CaseDay.day >= month_start, CaseDay.day <= days.last, *base)
        .group_by(CaseDay.unit_id, CaseDay.day)
    ):
        if day < days.first:
            before[unit] += n
        else:
            flows[unit][day] += n
    result: dict[int | None, list[tuple[date, int]]] = {}
    for unit in sorted(set(before) | set(flows)):
        level = before[unit]
        series: list[tuple[date, int]] = []
        day = days.first
        while day <= days.last:
            level += flows[unit][day]
            series.append((day, level))
            day += timedelta(days=1)
        result[unit] = series
    return result
