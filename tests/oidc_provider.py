"""A small but real OpenID provider for the tests, served on a loopback port.

Discovery, JWKS (RS256 key made per provider), an authorization endpoint that signs in the
test's ``user`` at once and redirects back with a code, and a token endpoint that checks the
client's secret, the redirect URI and the PKCE verifier (S256) before it issues a signed ID
token. ``mode`` makes it misbehave the ways the relying party must catch: ``tampered``,
``expired``, ``wrong_audience``, ``wrong_issuer``, ``wrong_key``, ``replay`` (hands out the
previous ID token again, with its old nonce).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from werkzeug.serving import make_server


@dataclass
class LoopbackProvider:
    client_id: str = "saygac"
    client_secret: str = "test-client-secret"
    user: dict = field(default_factory=lambda: {"sub": "u-1", "fin": "5ABC123", "name": "Aysel Məmmədova"})
    mode: str = "ok"
    clock: object = None

    def __post_init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})
        self.codes: dict[str, dict] = {}
        self.last_id_token: str | None = None
        self.authorize_requests: list[dict] = []
        self.app = self._make_app()
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()

    def _now(self) -> int:
        return int(self.clock().timestamp())

    def _id_token(self, nonce: str) -> str:
        if self.mode == "replay" and self.last_id_token:
            return self.last_id_token
        now = self._now()
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": self.user["sub"], "iat": now, "exp": now + 300,
                  "nonce": nonce, **{k: v for k, v in self.user.items() if k != "sub"}}
        if self.mode == "expired":
            claims.update(iat=now - 3600, exp=now - 1800)
        if self.mode == "wrong_audience":
            claims["aud"] = "someone-else"
        if self.mode == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        key = self.key
        if self.mode == "wrong_key":
            key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        if self.mode == "tampered":
            header, payload, signature = token.split(".")
            body = jwt.decode(token, self.key).claims
            body["fin"] = "9ZZZ999"
            payload = base64.urlsafe_b64encode(__import__("json").dumps(body).encode()).rstrip(b"=").decode()
            token = ".".join([header, payload, signature])
        self.last_id_token = token
        return token

    def _make_app(self) -> Flask:
        app = Flask("test-op")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(issuer=self.issuer, authorization_endpoint=f"{self.issuer}/authorize",
                           token_endpoint=f"{self.issuer}/token", jwks_uri=f"{self.issuer}/jwks",
                           response_types_supported=["code"], subject_types_supported=["public"],
                           id_token_signing_alg_values_supported=["RS256"],
                           code_challenge_methods_supported=["S256"])

        @app.get("/jwks")
        def jwks():
            return jsonify(KeySet([self.key]).as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            args = request.args
            self.authorize_requests.append(dict(args))
            if args.get("client_id") != self.client_id or args.get("response_type") != "code":
                abort(400)
            if args.get("code_challenge_method") != "S256" or not args.get("code_challenge"):
                abort(400)
            code = secrets.token_urlsafe(16)
            self.codes[code] = {"challenge": args["code_challenge"], "nonce": args.get("nonce"),
                                "redirect_uri": args["redirect_uri"]}
            sep = "&" if "?" in args["redirect_uri"] else "?"
            return redirect(f"{args['redirect_uri']}{sep}code={code}&state={args.get('state', '')}")

        @app.post("/token")
        def token():
            auth = request.authorization
            if not auth or auth.username != self.client_id or auth.password != self.client_secret:
                return jsonify(error="invalid_client"), 401
            grant = self.codes.pop(request.form.get("code", ""), None)  # a code works once
            if grant is None or request.form.get("redirect_uri") != grant["redirect_uri"]:
                return jsonify(error="invalid_grant"), 400
            verifier = request.form.get("code_verifier", "")
            challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if challenge != grant["challenge"]:
                return jsonify(error="invalid_grant", error_description="PKCE"), 400
            return jsonify(access_token=secrets.token_urlsafe(16), token_type="Bearer", expires_in=300,
                           id_token=self._id_token(grant["nonce"]))

        return app
