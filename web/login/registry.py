"""The login methods this service offers, in the order the app sets them up; each module is a
:class:`web.auth.LoginMethod`."""

from __future__ import annotations

from web.auth import LoginMethod
from web.login import account, asan, card, oidc, password, totp

METHODS: tuple[LoginMethod, ...] = (password, totp, account, asan, oidc, card)  # type: ignore[assignment]
