"""Settings: defaults from config.toml, environment overrides, clear errors."""

from __future__ import annotations

import pytest

from engine.settings import SettingsError, load_settings
from workflow.plausibility import PlausibilityConfig


def test_config_file_defaults_and_environment_overrides(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        '[database]\nurl = "sqlite:///x.db"\n[jobs]\nretry_delays_seconds = [1, 2]\n'
        "[plausibility]\nhigh_factor = 2.5\n"
    )
    env = {
        "SAYGAC_DATABASE__URL": "postgresql+psycopg://db/saygac",
        "SAYGAC_WORK__LEASE_MINUTES": "45",
        "SAYGAC_APP__DEMO_DATA": "false",
        "SAYGAC_PLAUSIBILITY__ZERO_ALLOWED_DAYS": "40",
    }
    settings = load_settings(cfg, environ=env)
    assert settings.database.url == "postgresql+psycopg://db/saygac"
    assert settings.work.lease_minutes == 45 and settings.app.demo_data is False
    assert settings.jobs.retry_delays_seconds == (1, 2)
    plaus = settings.section("plausibility", PlausibilityConfig)
    assert plaus.high_factor == 2.5


def test_section_reads_environment_overrides_too(tmp_path, monkeypatch):
    monkeypatch.setenv("SAYGAC_PLAUSIBILITY__ZERO_ALLOWED_DAYS", "40")
    settings = load_settings(tmp_path / "missing.toml")
    assert settings.section("plausibility", PlausibilityConfig).zero_allowed_days == 40


@pytest.mark.parametrize(
    "text, message",
    [
        ('[work]\nlease_minutes = "soon"\n', "expected a number"),
        ('[app]\ndemo_data = "maybe"\n', "expected true or false"),
        ('[database]\nurll = "x"\n', "unknown setting"),
    ],
)
def test_bad_settings_are_named(tmp_path, text, message):
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError, match=message):
        load_settings(cfg, environ={})


def test_the_shipped_config_loads():
    settings = load_settings(environ={})
    assert settings.app.mode == "embedded" and settings.database.url.startswith("sqlite")


@pytest.mark.parametrize(
    ("text", "environ", "message"),
    [
        (
            '[databse]\nurl = "x"\n',
            {},
            "unknown settings section [databse] (did you mean 'database'?)",
        ),
        (
            '[mail]\nsmpt_host = "x"\n',
            {},
            "[mail] has an unknown setting 'smpt_host' (did you mean 'smtp_host'?)",
        ),
        (
            "",
            {"SAYGAC_JOB__RUNNER": "rq"},
            "SAYGAC_JOB__RUNNER names an unknown settings section [job] (did you mean 'jobs'?)",
        ),
        (
            "",
            {"SAYGAC_JOBS__RUNER": "rq"},
            "SAYGAC_JOBS__RUNER names an unknown setting [jobs] 'runer' (did you mean 'runner'?)",
        ),
        (
            '[app]\nmode = "embeded"\n',
            {},
            "[app] mode must be one of production, embedded, not 'embeded' (did you mean 'embedded'?)",
        ),
    ],
)
def test_unknown_names_are_refused_with_a_hint(tmp_path, text, environ, message):
    cfg = tmp_path / "config.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError) as refused:
        load_settings(cfg, environ=environ)
    assert str(refused.value) == message


def test_a_package_section_refuses_an_unknown_key_with_a_hint(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[plausibility]\nhigh_factr = 2\n")
    settings = load_settings(cfg, environ={})
    with pytest.raises(
        SettingsError,
        match=r"\[plausibility\] has an unknown setting 'high_factr' \(did you mean 'high_factor'\?\)",
    ):
        settings.section("plausibility", PlausibilityConfig)
