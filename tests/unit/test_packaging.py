"""The wheel carries everything ``saygac migrate`` needs: the migrations package with its
``alembic.ini`` and template, every revision, and the settings template (checked against the
packaging configuration setuptools builds the wheel from)."""

from __future__ import annotations

import fnmatch
import tomllib

from setuptools import find_namespace_packages

from engine.schema import MIGRATIONS
from engine.settings import PROJECT_ROOT


def _packaging():
    with open(PROJECT_ROOT / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]


def _in_wheel(path) -> bool:
    """Whether setuptools puts this file (under the project root) into the wheel."""
    tool = _packaging()
    packages = set(
        find_namespace_packages(str(PROJECT_ROOT), include=tool["packages"]["find"]["include"])
    )
    rel = path.relative_to(PROJECT_ROOT)
    package = ".".join(rel.parent.parts)
    if package not in packages:
        return False
    if rel.suffix == ".py":
        return True
    top = rel.parts[0]
    inside = "/".join(rel.parts[1:])
    return any(fnmatch.fnmatch(inside, pattern) for pattern in tool["package-data"].get(top, []))


def test_the_migrations_and_their_alembic_ini_are_in_the_wheel():
    needed = [
        MIGRATIONS / "alembic.ini",
        MIGRATIONS / "env.py",
        MIGRATIONS / "script.py.mako",
        *sorted((MIGRATIONS / "versions").glob("*.py")),
    ]
    assert len(needed) > 4
    assert [p.name for p in needed if not _in_wheel(p)] == []


def test_the_settings_template_is_installed_with_the_wheel():
    assert "config.toml" in _packaging()["data-files"]["share/saygac"]
