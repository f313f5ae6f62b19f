"""Who a legacy list or segment call is about.

Clients name people two ways (legacy contract §4.5, wire forms):
- identifier arrays `emails`, `phone_numbers`, `push_tokens` — JSON arrays (in a body,
  even on GET and DELETE), or repeated or comma-separated query values; v1 sends
  `email=a,b`;
- `profiles`, objects keyed like track/identify properties (`email` or `$email`…), plus
  `push_token` and `sms_consent`; every other key is a custom property. One client sent
  a single object instead of an array.

In `profiles`, people are found by `email`, `phone_number` and `$id` (the external id,
legacy contract §3.1). A bare `id` is not an identifier: the legacy API's own member
records carry the Klaviyo profile id under `id`, so a client copying members from one list
to another sends it back. It stays a custom property, which the handlers drop when it is
the id of the very profile the entry names (`without_own_id`). Entries about the same
person (sharing any identifier; emails in any case) are one write, merged in order
(`merge_same_people`), so no entry's properties are lost to a later one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Mapping, Protocol, Sequence

from proxy.legacy import exact_json
from proxy.legacy.errors import LegacyInputError
from proxy.newapi.emails import normal_email
from proxy.shapes.profile_input import Degraded, keep_usable, profile_attributes, without_aliases

FIELDS = ("email", "phone_number", "push_token")
CHECK_LIMIT = 100  # the legacy checks took at most 100 of each identifier per call
PARAMS = {"emails": "email", "email": "email", "phone_numbers": "phone_number", "push_tokens": "push_token"}
_NOT_PROPERTIES = ("push_token", "sms_consent")
_TRUE = ("1", "true", "yes", "on")
# What finds a profile named in `profiles`, in the order it is tried.
PROFILE_KEYS = ("email", "phone_number", "external_id")
_PROFILES_SPECIAL = without_aliases("id")
KLAVIYO_ID = "id"  # a bare `id`: a custom property unless it is the profile's own id


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
    degraded: tuple[Degraded, ...] = ()  # fields kept as custom properties instead

    @property
    def identifiers(self) -> dict[str, str]:
        return {name: self.attributes[name] for name in PROFILE_KEYS if self.attributes.get(name)}

    @property
    def key(self) -> tuple[str, str]:
        """The identifier that finds the profile: email (normalised), phone, external id."""
        return next(iter(self.identifiers.items()))

    @property
    def klaviyo_id(self) -> str | None:
        """A bare `id` the entry carried (see the module's note)."""
        value = (self.attributes.get("properties") or {}).get(KLAVIYO_ID)
        return None if value in (None, "") else str(value)

    @property
    def only_identifies(self) -> bool:
        """True when finding the profile is all there is to do: one identifier, nothing to write."""
        return len(self.identifiers) == 1 and self.attributes.keys() == self.identifiers.keys()


def identifiers_from(params: Params) -> Identifiers:
    found: dict[str, list[str]] = {name: [] for name in FIELDS}
    for param, name in PARAMS.items():
        for raw in params.getall(param, []):
            values = _values(raw, param)
            found[name] += [normal_email(value) for value in values] if name == "email" else values
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
    given = {k: v for k, v in properties.items() if k not in _NOT_PROPERTIES}
    attributes = profile_attributes(given, special=_PROFILES_SPECIAL)
    degraded = keep_usable(attributes)
    return LegacyProfile(
        attributes=attributes,
        push_token=str(push_token) if push_token not in (None, "") else None,
        sms_consent=str(properties.get("sms_consent", "")).strip().lower() in _TRUE,
        degraded=tuple(degraded),
    )


def merge_same_people(profiles: Sequence[LegacyProfile]) -> tuple[list[LegacyProfile], list[int]]:
    """One profile per person, in order of first mention, and for each given entry the
    index of its merged profile. Entries sharing any identifier are the same person; a
    later entry's values win, its custom properties and location fields are added."""
    owner: dict[tuple[str, str], int] = {}  # identifier -> its person: the first entry naming them
    groups: dict[int, list[int]] = {}
    for index, profile in enumerate(profiles):
        pairs = list(profile.identifiers.items())
        people = sorted({owner[pair] for pair in pairs if pair in owner})
        target = people[0] if people else index
        members = groups.setdefault(target, [])
        for other in people[1:]:  # this entry shows two people seen apart so far are one
            moved = groups.pop(other)
            members += moved
            owner.update({pair: target for member in moved for pair in profiles[member].identifiers.items()})
        members.append(index)
        owner.update({pair: target for pair in pairs})
    kept = [sorted(groups[person]) for person in sorted(groups)]
    position = {index: number for number, members in enumerate(kept) for index in members}
    merged = [_merged([profiles[index] for index in members]) for members in kept]
    return merged, [position[index] for index in range(len(profiles))]


def _merged(profiles: list[LegacyProfile]) -> LegacyProfile:
    first, *later = profiles
    attributes = dict(first.attributes)
    for profile in later:
        for name, value in profile.attributes.items():
            nested = isinstance(value, dict) and isinstance(attributes.get(name), dict)
            attributes[name] = {**attributes[name], **value} if nested else value
    return LegacyProfile(
        attributes=attributes,
        push_token=next((p.push_token for p in reversed(profiles) if p.push_token), None),
        sms_consent=any(p.sms_consent for p in profiles),
        degraded=tuple(d for p in profiles for d in p.degraded),
    )


def without_own_id(profile: LegacyProfile, profile_id: str | None) -> LegacyProfile:
    """The profile without its bare `id` when that is the id of the profile it names."""
    if profile.klaviyo_id is None or profile.klaviyo_id != profile_id:
        return profile
    custom = {k: v for k, v in profile.attributes["properties"].items() if k != KLAVIYO_ID}
    attributes = {k: v for k, v in profile.attributes.items() if k != "properties"}
    return replace(profile, attributes=attributes | ({"properties": custom} if custom else {}))


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
        return exact_json.loads(raw)
    except exact_json.InvalidJson:
        raise InvalidInput(f"{param} is not valid JSON.") from None
