"""The Locust side of ``bench/http_load.py`` (a child process: Locust patches the standard library
with gevent, so it never shares a process with the set-up).

    python -m bench.http_users submit|login --host URL --users N --seconds S --plan FILE

Reads the plan (citizens' user names, submissions, photo files) from ``FILE``, signs every
simulated citizen in (not timed), prints ``READY``, waits for a line on stdin, then runs the
phase for ``S`` seconds with ``N`` concurrent users and prints one JSON line of results.

``submit``: each citizen repeats the whole journey a browser makes, with no pause between
steps: the status page, "new application", the subscriber code, the readings with one photo
(multipart, about 150 KB), the confirmation of any flagged reading, "check your answers" and
"apply", then the application's page; with the static files each page names, fetched and kept
or re-validated exactly as a browser's cache would (``Cache-Control``, ``ETag``,
``Last-Modified``). ``login``: each user signs in and out in a loop (the password check).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import time
from http.cookiejar import CookieJar
from pathlib import Path
from urllib.parse import urljoin

import gevent
import gevent.event
import lxml.html
from locust import FastHttpUser, constant, task
from locust.env import Environment
from locust.exception import RescheduleTask
from locust.stats import StatsEntry
from urllib3 import encode_multipart_formdata

PLAN: dict = {}
_next_user = itertools.count()
_next_submission = itertools.count()
_logged_in = 0
_go = gevent.event.Event()
MAX_AGE = re.compile(r"max-age=(\d+)")


class BrowserCache:
    """What a browser keeps of static files: fresh copies skip the request; stale or no-cache
    copies are re-validated with the validators the server gave."""

    def __init__(self):
        self.entries: dict[str, tuple[float, str | None, str | None]] = {}

    def fetch(self, client, url: str) -> None:
        url = url.removeprefix("http://h")
        now = time.monotonic()
        fresh_until, etag, modified = self.entries.get(url, (0.0, None, None))
        if now < fresh_until:
            return
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        with client.get(
            url,
            headers=headers,
            name="static " + ("revalidate" if headers else "first"),
            catch_response=True,
        ) as response:
            if response.status_code not in (200, 304):
                response.failure(f"{url}: {response.status_code}")
                return
            control = response.headers.get("Cache-Control") or ""
            match = MAX_AGE.search(control)
            max_age = int(match.group(1)) if match and "no-cache" not in control else 0
            self.entries[url] = (
                now + max_age,
                response.headers.get("ETag") or etag,
                response.headers.get("Last-Modified") or modified,
            )


def _assets(doc) -> list[str]:
    return (
        doc.xpath("//link[@rel='stylesheet']/@href")
        + doc.xpath("//script/@src")
        + doc.xpath("//link[contains(@rel,'icon')]/@href")
    )


class Citizen(FastHttpUser):
    wait_time = constant(0)

    def on_start(self):
        """Sign in ``citizens_per_user`` citizens (each a cookie jar of its own), before the timing.

        A citizen may look up at most 10 different subscriber codes a day, so a simulated user
        takes turns among several signed-in citizens, as many people behind one load generator.
        """
        global _logged_in
        self.cache = BrowserCache()
        self.jars = []
        for _ in range(PLAN["citizens_per_user"]):
            self.username = PLAN["citizens"][next(_next_user) % len(PLAN["citizens"])]
            self.client.cookiejar = CookieJar()
            self.sign_in()
            self.jars.append((self.username, self.client.cookiejar))
        self.turn = itertools.cycle(self.jars)
        _logged_in += 1
        _go.wait()

    # -- a browser's moves -----------------------------------------------------------------

    def page(self, url: str, name: str):
        """GET a page (following redirects) and its static files; returns the parsed page."""
        with self.client.get(url, name=name, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{url}: {response.status_code}")
                raise RescheduleTask
            doc = lxml.html.fromstring(response.text)
        for asset in _assets(doc):
            self.cache.fetch(self.client, urljoin(url, asset))
        doc.make_links_absolute("http://h" + url)
        return doc

    def post(
        self,
        doc,
        action: str | None,
        values: dict,
        name: str,
        files: dict | None = None,
        expect: int = 302,
    ):
        """Submit the page's form posting to ``action`` (the first with fields when None) with
        its own fields (CSRF token included) updated by ``values``; returns the response."""
        form = next(
            f
            for f in doc.forms
            if (action is None and f.action and not f.action.endswith("/logout"))
            or (action is not None and f.action.endswith(action))
        )
        fields = dict(form.form_values())
        fields.update(values)
        path = form.action.removeprefix("http://h")
        if files:
            body, content_type = encode_multipart_formdata({**fields, **files})
            kwargs = {"data": body, "headers": {"Content-Type": content_type}}
        else:
            kwargs = {"data": fields}
        with self.client.post(
            path, name=name, allow_redirects=False, catch_response=True, **kwargs
        ) as response:
            if response.status_code != expect:
                errors = []
                if response.text:
                    errors = [
                        a.text_content().strip()
                        for a in lxml.html.fromstring(response.text).xpath(
                            "//div[@data-error-summary]//a"
                        )
                    ]
                response.failure(f"{name}: {response.status_code} {errors[:3]}")
                raise RescheduleTask
            return response

    def sign_in(self):
        doc = self.page("/login", "login page")
        self.post(doc, "/login", {"username": self.username, "password": PLAN["password"]}, "login")

    # -- the phases ------------------------------------------------------------------------

    @task
    def journey(self):
        if PLAN["phase"] == "login":
            self.sign_in_out()
        else:
            self.submit()

    def sign_in_out(self):
        self.username, self.client.cookiejar = next(self.turn)
        doc = self.page("/status", "status page")
        self.post(doc, "/logout", {}, "logout")
        self.sign_in()

    def submit(self):
        self.username, self.client.cookiejar = next(self.turn)
        sub = PLAN["submissions"][next(_next_submission) % len(PLAN["submissions"])]
        photo = PLAN["photos"][sub["k"] % len(PLAN["photos"])]
        doc = self.page("/status", "status page")
        new = self.post(doc, "/applications/new", {}, "new application")
        doc = self.page(new.headers["Location"], "identify page")
        identified = self.post(doc, None, {"subscriber_code": sub["code"]}, "identify")
        task_url = identified.headers["Location"]
        doc = self.page(task_url, "readings page")
        values = {
            "meters-0-serial": sub["serial"],
            "meters-0-seal": sub["seal"],
            "meters-0-value": str(sub["value"]),
            "phone": "050 123 45 67",
            "email": f"{self.username}@example.az",
            "submit": "1",
        }
        response = self.post(
            doc,
            None,
            values,
            "readings + photo",
            expect=200,
            files={"meters-0-photo": ("sayğac.jpg", photo, "image/jpeg")},
        )
        doc = lxml.html.fromstring(response.text)
        doc.make_links_absolute("http://h" + task_url)
        confirms = doc.xpath("//input[@type='checkbox'][contains(@name, '-confirm')]/@name")
        if confirms:
            response = self.post(
                doc,
                None,
                {**dict.fromkeys(confirms, "y"), "submit": "1"},
                "confirm flagged",
                expect=200,
            )
            doc = lxml.html.fromstring(response.text)
            doc.make_links_absolute("http://h" + task_url)
        for asset in _assets(doc):
            self.cache.fetch(self.client, urljoin(task_url, asset))
        applied = self.post(doc, None, {"final": "1"}, "apply")
        self.page(applied.headers["Location"], "application page")
        self.environment.events.request.fire(
            request_type="JOURNEY",
            name="full submission",
            response_time=0,
            response_length=0,
            exception=None,
            context={},
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("phase", choices=("submit", "login"))
    parser.add_argument("--host", required=True)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--plan", required=True)
    args = parser.parse_args()
    PLAN.update(json.loads(Path(args.plan).read_text()))
    PLAN["phase"] = args.phase
    PLAN["photos"] = [Path(p).read_bytes() for p in PLAN["photo_files"]]
    env = Environment(user_classes=[Citizen], host=args.host)
    runner = env.create_local_runner()
    runner.start(args.users, spawn_rate=args.users)
    deadline = time.monotonic() + 300
    while _logged_in < args.users:
        if time.monotonic() > deadline or (_logged_in + len(runner.greenlet) == 0):
            errors = "; ".join(
                f"{e.name}: {e.error} x{e.occurrences}" for e in env.stats.errors.values()
            )
            raise SystemExit(f"only {_logged_in} of {args.users} users signed in: {errors[:600]}")
        gevent.sleep(0.05)
    env.stats.reset_all()
    print("READY", flush=True)
    sys.stdin.readline()
    started = time.perf_counter()
    _go.set()
    gevent.sleep(args.seconds)
    elapsed = time.perf_counter() - started
    stats = {}
    for (name, method), entry in env.stats.entries.items():
        stats[f"{method} {name}"] = {
            "count": entry.num_requests,
            "failures": entry.num_failures,
            "p50": entry.get_response_time_percentile(0.5),
            "p95": entry.get_response_time_percentile(0.95),
            "max": entry.max_response_time,
        }
    requests = StatsEntry(env.stats, "every request", "")
    for (_name, method), entry in env.stats.entries.items():
        if method != "JOURNEY":
            requests.extend(entry)
    errors = [
        {"name": e.name, "error": str(e.error)[:300], "count": e.occurrences}
        for e in env.stats.errors.values()
    ]
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "stats": stats,
                "errors": errors,
                "requests": requests.num_requests,
                "failures": requests.num_failures,
                "p50_all": requests.get_response_time_percentile(0.5),
                "p95_all": requests.get_response_time_percentile(0.95),
            }
        ),
        flush=True,
    )
    runner.quit()


if __name__ == "__main__":
    main()
