"""Identifiers shaped like Klaviyo's, drawn from one random source so a seeded sandbox repeats."""

from __future__ import annotations

import random
import string
import uuid

CROCKFORD_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ALPHANUMERIC = string.ascii_letters + string.digits


class IdFactory:
    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def ulid(self, at: float) -> str:
        """26 characters: 48 bits of milliseconds then 80 random bits, as profile and event ids."""
        number = (int(at * 1000) << 80) | self._rng.getrandbits(80)
        return "".join(CROCKFORD_BASE32[(number >> shift) & 31] for shift in range(125, -1, -5))

    def short(self, length: int = 6) -> str:
        """Mixed-case alphanumerics, as metric and integration ids."""
        return "".join(self._rng.choice(ALPHANUMERIC) for _ in range(length))

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
