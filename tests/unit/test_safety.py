"""Production fails closed: each unsafe setting refuses the start with a message naming it."""

from __future__ import annotations

import pytest

from engine import safety
from engine.settings import load_settings

SAFE = {
    "app": {"mode": "production", "secret_key": "k" * 40},
    "database": {"url": "postgresql+psycopg://saygac@db-host/saygac"},
    "jobs": {"runner": "rq"},
    "mail": {"transport": "smtp"},
    "asan": {"gateway": ""},
    "card": {"simulator": False},
    "oidc_egov": {"issuer": ""},
}


def production(**changes) -> object:
    overrides = {section: dict(values) for section, values in SAFE.items()}
    for section, values in changes.items():
        overrides.setdefault(section, {}).update(values)
    return load_settings(environ={}, overrides=overrides)


def test_a_safe_production_configuration_has_no_problems():
    assert safety.problems(production()) == []


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        (
            {"app": {"secret_key": ""}},
            "[app] secret_key (SAYGAC_APP__SECRET_KEY) is missing or shorter than 32",
        ),
        (
            {"app": {"secret_key": "short-key"}},
            "[app] secret_key (SAYGAC_APP__SECRET_KEY) is missing or shorter than 32",
        ),
        (
            {"database": {"url": "sqlite:///var/saygac.sqlite3"}},
            "[database] url (SAYGAC_DATABASE__URL) is SQLite",
        ),
        ({"jobs": {"runner": "inline"}}, '[jobs] runner (SAYGAC_JOBS__RUNNER) is "inline"'),
        (
            {"mail": {"transport": "outbox_dir"}},
            '[mail] transport (SAYGAC_MAIL__TRANSPORT) is "outbox_dir"',
        ),
        (
            {"asan": {"gateway": "simulator"}},
            "[asan] gateway (SAYGAC_ASAN__GATEWAY) is the simulator",
        ),
        ({"card": {"simulator": True}}, "[card] simulator (SAYGAC_CARD__SIMULATOR) is on"),
        (
            {"oidc_egov": {"issuer": "simulator"}},
            "[oidc_egov] issuer (SAYGAC_OIDC_EGOV__ISSUER) is the simulator",
        ),
        ({"redis": {"url": "memory://"}}, "[redis] url (SAYGAC_REDIS__URL) is not a Redis URL"),
        (
            {"oidc_staff": {"issuer": "simulator"}},
            "[oidc_staff] issuer (SAYGAC_OIDC_STAFF__ISSUER) is the simulator",
        ),
    ],
)
def test_each_unsafe_setting_is_refused_with_its_own_message(changes, named):
    found = safety.problems(production(**changes))
    assert len(found) == 1 and found[0].startswith(named)
    with pytest.raises(safety.UnsafeForProduction, match="production refuses to start") as refused:
        safety.check(production(**changes))
    assert refused.value.problems == found


def test_every_problem_is_listed_at_once():
    settings = load_settings(
        environ={"SAYGAC_APP__MODE": "production"}
    )  # the shipped file's embedded choices
    assert (
        len(safety.problems(settings)) == 7
    )  # key, SQLite, inline jobs, mail folder, three simulators


def test_the_embedded_mode_is_not_judged_by_production_rules():
    assert safety.problems(production(app={"mode": "embedded", "secret_key": ""})) == []


def test_without_a_settings_file_the_mode_is_production(tmp_path):
    assert load_settings(tmp_path / "none.toml", environ={}).is_production


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("192.168.1.10", False),
        ("::", False),
        ("example.org", False),
    ],
)
def test_loopback_addresses(host, loopback):
    assert safety.loopback(host) is loopback


def test_saygac_serve_runs_the_embedded_mode_on_loopback_only(capsys):
    from web.cli import main

    assert (
        main(["serve", "--host", "0.0.0.0"]) == 2
    )  # refused before anything is migrated or served
    assert "the embedded mode serves on a loopback address only" in capsys.readouterr().err
    assert safety.serve_problems(production(), "127.0.0.1")[0].startswith(
        "saygac serve runs the embedded mode only"
    )
    assert safety.serve_problems(load_settings(environ={}), "::1") == []


def test_the_wsgi_entry_point_refuses_the_embedded_mode():
    import subprocess
    import sys

    from engine.settings import PROJECT_ROOT

    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(PROJECT_ROOT),
    }  # the shipped config.toml: embedded
    run = subprocess.run(
        [sys.executable, "-c", "import web.wsgi"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1
    assert (
        'web.wsgi is the production entry point and [app] mode (SAYGAC_APP__MODE) is "embedded"'
        in run.stderr
    )
