"""Production counts failed sign-ins and subscriber-code lookups in Redis: every web process (gunicorn worker, machine) sees the
same counts, so spreading guesses over processes does not get past the limit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import Flask

from engine.audit import Actor
from engine.identity import LoginSettings
from engine.settings import load_settings
from web import limits
from workflow.lookups import LookupLimits


def _web_process(redis_url: str) -> Flask:
    settings = load_settings(
        environ={}, overrides={"app": {"mode": "production"}, "redis": {"url": redis_url}}
    )
    app = Flask(__name__)
    limits.init_app(app, settings)
    return app


def test_failures_spread_over_two_web_processes_lock_the_user_name_on_both(redis_url):
    rules = LoginSettings()
    first, second = _web_process(redis_url), _web_process(redis_url)
    keys = limits.login_keys("leyla", "10.0.0.7")
    for n in range(rules.max_failures_per_user - 1):
        with (first if n % 2 else second).app_context():
            assert limits.count_login_failure(keys, rules) is None
    with first.app_context():
        assert limits.login_locked_until(keys, rules) is None
        until = limits.count_login_failure(keys, rules)  # the fifth, wherever it lands
    with second.app_context():
        seen = limits.login_locked_until(
            keys, rules
        )  # Redis answers the lock's time left: the same end
        assert seen is not None and abs(seen - until) < timedelta(seconds=2)
        assert (
            limits.login_locked_until(limits.login_keys("someone-else", "10.0.0.8"), rules) is None
        )
    assert until > datetime.now(UTC) + timedelta(minutes=rules.lock_minutes - 1)


def test_an_accounts_lookups_spread_over_two_web_processes_share_one_window(redis_url):
    rules = LookupLimits(max_lookups=4)
    first, second = _web_process(redis_url), _web_process(redis_url)
    citizen, other = Actor(id=7, role="citizen", label=""), Actor(id=8, role="citizen", label="")
    answers = []
    for n in range(rules.max_lookups + 1):
        with (first if n % 2 else second).app_context():
            answers.append(limits.lookup_window(citizen, rules)())
    assert answers == [True] * rules.max_lookups + [False]
    with first.app_context():
        assert limits.lookup_window(other, rules)() is True
