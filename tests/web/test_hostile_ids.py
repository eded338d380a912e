"""The id walk: every route with a parameter, given ids that cannot name a row, as every role;
and the query walk: every page without one, given hostile values for the query arguments pages read.

The routes are read from the application's URL map, so a route added later is walked too. A
numeric parameter given an id out of PostgreSQL's integer range, a negative, a non-numeric or a
300-character id answers 404; any parameter answers without a server error. CSRF checks are off
here so that POST handlers are reached with the hostile id (CSRF has tests of its own).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from tests import factories as f
from tests.integration.conftest import pg_system, pg_url  # noqa: F401  (fixtures: the walk on PostgreSQL too)
from tests.web.conftest import AuthActions, Browser
from web import create_app

HOSTILE_IDS = {
    "out of range": ["99999999999999999999", "2147483648", "9223372036854775808"],
    "negative": ["-1", "-2147483649"],
    "non-numeric": ["abc", "1.5", "0x10", "١٢", "1e3", "%00", "' OR 1=1 --"],
    "300 characters": ["9" * 300, "a" * 300],
    "zero": ["0"],
}
HOSTILE_QUERY_VALUES = [
    "\x00",
    "a\x00b",
    "9" * 300,
    "99999999999999999999",
    "-1",
    "\u202e",
    "' OR 1=1 --",
    "١٢",
]
QUERY_ARGUMENTS = (
    "q",
    "area",
    "view",
    "role",
    "page",
    "from",
    "to",
    "source",
    "target",
    "a",
    "b",
    "lang",
    "next",
    "registered",
    "version",
    "unit",
    "node",
    "format",
)
ROLES = ("anonymous", "citizen", "operator", "unit_head", "inspector", "analyst", "admin")
_ARGUMENT = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")


def _server_error(status) -> bool:
    """An exception, or a 5xx other than 503: "not ready" (/readyz without a sweep here) is an answer."""
    return not isinstance(status, int) or (status >= 500 and status != 503)


def routes_with_parameters(app) -> list[tuple[str, str, dict[str, str]]]:
    """(rule, endpoint, {argument: converter name}) of every route that takes a parameter."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.endpoint != "static":
            converters = {
                m["name"]: (m["converter"] or "default") for m in _ARGUMENT.finditer(rule.rule)
            }
            found.append(
                (rule.rule, rule.endpoint, converters, sorted(rule.methods - {"HEAD", "OPTIONS"}))
            )
    return found


def _url(rule: str, hostile_name: str, hostile: str) -> str:
    def value(match):
        return quote(hostile, safe="") if match["name"] == hostile_name else "1"

    return _ARGUMENT.sub(value, rule)


def browsers(auth, system) -> dict[str, Browser]:
    """A signed-in browser per role (and one signed out)."""
    with system.sessions() as s:
        unit = f.unit(s, code="U-WALK", name="Walk unit", head_email=None)
        for role in ROLES[1:]:
            f.account(
                s,
                role,
                unit if role in ("operator", "unit_head", "inspector") else None,
                username=f"walk-{role}",
            )
        s.commit()
    return {
        role: auth.browser() if role == "anonymous" else auth.login(f"walk-{role}")
        for role in ROLES
    }


def walk(app, clients: dict[str, Browser]) -> tuple[int, list, list]:
    """Every route x hostile id x role x method: (requests sent, server errors, numeric ids not 404)."""
    sent, server_errors, not_found_expected = 0, [], []
    for rule, _endpoint, converters, methods in routes_with_parameters(app):
        for name, converter in converters.items():
            for kind, values in HOSTILE_IDS.items():
                for hostile in values:
                    url = _url(rule, name, hostile)
                    for role, browser in clients.items():
                        for method in methods:
                            sent += 1
                            try:
                                response = browser.client.open(url, method=method)
                                status = response.status_code
                                response.close()
                            except Exception as err:  # noqa: BLE001  (the test client re-raises what a server would answer with 500)
                                status = f"{type(err).__name__}: {err}"[:200]
                            if _server_error(status):
                                server_errors.append((method, url[:120], role, kind, status))
                            elif converter == "int" and status != 404:
                                not_found_expected.append((method, url[:120], role, kind, status))
    return sent, server_errors, not_found_expected


def walk_queries(app, clients: dict[str, Browser]) -> tuple[int, list]:
    """Every page without a parameter x hostile query values x role: (requests sent, server errors)."""
    sent, server_errors = 0, []
    pages = [
        r.rule
        for r in app.url_map.iter_rules()
        if not r.arguments and "GET" in r.methods and r.endpoint != "static"
    ]
    for page in pages:
        for hostile in HOSTILE_QUERY_VALUES:
            query = "&".join(f"{name}={quote(hostile, safe='')}" for name in QUERY_ARGUMENTS)
            for role, browser in clients.items():
                sent += 1
                try:
                    response = browser.client.get(f"{page}?{query}")
                    status = response.status_code
                    response.close()  # streamed exports hold their request context until closed
                except Exception as err:  # noqa: BLE001  (what a server would answer with 500)
                    status = f"{type(err).__name__}: {err}"[:200]
                if _server_error(status):
                    server_errors.append((page, role, repr(hostile[:12]), status))
    return sent, server_errors


def _walk_and_check(system, database: str) -> None:
    app = create_app(system=system, config={"TESTING": True, "WTF_CSRF_ENABLED": False})
    routes = routes_with_parameters(app)
    assert len(routes) >= 20 and any(c == {"item_id": "int"} for _r, _e, c, _m in routes)
    clients = browsers(AuthActions(app), system)
    sent, server_errors, not_404 = walk(app, clients)
    print(
        f"\nid walk on {database}: {len(routes)} routes with parameters, {sent} requests, "
        f"{len(server_errors)} server errors"
    )
    assert server_errors == []
    assert not_404 == []
    sent, server_errors = walk_queries(app, clients)
    print(f"query walk on {database}: {sent} requests, {len(server_errors)} server errors")
    assert server_errors == []


def test_hostile_ids_on_every_route_as_every_role_give_no_server_error(system):
    _walk_and_check(system, "SQLite")


def test_hostile_ids_on_postgresql_where_integers_overflow_differently(pg_system):  # noqa: F811
    _walk_and_check(pg_system, "PostgreSQL")
