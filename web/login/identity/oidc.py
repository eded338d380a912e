"""OpenID Connect relying party: authorization-code flow with PKCE, state and nonce (no Flask).

Authlib's ``OAuth2Session`` builds the authorization URL (S256 code challenge) and redeems the
code; the ID token is verified with joserfc (Authlib's successor for JOSE): signature against
the provider's JWKS (fetched from discovery, fetched again once for an unknown key id), then
issuer, audience (and ``azp`` when several audiences), expiry, issued-at and the nonce bound to
this browser's attempt. The FIN comes from the configured claim.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from datetime import datetime

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from web.login.identity import Refused

ALGORITHMS = ["RS256", "ES256", "PS256"]


class OidcRefused(Refused):
    """The provider's answer cannot be trusted."""


@dataclass(frozen=True)
class OidcSettings:
    issuer: str = ""  # empty: this provider is off
    client_id: str = ""
    client_secret: str = ""
    scopes: str = "openid profile"
    fin_claim: str = "fin"
    name_claim: str = "name"
    leeway_seconds: int = 60
    timeout_seconds: float = 5.0

    @property
    def enabled(self) -> bool:
        return bool(self.issuer and self.client_id)


@dataclass(frozen=True)
class Attempt:
    """What the browser's session keeps between the redirect out and the callback."""

    state: str
    nonce: str
    code_verifier: str
    url: str


@dataclass(frozen=True)
class Identity:
    fin: str | None
    name: str | None
    subject: str
    claims: dict


class OidcClient:
    def __init__(
        self, settings: OidcSettings, redirect_uri: str, http: requests.Session | None = None
    ):
        self.settings = settings
        self.redirect_uri = redirect_uri
        self.http = http or requests.Session()
        self._metadata: dict | None = None
        self._keys: KeySet | None = None
        self._lock = threading.Lock()

    # -- provider metadata and keys --------------------------------------------------------------
    def metadata(self) -> dict:
        with self._lock:
            if self._metadata is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                data = self._get_json(url)
                if data.get("issuer") != self.settings.issuer:
                    raise OidcRefused("discovery_issuer")
                self._metadata = data
            return self._metadata

    def keys(self, refresh: bool = False) -> KeySet:
        meta = self.metadata()
        with self._lock:
            if self._keys is None or refresh:
                self._keys = KeySet.import_key_set(
                    {"keys": self._get_json(meta["jwks_uri"])["keys"]}
                )
            return self._keys

    def _get_json(self, url: str) -> dict:
        try:
            response = self.http.get(url, timeout=self.settings.timeout_seconds)
            response.raise_for_status()
            return response.json()
        except (requests.RequestException, ValueError):
            raise OidcRefused("provider_unreachable") from None

    def _session(self) -> OAuth2Session:
        return OAuth2Session(
            self.settings.client_id,
            self.settings.client_secret,
            scope=self.settings.scopes,
            redirect_uri=self.redirect_uri,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )

    # -- the flow ------------------------------------------------------------------------------
    def begin(self) -> Attempt:
        state, nonce, verifier = (
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(48),
        )
        url, _ = self._session().create_authorization_url(
            self.metadata()["authorization_endpoint"],
            state=state,
            nonce=nonce,
            code_verifier=verifier,
        )
        return Attempt(state, nonce, verifier, url)

    def finish(self, attempt: dict, args: dict, at: datetime) -> Identity:
        """Check the callback's state, redeem the code, verify the ID token; raises :class:`OidcRefused`."""
        if args.get("error"):
            raise OidcRefused("provider_error:" + str(args.get("error"))[:40])
        if not args.get("state") or not secrets.compare_digest(
            str(args["state"]), attempt["state"]
        ):
            raise OidcRefused("state")
        if not args.get("code"):
            raise OidcRefused("no_code")
        try:
            token = self._session().fetch_token(
                self.metadata()["token_endpoint"],
                code=args["code"],
                code_verifier=attempt["code_verifier"],
                timeout=self.settings.timeout_seconds,
            )
        except Exception as exc:  # Authlib raises OAuthError, requests errors, JSON errors
            raise OidcRefused("token_endpoint") from exc
        id_token = token.get("id_token")
        if not id_token:
            raise OidcRefused("no_id_token")
        claims = self.verify_id_token(id_token, attempt["nonce"], at)
        fin = claims.get(self.settings.fin_claim)
        return Identity(
            fin=str(fin) if fin else None,
            name=claims.get(self.settings.name_claim),
            subject=str(claims.get("sub")),
            claims=claims,
        )

    def verify_id_token(self, id_token: str, nonce: str, at: datetime) -> dict:
        try:
            try:
                token = jwt.decode(id_token, self.keys(), algorithms=ALGORITHMS)
            except JoseError as exc:
                if "kid" not in str(exc).lower() and type(exc).__name__ != "InvalidKeyIdError":
                    raise
                token = jwt.decode(id_token, self.keys(refresh=True), algorithms=ALGORITHMS)
        except (JoseError, ValueError):
            raise OidcRefused("signature") from None
        claims = dict(token.claims)
        registry = jwt.JWTClaimsRegistry(
            now=int(at.timestamp()),
            leeway=self.settings.leeway_seconds,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OidcRefused("claims:" + getattr(exc, "claim", type(exc).__name__)) from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise OidcRefused("claims:azp")
        return claims
