"""JSON from legacy clients, read without rounding a number.

orjson reads integers up to 64 bits exactly and silently turns longer ones into floats
(`123456789012345678901234567890` → `1.2345678901234568e+29`), and no JSON writer the
proxy uses can send such an integer on. So an integer outside the 64-bit range is kept
as the string of its digits: exact, and forwardable. Everything else reads as orjson
reads it (NaN and Infinity are not JSON; a number too large for a double is refused).
"""

from __future__ import annotations

import json
from typing import Any

import orjson

# 2**63 has 19 digits: a shorter run of digits cannot be an integer orjson rounds. The
# run is looked for with every digit turned into "0" (no other byte is one) and a plain
# substring search: several times cheaper than a regex over every body.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGITS = b"0" * 19
_SMALLEST, _LARGEST = -(2**63), 2**64 - 1  # what orjson reads and writes exactly


class InvalidJson(ValueError):
    pass


def loads(text: str | bytes) -> Any:
    raw = text.encode() if isinstance(text, str) else text
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise InvalidJson(str(error)) from None
    if _LONG_DIGITS not in raw.translate(_DIGITS_AS_ZERO):
        return document
    # Rare: read again, keeping long integers exact (stdlib json is slower but exact;
    # orjson has already refused whatever is not JSON).
    return json.loads(raw, parse_int=_integer)


def _integer(digits: str) -> int | str:
    value = int(digits)
    return value if _SMALLEST <= value <= _LARGEST else digits

