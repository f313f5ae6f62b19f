"""Legacy error bodies, one dialect per API family.

v1 answered `{"status": 404, "message": …}`, v2 `{"detail": …}`; track/identify
answered HTTP 200 with the text `0`.
"""

from __future__ import annotations

from typing import Mapping

from proxy.legacy.responses import LegacyResponse, json_response, text_response

NOT_FOUND = "The requested resource does not exist."


class LegacyError(Exception):
    """A failure the legacy client must see, in its own dialect."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class LegacyInputError(ValueError):
    """What the client sent cannot be used. Readers of legacy input raise a subclass; the
    engine catches them in one place and answers a legacy 400 with the message."""


def render_error(family: str, error: LegacyError) -> LegacyResponse:
    if family == "public":
        return text_response("0")
    if family == "v2":
        return json_response({"detail": error.message}, error.status, error.headers)
    if family == "ajax":
        return json_response({"success": False, "errors": [error.message]}, error.status, error.headers)
    return json_response({"status": error.status, "message": error.message}, error.status, error.headers)
