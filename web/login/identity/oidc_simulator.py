"""A small but real OpenID provider playing the e-gov identity in the embedded mode (and in tests).

Served on its own loopback port by a thread, it speaks the protocol the production provider
speaks, so the app's real relying party (:class:`web.login.identity.oidc.OidcClient`, Authlib and
joserfc) talks to it unchanged: discovery, JWKS (an RS256 key made at start), an authorization
endpoint, and a token endpoint that checks the client's secret, the redirect URI and the PKCE
verifier (S256) before it issues a signed ID token with the person's FIN and name.

The authorization endpoint shows a page listing the demo citizens to sign in as (a person
choosing whom to be, as on the e-gov portal's test bench); with ``user`` set (tests) it signs
that person in at once. Production refuses ``issuer = "simulator"`` (``engine.safety``).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.utils import redirect
from werkzeug.wrappers import Request, Response

from web.login.identity.oidc import OidcClient

CLIENT_ID = "saygac-embedded"


def _json(data: Mapping[str, object], status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


@dataclass
class OidcSimulator:
    """An OpenID provider on ``127.0.0.1:<port>``; ``people`` maps FIN → name for the chooser page."""

    client_id: str = CLIENT_ID
    client_secret: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    people: dict[str, str] = field(default_factory=dict)
    user: dict | None = None  # tests: sign this person in without the chooser
    clock: Callable[[], datetime] | None = (
        None  # a callable returning an aware datetime; None: the system clock
    )

    def __post_init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict] = {}
        self.authorize_requests: list[dict] = []
        self.routes = Map(
            [
                Rule("/.well-known/openid-configuration", endpoint="discovery"),
                Rule("/jwks", endpoint="jwks"),
                Rule("/authorize", endpoint="authorize"),
                Rule("/token", endpoint="token", methods=["POST"]),
            ]
        )
        self.server = make_server("127.0.0.1", 0, self.wsgi, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="oidc-simulator"
        )

    # -- running -----------------------------------------------------------------------------
    def start(self) -> OidcSimulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def wsgi(self, environ, start_response):
        request = Request(environ)
        try:
            endpoint, _args = self.routes.bind_to_environ(environ).match()
            response: Response | HTTPException = getattr(self, f"_{endpoint}")(request)
        except HTTPException as err:
            response = err
        return response(environ, start_response)

    # -- tokens --------------------------------------------------------------------------------
    def now(self) -> int:
        return int(self.clock().timestamp()) if self.clock else int(time.time())

    def claims(self, person: dict, nonce: str | None) -> dict:
        now = self.now()
        return {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": person["sub"],
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **{k: v for k, v in person.items() if k != "sub"},
        }

    def id_token(self, person: dict, nonce: str | None) -> str:
        return jwt.encode({"alg": "RS256", "kid": "k1"}, self.claims(person, nonce), self.key)

    # -- endpoints -----------------------------------------------------------------------------
    def _discovery(self, _request: Request) -> Response:
        return _json(
            {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    def _jwks(self, _request: Request) -> Response:
        return _json(KeySet([self.key]).as_dict(private=False))

    def _authorize(self, request: Request) -> Response:
        args = request.args
        self.authorize_requests.append(dict(args))
        if args.get("client_id") != self.client_id or args.get("response_type") != "code":
            raise BadRequest("unknown client or response type")
        if (
            args.get("code_challenge_method") != "S256"
            or not args.get("code_challenge")
            or not args.get("redirect_uri")
        ):
            raise BadRequest("PKCE (S256) and a redirect URI are required")
        person = self.user
        if person is None:
            fin = args.get("fin")
            if fin not in self.people:
                return self._chooser(args)
            person = {"sub": f"egov-{fin}", "fin": fin, "name": self.people[fin]}
        code = secrets.token_urlsafe(16)
        self.codes[code] = {
            "challenge": args["code_challenge"],
            "nonce": args.get("nonce"),
            "redirect_uri": args["redirect_uri"],
            "person": person,
        }
        sep = "&" if "?" in args["redirect_uri"] else "?"
        return redirect(
            f"{args['redirect_uri']}{sep}{urlencode({'code': code, 'state': args.get('state', '')})}"
        )

    def _chooser(self, args) -> Response:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in args.items()
            if k != "fin"
        )
        buttons = "".join(
            f'<li><button type="submit" name="fin" value="{html.escape(fin)}">{html.escape(name)} '
            f"(FIN {html.escape(fin)})</button></li>"
            for fin, name in sorted(self.people.items(), key=lambda p: p[1])
        )
        page = (
            '<!doctype html><html lang="az"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>e-gov identity (simulator)'
            "</title></head><body><main><h1>e-gov identity (simulator)</h1>"
            "<p>Choose the person to sign in as. Production uses the real provider.</p>"
            f'<form method="get" action="/authorize">{hidden}<ul>{buttons}</ul></form></main></body></html>'
        )
        return Response(page, mimetype="text/html")

    def _token(self, request: Request) -> Response:
        auth = request.authorization
        if not auth or auth.username != self.client_id or auth.password != self.client_secret:
            return _json({"error": "invalid_client"}, 401)
        grant = self.codes.pop(request.form.get("code", ""), None)  # a code works once
        if grant is None or request.form.get("redirect_uri") != grant["redirect_uri"]:
            return _json({"error": "invalid_grant"}, 400)
        verifier = request.form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if challenge != grant["challenge"]:
            return _json({"error": "invalid_grant", "error_description": "PKCE"}, 400)
        return _json(
            {
                "access_token": secrets.token_urlsafe(16),
                "token_type": "Bearer",
                "expires_in": 300,
                "id_token": self.id_token(grant["person"], grant["nonce"]),
            }
        )


class SimulatedProvider:
    """``[oidc_egov] issuer = "simulator"``: the simulator started on first use, and the app's real
    relying party configured for it (nothing listens until someone chooses this sign-in). The
    redirect URI is the address the first sign-in came through (the embedded app's own)."""

    def __init__(
        self,
        settings,
        people: Callable[[], dict[str, str]],
        clock: Callable[[], datetime] | None = None,
    ):
        self.settings, self.people, self.clock = settings, people, clock
        self.simulator: OidcSimulator | None = None
        self._client: OidcClient | None = None
        self._lock = threading.Lock()

    def client(self, redirect_uri: str) -> OidcClient:
        with self._lock:
            if self._client is None:
                # it signs tokens by the application's clock, which the relying party checks them with
                self.simulator = OidcSimulator(people=self.people(), clock=self.clock).start()
                self._client = OidcClient(
                    replace(
                        self.settings,
                        issuer=self.simulator.issuer,
                        client_id=self.simulator.client_id,
                        client_secret=self.simulator.client_secret,
                    ),
                    redirect_uri,
                )
            return self._client
