"""The house's floors, read from the source with ``ast`` (no imports executed).

``engine`` is the ground floor; ``workflow`` and ``forms`` stand on it; ``web`` and ``worker`` on
top. An import may only point down or sideways within a floor as listed in ``FORBIDDEN``, the
worker never loads Flask or the web package, benchmarks use no test code, and no two modules
import each other, directly or round a longer loop (imports inside functions count: a loop
hidden in a function is still a loop).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "workflow", "forms", "web", "worker", "bench", "tests", "migrations")
FORBIDDEN = {  # package -> top-level names it must never import
    "engine": {
        "workflow",
        "forms",
        "web",
        "worker",
        "bench",
        "tests",
        "flask",
        "flask_babel",
        "flask_login",
        "flask_wtf",
        "rq",
        "wtforms",
    },
    "workflow": {
        "forms",
        "web",
        "worker",
        "bench",
        "tests",
        "flask",
        "flask_babel",
        "flask_login",
        "flask_wtf",
        "rq",
    },
    "forms": {
        "web",
        "worker",
        "bench",
        "tests",
        "flask",
        "flask_babel",
        "flask_login",
        "flask_wtf",
        "rq",
    },
    "web": {"bench", "tests"},
    "worker": {"web", "flask", "flask_babel", "flask_login", "flask_wtf", "bench", "tests"},
    "bench": {"tests"},
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            found[module_name(path)] = path
    return found


def imported_names(path: Path, name: str) -> set[str]:
    """Every dotted name ``path`` imports, with ``from a import b`` as ``a.b`` (a module or not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


MODULES = project_modules()
IMPORTS = {name: imported_names(path, name) for name, path in MODULES.items()}


def graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports (the deepest module each dotted name names)."""
    edges: dict[str, set[str]] = {}
    for name, names in IMPORTS.items():
        targets = set()
        for dotted in names:
            while dotted and dotted not in MODULES:
                dotted = dotted.rpartition(".")[0]
            if dotted and dotted != name and not name.startswith(dotted + "."):
                targets.add(dotted)  # a package's own __init__ above a module is not an edge
        edges[name] = targets
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_reader_sees_imports_of_every_kind():
    """The parser is what the other tests stand on: a known module's known imports are found."""
    assert "web.auth" in graph()["web.login.password"]
    assert "workflow.tasks" in graph()["workflow.system"]
    assert {"engine", "web", "worker", "workflow", "forms"} <= {m.split(".")[0] for m in MODULES}


def test_a_loop_is_found():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_arrow_points_up(package):
    wrong = sorted(
        f"{name} imports {dotted}"
        for name, names in IMPORTS.items()
        if name.split(".")[0] == package
        for dotted in names
        if dotted.split(".")[0] in FORBIDDEN[package]
    )
    assert wrong == []


def test_no_module_imports_itself_round_a_loop():
    assert cycles(graph()) == []
