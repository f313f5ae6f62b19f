"""Who a legacy list or segment call is about.

Clients name people two ways (legacy contract §4.5, wire forms):
- identifier arrays `emails`, `phone_numbers`, `push_tokens` — JSON arrays (in a body,
  even on GET and DELETE), or repeated or comma-separated query values; v1 sends
  `email=a,b`;
- `profiles`, objects keyed like track/identify properties (`email` or `$email`…), plus
  `push_token` and `sms_consent`; every other key is a custom property. One client sent
  a single object instead of an array.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Protocol

import orjson

from proxy.legacy.errors import LegacyInputError
from proxy.shapes.profile_input import IDENTIFIERS, profile_attributes

FIELDS = ("email", "phone_number", "push_token")
CHECK_LIMIT = 100  # the legacy checks took at most 100 of each identifier per call
PARAMS = {"emails": "email", "email": "email", "phone_numbers": "phone_number", "push_tokens": "push_token"}
_NOT_PROPERTIES = ("push_token", "sms_consent")
_TRUE = ("1", "true", "yes", "on")


class InvalidInput(LegacyInputError):
    pass


class Params(Protocol):
    def getall(self, key: str, default: Any = ...) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class Identifiers:
    """Identifier values per new-API filter field, in the order given, without repeats."""

    email: tuple[str, ...] = ()
    phone_number: tuple[str, ...] = ()
    push_token: tuple[str, ...] = ()

    def given(self) -> dict[str, tuple[str, ...]]:
        return {name: values for name in FIELDS if (values := getattr(self, name))}


@dataclass(frozen=True, slots=True)
class LegacyProfile:
    attributes: Mapping[str, Any]  # new-API profile attributes
    push_token: str | None = None
    sms_consent: bool = False

    @property
    def identifiers(self) -> dict[str, str]:
        return {name: self.attributes[name] for name in IDENTIFIERS if self.attributes.get(name)}

    @property
    def key(self) -> tuple[str, str]:
        """The identifier that finds the profile: email (case-insensitive), phone, external id."""
        name, value = next(iter(self.identifiers.items()))
        return (name, value.lower() if name == "email" else value)

    @property
    def only_identifies(self) -> bool:
        """True when finding the profile is all there is to do: one identifier, nothing to write."""
        return len(self.identifiers) == 1 and self.attributes.keys() == self.identifiers.keys()


def identifiers_from(params: Params) -> Identifiers:
    found: dict[str, list[str]] = {name: [] for name in FIELDS}
    for param, name in PARAMS.items():
        for raw in params.getall(param, []):
            found[name] += _values(raw, param)
    for profile in profiles_from(params):
        for name, value in (*profile.identifiers.items(), ("push_token", profile.push_token)):
            if name in found and value:
                found[name].append(value)
    return Identifiers(**{name: tuple(dict.fromkeys(values)) for name, values in found.items()})


def check_count(identifiers: Identifiers, limit: int) -> None:
    for name, values in identifiers.given().items():
        if len(values) > limit:
            raise InvalidInput(f"At most {limit} {name}s can be checked at a time.")


def profiles_from(params: Params) -> list[LegacyProfile]:
    profiles: list[LegacyProfile] = []
    for raw in params.getall("profiles", []):
        document = _json(raw, "profiles") if isinstance(raw, str) else raw
        items = [document] if isinstance(document, dict) else document
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise InvalidInput("profiles must be a list of objects.")
        profiles += [legacy_profile(item) for item in items]
    return profiles


def legacy_profile(properties: Mapping[str, Any]) -> LegacyProfile:
    """One `profiles` object (or sign-up form) as new-API attributes and the legacy extras."""
    push_token = properties.get("push_token")
    return LegacyProfile(
        attributes=profile_attributes({k: v for k, v in properties.items() if k not in _NOT_PROPERTIES}),
        push_token=str(push_token) if push_token not in (None, "") else None,
        sms_consent=str(properties.get("sms_consent", "")).strip().lower() in _TRUE,
    )


def require_identifiers(profiles: list[LegacyProfile]) -> list[LegacyProfile]:
    """Profiles to write must be findable: the new API cannot look a profile up by push token."""
    if not profiles:
        raise InvalidInput("profiles is required: a list of objects with an email or phone_number.")
    for index, profile in enumerate(profiles):
        if not profile.identifiers:
            raise InvalidInput(f"profiles[{index}] needs an email, phone_number or $id.")
    return profiles


def _values(raw: Any, param: str) -> list[str]:
    if isinstance(raw, list):
        values = raw
    elif isinstance(raw, str):
        values = _json(raw, param) if raw.lstrip().startswith("[") else raw.split(",")
    else:
        values = [raw]
    if not all(isinstance(value, (str, int)) and not isinstance(value, bool) for value in values):
        raise InvalidInput(f"{param} must be a list of strings.")
    return [text for value in values if (text := str(value).strip())]


def _json(raw: str, param: str) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput(f"{param} is not valid JSON.") from None
