"""The `data` payload of track and identify.

GET sends base64 JSON in `?data=`; POST sends raw JSON in a form field `data`; some
clients post the JSON object itself. Base64 may be URL-safe, unpadded, wrapped, or have
had its `+` turned into spaces by form decoding.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from proxy.legacy import exact_json

from proxy.legacy.errors import LegacyInputError
from proxy.legacy.request import LegacyRequest


class PayloadError(LegacyInputError):
    pass


def read_payload(request: LegacyRequest) -> dict[str, Any]:
    raw = request.params.get("data")
    if raw is None:
        if isinstance(request.json_body, dict):
            return request.json_body
        raise PayloadError("no data parameter")
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str):
        raise PayloadError("data is not a string")
    return _decode(raw)


def _decode(raw: str) -> dict[str, Any]:
    text = raw.strip()
    if not text.startswith("{"):
        text = _unbase64(text)
    try:
        payload = exact_json.loads(text)
    except exact_json.InvalidJson:
        raise PayloadError("data is not valid JSON") from None
    if not isinstance(payload, dict):
        raise PayloadError("data is not a JSON object")
    return payload


def _unbase64(text: str) -> str:
    # Form decoding turns an unescaped "+" into a space; line wrapping adds newlines.
    compact = text.replace("\r", "").replace("\n", "").replace(" ", "+")
    compact = compact.replace("-", "+").replace("_", "/")
    compact += "=" * (-len(compact) % 4)
    try:
        return base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise PayloadError("data is not valid base64") from None
