"""Whose credential a new-API passthrough request carries, and whether the allow-list
lets it through: the same `allowed_keys` rule as the legacy routes, checked before any
upstream call."""

from __future__ import annotations

from typing import Iterable, Mapping

_SCHEME = "klaviyo-api-key"


def allowed(allowed_keys: frozenset[str], credential: str | None) -> bool:
    """No allow-list lets everything through; with one, only the keys and tokens on it."""
    return not allowed_keys or (credential is not None and credential in allowed_keys)


def passthrough_credential(path: str, query: Iterable[tuple[str, str]], headers: Mapping[str, str]) -> str | None:
    """`/client/*` carries the public token as `company_id`; `/api/*` a private key in
    `Authorization: Klaviyo-API-Key …`."""
    if path.startswith("/client/"):
        return next((value.strip() for name, value in query if name == "company_id"), None) or None
    scheme, _, key = headers.get("Authorization", "").strip().partition(" ")
    return key.strip() or None if scheme.lower() == _SCHEME else None
