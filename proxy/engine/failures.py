"""The one place upstream failures become legacy errors."""

from __future__ import annotations

from proxy.legacy.errors import NOT_FOUND, LegacyError
from proxy.newapi.errors import (
    SharedStateUnavailable,
    UpstreamError,
    UpstreamRejected,
    UpstreamServerError,
    UpstreamThrottled,
    UpstreamTimeout,
)


def legacy_error_for(failure: UpstreamError) -> LegacyError:
    if isinstance(failure, UpstreamThrottled):
        seconds = failure.retry_after
        unit = "second" if seconds == 1 else "seconds"
        return LegacyError(
            429, f"Request was throttled. Expected available in {seconds} {unit}.", {"Retry-After": str(seconds)}
        )
    if isinstance(failure, SharedStateUnavailable):
        retry = str(failure.retry_after)
        return LegacyError(503, "The proxy's shared rate budget is unavailable. Try again later.", {"Retry-After": retry})
    if isinstance(failure, UpstreamTimeout):
        return LegacyError(504, "Klaviyo did not answer in time. Try again later.")
    if isinstance(failure, UpstreamServerError):
        return LegacyError(503, "Klaviyo is unavailable. Try again later.")
    if isinstance(failure, UpstreamRejected):
        return _rejected(failure)
    return LegacyError(503, "Klaviyo could not be reached. Try again later.")


def _rejected(failure: UpstreamRejected) -> LegacyError:
    if failure.status in (401, 403):
        # Every legacy client maps 403 to "invalid API key".
        return LegacyError(403, "The API key specified is invalid.")
    if failure.status == 404:
        return LegacyError(404, NOT_FOUND)
    detail = failure.detail or "The request was rejected."
    return LegacyError(failure.status if failure.status in (400, 409, 413) else 400, detail)
