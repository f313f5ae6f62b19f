"""Settings: defaults < optional YAML file < environment (KLP_*) < command-line flags.

Parsed and validated once; an invalid value stops start-up with one line naming it.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Callable, Mapping, TypeVar
from urllib.parse import urlsplit

import yaml

ENV_PREFIX = "KLP_"
STATE_FILE = "klaviyo-legacy-proxy-state.sqlite3"  # beside the spool unless state_path says otherwise


class SettingsError(Exception):
    """One line naming the bad setting, where it came from, and what is expected."""


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    upstream: str = "https://a.klaviyo.com"
    sandbox: bool = False
    # Staging: the keys that get a sandbox account of their own (`Token=pk_…` pairs share
    # one); none listed, any well-formed key does. sandbox_seed fills new accounts with demo data.
    sandbox_keys: tuple[tuple[str | None, str | None], ...] = ()
    sandbox_seed: bool = False
    tls_cert: Path | None = None  # serve HTTPS with this certificate chain (PEM) ...
    tls_key: Path | None = None  # ... and its private key (PEM)
    connect_timeout: float = 5.0
    request_timeout: float = 30.0
    upstream_concurrency: int = 64
    workers: int = 1  # processes sharing the port (SO_REUSEPORT)
    # auto: uvloop where it is installed (a dependency on Linux and macOS), else asyncio's own loop
    event_loop: str = "auto"
    max_body_bytes: int = 2 * 1024 * 1024
    body_timeout: float = 30.0  # a client that has not sent its whole body by then gets a legacy 408
    log_level: str = "info"
    log_format: str = "json"
    redact_pii: bool = True
    private_key: str | None = None
    private_key_mode: str = "fallback"  # fallback: only when the request has none; always
    public_key: str | None = None  # the site's public key, for sign-up form posts that carry no ?a=
    allowed_keys: frozenset[str] = frozenset()
    deprecation_headers: bool = True
    beta_template_send: bool = False  # serve v1 template send through Klaviyo's beta preview-send job
    admin: bool = True  # the /__proxy/ staging pages and APIs
    admin_port: int | None = None  # serve them on this port instead of the main one
    admin_token: str | None = None  # without it, /__proxy/ and /metrics serve loopback callers only
    passthrough: bool = True  # forward requests written for the new API (strangler mode)
    # The table ships inside the package (in a checkout, proxy/mappings links to mappings/).
    mappings_dir: Path = (Path(__file__).resolve().parent / "mappings").resolve()
    rate_governor: bool = True  # off only for upstreams without Klaviyo's limits (benchmarks)
    governor_max_wait: float = 5.0  # seconds a request may wait for rate budget before a legacy 429
    retry_budget: float = 2.0  # total seconds of retries for one upstream call; 0 turns retries off
    delivery: str = "sync"  # track/identify: sync answers after Klaviyo's 202; spool after storing durably
    spool_path: Path = Path("klaviyo-legacy-proxy-spool.sqlite3")
    spool_linger: float = 0.5  # seconds a spooled write waits so it can share a bulk call
    spool_max_backoff: float = 30.0  # longest pause before a failed delivery is tried again
    spool_drain_timeout: float = 10.0  # at shutdown, how long to keep delivering
    token_keys: Mapping[str, str] = field(default_factory=dict)  # public token -> private key, for bulk delivery
    redis_url: str | None = None  # shared rate budget and spool for many replicas (also REDIS_URL)
    # Markers, page walks, lookups, budgets and usage without Redis: a SQLite file every
    # worker shares. None keeps them in process memory (one process; lost at restart).
    # `load_settings` puts it beside the spool unless told otherwise (KLP_STATE_PATH=memory).
    state_path: Path | None = None
    spool_lease: float = 60.0  # with Redis: a replica silent this long about a write loses it to another
    spool_max_bytes: int = 512 * 1024 * 1024  # pending write bodies; past it track/identify answer 0
    spool_dead_max: int = 10_000  # dead letters kept; the oldest are dropped past it
    spool_dead_max_age: float = 7 * 86_400.0  # seconds a dead letter is kept
    given: frozenset[str] = frozenset()  # the settings a file, the environment or a flag set

    @property
    def private_key_mode_note(self) -> str | None:
        """Why the private key mode cannot do what it was set for, if so."""
        if "private_key_mode" in self.given and not self.private_key:
            return (f"KLP_PRIVATE_KEY_MODE={self.private_key_mode} has no effect without KLP_PRIVATE_KEY: "
                    "every request is sent with its own key")
        if self.private_key_mode == "always" and self.allowed_keys:
            return ("KLP_PRIVATE_KEY_MODE=always with KLP_ALLOWED_KEYS: a request's own (placeholder) key "
                    "must still be in the allowed list, or it gets a 403 before the configured key replaces it")
        return None

    def startup_warnings(self) -> list[str]:
        """What start-up says once, so a deployment does not find out from failed requests."""
        warnings = []
        if not self.sandbox and not self.public_key and not self.private_key:
            warnings.append("sign-up form posts (/ajax/subscriptions/subscribe) without ?a= get a 400: "
                            "set KLP_PUBLIC_KEY (the site's public key) or KLP_PRIVATE_KEY")
        if self.private_key_mode_note:
            warnings.append(self.private_key_mode_note)
        return warnings

    def __repr__(self) -> str:  # never print the key
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["private_key"] = "<set>" if self.private_key else None
        shown["allowed_keys"] = f"<{len(self.allowed_keys)} keys>"
        shown["token_keys"] = f"<{len(self.token_keys)} keys>"
        shown["redis_url"] = "<set>" if self.redis_url else None  # may carry a password
        shown["admin_token"] = "<set>" if self.admin_token else None
        shown["sandbox_keys"] = f"<{len(self.sandbox_keys)} keys>"
        return f"Settings({shown})"


T = TypeVar("T", int, float)


def _number(cast: Callable[[str], T], accept: Callable[[T], bool], requirement: str) -> Callable[[str], T]:
    """A parser of one numeric setting: `cast`, then refuse what `accept` does not."""

    def parse(value: str) -> T:
        number = cast(value)
        if not accept(number):
            raise ValueError(f"must be {requirement}")
        return number

    return parse


_positive_int = _number(int, lambda n: n > 0, "a positive integer")
_port = _number(int, lambda n: 0 <= n <= 65535, "a port number 0-65535")
_positive_float = _number(float, lambda n: n > 0, "a positive number of seconds")
_seconds = _number(float, lambda n: n >= 0, "a number of seconds, 0 or more")


def _spool_file(value: str) -> Path:
    path = Path(str(value)).expanduser()
    if not path.parent.is_dir():
        raise ValueError("must be a file in an existing directory")
    return path


def _state_file(value: str) -> Path | None:
    text = str(value).strip()
    return None if text.lower() in ("", "memory") else _spool_file(text)


def _token_keys(value: Any) -> Mapping[str, str]:
    """`Token=pk_…,Token2=pk_…` (environment) or a mapping (YAML)."""
    pairs = value.items() if isinstance(value, Mapping) else (item.partition("=")[::2] for item in str(value).split(",") if item.strip())
    keys = {str(token).strip(): str(key).strip() for token, key in pairs}
    if any(not token or not key.startswith("pk_") for token, key in keys.items()):
        raise ValueError("must map public tokens to private keys, e.g. Token=pk_…")
    return MappingProxyType(keys)


def _sandbox_keys(value: Any) -> tuple[tuple[str | None, str | None], ...]:
    """`Token=pk_…` pairs, or a lone `pk_…` or token, comma-separated (environment) or a list (YAML)."""
    items = value if isinstance(value, list) else str(value).split(",")
    keys = []
    for item in (str(item).strip() for item in items):
        if not item:
            continue
        token, separator, private = item.partition("=")
        if not separator:
            token, private = (None, item) if item.startswith("pk_") else (item, None)
        token, private = (token or "").strip() or None, (private or "").strip() or None
        if (private and not private.startswith("pk_")) or (token and token.startswith("pk_")):
            raise ValueError("must list public tokens and private keys: Token=pk_…, pk_… or Token")
        keys.append((token, private))
    return tuple(keys)


def _file(value: str) -> Path | None:
    text = str(value).strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise ValueError("must be an existing file")
    return path


def _redis_url(value: str) -> str | None:
    text = str(value).strip()
    if not text:
        return None
    if urlsplit(text).scheme not in ("redis", "rediss", "unix"):
        raise ValueError("must be a redis://, rediss:// or unix:// URL")
    return text


def _bool(value: str) -> bool:
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("must be true or false")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        lowered = str(value).strip().lower()
        if lowered not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return lowered

    return parse


def _url(value: str) -> str:
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/") or parts.query:
        raise ValueError("must be an http(s) base URL with no path, e.g. https://a.klaviyo.com")
    return f"{parts.scheme}://{parts.netloc}"


def _private_key(value: str) -> str | None:
    value = str(value).strip()
    if not value:
        return None
    if not value.startswith("pk_"):
        raise ValueError("must be a Klaviyo private key (pk_…)")
    return value


def _key_list(value: Any) -> frozenset[str]:
    items = value if isinstance(value, list) else str(value).split(",")
    return frozenset(item.strip() for item in items if str(item).strip())


def _admin_token(value: str) -> str | None:
    text = str(value).strip()
    if text and len(text) < 16:
        raise ValueError("must be at least 16 characters")
    return text or None


def _directory(value: str) -> Path:
    path = Path(str(value)).expanduser()
    if not path.is_dir():
        raise ValueError("must be an existing directory")
    return path


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "host": lambda v: str(v).strip() or "127.0.0.1",
    "port": _port,
    "upstream": _url,
    "sandbox": _bool,
    "sandbox_keys": _sandbox_keys,
    "sandbox_seed": _bool,
    "tls_cert": _file,
    "tls_key": _file,
    "connect_timeout": _positive_float,
    "request_timeout": _positive_float,
    "upstream_concurrency": _positive_int,
    "workers": _positive_int,
    "event_loop": _choice("auto", "asyncio", "uvloop"),
    "max_body_bytes": _positive_int,
    "body_timeout": _positive_float,
    "log_level": _choice("debug", "info", "warning", "error"),
    "log_format": _choice("json", "console"),
    "redact_pii": _bool,
    "private_key": _private_key,
    "private_key_mode": _choice("fallback", "always"),
    "public_key": lambda v: str(v).strip() or None,
    "allowed_keys": _key_list,
    "deprecation_headers": _bool,
    "beta_template_send": _bool,
    "admin": _bool,
    "admin_port": _port,
    "admin_token": _admin_token,
    "passthrough": _bool,
    "mappings_dir": _directory,
    "rate_governor": _bool,
    "governor_max_wait": _seconds,
    "retry_budget": _seconds,
    "delivery": _choice("sync", "spool"),
    "spool_path": _spool_file,
    "state_path": _state_file,
    "spool_linger": _seconds,
    "spool_max_backoff": _positive_float,
    "spool_drain_timeout": _seconds,
    "token_keys": _token_keys,
    "redis_url": _redis_url,
    "spool_lease": _positive_float,
    "spool_max_bytes": _positive_int,
    "spool_dead_max": _positive_int,
    "spool_dead_max_age": _positive_float,
}


def load_settings(
    flags: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Merge every source in order of precedence and validate each value once."""
    environ = os.environ if environ is None else environ
    config_file = config_file or (Path(environ[f"{ENV_PREFIX}CONFIG"]) if environ.get(f"{ENV_PREFIX}CONFIG") else None)
    settings = Settings()
    file_values = _read_yaml(config_file) if config_file is not None else {}
    settings = _apply(settings, file_values, f"{config_file}")
    env_values = {
        name: environ[ENV_PREFIX + name.upper()] for name in _PARSERS if ENV_PREFIX + name.upper() in environ
    }
    if "REDIS_URL" in environ:  # the conventional name, when KLP_REDIS_URL is not given
        env_values.setdefault("redis_url", environ["REDIS_URL"])
    settings = _apply(settings, env_values, "environment", prefix=ENV_PREFIX)
    given_flags = {k: v for k, v in (flags or {}).items() if v is not None}
    settings = _apply(settings, given_flags, "command line")
    given = {name.replace("-", "_") for name in (*file_values, *env_values, *given_flags)}
    settings = replace(settings, given=frozenset(given))
    if "state_path" not in given and not settings.sandbox:
        # In sandbox mode the default is process memory: the sandbox's world is rebuilt at
        # every start, so page walks, markers and counts kept in a file would describe a
        # world that no longer exists (and a later production run on the same key would
        # read the sandbox's answers).
        settings = replace(settings, state_path=settings.spool_path.parent / STATE_FILE)
    if bool(settings.tls_cert) != bool(settings.tls_key):
        raise SettingsError("settings tls_cert and tls_key (KLP_TLS_CERT, KLP_TLS_KEY) go together")
    if settings.private_key_mode == "always" and not settings.private_key:
        raise SettingsError("setting private_key_mode=always needs private_key (KLP_PRIVATE_KEY)")
    if settings.workers > 1 and settings.sandbox:
        raise SettingsError("setting workers>1 needs a real upstream: each worker would hold its own sandbox")
    if settings.workers > 1 and settings.state_path is None and not settings.redis_url:
        raise SettingsError(
            "setting workers>1 needs shared state: set state_path (KLP_STATE_PATH) or redis_url; in process memory"
            " each worker would keep its own markers, page walks, rate budgets and usage inventory"
        )
    if settings.workers > 1 and settings.delivery == "spool" and not settings.redis_url:
        raise SettingsError("setting delivery=spool with workers>1 needs redis_url: one SQLite spool serves one process")
    if settings.event_loop == "uvloop" and importlib.util.find_spec("uvloop") is None:
        raise SettingsError("setting event_loop=uvloop: uvloop is not installed (pip install uvloop)")
    return settings


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SettingsError(f"config file {path}: cannot read: {exc}".splitlines()[0]) from None
    if not isinstance(document, dict):
        raise SettingsError(f"config file {path}: must be a mapping of setting: value")
    return document


def _apply(settings: Settings, values: Mapping[str, Any], origin: str, prefix: str = "") -> Settings:
    changes = {}
    for name, raw in values.items():
        key = name.replace("-", "_")
        if key not in _PARSERS:
            raise SettingsError(f"{origin}: unknown setting {prefix}{name}")
        try:
            changes[key] = _PARSERS[key](raw)
        except ValueError as exc:
            reason = "must be a number" if str(exc).startswith(("invalid literal", "could not convert")) else exc
            shown = "<hidden>" if key in ("private_key", "allowed_keys", "token_keys", "redis_url", "sandbox_keys", "admin_token") else repr(raw)
            raise SettingsError(f"{origin}: setting {prefix}{key.upper() if prefix else key}={shown}: {reason}") from None
    return replace(settings, **changes)
