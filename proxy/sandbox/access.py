"""Who may call: the revision header every operation requires, and the credentials of
the two API families (a private key for /api/, a public key in `company_id` for /client/)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from proxy.newapi.messages import UpstreamRequest
from proxy.revision import BETA_REVISION, PINNED_REVISION
from proxy.sandbox import errors
from proxy.sandbox.enrolment import Enrolment
from proxy.sandbox.store import Account

KNOWN_REVISIONS = frozenset({PINNED_REVISION, BETA_REVISION})
API_KEY_SCHEME = "Klaviyo-API-Key "


def check_revision(request: UpstreamRequest) -> None:
    revision = request.header("revision")
    if revision is None:
        raise errors.invalid('The "revision" header is required.', parameter="revision")
    if revision not in KNOWN_REVISIONS:
        raise errors.invalid(
            f"Revision {revision!r} is not supported; use {PINNED_REVISION}.", parameter="revision"
        )


class AccountDirectory:
    def __init__(self, accounts: Iterable[Account], enrolment: Enrolment | None = None) -> None:
        self._by_public_key: dict[str, Account] = {}
        self._by_private_key: dict[str, Account] = {}
        self._enrolment = enrolment
        for account in accounts:
            self.add(account)
        for token, private_key in enrolment.listed if enrolment else ():
            if token not in self._by_public_key and private_key not in self._by_private_key:
                self.add(enrolment.listed_account(token, private_key, self._taken))

    def _taken(self, public_key: str) -> bool:
        return public_key in self._by_public_key

    def __iter__(self) -> Iterator[Account]:
        return iter(self._by_public_key.values())

    def add(self, account: Account) -> None:
        self._by_public_key[account.public_key] = account
        self._by_private_key.update(dict.fromkeys(account.private_keys, account))

    def get(self, public_key: str) -> Account:
        return self._by_public_key[public_key]

    def authenticate(self, request: UpstreamRequest) -> Account:
        if request.path.startswith("/client/"):
            return self._public_key_account(request)
        return self._private_key_account(request)

    def _private_key_account(self, request: UpstreamRequest) -> Account:
        authorization = request.header("Authorization")
        if authorization is None or not authorization.startswith(API_KEY_SCHEME):
            raise errors.not_authenticated()
        key = authorization.removeprefix(API_KEY_SCHEME).strip()
        account = self._by_private_key.get(key)
        if account is None and self._enrolment is not None:
            account = self._enrolled(self._enrolment.for_private_key(key, self._taken))
        if account is None:
            raise errors.authentication_failed()
        return account

    def _public_key_account(self, request: UpstreamRequest) -> Account:
        if request.header("Authorization") is not None:
            raise errors.invalid(
                "Client endpoints take the public key in company_id; do not send a private key.",
                parameter="Authorization",
            )
        company_id = next((value for key, value in request.query if key == "company_id"), None)
        if not company_id:
            raise errors.invalid('The "company_id" parameter is required.', parameter="company_id")
        account = self._by_public_key.get(company_id)
        if account is None and self._enrolment is not None:
            account = self._enrolled(self._enrolment.for_public_key(company_id))
        if account is None:
            raise errors.invalid(f"{company_id!r} is not a valid company_id.", parameter="company_id")
        return account

    def _enrolled(self, account: Account | None) -> Account | None:
        if account is not None:
            self.add(account)
        return account
