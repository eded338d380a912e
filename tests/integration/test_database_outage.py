"""The database goes away under the web tier: pages answer a translated 503 with Retry-After
within the configured timeouts (never a bare 500, never a hang), the app starts while the
database is down and serves as soon as it is back. The database sits behind a TCP proxy the
test closes (refusing) or makes hang, so the shared server is never stopped."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy.engine import make_url

from bench.outages import TcpProxy
from engine.models import Account
from engine.safety import UnsafeForProduction
from tests.conftest import make_settings
from tests.integration.conftest import empty_database
from tests.integration.test_production_safety import (
    SAFE,  # the settings production accepts
)
from tests.web.conftest import Browser
from web import create_app
from web.cli import cmd_check
from workflow import factories as f
from workflow.system import build_system

CONNECT_TIMEOUT = 2
PRODUCTION = {
    **SAFE,
    "database": {"connect_timeout_seconds": CONNECT_TIMEOUT, "pool_timeout_seconds": 2},
}


@pytest.fixture
def proxy(pg_url):
    url = make_url(pg_url)
    proxy = TcpProxy(url.host, url.port or 5432)
    yield proxy
    proxy.close()


@pytest.fixture
def production_through_proxy(pg_url, proxy, tmp_path, clock):
    """A production system whose database URL goes through the proxy; the database is emptied
    before and after (the production checks look for demo accounts)."""
    url = (
        make_url(pg_url)
        .set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False)
    )
    system = build_system(make_settings(tmp_path, database_url=url, **PRODUCTION), clock)
    proxy.open()
    empty_database(system.db)
    with system.sessions() as s:
        f.account(s, "citizen", username="ayan", fin="5ABC123")
        s.commit()
    proxy.close()
    yield system
    proxy.open()
    empty_database(system.db)
    system.db.dispose()


def _browser(app) -> Browser:
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # production's cookies are Secure
    return Browser(client)


def _within(seconds: float, call):
    """Run ``call`` in a thread; its answer, or a failure if it is still waiting after ``seconds``."""
    answer = {}
    thread = threading.Thread(target=lambda: answer.setdefault("value", call()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    return answer["value"]


def _assert_unavailable(browser: Browser, response) -> None:
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "Xidmət müvəqqəti əlçatan deyil" in browser.html  # Azerbaijani, the default language


def test_the_app_starts_while_the_database_is_down_answers_503_and_serves_once_it_is_back(
    production_through_proxy, proxy
):
    app = create_app(
        system=production_through_proxy
    )  # the database is down: the start does not need it
    browser = _browser(app)
    browser.get("/login")
    response = _within(
        CONNECT_TIMEOUT + 10,
        lambda: browser.submit({"username": "ayan", "password": "secret-pass-1"}, action="/login"),
    )
    _assert_unavailable(browser, response)

    proxy.open()
    assert browser.login("ayan").status_code == 302  # back: the same app serves
    assert browser.get("/tasks").status_code == 200


def test_a_hanging_database_gives_503_within_the_timeout_not_a_hung_request(
    production_through_proxy, proxy
):
    proxy.open()
    app = create_app(system=production_through_proxy)
    browser = _browser(app)
    assert browser.login("ayan").status_code == 302
    proxy.hang()
    response = _within(CONNECT_TIMEOUT + 10, lambda: browser.get("/tasks"))
    _assert_unavailable(browser, response)
    proxy.open()
    assert browser.get("/tasks").status_code == 200


def test_the_production_checks_still_refuse_when_the_database_can_be_reached(
    production_through_proxy, proxy
):
    proxy.open()
    with production_through_proxy.sessions() as s:
        s.add(Account(username="demo-admin", display_name="Demo", role="admin", is_demo=True))
        s.commit()
    with pytest.raises(UnsafeForProduction):
        create_app(system=production_through_proxy)


def test_saygac_check_runs_the_full_production_check(production_through_proxy, proxy, capsys):
    proxy.open()
    assert cmd_check(production_through_proxy.settings, None, production_through_proxy) == 0
    with production_through_proxy.sessions() as s:
        s.add(Account(username="demo-admin", display_name="Demo", role="admin", is_demo=True))
        s.commit()
    assert cmd_check(production_through_proxy.settings, None, production_through_proxy) == 1
    assert "demo accounts exist in the database" in capsys.readouterr().err
