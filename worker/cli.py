"""The worker's own entry point (``python -m worker`` or ``saygac-worker``); never imports Flask.

    saygac-worker work [--queue engine --queue mail] [--burst] [--in-process]   an rq worker
    saygac-worker sweep                                           the sweep (exactly one per installation)

Both survive Redis and database outages: the rq worker is rebuilt with a growing pause
(1 s doubling to 30 s) when its loop ends on a connection error, and the sweep keeps passing.
A worker listening on several queues takes them in turn (round robin), so e-mail never waits
behind a long engine queue; a worker per queue (``--queue mail``) isolates them completely.
"""

from __future__ import annotations

import argparse
import logging
import time

from engine import logs
from engine.settings import Settings, load_settings
from worker.queues import ALL

log = logging.getLogger("worker")
MAX_PAUSE_SECONDS = 30.0


def _system(settings: Settings):
    from workflow.system import build_system

    return build_system(settings)


def work(
    settings: Settings, queues: tuple[str, ...] = ALL, burst: bool = False, in_process: bool = False
) -> int:
    """Run an rq worker until asked to stop (SIGTERM/SIGINT), reconnecting after outages.

    By default each job runs in a work horse forked from this (warmed-up) process, so a job that
    kills its process costs only that attempt. ``in_process`` runs the jobs in this process
    instead (rq's ``SimpleWorker``): about a third of the CPU per job, since a fork starts cold
    (a new database connection, an empty SQL compilation cache, copy-on-write faults), but a job
    that brings the process down takes the worker with it until the process manager restarts it
    (the job's lease then expires and the sweep sends it again). ``bench/worker_jobs.py`` measures
    both.
    """
    import redis
    from rq import Queue
    from rq.worker import RoundRobinWorker, SimpleWorker
    from rq.worker import Worker as RqWorker

    from worker.connection import redis_client
    from worker.rq_entry import prepare

    class Stoppable(RqWorker):
        """Remembers that a stop was asked, so the loop below does not start another worker."""

        stop_asked = False

        def request_stop(self, signum, frame):
            Stoppable.stop_asked = True
            super().request_stop(signum, frame)

    class InProcess(Stoppable, SimpleWorker):
        reorder_queues = RoundRobinWorker.reorder_queues  # the queues in turn, in both kinds

    class Forking(Stoppable, RoundRobinWorker):
        pass

    Worker: type[Stoppable] = InProcess if in_process else Forking

    prepare(_system(settings))
    pause = 1.0
    while True:
        started = time.monotonic()
        try:
            connection = redis_client(settings, blocking=True)
            connection.ping()
            worker = Worker(
                [Queue(name, connection=connection) for name in queues], connection=connection
            )
            worker.work(burst=burst, with_scheduler=False)
            if Worker.stop_asked or burst:
                return 0
            log.warning(
                "the rq worker loop ended (Redis went away?); starting it again in %.0f s", pause
            )
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as err:
            log.warning("Redis unavailable (%s); trying again in %.0f s", err, pause)
        if Worker.stop_asked:
            return 0
        if time.monotonic() - started > 60:
            pause = 1.0  # it ran a while: the next outage starts the back-off afresh
        time.sleep(pause)
        pause = min(pause * 2, MAX_PAUSE_SECONDS)


def sweep(settings: Settings) -> int:
    """Run the sweep every ``[jobs] timer_sweep_seconds`` until stopped."""
    from worker import make_dispatcher
    from worker.sweep import run_forever

    system = _system(settings)
    run_forever(system, make_dispatcher(system), settings.jobs.timer_sweep_seconds)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="saygac-worker",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    work_cmd = sub.add_parser("work", help="an rq worker on the saygac queues")
    work_cmd.add_argument(
        "--queue", action="append", choices=ALL, help="listen only to this queue (repeatable)"
    )
    work_cmd.add_argument("--burst", action="store_true", help="quit when the queues are empty")
    work_cmd.add_argument(
        "--in-process",
        action="store_true",
        help="run jobs in the worker process instead of a forked one per job (less CPU per job)",
    )
    sub.add_parser("sweep", help="the sweep (run exactly one)")
    args = parser.parse_args(argv)
    settings = load_settings()
    logs.configure(json_lines=settings.is_production)
    if args.command == "work":
        return work(
            settings, tuple(args.queue or ALL), burst=args.burst, in_process=args.in_process
        )
    return sweep(settings)


if __name__ == "__main__":
    raise SystemExit(main())
