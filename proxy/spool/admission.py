"""The spool's front door: what it refuses before storing anything.

A spooled write is answered `1` and delivered later, so anything upstream will surely
refuse would sit in the dead letters while its caller believes it accepted. Refused
here, it is answered `0` instead (the legacy "not accepted") and counted:

- a public token that cannot be one: Klaviyo's public keys are 6 alphanumerics (tokens
  the proxy holds a key for, `token_keys`, are taken as they are);
- a body past the documented limits: an event's payload ≤ 5 MB with ≤ 400 properties and
  strings ≤ 100 KB, a profile's payload ≤ 100 KB (measured as UTF-8 bytes; decimal KB/MB,
  the stricter reading);
- any write while the spool holds `spool_max_bytes` of bodies waiting for delivery.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson
import structlog

from proxy import metrics
from proxy.spool.records import EVENT, Accepted, Spool, SpoolRefused

log = structlog.get_logger("proxy.spool")

PUBLIC_KEY = re.compile(r"[A-Za-z0-9]{6}")
EVENT_MAX_BYTES = 5_000_000
EVENT_MAX_PROPERTIES = 400
STRING_MAX_BYTES = 100_000
PROFILE_MAX_BYTES = 100_000


def refusal(item: Accepted, token_keys: Mapping[str, str]) -> SpoolRefused | None:
    """Why upstream would surely refuse this write, or None."""
    if item.token and item.token not in token_keys and not PUBLIC_KEY.fullmatch(item.token):
        return SpoolRefused("token", "the public token must be 6 letters or digits")
    if item.kind != EVENT:
        if len(item.body) > PROFILE_MAX_BYTES:
            return SpoolRefused("size", f"a profile may be at most {PROFILE_MAX_BYTES} bytes")
        return None
    if len(item.body) > EVENT_MAX_BYTES:
        return SpoolRefused("size", f"an event may be at most {EVENT_MAX_BYTES} bytes")
    properties = orjson.loads(item.body)["data"]["attributes"].get("properties") or {}
    if len(properties) > EVENT_MAX_PROPERTIES:
        return SpoolRefused("size", f"an event may have at most {EVENT_MAX_PROPERTIES} properties")
    if _longest_string(properties) > STRING_MAX_BYTES:
        return SpoolRefused("size", f"an event property's text may be at most {STRING_MAX_BYTES} bytes")
    return None


def _longest_string(value: Any) -> int:
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, dict):
        return max((_longest_string(item) for item in value.values()), default=0)
    if isinstance(value, list):
        return max((_longest_string(item) for item in value), default=0)
    return 0


class AdmittingSpool:
    """The spool as track and identify see it: `accept` refuses (raising `SpoolRefused`)
    what `refusal` names and anything past `max_bytes`; the rest is the store's."""

    def __init__(self, spool: Spool, token_keys: Mapping[str, str], max_bytes: int) -> None:
        self._spool = spool
        self._token_keys = token_keys
        self._max_bytes = max_bytes

    async def accept(self, item: Accepted) -> None:
        refused = refusal(item, self._token_keys)
        if refused is None and await self._spool.pending_bytes() + len(item.body) > self._max_bytes:
            refused = SpoolRefused("full", f"the spool holds its limit of {self._max_bytes} bytes")
        if refused is None:
            try:
                await self._spool.accept(item)
                return
            except SpoolRefused as unreachable:
                refused = unreachable
        metrics.SPOOL_REFUSED.labels(item.kind, refused.reason).inc()
        log.warning("spool_refused", kind=item.kind, reason=refused.reason, detail=str(refused), bytes=len(item.body))
        raise refused
