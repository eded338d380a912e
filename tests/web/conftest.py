"""The web app over the shared ``system`` fixture, and a browser-like client helper.

``Browser`` keeps the last page it fetched and fills forms the way a browser would: the
values already on the page (hidden fields, the CSRF token, what the server put back) plus
what the test types, so CSRF protection stays on in every test.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import timedelta

import lxml.html
import pytest
from PIL import Image

from web import create_app
from workflow import factories as f

PASSWORD = "secret-pass-1"  # tests.factories.password_hash()
WEB_TESTS = __file__.rsplit("/", 1)[0]


@pytest.fixture
def app(system):
    return create_app(system=system, config={"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


class Browser:
    def __init__(self, client):
        self.client = client
        self.response = None

    @property
    def html(self) -> str:
        return self.response.get_data(as_text=True)

    @property
    def doc(self):
        return lxml.html.fromstring(self.html)

    def _keep(self, response):
        if self.response is not None:
            self.response.close()  # a streamed file response holds its file open until closed
        self.response = response
        return response

    def get(self, url: str, **kwargs):
        return self._keep(self.client.get(url, **kwargs))

    def follow(self):
        assert self.response.status_code in (301, 302, 303), self.response.status_code
        return self.get(self.response.headers["Location"])

    def form(self, action: str | None = None) -> tuple[str, dict]:
        """(action, values) of the page's form posting to ``action`` (the first form with fields if None)."""
        for form in self.doc.forms:
            if (form.action != "/logout") if action is None else (form.action == action):
                values = {}
                for name, value in form.form_values():
                    values[name] = value
                return form.action or self.response.request.path, values
        raise AssertionError(f"no form posting to {action!r} on the page")

    def submit(
        self,
        data: dict | None = None,
        *,
        action: str | None = None,
        files: dict | None = None,
        follow: bool = False,
        drop: tuple[str, ...] = (),
    ):
        url, values = self.form(action)
        values.update(data or {})
        for name in drop:
            values.pop(name, None)
        payload = dict(values)
        kwargs = {}
        if files:
            for name, (content, filename) in files.items():
                payload[name] = (io.BytesIO(content), filename)
            kwargs["content_type"] = "multipart/form-data"
        self._keep(self.client.post(url, data=payload, **kwargs))
        if follow and self.response.status_code in (301, 302, 303):
            self.follow()
        return self.response

    def csrf_token(self) -> str:
        return self.doc.xpath("//input[@name='csrf_token']/@value")[0]

    def login(self, username: str, password: str = PASSWORD):
        self.get("/login")
        return self.submit({"username": username, "password": password}, action="/login")


@dataclass
class AuthActions:
    """Flask tutorial style: ``auth.login(name)`` on a fresh browser per person."""

    app: object
    browsers: dict = field(default_factory=dict)

    def browser(self) -> Browser:
        return Browser(self.app.test_client())

    def login(self, username: str, password: str = PASSWORD) -> Browser:
        browser = self.browser()
        response = browser.login(username, password)
        assert response.status_code == 302, browser.html
        return browser


@pytest.fixture
def auth(app):
    return AuthActions(app)


def image_bytes(fmt: str = "PNG", size=(640, 480), color=(40, 90, 160)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, fmt)
    return out.getvalue()


@pytest.fixture
def people(system):
    """Accounts of every role the tests need, in two units; usernames are fixed."""
    with system.sessions() as s:
        f.tariffs(s)
        ysm = f.unit(s)
        other = f.unit(s, code="U-NSM", name="Nəsimi rayon su təchizatı idarəsi", head_email=None)
        f.unit(s, code="U-CTR", name="Mərkəzi dispetçer xidməti", head_email=None)
        accounts = {
            "citizen": f.account(
                s, "citizen", username="vetendas", fin="5ABC123", name="Aysel Məmmədova"
            ),
            "citizen2": f.account(s, "citizen", username="vetendas2", name="Rəşad Quliyev"),
            "operator": f.account(s, "operator", ysm, username="operator", name="Leyla Hüseynova"),
            "operator_other_unit": f.account(
                s, "operator", other, username="operator2", name="Elçin Əliyev"
            ),
            "inspector": f.account(s, "inspector", ysm, username="nezaretci", name="Tural Babayev"),
            "unit_head": f.account(s, "unit_head", ysm, username="reis", name="Kamran Əliyev"),
        }
        s.commit()
        return {k: v.username for k, v in accounts.items()}


@pytest.fixture
def subscriber(system, people):
    """A subscriber in Yasamal with two meters read 30 days ago (about 6 m³ a month)."""
    return new_yasamal_subscriber(system)


def new_yasamal_subscriber(system) -> dict:
    """Another subscriber like ``subscriber`` (a meter takes one open application at a time)."""
    with system.sessions() as s:
        sub = f.subscriber(s, meters=2, last_read=system.services.today() - timedelta(days=30))
        s.commit()
        return {
            "code": sub.code,
            "serials": [m.serial for m in sub.meters],
            "seals": [m.seal for m in sub.meters],
            "name": sub.full_name,
        }
