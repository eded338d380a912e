"""e-gov identity and the staff provider against a real OpenID provider on loopback
(tests/oidc_provider.py): PKCE, state and nonce, and every bad token refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from engine.db import Base
from engine.models import Account, AuditEvent
from tests.conftest import make_settings
from tests.oidc_provider import LoopbackProvider
from tests.web.conftest import Browser
from web import create_app
from workflow import factories as f
from workflow.system import build_system


@pytest.fixture
def op(clock):
    with LoopbackProvider(clock=clock) as provider:
        yield provider


@pytest.fixture
def world(tmp_path, clock, op):
    oidc = {"issuer": op.issuer, "client_id": op.client_id, "client_secret": op.client_secret}
    system = build_system(make_settings(tmp_path, oidc_egov=oidc, oidc_staff=oidc), clock)
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        unit = f.unit(s)
        f.account(s, "citizen", username="vetendas", fin="5ABC123", name="Aysel Məmmədova")
        f.account(s, "operator", unit, username="operator", fin="7OPR001", name="Leyla Hüseynova")
        s.commit()
    yield create_app(system=system, config={"TESTING": True}), system
    system.db.dispose()


def _through_provider(app, provider="egov", next_url=None) -> Browser:
    """Start at the app, follow to the provider (a real HTTP server), come back to the callback."""
    browser = Browser(app.test_client())
    browser.get(f"/login/oidc/{provider}" + (f"?next={next_url}" if next_url else ""))
    assert browser.response.status_code == 302
    import requests

    answer = requests.get(browser.response.headers["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    browser.get(back.path + "?" + back.query)
    return browser


def _failures(system) -> list[dict]:
    with system.sessions() as s:
        return [
            e.detail
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "login_failed"))
        ]


def test_egov_signs_in_the_fins_account_with_pkce_state_and_nonce(world, op):
    app, system = world
    browser = _through_provider(app, next_url="/tasks")
    assert browser.response.status_code == 302 and browser.response.headers["Location"] == "/tasks"
    asked = op.authorize_requests[0]
    assert (
        asked["code_challenge_method"] == "S256"
        and len(asked["state"]) > 20
        and len(asked["nonce"]) > 20
    )
    assert asked["redirect_uri"] == "http://127.0.0.1:5000/login/oidc/egov/callback"
    browser.follow()
    assert "Aysel Məmmədova" in browser.html
    with system.sessions() as s:
        assert (
            s.query(Account).filter(Account.fin == "5ABC123").count() == 1
        )  # the password account, no new one
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "login"))
        assert event.detail == {"method": "egov"}


def test_first_egov_login_creates_a_citizen(world, op):
    app, system = world
    op.user = {"sub": "u-2", "fin": "2NEW0AZ", "name": "Orxan Həsənli"}
    browser = _through_provider(app)
    assert browser.response.status_code == 302
    with system.sessions() as s:
        account = s.scalar(select(Account).where(Account.fin == "2NEW0AZ"))
        assert account.role == "citizen" and account.display_name == "Orxan Həsənli"


@pytest.mark.parametrize(
    "mode, reason",
    [
        ("tampered", "signature"),
        ("wrong_key", "signature"),
        ("expired", "claims:exp"),
        ("wrong_audience", "claims:aud"),
        ("wrong_issuer", "claims:iss"),
    ],
)
def test_bad_id_tokens_are_refused(world, op, mode, reason):
    app, system = world
    op.mode = mode
    browser = _through_provider(app)
    assert browser.response.status_code == 400
    browser.get("/tasks")
    assert browser.response.status_code == 302
    assert _failures(system) == [{"method": "egov", "reason": reason}]


def test_a_replayed_id_token_is_refused_by_its_nonce(world, op):
    app, system = world
    assert _through_provider(app).response.status_code == 302
    op.mode = "replay"
    assert _through_provider(app).response.status_code == 400
    assert _failures(system) == [{"method": "egov", "reason": "claims:nonce"}]


def test_a_replayed_callback_is_refused(world, op):
    app, system = world
    browser = Browser(app.test_client())
    browser.get("/login/oidc/egov")
    import requests

    back = requests.get(
        browser.response.headers["Location"], allow_redirects=False, timeout=5
    ).headers["Location"]
    callback = urlsplit(back).path + "?" + urlsplit(back).query
    assert browser.get(callback).status_code == 302
    assert (
        Browser(app.test_client()).get(callback).status_code == 400
    )  # another browser: no attempt
    assert browser.get(callback).status_code == 400  # the same browser again: the attempt is spent


def test_a_forged_state_is_refused(world, op):
    app, system = world
    browser = Browser(app.test_client())
    browser.get("/login/oidc/egov")
    import requests

    back = urlsplit(
        requests.get(
            browser.response.headers["Location"], allow_redirects=False, timeout=5
        ).headers["Location"]
    )
    code = parse_qs(back.query)["code"][0]
    assert browser.get(f"{back.path}?code={code}&state=forged").status_code == 400
    assert _failures(system) == [{"method": "egov", "reason": "state"}]


def test_staff_provider_signs_in_existing_staff_only(world, op):
    app, system = world
    op.user = {"sub": "s-1", "fin": "7OPR001", "name": "whatever the token says", "role": "admin"}
    browser = _through_provider(app, provider="staff")
    assert browser.response.status_code == 302
    browser.follow()
    assert "Leyla Hüseynova" in browser.html  # name and role from the account
    op.user = {"sub": "s-2", "fin": "5ABC123", "name": "Aysel"}  # a citizen is no staff
    assert _through_provider(app, provider="staff").response.status_code == 400
    op.user = {"sub": "s-3", "fin": "1UNKN01", "name": "Nobody"}
    assert _through_provider(app, provider="staff").response.status_code == 400
    with system.sessions() as s:
        assert s.scalar(select(Account.id).where(Account.fin == "1UNKN01")) is None


def test_the_login_page_offers_egov_when_configured(world):
    app, _system = world
    browser = Browser(app.test_client())
    browser.get("/login")
    assert browser.doc.xpath("//a[@href='/login/oidc/egov']")
    assert browser.doc.xpath("//a[@href='/login/oidc/staff']")


def test_the_embedded_egov_simulator_offers_the_demo_citizens_to_the_real_client(tmp_path, clock):
    import requests
    from lxml import html as lxml_html

    system = build_system(
        make_settings(tmp_path), clock
    )  # the shipped settings: issuer = "simulator"
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        s.add(
            Account(
                username="demo-citizen",
                fin="5DEMO01",
                display_name="Aysel Məmmədova",
                role="citizen",
                is_demo=True,
                active=True,
                failed_logins=0,
            )
        )
        s.commit()
    app = create_app(system=system, config={"TESTING": True})
    browser = Browser(app.test_client())
    browser.get("/login/oidc/egov")
    chooser = requests.get(browser.response.headers["Location"], allow_redirects=False, timeout=5)
    assert chooser.status_code == 200
    form = lxml_html.fromstring(chooser.text).forms[0]
    assert form.xpath(".//button[@name='fin']/@value") == ["5DEMO01"]
    fields = dict(form.fields, fin="5DEMO01")
    answer = requests.get(
        urlsplit(chooser.url)._replace(query="").geturl(),
        params=fields,
        allow_redirects=False,
        timeout=5,
    )
    back = urlsplit(answer.headers["Location"])
    browser.get(back.path + "?" + back.query)
    assert browser.response.status_code == 302
    with system.sessions() as s:
        assert s.scalar(select(AuditEvent.detail).where(AuditEvent.action == "login")) == {
            "method": "egov"
        }
    app.extensions["saygac.oidc_clients"]["egov"].simulator.stop()
    system.db.dispose()
