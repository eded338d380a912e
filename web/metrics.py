"""``/metrics`` for Prometheus: request latency, jobs, backlogs, work, instances, incidents.

Request latency is observed here for every request (by route pattern, method and status); job
durations and failures by the workers (:mod:`worker.metrics`). Under gunicorn and rq, set
``PROMETHEUS_MULTIPROC_DIR`` to one empty folder shared by all of them (prometheus-client's
multiprocess mode) and the figures of every process are added up here. The rest is read from
the database and Redis when Prometheus scrapes: job and e-mail outbox backlog by state, rq queue
depth, open work items by unit, role and SLA state, process instances by state and diagram
version, open incidents by kind.

The page is not public: it answers only a request with ``Authorization: Bearer <token>`` equal
to ``[operations] metrics_token`` (404 while that is empty). See ``docs/operations.md`` for the
alert rules built on these names.
"""

from __future__ import annotations

import hmac
import os
import time
from dataclasses import dataclass

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from engine.db import as_utc
from engine.models import Email, Incident, Job, ProcessInstance, ProcessVersion, WorkItem
from web.route_policy import public
from worker import metrics as worker_metrics

bp = Blueprint("metrics", __name__)
REQUEST_SECONDS = Histogram(
    "saygac_http_request_duration_seconds",
    "Time to answer a request",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)
SETTINGS_KEY = "saygac.operations"


@dataclass(frozen=True)
class OperationsSettings:
    metrics_token: str = ""  # the bearer token Prometheus sends; /metrics answers 404 while empty


class DatabaseCollector:
    """Figures read from the database (and Redis) at scrape time."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        system = self.app.extensions["saygac"]
        now = system.services.now()
        with system.sessions() as s:
            jobs = GaugeMetricFamily(
                "saygac_outbox_jobs", "Outbox jobs by queue and state", labels=["queue", "state"]
            )
            for queue, state, count in s.execute(
                select(Job.queue, Job.status, func.count())
                .where(Job.status != "done")
                .group_by(Job.queue, Job.status)
            ):
                jobs.add_metric([queue, state], count)
            yield jobs
            mail = GaugeMetricFamily(
                "saygac_outbox_emails", "E-mails not yet sent, by state", labels=["state"]
            )
            for state, count in s.execute(
                select(Email.status, func.count())
                .where(Email.status != "sent")
                .group_by(Email.status)
            ):
                mail.add_metric([state], count)
            yield mail
            work = GaugeMetricFamily(
                "saygac_open_work_items",
                "Open work items by unit, role and SLA state",
                labels=["unit", "role", "sla"],
            )
            counts: dict[tuple[str, str, str], int] = {}
            for unit_id, role, due_at in s.execute(
                select(WorkItem.unit_id, WorkItem.role, WorkItem.due_at).where(
                    WorkItem.state == "open"
                )
            ):
                sla = (
                    "none" if due_at is None else ("breached" if as_utc(due_at) < now else "within")
                )
                key = (str(unit_id or ""), role, sla)
                counts[key] = counts.get(key, 0) + 1
            for key, count in sorted(counts.items()):
                work.add_metric(list(key), count)
            yield work
            instances = GaugeMetricFamily(
                "saygac_process_instances",
                "Process instances by state and diagram version",
                labels=["state", "version"],
            )
            for state, version, count in s.execute(
                select(ProcessInstance.status, ProcessVersion.version, func.count())
                .join(ProcessVersion, ProcessVersion.id == ProcessInstance.version_id)
                .group_by(ProcessInstance.status, ProcessVersion.version)
            ):
                instances.add_metric([state, str(version)], count)
            yield instances
            incidents = GaugeMetricFamily(
                "saygac_open_incidents", "Open incidents by kind", labels=["kind"]
            )
            for kind, count in s.execute(
                select(Incident.kind, func.count())
                .where(Incident.status == "open")
                .group_by(Incident.kind)
            ):
                incidents.add_metric([kind], count)
            yield incidents
        if system.settings.jobs.runner == "rq":
            yield self._queue_depth(system)

    @staticmethod
    def _queue_depth(system):
        import redis
        from rq import Queue

        from worker import queue_names

        depth = GaugeMetricFamily(
            "saygac_rq_queue_depth", "Jobs waiting in each rq queue", labels=["queue"]
        )
        try:
            connection = redis.Redis.from_url(
                system.settings.redis.url, socket_connect_timeout=2, socket_timeout=2
            )
            for name in queue_names():
                depth.add_metric([name], Queue(name, connection=connection).count)
        except redis.RedisError:
            pass  # /readyz says Redis is down; the scrape still carries the rest
        return depth


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every process's files, added up
        multiprocess.MultiProcessCollector(registry)
    else:  # one process (embedded mode, tests): its own figures, jobs run in-process included
        for collector in (REQUEST_SECONDS, worker_metrics.JOB_SECONDS, worker_metrics.JOB_FAILURES):
            registry.register(collector)
    registry.register(DatabaseCollector(app))
    return registry


@bp.get("/metrics")
@public  # not a person's page: Prometheus's bearer token is checked here (404 without it)
def metrics():
    expected = current_app.extensions[SETTINGS_KEY].metrics_token
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if (
        not expected
        or scheme.lower() != "bearer"
        or not hmac.compare_digest(given.encode(), expected.encode())
    ):
        abort(404)
    return Response(
        generate_latest(_registry(current_app._get_current_object())), mimetype=CONTENT_TYPE_LATEST
    )


def _started():
    g.metrics_started = time.perf_counter()


def _finished(response):
    started = g.pop("metrics_started", None)
    if started is not None:
        route = request.url_rule.rule if request.url_rule is not None else "(unmatched)"
        REQUEST_SECONDS.labels(
            route=route, method=request.method, status=str(response.status_code)
        ).observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    app.extensions[SETTINGS_KEY] = app.extensions["saygac"].settings.section(
        "operations", OperationsSettings
    )
    app.before_request(_started)
    app.after_request(_finished)
    app.register_blueprint(bp)
