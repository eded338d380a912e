"""Kept so tests written before the move still import; the process driver lives in
:mod:`worker.lifecycle`. Import from there."""

from worker.lifecycle import Lifecycle, make_people, make_team, new_subscriber, submit

__all__ = ["Lifecycle", "make_people", "make_team", "new_subscriber", "submit"]
