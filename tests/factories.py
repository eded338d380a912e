"""Kept so tests written before the move still import; the builders live in
:mod:`workflow.factories`. Import from there."""

from workflow.factories import account, actor, money, password_hash, subscriber, tariffs, unit

__all__ = ["account", "actor", "money", "password_hash", "subscriber", "tariffs", "unit"]
