"""Who a legacy request acts as, for each `auth:` of the mapping table, and the allow-list.

- `api_key`: the private key the client sent (`api_key` in query, form or body), or the
  sidecar's own key (`private_key`, instead of or in the absence of the client's);
- `token`: the public key inside the track/identify payload, or the sidecar's private key;
- `none`: sign-up forms, which name the public key in `a`, or the sidecar's private key.

With `allowed_keys` set, only the keys and tokens listed may be used.
"""

from __future__ import annotations

import re
from dataclasses import replace

from proxy.config import Settings
from proxy.legacy.errors import LegacyError
from proxy.upstream.client import Credentials

# Keys end up in a header or the query string: nothing but key characters may pass.
SAFE_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")
INVALID_KEY = "The API key specified is invalid."


def allowed(settings: Settings, key: str) -> bool:
    return not settings.allowed_keys or key in settings.allowed_keys


def request_credentials(auth: str, api_key: str | None, settings: Settings) -> Credentials:
    """The credentials the engine starts a request with, from its entry's `auth:`."""
    if auth != "api_key":
        # Sidecar mode: with a key configured, public calls use the private endpoints.
        return Credentials(private_key=settings.private_key)
    if api_key is not None and not SAFE_KEY.fullmatch(api_key):
        raise LegacyError(403, INVALID_KEY)
    if settings.allowed_keys and api_key not in settings.allowed_keys:
        raise LegacyError(403, INVALID_KEY)
    key = api_key
    if settings.private_key and (settings.private_key_mode == "always" or not api_key):
        key = settings.private_key
    if not key:
        raise LegacyError(403, "You must specify an API key to make requests.")
    return Credentials(private_key=key)


def with_token(credentials: Credentials, token: object, settings: Settings) -> Credentials:
    """`auth: token`: the payload's public token, unless the sidecar key already applies."""
    if credentials.private_key:
        return credentials
    token = token.strip() if isinstance(token, str) else None
    if token is None or not SAFE_KEY.fullmatch(token):
        raise LegacyError(400, "token missing or malformed")
    if not allowed(settings, token):
        raise LegacyError(403, "token not allowed")
    return Credentials(public_key=token)  # no private key: that case returned above


def with_public_key(credentials: Credentials, given: str | None, settings: Settings) -> Credentials:
    """`auth: none` posting to a client endpoint: the form's public key, else the configured one."""
    if given and not allowed(settings, given):
        raise LegacyError(403, "The public key specified is not allowed.")
    key = given or settings.public_key
    if not key and settings.sandbox:
        # The embedded sandbox finds the account by the form's list, as the legacy form did.
        return credentials
    if not key:
        raise LegacyError(400, "A public key is required: post with ?a=<public key> or set KLP_PUBLIC_KEY.")
    return replace(credentials, public_key=key)
