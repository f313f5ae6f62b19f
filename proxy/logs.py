"""Logging set-up: every line the process writes is one JSON object, secrets and PII
scrubbed — the proxy's own structlog events and, through the same processors, every
stdlib logger (aiohttp's server, access and client loggers, asyncio, redis) and Python
warnings.

Keys and tokens are never passed to the logger in the first place; the scrubber is the
second line of defence for anything that slips into a message or a traceback (an
upstream `detail` quoting an email, a library quoting the request it choked on).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

# Keys by their look, credentials by their header, and the values of parameters that carry
# keys, tokens or a whole base64 track payload (`data=`), wherever they are quoted.
_SECRETS = re.compile(
    r"pk_[A-Za-z0-9]{6,}|(?<![A-Za-z])sk_[A-Za-z0-9]{6,}|(Klaviyo-API-Key|Bearer)\s+[^\s'\"]+"
    r"|(?P<name>\b(?i:api[_-]key|token|company_id|admin_token))(?P<sep>['\"]?\s*[:=]\s*['\"]?|%3D|%22%3A%22)"
    r"[^\s&'\",}%{\[]+"
    r"|(?P<form>\bdata(=|%3D))[^\s&'\"]+"
)
_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+(@|%40)[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(\+|%2B)\d{8,15}\b|\b\d{3}[-. ]\d{3}[-. ]\d{4}\b")


def scrub(value: Any, redact_pii: bool) -> Any:
    if isinstance(value, str):
        value = _SECRETS.sub(_redacted_key, value)
        if redact_pii:
            value = _PHONE.sub("[redacted-phone]", _EMAIL.sub("[redacted-email]", value))
        return value
    if isinstance(value, dict):
        return {key: scrub(item, redact_pii) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item, redact_pii) for item in value]
    return value


def _redacted_key(match: re.Match[str]) -> str:
    """Keep the name of a `name=value` pair, so the line still says what was there."""
    if match.group("name"):
        return f"{match.group('name')}{match.group('sep')}[redacted-key]"
    return f"{match.group('form') or ''}[redacted-key]"


class _Stdout(logging.StreamHandler):
    """Writes to whatever `sys.stdout` is at the time (test capture swaps it)."""

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = sys.stdout
        super().emit(record)


def configure_logging(level: str = "info", fmt: str = "json", redact_pii: bool = True) -> None:
    def scrubber(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        return scrub(event, redact_pii)

    renderer = structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, scrubber, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=structlog.PrintLoggerFactory(),  # resolves sys.stdout per logger
        cache_logger_on_first_use=False,
    )
    handler = _Stdout()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                scrubber,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _Stdout)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings arrive as records of the `py.warnings` logger
