"""Logging set-up: every line the process writes is one JSON object, secrets and PII
scrubbed — the proxy's own structlog events and, through the same processors, every
stdlib logger (aiohttp's server, access and client loggers, asyncio, redis) and Python
warnings.

Keys and tokens are never passed to the logger in the first place; the scrubber is the
second line of defence for anything that slips into a message or a traceback (an
upstream `detail` quoting an email, a library quoting the request it choked on).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import functools
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import orjson
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


# What a match of each pattern must contain: a string holding none of it is left alone
# without running the pattern (most of a log line: ids, routes, statuses, timestamps).
# Lowercased, since a parameter's name matches in any case.
_SECRET_HINTS = ("pk_", "sk_", "klaviyo-api-key", "bearer", "api_key", "api-key", "token", "company_id", "data=", "data%3d")
_EMAIL_HINTS = ("@", "%40")
_PHONE_HINTS = ("+", "%2B")
_LOCAL_PHONE = re.compile(r"\d{3}[-. ]\d{3}[-. ]\d{4}")


def scrub(value: Any, redact_pii: bool) -> Any:
    kind = type(value)
    if kind in _PLAIN:  # most of a line: statuses, timings, flags
        return value
    if isinstance(value, str):
        if len(value) <= _REMEMBERED_LENGTH:
            return _scrub_short(value, redact_pii)
        return _scrub_text(value, redact_pii)
    if isinstance(value, dict):
        return {key: scrub(item, redact_pii) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [scrub(item, redact_pii) for item in value]
    return value


_PLAIN = frozenset({int, float, bool, type(None)})  # nothing in them to redact


def _scrub_text(text: str, redact_pii: bool) -> str:
    if _holds(text.lower(), _SECRET_HINTS):
        text = _SECRETS.sub(_redacted_key, text)
    if redact_pii:
        if _holds(text, _EMAIL_HINTS):
            text = _EMAIL.sub("[redacted-email]", text)
        if _holds(text, _PHONE_HINTS) or _LOCAL_PHONE.search(text):
            text = _PHONE.sub("[redacted-phone]", text)
    return text


# Routes, operations and methods recur on every line: short strings' answers are remembered.
_REMEMBERED_LENGTH = 64
_scrub_short = functools.lru_cache(maxsize=4096)(_scrub_text)


def _holds(text: str, hints: tuple[str, ...]) -> bool:
    for hint in hints:  # a plain loop: several times faster than any() over a generator
        if hint in text:
            return True
    return False


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


def _write_line(line: str) -> None:
    """One line to whatever `sys.stdout` is now (test capture swaps it), flushed at the end
    of this turn of the event loop: under load one write to the pipe carries every line of
    a turn, not one system call each. Outside a running loop (start-up, the CLI's other
    commands) it is flushed at once."""
    out = sys.stdout
    out.write(line + "\n")
    if out in _UNFLUSHED:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        out.flush()
        return
    _UNFLUSHED.add(out)
    loop.call_soon(_flush, out)


_UNFLUSHED: set[Any] = set()  # streams written to in this turn of the loop


def _flush(out: Any) -> None:
    _UNFLUSHED.discard(out)
    with contextlib.suppress(OSError, ValueError):  # gone meanwhile (a closed pipe, a finished capture)
        out.flush()


class _StdoutLogger:
    """structlog's output, through `_write_line`, so the bound loggers can be cached on
    first use and still follow `sys.stdout`."""

    def msg(self, message: str) -> None:
        _write_line(message)

    log = debug = info = warning = warn = error = critical = exception = fatal = failure = err = msg


def _stdout_logger(*_args: Any) -> _StdoutLogger:
    return _STDOUT_LOGGER


_STDOUT_LOGGER = _StdoutLogger()


def _render_json(_logger: Any, _name: str, event: dict[str, Any]) -> str:
    """One JSON object per line, by orjson; what orjson cannot write (a non-string key, an
    integer past 64 bits) falls back to the standard library, anything else to its repr."""
    try:
        return orjson.dumps(event, default=repr).decode()
    except TypeError:
        return json.dumps(event, default=repr)


class Call(Protocol):
    """An upstream call as the request line shows it (`proxy.upstream.client.CallRecord`)."""

    operation: str
    status: int | str
    ms: float


def request_line(
    event: str, request_id: str, method: str, route: str, status: int, upstream: Sequence[Call], total_ms: float
) -> None:
    """The line every served request writes (`proxy.web.observe`), at info level."""
    _request_line(event, request_id, method, route, status, upstream, total_ms)


def _fields(request_id: str, method: str, route: str, status: int, upstream: Sequence[Call], total_ms: float) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "method": method,
        "route": route,
        "status": status,
        "upstream": [{"op": call.operation, "status": call.status, "ms": call.ms} for call in upstream],
        "total_ms": total_ms,
    }


def _via_structlog(event: str, *fields: Any) -> None:
    structlog.get_logger("proxy").info(event, **_fields(*fields))


_request_line: Callable[..., None] = _via_structlog


def _json_request_lines(redact_pii: bool) -> Callable[..., None]:
    """The JSON object structlog writes for the same fields (scrubbed, then event, level and
    timestamp), without its chain of processors: on every request the chain cost more
    than the line's content. Only the strings that can carry what a client sent go
    through the scrubber: the method and the route (a service path is the path as sent;
    a passthrough route and operation name a path segment as sent) and the operations.
    The request id is hex digits and one hyphen, which no pattern matches; an event is
    one of observe's names; statuses are ints or the upstream client's "error", and times
    floats, all of which the scrubber returns as they are."""
    remembered = functools.lru_cache(maxsize=4096)(functools.partial(_scrub_text, redact_pii=redact_pii))

    def scrubbed(text: str) -> str:
        return remembered(text) if len(text) <= _REMEMBERED_LENGTH else _scrub_text(text, redact_pii)

    def write(event: str, request_id: str, method: str, route: str, status: int, upstream: Sequence[Call], total_ms: float) -> None:
        line = {
            "request_id": request_id,
            "method": scrubbed(method),
            "route": scrubbed(route),
            "status": status,
            "upstream": [{"op": scrubbed(call.operation), "status": call.status, "ms": call.ms} for call in upstream],
            "total_ms": total_ms,
            "event": event,
            "level": "info",
            "timestamp": _utc_now(),
        }
        _write_line(_render_json(None, "info", line))

    return write


def _utc_now() -> str:
    """What structlog's ISO UTC stamp writes (`datetime.isoformat`, `Z` for `+00:00`), its
    date and time of day made once a second rather than on every line."""
    now = time.time()
    second, micro = divmod(round(now * 1_000_000), 1_000_000)
    if second != _stamp_second[0]:
        _stamp_second[:] = [second, datetime.datetime.fromtimestamp(second, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{_stamp_second[1]}.{micro:06d}Z" if micro else f"{_stamp_second[1]}Z"


_stamp_second: list[Any] = [None, ""]  # the second last stamped, and its text


def configure_logging(level: str = "info", fmt: str = "json", redact_pii: bool = True) -> None:
    """Loggers are cached on first use, so call this once per process, before logging
    (the CLI does; a second call with other settings does not reach cached loggers)."""
    global _request_line

    def scrubber(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
        return scrub(event, redact_pii)

    renderer = _render_json if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False)
    # Level and timestamp are added after the scrubber: structlog writes them, never a caller.
    stamps = [structlog.processors.add_log_level, structlog.processors.TimeStamper(fmt="iso", utc=True)]
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, structlog.processors.format_exc_info, scrubber, *stamps, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level.upper()]),
        logger_factory=_stdout_logger,
        cache_logger_on_first_use=True,
    )
    handler = _Stdout()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.contextvars.merge_contextvars, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                scrubber,
                *stamps,
                renderer,
            ],
        )
    )
    if logging.getLevelNamesMapping()[level.upper()] > logging.INFO:
        _request_line = _unlogged
    else:
        _request_line = _json_request_lines(redact_pii) if fmt == "json" else _via_structlog
    root = logging.getLogger()
    for previous in [h for h in root.handlers if isinstance(h, _Stdout)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)  # warnings arrive as records of the `py.warnings` logger


def _unlogged(_event: str, *_fields: Any) -> None:
    """Request lines are info: below the configured level."""
