"""Bringing a database to the current schema with Alembic (the migrations live in ``migrations/``)."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from engine.settings import PROJECT_ROOT


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str) -> None:
    command.upgrade(alembic_config(database_url), "head")
