"""The opaque continuation tokens the proxy gives legacy clients (campaign recipients'
`next_offset`; a timeline's `next` keeps the legacy `<time>-…` form instead): URL-safe base64 of a JSON array whose first item is
the format's version, so a token from another format or version is refused, not misread."""

from __future__ import annotations

import base64
from typing import Any

import orjson


def encode(version: int, *fields: Any) -> str:
    raw = orjson.dumps([version, *fields])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, version: int, size: int) -> list[Any]:
    """The `size` fields after the version; ValueError for anything else."""
    try:
        decoded = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise ValueError("not a paging token") from None
    if not isinstance(decoded, list) or len(decoded) != size + 1 or decoded[0] != version:
        raise ValueError("not a paging token of this kind")
    return decoded[1:]
