"""The composition root: settings → database, spec registry, runtime and collaborators.

The web app and the worker each build one :class:`System` and use it; nothing here knows
about Flask or rq. ``complete_task`` is the single path by which a person finishes a task.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

import engine.api_access  # noqa: F401  (registers the API tables)
import engine.models  # noqa: F401  (registers the engine's tables)
import workflow.models  # noqa: F401  (registers the domain's tables)
from engine import analytics_rollup, safety
from engine.audit import Actor
from engine.checks import DeployRules, checker
from engine.db import make_engine, make_session_factory
from engine.models import ProcessVersion, WorkItem
from engine.runtime import Runtime, StepResult
from engine.scenarios import load as load_scenarios
from engine.settings import Settings
from engine.specs import SpecRegistry, read_directory
from workflow.analytics import classify
from workflow.operations import OPERATIONS
from workflow.process import DIAGRAM_DIR, LANES, PROCESS_ID, describe, due_policy
from workflow.services import Services, build_services
from workflow.tasks import HANDLERS, TaskContext


@dataclass
class System:
    settings: Settings
    db: Engine
    sessions: sessionmaker[Session]
    specs: SpecRegistry
    runtime: Runtime
    services: Services

    def deploy_shipped(
        self, session: Session, deployed_by_id: int | None = None, reason: str = "shipped diagrams"
    ) -> ProcessVersion:
        """Deploy ``workflow/diagrams`` (a no-op when unchanged; a changed file is a new version)."""
        return self.specs.deploy(
            session,
            PROCESS_ID,
            read_directory(DIAGRAM_DIR),
            deployed_by_id=deployed_by_id,
            reason=reason,
            scenarios=shipped_scenarios(),
        )

    def start_application(self, session: Session, actor: Actor) -> StepResult:
        return self.runtime.start(session, PROCESS_ID, actor)

    def complete_task(
        self, session: Session, item_id: int, actor: Actor, form_data: dict[str, Any]
    ) -> StepResult:
        """Store the task's form result through its handler, then complete it in the engine."""

        def prepare(item: WorkItem) -> dict[str, Any]:
            handler = HANDLERS[item.form_key]
            ctx = TaskContext(
                session=session,
                actor=actor,
                instance_id=item.instance_id,
                now=self.services.now(),
                services=self.services,
            )
            return handler(ctx, form_data)

        return self.runtime.complete(session, item_id, actor, prepare)

    def refresh_analytics(self, session: Session, force: bool = False) -> bool:
        """Bring the analytics rollup up to date when it is due (the sweep calls this); ``force``
        rebuilds it from the first event now. Returns whether it ran; the caller commits."""
        zone, now = self.settings.app.timezone, self.services.now()
        if not force:
            return analytics_rollup.refresh_due(session, now, zone, classify)
        today = now.astimezone(ZoneInfo(zone)).date()
        analytics_rollup.refresh(
            session, analytics_rollup.first_day(session, zone) or today, today, zone, classify, now
        )
        return True

    def check_production_safety(self, session: Session) -> None:
        """Refuse a production start with every unsafe setting named (``engine.safety``)."""
        safety.check(self.settings, session)


def shipped_scenarios() -> list[dict[str, Any]]:
    """The scenario tests kept beside the shipped diagram (``<process>.scenarios.json``)."""
    path = DIAGRAM_DIR / f"{PROCESS_ID}.scenarios.json"
    return load_scenarios(path.read_text(encoding="utf-8")) if path.exists() else []


def deploy_rules() -> DeployRules:
    """What a deployable diagram may use: the formKeys the workflow can complete (the web layer
    has a form for each, checked by ``tests/workflow/test_diagrams.py``), lanes, operations."""
    return DeployRules(
        form_keys=frozenset(HANDLERS),
        lane_roles=LANES.roles,
        automatic_lanes=LANES.automatic,
        operations=OPERATIONS,
    )


def build_system(settings: Settings, clock: Callable[[], datetime] | None = None) -> System:
    database = settings.database
    db = make_engine(
        database.url,
        echo=database.echo,
        pool_size=database.pool_size,
        connect_timeout=database.connect_timeout_seconds,
        statement_timeout=database.statement_timeout_seconds,
        lock_timeout=database.lock_timeout_seconds,
        pool_timeout=database.pool_timeout_seconds,
    )
    services = build_services(settings, clock)
    specs = SpecRegistry(checker(deploy_rules()))
    runtime = Runtime(
        specs,
        OPERATIONS,
        LANES,
        describe=describe,
        services=services,
        clock=services.clock,
        default_due=due_policy(settings),
    )
    return System(
        settings=settings,
        db=db,
        sessions=make_session_factory(db),
        specs=specs,
        runtime=runtime,
        services=services,
    )
