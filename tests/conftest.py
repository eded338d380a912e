"""Shared fixtures: settings in a temporary folder, a real database, the shipped diagram deployed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from limits.storage import memory as limits_memory
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer

from engine.calendar import WorkingCalendar
from engine.db import Base
from engine.settings import load_settings
from workflow.system import build_system


class Clock:
    """The engine's clock, moved forward by tests that need time to pass (timers, leases)."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs) -> None:
        self.now += timedelta(**kwargs)


def make_settings(tmp_path, database_url: str | None = None, **sections):
    overrides = {
        "database": {"url": database_url or f"sqlite:///{tmp_path / 'saygac.sqlite3'}"},
        "files": {"root": str(tmp_path / "files")},
        "mail": {"outbox_dir": str(tmp_path / "mail")},
        "app": {"secret_key": "test-secret-key-that-is-long-enough-000"},
    }
    for name, values in sections.items():
        overrides.setdefault(name, {}).update(values)
    return load_settings(environ={}, overrides=overrides)


@pytest.fixture
def clock(monkeypatch):
    """The engine's clock; SpiffWorkflow's timers read the same clock (the library calls
    ``datetime.now(timezone.utc)`` itself, so a timer's due time and whether it fired follow
    the test's clock, not the wall clock)."""
    engine_clock = Clock()

    class LibraryDatetime(datetime):
        @classmethod
        def now(cls, tz=None):
            return engine_clock.now if tz is None else engine_clock.now.astimezone(tz)

    monkeypatch.setattr(spiff_timer, "datetime", LibraryDatetime)
    # Flask-Limiter's memory storage (the embedded mode's) reads ``time.time()``: the same clock, so a
    # sign-in lock ends when the test's clock passes it
    monkeypatch.setattr(
        limits_memory, "time", SimpleNamespace(time=lambda: engine_clock.now.timestamp())
    )
    return engine_clock


def next_working_monday(clock: Clock, calendar: WorkingCalendar) -> None:
    """Move ``clock`` to 10:00 in Baku on the next Monday that starts three working days in a row,
    for tests that count an SLA of two working days in hours."""
    day = clock.now.date() + timedelta(days=1)
    while day.weekday() != 0 or not all(
        calendar.is_working_day(day + timedelta(days=i)) for i in range(3)
    ):
        day += timedelta(days=1)
    clock.now = datetime(day.year, day.month, day.day, 6, 0, tzinfo=UTC)  # 10:00 in Baku


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path)


def make_system(settings, clock):
    """A system on a fresh schema with the shipped diagrams deployed."""
    system = build_system(settings, clock)
    Base.metadata.create_all(system.db)
    with system.sessions() as session:
        system.deploy_shipped(session)
        session.commit()
    return system


@pytest.fixture
def system(settings, clock):
    system = make_system(settings, clock)
    yield system
    system.db.dispose()


def pytest_sessionfinish(session, exitstatus):
    """A skipped test never counts as passing: the run fails if anything was skipped."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped and exitstatus == 0:
        session.exitstatus = 1
        if reporter:
            reporter.write_line(
                f"{len(skipped)} test(s) skipped: the run fails; every test must run here.",
                red=True,
            )
