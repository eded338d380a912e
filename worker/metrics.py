"""What the workers measure for Prometheus: how long each job ran and how it ended.

Under gunicorn and rq the processes share ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode): each process writes its own files there and ``/metrics`` on the web tier adds
them up, so a job's duration observed in an rq worker shows on the web tier's ``/metrics``.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOB_SECONDS = Histogram(
    "saygac_job_duration_seconds",
    "Time one outbox job ran in a worker",
    ["job", "outcome"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
JOB_FAILURES = Counter("saygac_job_failures_total", "Job attempts that raised", ["job"])


def observe(name: str, outcome: str, seconds: float) -> None:
    JOB_SECONDS.labels(job=name, outcome=outcome).observe(seconds)
    if outcome in ("pending", "failed"):
        JOB_FAILURES.labels(job=name).inc()
