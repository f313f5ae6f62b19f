"""Which account a request speaks for, as a fingerprint (keys never leave here): what
rate budgets and cached state are kept per.

A public token and the private key it belongs to (`KLP_TOKEN_KEYS`) are one account:
both spend one budget, as Klaviyo counts them.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from urllib.parse import unquote

from proxy.upstream.client import Credentials
from proxy.newapi.messages import UpstreamRequest


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class Accounts:
    MAX_COMPANIES = 1024  # public tokens remembered; past that they are forgotten together

    def __init__(self, token_keys: Mapping[str, str] | None = None) -> None:
        self._aliases = {_public(token): _private(key) for token, key in (token_keys or {}).items()}
        self._of_company: dict[str, str] = {}  # `company_id` as sent -> its account: asked by every client call
        self._of_token: dict[str, str] = {}  # public token -> its account: asked by every legacy call made with one

    def of_request(self, request: UpstreamRequest) -> str:
        authorization = request.header("Authorization") or ""
        if authorization.startswith("Klaviyo-API-Key "):
            return _authorized(authorization)
        company = ""
        for name, value in request.query:
            if name == "company_id":
                company = value
                break
        account = self._of_company.get(company)
        if account is None:
            if len(self._of_company) >= self.MAX_COMPANIES:
                self._of_company.clear()
            account = self._of_company[company] = self._public(unquote(company))
        return account

    def of_credentials(self, credentials: Credentials) -> str:
        if credentials.private_key:
            return _private(credentials.private_key)
        return self._public(credentials.public_key or "")

    def _public(self, token: str) -> str:
        account = self._of_token.get(token)
        if account is None:
            if len(self._of_token) >= self.MAX_COMPANIES:
                self._of_token.clear()
            account = _public(token)
            account = self._of_token[token] = self._aliases.get(account, account)
        return account


@functools.lru_cache(maxsize=1024)  # the account of every upstream call with a private key, as `_private`
def _authorized(authorization: str) -> str:
    return _private(authorization.removeprefix("Klaviyo-API-Key ").strip())


@functools.lru_cache(maxsize=1024)  # every legacy call made with a private key asks; few keys, many calls
def _private(key: str) -> str:
    return "pk:" + fingerprint(key)


def _public(token: str) -> str:
    return "pub:" + fingerprint(token)
