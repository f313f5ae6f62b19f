"""Legacy parameter values → the values a new-API body carries, for the `|conversion`
of a body reference in the mapping table (`"{params.send_time|utc_time}"`).

Each takes the coerced value (None when the client gave none) and the parameter's name,
for the legacy 400 it raises; None back leaves the body key out.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from proxy.legacy.errors import LegacyInputError


class InvalidValue(LegacyInputError):
    pass


def utc_time(text: str | None, name: str) -> str | None:
    """Legacy UTC time ("2022-01-13 00:00:00"; ISO 8601 also read) → ISO 8601 UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidValue(f"Invalid value for {name}: must be a UTC time as YYYY-MM-DD HH:MM:SS.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def json_object(value: Any, name: str) -> dict[str, Any]:
    """A JSON object parameter (a `json` param, already parsed); none given is `{}`."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidValue(f"Invalid value for {name}: must be a JSON object.")
    return value
