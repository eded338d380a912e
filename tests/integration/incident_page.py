"""What an administrator sees on the incidents page of a system (a fresh admin account)."""

from __future__ import annotations

from tests.web.conftest import Browser
from web import create_app
from workflow import factories as f


def incident_rows(system, kind: str) -> list:
    """The page's rows of incidents of ``kind`` (``data-incident`` holds each incident's id)."""
    with system.sessions() as s:
        f.account(s, "admin", username="incident-admin")
        s.commit()
    browser = Browser(create_app(system=system, config={"TESTING": True}).test_client())
    browser.login("incident-admin")
    browser.get("/admin/incidents")
    assert browser.response.status_code == 200
    return browser.doc.xpath(f"//tr[@data-kind='{kind}']")
