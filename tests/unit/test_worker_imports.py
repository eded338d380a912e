"""The worker process starts from its own entry point and never loads the web layer."""

from __future__ import annotations

import subprocess
import sys

from engine.settings import PROJECT_ROOT


def test_the_worker_entry_point_imports_neither_flask_nor_the_web_package():
    code = (
        "import sys, worker.cli, worker.rq_entry, worker.sweep, worker.dispatch; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'flask_wtf', 'web')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_python_m_worker_names_its_commands():
    out = subprocess.run(
        [sys.executable, "-m", "worker", "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "work" in out.stdout and "sweep" in out.stdout


def test_the_web_layer_reaches_the_worker_only_through_its_package_interface():
    """``worker.make_dispatcher`` and ``worker.start_sweep_thread`` (and the worker's own command
    line for the ``saygac worker`` / ``saygac sweep`` aliases); never its internals."""
    import re

    internal = re.compile(r"^\s*(from worker\.(?!cli\b)\w+|import worker\.)", re.MULTILINE)
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in (PROJECT_ROOT / "web").rglob("*.py")
        if internal.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []
