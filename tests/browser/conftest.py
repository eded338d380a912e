"""Browser tests: the real app served on loopback, driven by Playwright in Debian's chromium.

``live`` serves the app on a random local port with a file database seeded with the demo data
(a small number of subscribers). Every test gets a fresh browser context; ``shot`` keeps a
screenshot of the page as a test artifact; ``axe`` runs axe-core (served by the app) and
returns its violations.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright
from werkzeug.serving import make_server

from engine.db import Base
from engine.settings import PROJECT_ROOT
from tests.conftest import Clock, make_settings
from web import create_app
from workflow.demo import DemoSummary, seed_demo
from workflow.system import System, build_system

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "screenshots"


@dataclass
class Live:
    url: str
    system: System
    demo: DemoSummary
    clock: Clock

    def login(self, page: Page, username: str, password: str = "demo") -> None:
        page.goto(f"{self.url}/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", password)
        page.click("button[type=submit]")
        page.wait_for_load_state()


@pytest.fixture(scope="session")
def live(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: bin/test installs Debian's chromium package")
    tmp = tmp_path_factory.mktemp("live")
    clock = Clock()
    settings = make_settings(tmp)
    system = build_system(settings, clock)
    Base.metadata.create_all(system.db)
    with system.sessions() as s:
        system.deploy_shipped(s)
        demo = seed_demo(s, today=system.services.today(), subscribers=60)
        s.commit()
    app = create_app(system=system, config={"TESTING": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Live(url=f"http://127.0.0.1:{server.server_port}", system=system, demo=demo, clock=clock)
    server.shutdown()
    system.db.dispose()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="az-AZ")
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True, locale="az-AZ"
    )
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def shot(request):
    """``shot(page, "name")`` keeps a full-page screenshot under test-artifacts/screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower())

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{prefix}__{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def axe(live):
    """Run axe-core on the current page; returns the list of violations (empty is the goal)."""

    def run(page: Page) -> list[dict]:
        page.add_script_tag(url=f"{live.url}/static/vendor/axe.min.js")
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        return [
            {"id": v["id"], "help": v["help"], "nodes": [n["target"] for n in v["nodes"]]}
            for v in result["violations"]
        ]

    return run
