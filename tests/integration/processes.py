"""Real worker and sweep processes for integration tests, started as production starts them
(``python -m worker``), so a test can SIGKILL a worker together with its work horse."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from engine.settings import PROJECT_ROOT

# job kinds that fail, kill their process or wait to be killed (see fault_jobs.py)
WITH_FAULT_JOBS = "import tests.integration.fault_jobs; from worker.cli import main; raise SystemExit(main({argv!r}))"


# short leases and sweep passes, no retry delay: a test sees recovery in seconds
FAST = {
    "jobs__lease_seconds": "2",
    "jobs__timer_sweep_seconds": "0.5",
    "jobs__retry_delays_seconds": "0",
    "jobs__max_attempts": "3",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(pg_url: str, redis_url: str, tmp_path, **settings: str) -> dict:
    """``settings`` as ``section__key=value`` (e.g. ``jobs__lease_seconds="2"``)."""
    env = dict(os.environ)
    env.update(
        {
            "SAYGAC_DATABASE__URL": pg_url,
            "SAYGAC_REDIS__URL": redis_url,
            "SAYGAC_JOBS__RUNNER": "rq",
            "SAYGAC_FILES__ROOT": str(tmp_path / "files"),
            "SAYGAC_MAIL__OUTBOX_DIR": str(tmp_path / "mail"),
            "SAYGAC_APP__SECRET_KEY": "x" * 40,
        }
    )
    env.update({f"SAYGAC_{key.upper()}": str(value) for key, value in settings.items()})
    return env


def start(env: dict, *argv: str, fault_jobs: bool = False, log=None) -> subprocess.Popen:
    """``start(env, "work")`` or ``start(env, "sweep")``."""
    if fault_jobs:
        command = [sys.executable, "-c", WITH_FAULT_JOBS.format(argv=list(argv))]
    else:
        command = [sys.executable, "-m", "worker", *argv]
    return subprocess.Popen(
        command,
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )


def children(pid: int) -> list[int]:
    """Processes forked by ``pid`` (rq's work horse runs in a process group of its own)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and the processes it forked (a worker and its work horse)."""
    for pid in [process.pid, *children(process.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    process.wait(timeout=10)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill(process)


def wait(predicate, timeout: float = 60.0, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False
