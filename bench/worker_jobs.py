"""Invoice jobs in real rq worker processes on Redis and PostgreSQL: time per job inside the worker.

    .venv/bin/python -m bench.worker_jobs [--jobs 200] [--workers 1] [--postgres URL] [--redis URL]

One run:

1. seeds a PostgreSQL database (``bench/demo_world.py``: the demo data, citizens) and drives
   ``--jobs`` applications through submission and the operator's acceptance in this process;
   each acceptance leaves one outbox job ``run_task`` for the worker (render the invoice PDF,
   then notify the subscriber: two async steps, one job) that creates one ``send_email`` job;
2. starts ``--workers`` real worker processes with the production command (``python -m worker
   work``: warmed up at start, then a work horse forked per job) and waits until they listen;
   with ``--in-process``, ``python -m worker work --in-process`` (jobs run in the worker
   process), for comparison;
3. sends every invoice job to the queue at once and waits until the outbox has run them and
   the e-mail jobs they created;
4. prints, from rq's own records, the time each job took inside the worker (``started_at`` to
   ``ended_at``), p50/p95 per job kind against the target (invoice job
   p50 <= 30 ms), the jobs per second per worker over the whole run (fork and queue included),
   the workers' CPU per job and the main worker process's resident memory afterwards.

The Redis database of ``--redis`` (default db 12) is emptied at the start, and the PostgreSQL
database (default ``saygac_bench_worker``) loses every table: use neither for anything else.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from redis import Redis
from sqlalchemy import func, select

from bench import demo_world
from bench.proc import cpu_seconds, rss_mb
from engine.models import Job
from worker.dispatch import RqDispatcher
from worker.queues import ALL

DEFAULT_PG = demo_world.PG_SERVER + "/saygac_bench_worker"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
TARGET_P50_MS = 30.0
ROOT = Path(__file__).resolve().parent.parent
WORKER_COMMAND = [sys.executable, "-m", "worker", "work"]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def start_workers(
    count: int, env: dict[str, str], redis: Redis, log_dir: Path, command: list[str]
) -> list[subprocess.Popen]:
    from rq import Worker

    procs = []
    for k in range(count):
        log = open(log_dir / f"worker-{k}.log", "wb")  # noqa: SIM115 - closed with the process
        procs.append(
            subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    deadline = time.monotonic() + 120
    while len(Worker.all(connection=redis)) < count:
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError(f"the workers did not start; see {log_dir}")
        time.sleep(0.1)
    return procs


def wait_for_outbox(system, total: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while True:
        with system.sessions() as s:
            counts = dict(s.execute(select(Job.status, func.count()).group_by(Job.status)).all())
        if (
            counts.get("done", 0) >= total
            and not counts.get("pending")
            and not counts.get("queued")
            and not counts.get("running")
        ):
            return time.perf_counter()
        if counts.get("failed"):
            raise RuntimeError(f"jobs failed: {counts}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs not done after {timeout:.0f} s: {counts}")
        time.sleep(0.05)


def job_times(redis: Redis, system) -> dict[str, list[float]]:
    """Milliseconds inside the worker per outbox job kind, from rq's finished registries."""
    from rq import Queue
    from rq.job import Job as RqJob

    with system.sessions() as s:
        kinds = dict(s.execute(select(Job.id, Job.name)).all())
    out: dict[str, list[float]] = {}
    for name in ALL:
        registry = Queue(name, connection=redis).finished_job_registry
        for job in RqJob.fetch_many(registry.get_job_ids(), connection=redis):
            if job is None or job.started_at is None or job.ended_at is None:
                continue
            kind = kinds[job.args[0]]
            out.setdefault(kind, []).append((job.ended_at - job.started_at).total_seconds() * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=200, help="invoice jobs (one per application)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--in-process", action="store_true", help="jobs in the worker process, no fork per job"
    )
    parser.add_argument("--subscribers", type=int, default=6000)
    parser.add_argument(
        "--postgres", default=os.environ.get("SAYGAC_BENCH_WORKER_POSTGRES", DEFAULT_PG)
    )
    parser.add_argument(
        "--redis", default=os.environ.get("SAYGAC_BENCH_WORKER_REDIS", DEFAULT_REDIS)
    )
    args = parser.parse_args()
    redis = Redis.from_url(args.redis)
    redis.flushdb()
    kind = (
        "worker --in-process (jobs in the process)"
        if args.in_process
        else "worker (a forked work horse per job)"
    )
    print(
        f"saygac worker jobs: {args.jobs} invoice jobs, {args.workers} x {kind}, "
        f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    with tempfile.TemporaryDirectory(prefix="saygac-bench-worker-") as tmpdir:
        tmp = Path(tmpdir)
        world = demo_world.build(
            args.postgres,
            tmp,
            args.redis,
            subscribers=args.subscribers,
            citizens=max(50, args.jobs // 10),
        )
        if len(world.submissions) < args.jobs:
            raise SystemExit(f"only {len(world.submissions)} subscribers fit; raise --subscribers")
        system = world.system
        t0 = time.perf_counter()
        invoice_jobs = []
        for i in range(args.jobs):
            invoice_jobs += demo_world.accept(world, demo_world.submit(world, i))
        print(
            f"  {args.jobs} applications submitted and accepted in this process in "
            f"{time.perf_counter() - t0:.1f} s; {len(invoice_jobs)} invoice jobs waiting in the outbox"
        )
        system.db.dispose()
        env = demo_world.environment(args.postgres, tmp, args.redis)
        procs = start_workers(
            args.workers,
            env,
            redis,
            tmp,
            WORKER_COMMAND + (["--in-process"] if args.in_process else []),
        )
        try:
            cpu0 = sum(cpu_seconds(p.pid) for p in procs)
            started = time.perf_counter()
            RqDispatcher(system, redis).dispatch_due()  # every invoice job, in batches
            ended = wait_for_outbox(system, 2 * len(invoice_jobs), timeout=60 + args.jobs * 2)
            cpu = sum(cpu_seconds(p.pid) for p in procs) - cpu0
            rss = [rss_mb(p.pid) for p in procs]
            times = job_times(redis, system)
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
        wall = ended - started
        total = sum(len(v) for v in times.values())
        print("  time inside the worker per job (rq started_at .. ended_at):")
        for kind, values in sorted(times.items()):
            print(
                f"    {kind:<10} n={len(values):4d}  p50 {percentile(values, 0.5):7.1f} ms  "
                f"p95 {percentile(values, 0.95):7.1f} ms  mean {statistics.mean(values):7.1f} ms"
            )
        p50 = percentile(times.get("run_task", [float("inf")]), 0.5)
        print(
            f"  invoice job (run_task: render_invoice + notify_subscriber) p50 {p50:.1f} ms, target <= "
            f"{TARGET_P50_MS:.0f} ms: {'MET' if p50 <= TARGET_P50_MS else 'NOT MET'}"
        )
        print(
            f"  throughput: {total} jobs in {wall:.2f} s = {total / wall / args.workers:.1f} jobs/s per worker "
            f"({len(invoice_jobs) / wall / args.workers:.1f} invoice jobs + their e-mails per second per worker; "
            "fork, queue and the outbox included)"
        )
        print(
            f"  worker CPU (the process and any work horses): {cpu * 1000 / total:.1f} ms per job, "
            f"{cpu * 1000 / len(invoice_jobs):.1f} ms per lifecycle's jobs"
        )
        print(
            f"  worker main process RSS after the run: {', '.join(f'{r:.0f} MB' for r in rss)} (target <= 150 MB)"
        )
        print(f"  load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
