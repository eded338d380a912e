"""What a browser and the database see of a page view: static files kept a year under their
content hash, and a signed-in page served in one unit of work without a commit."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sqlalchemy import event

from tests.web.conftest import Browser

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"


def _static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"]+)"', page)


def test_pages_name_static_files_by_content_hash_and_browsers_keep_them_a_year(client):
    urls = _static_urls(client.get("/login").get_data(as_text=True))
    assert {u.split("?")[0] for u in urls} >= {
        "/static/saygac.css",
        "/static/saygac.js",
        "/static/favicon.svg",
    }
    for url in urls:
        path, version = url.split("?v=")
        assert (
            version
            == hashlib.sha256((STATIC / path.removeprefix("/static/")).read_bytes()).hexdigest()[
                :12
            ]
        )
        response = client.get(url)
        assert response.status_code == 200
        assert set(response.headers["Cache-Control"].split(", ")) == {
            "public",
            "max-age=31536000",
            "immutable",
        }
        response.close()


def test_a_static_file_asked_for_without_its_current_hash_is_revalidated(client):
    for url in ("/static/saygac.css", "/static/saygac.css?v=000000000000"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "no-cache"
        etag = response.headers["ETag"]
        response.close()
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304
        again.close()


def test_a_signed_in_page_is_one_unit_of_work_without_a_commit(app, system, people):
    browser = Browser(app.test_client())
    browser.login(people["citizen"])
    assert browser.get("/status").status_code == 200  # the session's last_seen was just written
    seen = {"checkout": 0, "commit": 0}

    def checkout(*_args):
        seen["checkout"] += 1

    def commit(*_args):
        seen["commit"] += 1

    event.listen(system.db, "checkout", checkout)
    event.listen(system.db, "commit", commit)
    try:
        assert browser.get("/status").status_code == 200
    finally:
        event.remove(system.db, "checkout", checkout)
        event.remove(system.db, "commit", commit)
    assert seen == {"checkout": 1, "commit": 0}
