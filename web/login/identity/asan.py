"""Asan İmza (mobile signature) gateways: the interface, the HTTP adapter, the simulator.

The login page talks to a :class:`AsanGateway`: ``start`` sends the person's phone number and
user ID and gets back a transaction id and the verification code the page shows (the same code
appears on the phone); ``status`` tells whether the phone confirmed (then with the person's
certificate), declined, or the request expired.

:class:`HttpAsanGateway` speaks this JSON contract to a URL (the bridge a production deployment
runs in front of the national service)::

    POST {url}/authentications      {"phone": "+994501234567", "user_id": "123456"}
      → 201 {"transaction_id": "…", "verification_code": "4821", "expires_at": "<ISO 8601>"}
    GET  {url}/authentications/{id}
      → 200 {"state": "pending" | "confirmed" | "declined" | "expired", "certificate": "<PEM>"}

:class:`SimulatorGateway` keeps requests in memory and issues certificates from its own
:class:`~web.login.identity.ca.MiniCA`; a demo page plays the phone. :func:`simulator_wsgi` serves a
simulator over the same HTTP contract, so the HTTP adapter is tested against a real server.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import quote

import requests

from web.login.identity.ca import MiniCA, pem

STATES = ("pending", "confirmed", "declined", "expired")


class GatewayError(Exception):
    """The gateway could not be reached or answered nonsense."""


@dataclass(frozen=True)
class Challenge:
    transaction_id: str
    verification_code: str
    expires_at: datetime


@dataclass(frozen=True)
class Status:
    state: str
    certificate: str | None = None


class AsanGateway(Protocol):
    def start(self, phone: str, user_id: str) -> Challenge: ...

    def status(self, transaction_id: str) -> Status: ...


class HttpAsanGateway:
    def __init__(self, url: str, timeout: float = 5.0, session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = session or requests.Session()

    def start(self, phone: str, user_id: str) -> Challenge:
        data = self._call("POST", "/authentications", {"phone": phone, "user_id": user_id})
        try:
            return Challenge(
                str(data["transaction_id"]),
                str(data["verification_code"]),
                datetime.fromisoformat(data["expires_at"]),
            )
        except (KeyError, TypeError, ValueError):
            raise GatewayError("malformed answer to start") from None

    def status(self, transaction_id: str) -> Status:
        data = self._call("GET", f"/authentications/{quote(transaction_id, safe='')}")
        state = data.get("state")
        if state not in STATES:
            raise GatewayError(f"unknown state {state!r}")
        return Status(state, data.get("certificate"))

    def _call(self, method: str, path: str, payload: dict | None = None) -> dict:
        try:
            response = self.http.request(
                method, self.url + path, json=payload, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise GatewayError(str(exc)) from None
        if response.status_code == 404:
            return {"state": "expired"}
        if response.status_code >= 400:
            raise GatewayError(f"HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise GatewayError("not JSON") from None


@dataclass
class _Request:
    phone: str
    user_id: str
    code: str
    expires_at: datetime
    state: str = "pending"
    certificate: str | None = None


@dataclass
class SimulatorGateway:
    """Demo and tests: requests in memory; :meth:`confirm` / :meth:`decline` play the phone."""

    clock: Callable[[], datetime]
    seconds: int = 120
    people: dict[str, tuple[str, str]] = field(default_factory=dict)  # user_id -> (FIN, name)
    ca: MiniCA = field(default_factory=lambda: MiniCA("Asan İmza simulator CA"))

    def __post_init__(self):
        self._requests: dict[str, _Request] = {}
        self._lock = threading.Lock()

    def start(self, phone: str, user_id: str) -> Challenge:
        tx = secrets.token_urlsafe(16)
        code = f"{secrets.randbelow(10000):04d}"
        expires = self.clock() + timedelta(seconds=self.seconds)
        with self._lock:
            self._requests[tx] = _Request(phone, user_id, code, expires)
        return Challenge(tx, code, expires)

    def status(self, transaction_id: str) -> Status:
        with self._lock:
            req = self._requests.get(transaction_id)
            if req is None:
                return Status("expired")
            if req.state == "pending" and self.clock() > req.expires_at:
                req.state = "expired"
            return Status(req.state, req.certificate)

    def pending(self) -> list[tuple[str, _Request]]:
        with self._lock:
            now = self.clock()
            return [
                (tx, r)
                for tx, r in self._requests.items()
                if r.state == "pending" and now <= r.expires_at
            ]

    def person(self, user_id: str) -> tuple[str, str]:
        """Who a user ID belongs to: a configured person, else a FIN derived from the ID."""
        if user_id in self.people:
            return self.people[user_id]
        digest = hashlib.sha256(user_id.encode()).hexdigest().upper()
        return "".join(ch for ch in digest if ch.isalnum())[:7], f"Asan {user_id}"

    def confirm(self, transaction_id: str) -> bool:
        with self._lock:
            req = self._requests.get(transaction_id)
            if req is None or req.state != "pending" or self.clock() > req.expires_at:
                return False
            fin, name = self.person(req.user_id)
            req.certificate = pem(
                self.ca.issue(name, fin, not_before=self.clock() - timedelta(days=30))
            )
            req.state = "confirmed"
            return True

    def decline(self, transaction_id: str) -> bool:
        with self._lock:
            req = self._requests.get(transaction_id)
            if req is None or req.state != "pending":
                return False
            req.state = "declined"
            return True


def simulator_wsgi(sim: SimulatorGateway):
    """The simulator behind the HTTP contract above (for tests of :class:`HttpAsanGateway`)."""
    from werkzeug.wrappers import Request, Response

    @Request.application
    def app(request: Request) -> Response:
        parts = request.path.strip("/").split("/")
        if request.method == "POST" and parts == ["authentications"]:
            body = request.get_json(silent=True) or {}
            if not body.get("phone") or not body.get("user_id"):
                return Response(
                    json.dumps({"error": "phone and user_id"}), 400, mimetype="application/json"
                )
            ch = sim.start(str(body["phone"]), str(body["user_id"]))
            return Response(
                json.dumps(
                    {
                        "transaction_id": ch.transaction_id,
                        "verification_code": ch.verification_code,
                        "expires_at": ch.expires_at.isoformat(),
                    }
                ),
                201,
                mimetype="application/json",
            )
        if request.method == "GET" and len(parts) == 2 and parts[0] == "authentications":
            st = sim.status(parts[1])
            return Response(
                json.dumps({"state": st.state, "certificate": st.certificate}),
                mimetype="application/json",
            )
        return Response("not found", 404)

    return app
