"""The app's OpenID provider simulator, made to misbehave the ways the relying party must catch.

:class:`LoopbackProvider` is :class:`web.login.identity.oidc_simulator.OidcSimulator` (discovery, JWKS,
PKCE-checking token endpoint) signing the test's ``user`` in at once, plus ``mode``:
``tampered``, ``expired``, ``wrong_audience``, ``wrong_issuer``, ``wrong_key``, ``replay`` (hands
out the previous ID token again, with its old nonce).
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field

from joserfc import jwt
from joserfc.jwk import RSAKey

from web.login.identity.oidc_simulator import OidcSimulator


@dataclass
class LoopbackProvider(OidcSimulator):
    client_id: str = "saygac"
    client_secret: str = "test-client-secret"
    user: dict | None = field(
        default_factory=lambda: {"sub": "u-1", "fin": "5ABC123", "name": "Aysel Məmmədova"}
    )
    mode: str = "ok"
    last_id_token: str | None = None

    def claims(self, person: dict, nonce: str | None) -> dict:
        claims = super().claims(person, nonce)
        now = self.now()
        if self.mode == "expired":
            claims.update(iat=now - 3600, exp=now - 1800)
        if self.mode == "wrong_audience":
            claims["aud"] = "someone-else"
        if self.mode == "wrong_issuer":
            claims["iss"] = "https://evil.example"
        return claims

    def id_token(self, person: dict, nonce: str | None) -> str:
        if self.mode == "replay" and self.last_id_token:
            return self.last_id_token
        key = (
            RSAKey.generate_key(2048, parameters={"kid": "k1"})
            if self.mode == "wrong_key"
            else self.key
        )
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, self.claims(person, nonce), key)
        if self.mode == "tampered":
            header, _payload, signature = token.split(".")
            body = jwt.decode(token, self.key).claims
            body["fin"] = "9ZZZ999"
            payload = base64.urlsafe_b64encode(json.dumps(body).encode()).rstrip(b"=").decode()
            token = f"{header}.{payload}.{signature}"
        self.last_id_token = token
        return token
