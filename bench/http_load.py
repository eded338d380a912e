"""HTTP load in production shape: gunicorn, PostgreSQL, Redis, rq workers, Locust (headless).

    .venv/bin/python -m bench.http_load [--users 50] [--seconds 60] [--login-seconds 20]
                                        [--web-workers 4] [--rq-workers 2] [--citizens 10000]

One run:

1. seeds a PostgreSQL database (``bench/demo_world.py``: the demo data with ``--subscribers``
   subscribers, ``--citizens`` citizen accounts, an operator per unit) and makes distinct
   150 KB JPEG photos (noise, so they neither compress nor look alike);
2. starts ``gunicorn -w WEB_WORKERS web.wsgi:app``, ``RQ_WORKERS`` x ``python -m worker work``
   (the production commands) and the settings' Redis and database; the web and worker
   processes count their own SQL statements, commits and pool pings (``bench/sql_counter.py``);
3. **submissions**: ``--users`` simulated citizens (``bench/http_users.py``), signed in before
   the timing starts, each repeating the whole journey a browser makes for ``--seconds``
   (pages, CSRF tokens, one photo, static files through a browser's cache); prints full
   submissions per second, p50/p95 per request kind and over every request, errors, web CPU
   per submission (the gunicorn workers' CPU in the timed window / submissions), PostgreSQL
   statements, commits and pings per submission (web tier);
4. after the window, every submitted application is accepted by its unit's operator in this
   process, and the rq workers run what follows (invoice, e-mail): prints worker CPU per
   lifecycle (the workers' CPU from the start of the window until the outbox is empty, over
   the lifecycles completed) and the workers' statements per lifecycle;
5. **logins**: the same users sign in and out for ``--login-seconds``: logins per second, p95,
   web CPU per login, with the argon2 parameters against RFC 9106 and OWASP's guidance;
6. the resident memory of every web and worker process after the load, and the load average.

The web tier runs the app factory (``web:create_app()``) in the embedded mode's settings, because
production's ``Secure`` cookies are not sent back over the plain HTTP the load generator speaks
to gunicorn (``web.wsgi`` refuses the embedded mode); every component is the production one:
gunicorn, PostgreSQL, Redis, rq workers. The machine runs the
load generator too: its CPU is not the server's, but it competes for the same cores.

The PostgreSQL database (default ``saygac_bench_http``) loses every table and the Redis
database (default db 11) is emptied: use neither for anything else.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image
from redis import Redis
from sqlalchemy import func, select, update

from bench import demo_world, sql_counter
from bench.proc import cpu_seconds, rss_mb
from engine.models import Account, Job, WorkItem
from engine.passwords import _hasher
from worker import make_dispatcher

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PG = demo_world.PG_SERVER + "/saygac_bench_http"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
TARGETS = {"submissions_per_second": 25, "p95_ms": 150, "rss_mb": 150}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def photos(directory: Path, count: int, size_kb: int = 150) -> list[str]:
    """Distinct noise JPEGs of about ``size_kb`` (noise neither compresses nor hashes alike)."""
    rng = random.Random(14)
    out = []
    for k in range(count):
        side = 405
        image = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
        buf = io.BytesIO()
        image.save(buf, "JPEG", quality=90)
        path = directory / f"photo-{k}.jpg"
        path.write_bytes(buf.getvalue())
        out.append(str(path))
    return out


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def cpu_of(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            pass
    return total


def wait_http(port: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn stopped: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start")


def run_phase(phase: str, port: int, users: int, seconds: float, plan: Path, on_ready) -> dict:
    """Run bench/http_users.py; ``on_ready()`` is called once every user is signed in (the window
    starts right after it returns)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bench.http_users",
            phase,
            "--host",
            f"http://127.0.0.1:{port}",
            "--users",
            str(users),
            "--seconds",
            str(seconds),
            "--plan",
            str(plan),
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    for line in proc.stdout:
        if line.strip() == "READY":
            on_ready()
            proc.stdin.write("go\n")
            proc.stdin.flush()
        elif line.startswith("{"):
            proc.wait(timeout=60)
            return json.loads(line)
    raise RuntimeError(f"the load generator stopped ({proc.wait()})")


def print_requests(result: dict) -> None:
    for name, st in sorted(result["stats"].items()):
        if not name.startswith("JOURNEY"):
            print(
                f"      {name:<34} n={st['count']:6d}  failures {st['failures']:4d}  p50 {st['p50']:6.0f} ms  "
                f"p95 {st['p95']:6.0f} ms  max {st['max']:6.0f} ms"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--login-seconds", type=float, default=20)
    parser.add_argument("--web-workers", type=int, default=4)
    parser.add_argument("--rq-workers", type=int, default=2)
    parser.add_argument("--citizens", type=int, default=10000)
    parser.add_argument(
        "--citizens-per-user",
        type=int,
        default=3,
        help="citizens each simulated user signs in before the timing and takes turns with "
        "(a citizen may look up 10 different codes a day)",
    )
    parser.add_argument("--subscribers", type=int, default=10000)
    parser.add_argument(
        "--postgres", default=os.environ.get("SAYGAC_BENCH_HTTP_POSTGRES", DEFAULT_PG)
    )
    parser.add_argument("--redis", default=os.environ.get("SAYGAC_BENCH_HTTP_REDIS", DEFAULT_REDIS))
    args = parser.parse_args()
    started = time.perf_counter()
    print(
        f"saygac HTTP load: {args.users} citizens, gunicorn -w {args.web_workers}, {args.rq_workers} rq worker(s), "
        f"{os.cpu_count()} CPUs, load average before {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    Redis.from_url(args.redis).flushdb()
    with tempfile.TemporaryDirectory(prefix="saygac-bench-http-") as tmpdir:
        tmp = Path(tmpdir)
        world = demo_world.build(
            args.postgres,
            tmp,
            args.redis,
            subscribers=args.subscribers,
            citizens=args.citizens,
            unit_code=None,
        )
        system = world.system
        with (
            system.sessions() as s
        ):  # only the benchmark's accounts sign in; none is a demo account
            s.execute(update(Account).values(is_demo=False))
            s.commit()
        plan = tmp / "plan.json"
        rng = random.Random(7)
        subs = list(world.submissions)
        rng.shuffle(subs)
        plan.write_text(
            json.dumps(
                {
                    "citizens": world.citizen_names,
                    "password": demo_world.CITIZEN_PASSWORD,
                    "citizens_per_user": args.citizens_per_user,
                    "photo_files": photos(
                        tmp, max(200, int(args.seconds * 8))
                    ),  # reused photos get flagged
                    "submissions": [
                        {
                            "k": k,
                            "code": x.code,
                            "serial": x.serial,
                            "seal": x.seal,
                            "value": x.value,
                        }
                        for k, x in enumerate(subs)
                    ],
                }
            )
        )
        print(
            f"  seeded: {args.subscribers} subscribers ({len(subs)} one-meter subscribers to submit for), "
            f"{args.citizens} citizens; photos {os.path.getsize(tmp / 'photo-0.jpg') / 1024:.0f} KB"
        )
        system.db.dispose()

        env = {
            **os.environ,
            **demo_world.environment(args.postgres, tmp, args.redis),
            "PYTHONPATH": str(ROOT),
        }
        web_sql, worker_sql = tmp / "sql-web", tmp / "sql-worker"
        port = free_port()
        web_log = tmp / "gunicorn.log"
        web = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(args.web_workers),
                "-b",
                f"127.0.0.1:{port}",
                "-c",
                str(ROOT / "bench" / "gunicorn_conf.py"),
                "web:create_app()",
            ],
            cwd=ROOT,
            env={**env, "SAYGAC_BENCH_SQL_DIR": str(web_sql)},
            stdout=web_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        counting_worker = (
            "import sys; from bench import sql_counter; sql_counter.install(sys.argv[1]); "
            "from worker.cli import main; sys.exit(main(['work']))"
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", counting_worker, str(worker_sql)],
                cwd=ROOT,
                env=env,
                stdout=(tmp / f"worker-{k}.log").open("wb"),
                stderr=subprocess.STDOUT,
            )
            for k in range(args.rq_workers)
        ]
        try:
            wait_http(port, web, web_log)
            marks: dict = {}

            def web_pids():
                return children(web.pid)

            def mark(key):
                marks[key] = {
                    "web_cpu": cpu_of(web_pids()),
                    "worker_cpu": cpu_of([w.pid for w in workers]),
                    "web_sql": sql_counter.totals(web_sql),
                    "worker_sql": sql_counter.totals(worker_sql),
                    "t": time.perf_counter(),
                }

            result = run_phase(
                "submit", port, args.users, args.seconds, plan, lambda: mark("start")
            )
            mark("end")
            journeys = result["stats"].get("JOURNEY full submission", {}).get("count", 0)
            window = result["seconds"]
            print()
            print(f"  submissions: {args.users} signed-in citizens for {window:.1f} s")
            print(
                f"    full submissions {journeys}, {journeys / window:.2f} per second "
                f"(target >= {TARGETS['submissions_per_second']}: "
                f"{'MET' if journeys / window >= TARGETS['submissions_per_second'] else 'NOT MET'})"
            )
            print(
                f"    requests {result['requests']} ({result['requests'] / max(journeys, 1):.1f} per submission), "
                f"errors {result['failures']}; every request p50 {result['p50_all']:.0f} ms, p95 "
                f"{result['p95_all']:.0f} ms (target <= {TARGETS['p95_ms']}: "
                f"{'MET' if result['p95_all'] <= TARGETS['p95_ms'] and not result['failures'] else 'NOT MET'})"
            )
            print_requests(result)
            for e in result["errors"][:5]:
                print(f"      error x{e['count']}: {e['name']}: {e['error']}")
            if result["failures"]:  # what the server said about them
                errors = [
                    line
                    for line in web_log.read_text(errors="replace").splitlines()
                    if "Error" in line or "Exception" in line
                ][-6:]
                print("      gunicorn log: " + " | ".join(line.strip()[:200] for line in errors))
            web_cpu = marks["end"]["web_cpu"] - marks["start"]["web_cpu"]
            sql = {
                k: marks["end"]["web_sql"][k] - marks["start"]["web_sql"][k]
                for k in marks["end"]["web_sql"]
            }
            per = max(journeys, 1)
            print(
                f"    web CPU {web_cpu * 1000 / per:.0f} ms per submission ({web_cpu / window:.2f} cores busy); "
                f"web tier per submission: {sql['statements'] / per:.1f} SQL statements, "
                f"{sql['commits'] / per:.1f} commits, {sql['rollbacks'] / per:.1f} rollbacks (read-only "
                f"requests end so), {sql['pings'] / per:.1f} pool pings"
            )

            # the rest of each lifecycle: the operators accept, the workers run the invoice and e-mail jobs
            t0 = time.perf_counter()
            accepted = accept_all(world)
            wait_outbox(world.system, timeout=600)
            mark("jobs_done")
            worker_cpu = marks["jobs_done"]["worker_cpu"] - marks["start"]["worker_cpu"]
            wsql = {
                k: marks["jobs_done"]["worker_sql"][k] - marks["start"]["worker_sql"][k]
                for k in marks["jobs_done"]["worker_sql"]
            }
            print(
                f"  lifecycles: {accepted} submitted applications accepted afterwards in this process and their jobs "
                f"run by the workers ({time.perf_counter() - t0:.1f} s); worker CPU {worker_cpu * 1000 / max(accepted, 1):.0f} "
                f"ms per lifecycle (photo jobs during the window, invoice and e-mail after); worker "
                f"{wsql['statements'] / max(accepted, 1):.1f} statements, {wsql['commits'] / max(accepted, 1):.1f} "
                f"commits, {wsql['pings'] / max(accepted, 1):.1f} pings per lifecycle"
            )

            login = run_phase(
                "login", port, args.users, args.login_seconds, plan, lambda: mark("login_start")
            )
            mark("login_end")
            logins = login["stats"].get("POST login", {}).get("count", 0)
            login_cpu = marks["login_end"]["web_cpu"] - marks["login_start"]["web_cpu"]
            print()
            print(
                f"  logins: {args.users} users signing in and out for {login['seconds']:.1f} s: {logins} logins, "
                f"{logins / login['seconds']:.2f} per second, errors {login['failures']}; login p50 "
                f"{login['stats'].get('POST login', {}).get('p50', 0):.0f} ms, p95 "
                f"{login['stats'].get('POST login', {}).get('p95', 0):.0f} ms; web CPU per login (with its "
                f"status page and logout) {login_cpu * 1000 / max(logins, 1):.0f} ms"
            )
            print(
                f"    argon2id parameters: time_cost={_hasher.time_cost}, memory_cost={_hasher.memory_cost} KiB "
                f"({_hasher.memory_cost // 1024} MiB), parallelism={_hasher.parallelism}, hash {_hasher.hash_len} B, "
                f"salt {_hasher.salt_len} B: RFC 9106's second recommended option (t=3, 64 MiB, p=4) and above "
                "OWASP's minimum (19 MiB, t=2, p=1); not weakened for this figure"
            )
            web_rss = [rss_mb(p) for p in web_pids()]
            worker_rss = [rss_mb(w.pid) for w in workers]
            print()
            print(
                f"  memory after the load: web workers {', '.join(f'{r:.0f}' for r in web_rss)} MB; rq workers "
                f"{', '.join(f'{r:.0f}' for r in worker_rss)} MB (target <= {TARGETS['rss_mb']} MB: "
                f"{'MET' if max(web_rss + worker_rss) <= TARGETS['rss_mb'] else 'NOT MET'})"
            )
        finally:
            for proc in [web, *workers]:
                proc.send_signal(signal.SIGTERM)
            for proc in [web, *workers]:
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
    print(
        f"  load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}; run time "
        f"{time.perf_counter() - started:.0f} s"
    )


def accept_all(world) -> int:
    """Every open review accepted by an operator of its unit (one unit of work each, as the web does);
    the jobs go to the workers."""
    system = world.system
    dispatcher = make_dispatcher(system)
    with system.sessions() as s:
        items = s.execute(
            select(WorkItem.id, WorkItem.unit_id).where(
                WorkItem.task_name == "review_application", WorkItem.state == "open"
            )
        ).all()
    for item_id, unit_id in items:
        dispatcher.dispatch(
            demo_world.accept(world, item_id, world.operators.get(unit_id, world.operator))
        )
    return len(items)


def wait_outbox(system, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with system.sessions() as s:
            busy = s.scalar(
                select(func.count())
                .select_from(Job)
                .where(Job.status.in_(("pending", "queued", "running")))
            )
        if not busy:
            return
        time.sleep(0.2)
    raise RuntimeError("the workers did not empty the outbox")


if __name__ == "__main__":
    main()
