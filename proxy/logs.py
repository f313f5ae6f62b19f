"""structlog set-up: one JSON line per legacy request, secrets and PII scrubbed.

Keys and tokens are never passed to the logger in the first place; the scrubber is the
second line of defence for anything that slips into a message (an upstream `detail`
quoting an email, say).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import structlog

_SECRETS = re.compile(r"(pk_|sk_)[A-Za-z0-9]{6,}|Klaviyo-API-Key\s+\S+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"\+\d{8,15}\b|\b\d{3}[-. ]\d{3}[-. ]\d{4}\b")


def scrub(value: Any, redact_pii: bool) -> Any:
    if isinstance(value, str):
        value = _SECRETS.sub("[redacted-key]", value)
        if redact_pii:
            value = _PHONE.sub("[redacted-phone]", _EMAIL.sub("[redacted-email]", value))
        return value
    if isinstance(value, dict):
        return {key: scrub(item, redact_pii) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item, redact_pii) for item in value]
    return value


def configure_logging(level: str = "info", fmt: str = "json", redact_pii: bool = True) -> None:
    def scrubber(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        return scrub(event, redact_pii)

    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            scrubber,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(),  # resolves sys.stdout per logger
        cache_logger_on_first_use=False,
    )
