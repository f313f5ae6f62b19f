"""Staging with an app's own keys: the sandbox gives a key it has not seen an account of
its own, so a legacy app runs against it without changing its configuration.

Off unless asked for (`serve --sandbox` and `sandbox` ask): a plain sandbox refuses unknown
keys as Klaviyo does. Only well-formed keys enrol, so a malformed one still fails as it
would against Klaviyo. A listed `Token=pk_…` pair shares one account, which is how a
staging app's track calls (public token) and reads (private key) meet.
"""

from __future__ import annotations

import hashlib
import re
import string
from collections.abc import Callable
from dataclasses import dataclass

from proxy.sandbox.store import Account

# As Klaviyo issues them: "pk_" and 34 letters or digits; a six-character public key (site id).
PRIVATE_KEY = re.compile(r"pk_[A-Za-z0-9]{34}")
PUBLIC_KEY = re.compile(r"[A-Za-z0-9]{6}")
_ALPHABET = string.ascii_letters + string.digits

Seeder = Callable[[Account], None]


@dataclass(frozen=True)
class Enrolment:
    """Which keys get an account of their own, and what a new account holds.

    `listed` empty: any well-formed key; otherwise only the listed (token, private key) pairs,
    made at start-up. `seed`, when given, fills each new account (the demo data)."""

    listed: tuple[tuple[str | None, str | None], ...] = ()
    seed: Seeder | None = None

    def listed_account(self, token: str | None, private_key: str | None, taken: Callable[[str], bool]) -> Account:
        return self._new(token or derived_public_key(private_key or "", taken), private_key)

    def for_private_key(self, key: str, taken: Callable[[str], bool]) -> Account | None:
        if self.listed or not PRIVATE_KEY.fullmatch(key):
            return None
        return self._new(derived_public_key(key, taken), key)

    def for_public_key(self, key: str) -> Account | None:
        if self.listed or not PUBLIC_KEY.fullmatch(key):
            return None
        return self._new(key, None)

    def _new(self, public_key: str, private_key: str | None) -> Account:
        account = Account(public_key=public_key, private_keys=(private_key,) if private_key else ())
        if self.seed is not None:
            self.seed(account)
        return account


def derived_public_key(private_key: str, taken: Callable[[str], bool]) -> str:
    """A stable six-character public key for an account first seen by its private key."""
    digest = hashlib.sha256(private_key.encode()).digest()
    for start in range(0, len(digest) - 6):
        candidate = "".join(_ALPHABET[byte % len(_ALPHABET)] for byte in digest[start : start + 6])
        if not taken(candidate):
            return candidate
    raise RuntimeError("no free public key")  # 26 distinct six-character candidates all taken
