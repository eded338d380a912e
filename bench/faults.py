"""Whole lifecycles under faults: workers killed, Redis restarted, PostgreSQL cut off.

    .venv/bin/python -m bench.faults [--seconds 180] [--clients 8] [--pause 8] [--workers 2] [--every 30]

Production shape without the web tier: PostgreSQL (a database of its own, reached through a TCP
proxy that can cut it off, ``bench/outages.py``), a Redis of its own on a spare port (no
persistence: a restart loses its lists), ``--workers`` rq workers and one sweep started as in
production (``python -m worker``) and restarted 2 s after they die (as systemd's
``Restart=always`` would), and an SMTP server in this process that keeps every message.
``--clients`` threads drive whole lifecycles through ``System`` exactly as the web layer does
(a unit of work per step, jobs dispatched after the commit): a citizen's submission, then the
operator's acceptance, then ``--pause`` seconds before the next (the load stays within what
the workers do, so a recovery measures the fault, not a growing backlog); the workers do the rest (posting, invoice, PDF, e-mail). A step that
meets a fault is tried again after a second, as a person would.

Every ``--every`` seconds one fault, in turn: ``kill -9`` of a worker (and its work horse),
Redis killed and started again 5 s later, PostgreSQL cut off for 8 s. After ``--seconds`` the
clients stop and the run waits (at most 180 s after the last fault) for the outbox to drain, then prints: started,
confirmed (accepted by the operator), completed, lost (accepted, never completed), stuck
(instances still running), duplicated effects (invoices or posted readings per application,
e-mails per Message-ID at the SMTP server) and, per fault, the recovery: from the end of the
fault until every job committed before that moment was done.

Targets: 0 lost, 0 duplicated, every lifecycle finished within 60 s of the end of the last fault.
The PostgreSQL database (default ``saygac_bench_faults``) loses every table.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from bench import demo_world
from bench.outages import RedisServer, TcpProxy
from engine.models import Email, Incident, Job, ProcessInstance, WorkItem
from worker import make_dispatcher
from workflow.models import Invoice, Reading

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = demo_world.PG_SERVER + "/saygac_bench_faults"
FAST = {
    "SAYGAC_JOBS__TIMER_SWEEP_SECONDS": "2",
    "SAYGAC_JOBS__LEASE_SECONDS": "10",
    "SAYGAC_JOBS__RETRY_DELAYS_SECONDS": "2,5,10",
    "SAYGAC_JOBS__MAX_ATTEMPTS": "6",
}


class Inbox:
    def __init__(self):
        self.message_ids: Counter = Counter()

    async def handle_DATA(self, server, session, envelope):
        headers = BytesParser(policy=policy.default).parsebytes(envelope.content, headersonly=True)
        self.message_ids[str(headers["Message-ID"]).strip()] += (
            1  # a long header is folded: parse it
        )
        return "250 OK"


class Supervised:
    """A process restarted 2 s after it exits, like a systemd unit with ``Restart=always``."""

    def __init__(self, argv: list[str], env: dict, log: Path):
        self.argv, self.env, self.log = argv, env, log
        self.process: subprocess.Popen | None = None
        self.stopping = False
        self.restarts = 0
        threading.Thread(target=self._keep, daemon=True).start()

    def _start(self) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                self.argv, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT
            )

    def _keep(self) -> None:
        self._start()
        while not self.stopping:
            if self.process.poll() is not None and not self.stopping:
                time.sleep(2)
                self.restarts += 1
                self._start()
            time.sleep(0.2)

    def kill(self) -> None:
        """SIGKILL the process and its work horse (rq forks each job into its own process group)."""
        pid = self.process.pid
        try:
            kids = [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            kids = []
        for target in (pid, *kids):
            try:
                os.kill(target, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def stop(self) -> None:
        self.stopping = True
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _retrying(step, stop: threading.Event):
    """Run ``step`` until it succeeds (a fault fails it; the person tries again a second later)."""
    while not stop.is_set():
        try:
            return step()
        except Exception:  # noqa: BLE001 - any fault: try again, as a person would
            time.sleep(1)
    return None


def _unfinished_before(system, moment) -> int:
    with system.sessions() as s:
        return s.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.status.in_(("pending", "queued", "running")), Job.created_at <= moment)
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=180)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--every", type=float, default=30)
    parser.add_argument(
        "--pause",
        type=float,
        default=8,
        help="seconds a client waits between lifecycles (keeps the load within the workers' pace)",
    )
    parser.add_argument("--pg", default=DEFAULT_PG)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="saygac-faults-"))
    redis = RedisServer(tmp)
    redis.start()
    pg = make_url(args.pg)
    proxy = TcpProxy(pg.host, pg.port or 5432)
    proxy.open()
    through = pg.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()

    world = demo_world.build(
        through, tmp, redis.url, subscribers=3000, citizens=400, unit_code=None
    )
    system = world.system
    dispatcher = make_dispatcher(system)
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **demo_world.environment(through, tmp, redis.url),
        **FAST,
        "SAYGAC_MAIL__TRANSPORT": "smtp",
        "SAYGAC_MAIL__SMTP_HOST": "127.0.0.1",
        "SAYGAC_MAIL__SMTP_PORT": str(smtp.port),
    }
    workers = [
        Supervised([sys.executable, "-m", "worker", "work"], env, tmp / f"worker-{k}.log")
        for k in range(args.workers)
    ]
    sweep = Supervised([sys.executable, "-m", "worker", "sweep"], env, tmp / "sweep.log")

    stop = threading.Event()
    numbers = itertools.count()
    started, confirmed = [], []
    lock = threading.Lock()

    def client() -> None:
        while not stop.is_set():
            i = next(numbers)
            if i >= len(world.submissions):
                return
            review = _retrying(lambda i=i: demo_world.submit(world, i), stop)
            if review is None:
                return
            with lock:
                started.append(review)

            def accept(review=review):
                jobs = demo_world.accept(world, review, world.operators.get(_unit_of(review)))
                try:
                    dispatcher.dispatch(jobs)
                except Exception:  # noqa: BLE001, S110 - Redis is away: the sweep sends them
                    pass
                return True

            if _retrying(accept, stop):
                with lock:
                    confirmed.append(review)
            stop.wait(args.pause)

    def _unit_of(review_item_id: int):
        with system.sessions() as s:
            return s.get(WorkItem, review_item_id).unit_id

    faults = []

    def inject() -> None:
        kinds = itertools.cycle(("worker", "redis", "postgres"))
        while not stop.wait(args.every):
            kind = next(kinds)
            began = time.monotonic()
            began_wall = system.services.now()
            if kind == "worker":
                workers[len(faults) % len(workers)].kill()
            elif kind == "redis":
                redis.stop()
                time.sleep(5)
                redis.start()
            else:
                proxy.close()
                time.sleep(8)
                proxy.open()
            ended_wall = system.services.now()
            ended = time.monotonic()
            faults.append(
                {
                    "kind": kind,
                    "began": began,
                    "began_wall": began_wall,
                    "ended": ended,
                    "ended_wall": ended_wall,
                }
            )

    threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
    injector = threading.Thread(target=inject, daemon=True)
    t0 = time.monotonic()
    for t in threads:
        t.start()
    injector.start()
    time.sleep(args.seconds)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    injector.join(timeout=30)
    last_fault_end = max((f["ended"] for f in faults), default=t0)

    def recovery(fault) -> float | None:
        while time.monotonic() - last_fault_end < 180:
            try:
                if _unfinished_before(system, fault["began_wall"]) == 0:
                    return time.monotonic() - fault["ended"]
            except Exception:  # noqa: BLE001, S110 - a later fault may cut the database off
                pass
            time.sleep(0.5)
        return None

    recoveries = [(f["kind"], recovery(f)) for f in faults]
    drained = None
    while time.monotonic() - last_fault_end < 180:
        if _unfinished_before(system, system.services.now()) == 0:
            drained = time.monotonic() - last_fault_end
            break
        time.sleep(0.5)

    with system.sessions() as s:
        by_item = (
            dict(
                s.execute(
                    select(WorkItem.id, WorkItem.instance_id).where(WorkItem.id.in_(confirmed))
                ).all()
            )
            if confirmed
            else {}
        )
        statuses = Counter(
            s.scalars(
                select(ProcessInstance.status).where(ProcessInstance.id.in_(by_item.values()))
            )
        )
        invoices = Counter(s.scalars(select(Invoice.application_id)))
        readings = Counter(
            s.scalars(select(Reading.application_id).where(Reading.application_id.is_not(None)))
        )
        possibly_sent = s.scalar(
            select(func.count()).select_from(Email).where(Email.possibly_sent.is_(True))
        )
        failed_jobs = s.scalar(select(func.count()).select_from(Job).where(Job.status == "failed"))
        open_incidents = Counter(s.scalars(select(Incident.kind).where(Incident.status == "open")))
    completed = statuses.get("completed", 0)
    print(
        f"faults: {len(faults)} ({', '.join(f['kind'] for f in faults)}); clients {args.clients}, "
        f"workers {args.workers}, window {args.seconds:.0f} s; restarts: workers "
        f"{sum(w.restarts for w in workers)}, sweep {sweep.restarts}"
    )
    print(
        f"started {len(started)}  confirmed {len(confirmed)}  completed {completed}  "
        f"lost {len(confirmed) - completed - statuses.get('running', 0) - statuses.get('waiting', 0)}  "
        f"stuck {statuses.get('running', 0) + statuses.get('waiting', 0)}  in error {statuses.get('error', 0)}"
    )
    print(
        f"duplicated: invoices {sum(1 for n in invoices.values() if n > 1)}, posted readings "
        f"{sum(1 for n in readings.values() if n > 1)}, e-mails by Message-ID "
        f"{sum(1 for n in inbox.message_ids.values() if n > 1)} (flagged possibly sent: {possibly_sent}); "
        f"messages received {sum(inbox.message_ids.values())}"
    )
    print(f"failed jobs {failed_jobs}; open incidents {dict(open_incidents)}")
    twice = [m for m, n in inbox.message_ids.items() if n > 1]
    if twice:
        with system.sessions() as s:
            rows = s.execute(
                select(
                    Email.id, Email.status, Email.attempts, Email.possibly_sent, Email.message_id
                ).where(Email.message_id.in_(twice))
            ).all()
        print(
            "received more than once (id, status, attempts, possibly sent, Message-ID): "
            + "; ".join(str(tuple(r)) for r in rows)
        )
    for kind, seconds in recoveries:
        print(
            f"recovery after {kind:8s}: "
            + (f"{seconds:.1f} s" if seconds is not None else "not within 180 s")
        )
    print(
        "every lifecycle finished "
        + (
            f"{drained:.1f} s after the end of the last fault"
            if drained is not None
            else "NOT within 180 s of the end of the last fault"
        )
    )
    for process in (*workers, sweep):
        process.stop()
    smtp.stop()
    redis.stop()
    proxy.close()
    system.db.dispose()


if __name__ == "__main__":
    main()
