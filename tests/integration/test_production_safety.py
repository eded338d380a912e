"""A production start on real PostgreSQL: safe settings start; demo accounts or unsafe settings refuse."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine

from engine.models import Account
from engine.safety import UnsafeForProduction
from tests.conftest import make_settings
from tests.integration.conftest import empty_database
from web import SWEEP_STOP_KEY, create_app
from web.db import DISPATCHER_KEY
from worker.dispatch import RqDispatcher
from workflow.system import build_system

SAFE = {
    "app": {"mode": "production", "secret_key": "k" * 40},
    "jobs": {"runner": "rq"},
    "mail": {"transport": "smtp"},
    "asan": {"gateway": ""},
    "card": {"simulator": False},
    "oidc_egov": {"issuer": ""},
}


@pytest.fixture
def production(pg_url, tmp_path, clock):
    engine = create_engine(pg_url)
    empty_database(engine)

    def build(**changes):
        sections = {name: {**values, **changes.get(name, {})} for name, values in SAFE.items()}
        return build_system(make_settings(tmp_path, database_url=pg_url, **sections), clock)

    built = []
    yield lambda **changes: built.append(build(**changes)) or built[-1]
    empty_database(engine)
    engine.dispose()
    for system in built:
        system.db.dispose()


def test_a_safe_production_start_uses_rq_and_secure_cookies(production):
    app = create_app(system=production())
    assert isinstance(app.extensions[DISPATCHER_KEY], RqDispatcher)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert SWEEP_STOP_KEY not in app.extensions  # rq's scheduler wakes timers, not a thread
    response = app.test_client().get("/login")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_production_refuses_to_start_while_demo_accounts_exist(production):
    system = production()
    with system.sessions() as s:
        s.add(Account(username="demo-admin", display_name="Demo", role="admin", is_demo=True))
        s.commit()
    with pytest.raises(UnsafeForProduction) as refused:
        create_app(system=system)
    assert refused.value.problems == [
        "demo accounts exist in the database ([app] demo_data seeded them): remove them before starting in production"
    ]


def test_production_refuses_an_unsafe_setting_at_start(production):
    with pytest.raises(
        UnsafeForProduction, match=r'\[jobs\] runner \(SAYGAC_JOBS__RUNNER\) is "inline"'
    ):
        create_app(system=production(jobs={"runner": "inline"}))
