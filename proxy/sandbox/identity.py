"""How incoming profile attributes find, create and change stored profiles.

Two policies, as in Klaviyo:
- server-side profile writes (create, import, update) may change identifiers and are
  refused with 409 `duplicate_profile` when an identifier belongs to another profile;
- event and client-side writes only fill in identifiers a profile lacks: Klaviyo ignores
  identifier changes there and still answers 202.

Everywhere, an explicit null clears a field and an omitted one is left untouched.

Email addresses: the spec does not say how Klaviyo compares them. The sandbox takes the
rule the proxy documents (`proxy.shapes.profile_input.normal_email`): an address is
stored trimmed and lower-cased, so writes in any spelling find the same profile; but a
*filter* compares its value with the stored address exactly (the stricter reading), so a
lookup that forgot to normalise finds nobody here instead of passing for the wrong reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from proxy.sandbox import errors
from proxy.newapi.emails import normal_email
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import NUMBER, member
from proxy.sandbox.store import LOCATION_FIELDS, Profile, ProfileStore, empty_location

# Request attribute -> Profile field, in the order identifiers resolve a profile.
IDENTIFIER_ATTRIBUTES = {
    "email": "email",
    "phone_number": "phone_number",
    "external_id": "external_id",
    "anonymous_id": "anonymous_id",
    "_kx": "kx",
}
PLAIN_ATTRIBUTES = ("first_name", "last_name", "organization", "locale", "title", "image")
COORDINATES = ("latitude", "longitude")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
E164 = re.compile(r"\+[1-9]\d{6,14}")

Identifiers = dict[str, str]  # Profile field -> value


def identifiers(attributes: Mapping[str, Any], at: str) -> Identifiers:
    """The non-null identifiers among the attributes, checked for format."""
    found = {
        field: value
        for name, field in IDENTIFIER_ATTRIBUTES.items()
        if (value := member(attributes, name, at, str)) is not None
    }
    if "email" in found:
        found["email"] = normal_email(found["email"])
    if "email" in found and not EMAIL.fullmatch(found["email"]):
        raise errors.invalid(f"Invalid email address: {found['email']!r}.", pointer=f"{at}/email")
    if "phone_number" in found and not E164.fullmatch(found["phone_number"]):
        raise errors.invalid(
            "Invalid phone number format (Example of a valid phone number format: +12345678901)",
            pointer=f"{at}/phone_number",
        )
    return found


def matching(store: ProfileStore, found: Identifiers) -> list[Profile]:
    """The distinct profiles the identifiers point at, in resolution order."""
    profiles = (store.find(field, value) for field, value in found.items())
    return list({profile.id: profile for profile in profiles if profile is not None}.values())


def duplicate_of(store: ProfileStore, target: Profile | None, found: Identifiers) -> Profile | None:
    """Another profile that already owns one of the identifiers, if any."""
    return next((other for other in matching(store, found) if other is not target), None)


def create(store: ProfileStore, ids: IdFactory, now: float) -> Profile:
    profile = Profile(id=ids.ulid(now), created=now, updated=now)
    store.add(profile)
    return profile


def replace_identifiers(
    store: ProfileStore, profile: Profile, attributes: Mapping[str, Any], found: Identifiers
) -> None:
    """Server-side writes: every identifier named in the attributes is set, or cleared when null."""
    for name, field in IDENTIFIER_ATTRIBUTES.items():
        if name in attributes:
            store.set_identifier(profile, field, found.get(field))


def fill_identifiers(store: ProfileStore, profile: Profile, found: Identifiers) -> None:
    """Event and client writes: only identifiers the profile lacks and nobody else owns."""
    for field, value in found.items():
        if getattr(profile, field) is None and store.find(field, value) is None:
            store.set_identifier(profile, field, value)


def named_by_id(store: ProfileStore, data: Mapping[str, Any], at: str) -> Profile | None:
    """The profile a resource object in the body names by its `id`: None when it names
    none, a 400 pointing at the id when no profile has it."""
    profile_id = member(data, "id", at, str)
    return None if profile_id is None else existing(store.get, "profile", profile_id, pointer=f"{at}/id")


def identify(store: ProfileStore, data: Mapping[str, Any], at: str, ids: IdFactory, now: float) -> Profile:
    """The profile an event or client write is about, created when nothing matches."""
    attributes = member(data, "attributes", at, dict, required=True)
    found = identifiers(attributes, f"{at}/attributes")
    profile = named_by_id(store, data, at)
    if profile is None and not found:
        raise errors.invalid(
            "A profile identifier is required (id, email, phone_number, external_id, anonymous_id or _kx).",
            pointer=f"{at}/attributes",
        )
    profile = profile or next(iter(matching(store, found)), None) or create(store, ids, now)
    fill_identifiers(store, profile, found)
    # Event bodies carry the profile's meta inside its attributes, client bodies beside them.
    meta = member(attributes, "meta", f"{at}/attributes", dict) or member(data, "meta", at, dict)
    write(profile, attributes, meta, f"{at}/attributes", now)
    return profile


def write(
    profile: Profile, attributes: Mapping[str, Any], meta: Mapping[str, Any] | None, at: str, now: float
) -> None:
    """Apply the non-identifier attributes and `meta.patch_properties`."""
    for name in PLAIN_ATTRIBUTES:
        if name in attributes:
            setattr(profile, name, member(attributes, name, at, str))
    if "location" in attributes:
        _write_location(profile, attributes, at)
    if "properties" in attributes:
        properties = member(attributes, "properties", at, dict)
        profile.properties = {**profile.properties, **properties} if properties is not None else {}
    patch = member(meta or {}, "patch_properties", f"{at}/meta", dict)
    if patch:
        _patch_properties(profile.properties, patch, f"{at}/meta/patch_properties")
    profile.updated = now


def _write_location(profile: Profile, attributes: Mapping[str, Any], at: str) -> None:
    location = member(attributes, "location", at, dict)
    if location is None:
        profile.location = empty_location()
        return
    for name in LOCATION_FIELDS:
        if name in location:
            kind = (str, *NUMBER) if name in COORDINATES else str
            profile.location[name] = member(location, name, f"{at}/location", kind)


def _patch_properties(properties: dict[str, Any], patch: Mapping[str, Any], at: str) -> None:
    for key, value in (member(patch, "append", at, dict) or {}).items():
        properties[key] = [*_as_list(properties.get(key)), value]
    for key, value in (member(patch, "unappend", at, dict) or {}).items():
        if key in properties:
            properties[key] = [item for item in _as_list(properties[key]) if item != value]
    unset = member(patch, "unset", at, (str, list)) or []
    for key in [unset] if isinstance(unset, str) else unset:
        properties.pop(key, None)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
