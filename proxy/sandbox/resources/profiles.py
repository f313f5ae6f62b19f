"""Profiles: reads, the three server-side writes (create, import, update) and the
client-side POST /client/profiles."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from operator import attrgetter
from typing import Any

from proxy.openapi.filters import Condition
from proxy.sandbox import errors, identity, jsonapi
from proxy.sandbox.filtering import Field, Predicate, as_seconds, parse_filter, predicate
from proxy.sandbox.jsonapi import Relationship, Resource, View, same_named
from proxy.sandbox.pagination import choose_sort, page_links, page_size, paginate
from proxy.sandbox.lookup import existing
from proxy.sandbox.payload import attributes_of, member, path_id, resource_data
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Consent, ListSuppression, Profile, ProfileStore, PushToken, Suppression

ROUTES = RouteTable()

ATTRIBUTES = "/data/attributes"
RELATED = (("lists", "list"), ("segments", "segment"), ("push-tokens", "push-token"), ("conversations", "conversation"))
LIST_INCLUDABLE = frozenset({"conversations", "push-tokens"})
ONE_INCLUDABLE = frozenset({"conversations", "lists", "push-tokens", "segments"})
# Filter field -> Profile identifier that the store indexes.
INDEXED = {"email": "email", "phone_number": "phone_number", "external_id": "external_id", "_kx": "kx"}
# At least one of these makes a new profile addressable.
REQUIRED_ONE_OF = ("email", "phone_number", "external_id")


FILTERABLE: dict[str, Field[Profile]] = {
    "id": Field(attrgetter("id")),
    "email": Field(attrgetter("email")),  # exact: see proxy.sandbox.identity on emails
    "phone_number": Field(attrgetter("phone_number")),
    "external_id": Field(attrgetter("external_id")),
    "_kx": Field(attrgetter("kx")),
    "created": Field(attrgetter("created"), fold=as_seconds),
    "updated": Field(attrgetter("updated"), fold=as_seconds),
}
# Suppression filters test each suppression entry: a profile matches when one entry
# satisfies every condition on that family (a list's reason and timestamp go together).
SUPPRESSION = "subscriptions.email.marketing.suppression."
LIST_SUPPRESSION = "subscriptions.email.marketing.list_suppressions."
SUPPRESSION_FIELDS: dict[str, Field[Suppression]] = {
    SUPPRESSION + "reason": Field(attrgetter("reason")),
    SUPPRESSION + "timestamp": Field(attrgetter("timestamp"), fold=as_seconds),
}
LIST_SUPPRESSION_FIELDS: dict[str, Field[ListSuppression]] = {
    LIST_SUPPRESSION + "list_id": Field(attrgetter("list_id")),
    LIST_SUPPRESSION + "reason": Field(attrgetter("reason")),
    LIST_SUPPRESSION + "timestamp": Field(attrgetter("timestamp"), fold=as_seconds),
}
ENTRIES: dict[str, tuple[dict[str, Field[Any]], Callable[[Profile], list[Any]]]] = {
    SUPPRESSION: (SUPPRESSION_FIELDS, lambda profile: profile.subscriptions.email_suppressions),
    LIST_SUPPRESSION: (LIST_SUPPRESSION_FIELDS, lambda profile: profile.subscriptions.email_list_suppressions),
}
SORTS = {
    "id": lambda profile: (profile.id,),
    "created": lambda profile: (profile.created, profile.id),
    "updated": lambda profile: (profile.updated, profile.id),
    # Profiles without an email sort before those with one.
    "email": lambda profile: (profile.email is not None, (profile.email or "").lower(), profile.id),
    # Unsuppressed profiles sort first; a profile with several entries sorts by its earliest.
    SUPPRESSION + "timestamp": lambda profile: _earliest(profile.subscriptions.email_suppressions, profile.id),
    LIST_SUPPRESSION + "timestamp": lambda profile: _earliest(profile.subscriptions.email_list_suppressions, profile.id),
}


def _earliest(entries: list[Suppression] | list[ListSuppression], profile_id: str) -> tuple[bool, float, str]:
    return (bool(entries), min((entry.timestamp for entry in entries), default=0.0), profile_id)


def profile_resource(profile: Profile, view: View) -> Resource:
    attributes: dict[str, Any] = {
        **same_named(profile, "email", "phone_number", "external_id", *identity.PLAIN_ATTRIBUTES),
        "created": jsonapi.isoformat(profile.created),
        "updated": jsonapi.isoformat(profile.updated),
        "last_event_date": _optional_iso(profile.last_event_date),
        "location": dict(profile.location),
        "properties": dict(profile.properties),
    }
    if view.wants("profile", "subscriptions"):
        attributes["subscriptions"] = _subscriptions(profile)
    tokens = tuple(token.id for token in profile.push_tokens)
    relationships = tuple(
        Relationship(name, type_, tokens if name == "push-tokens" else ()) for name, type_ in RELATED
    )
    return Resource("profile", profile.id, attributes, relationships)


def push_token_resource(profile: Profile, token: PushToken) -> Resource:
    created = jsonapi.isoformat(token.created)
    attributes = {
        "created": created,
        **same_named(token, "token", "enablement_status", "platform", "vendor", "background"),
        "recorded_date": created,
        "metadata": None,
    }
    return Resource("push-token", token.id, attributes, (Relationship("profile", "profile", profile.id),))


def _related(profiles: list[Profile], view: View) -> list[Resource]:
    """The included resources the view asks for (the sandbox keeps no conversations)."""
    if "push-tokens" not in view.include:
        return []
    return [push_token_resource(profile, token) for profile in profiles for token in profile.push_tokens]


def _optional_iso(seconds: float | None) -> str | None:
    return None if seconds is None else jsonapi.isoformat(seconds)


def _subscriptions(profile: Profile) -> dict[str, Any]:
    subscriptions = profile.subscriptions
    has_phone = profile.phone_number is not None
    emailable = profile.email is not None and not subscriptions.email_suppressions
    email_marketing = _consent(subscriptions.email_marketing, "can_receive_email_marketing", emailable)
    return {
        "email": {
            "marketing": {
                **email_marketing,
                "custom_method_detail": None,
                "double_optin": None,
                "suppression": [
                    {"reason": entry.reason, "timestamp": jsonapi.isoformat(entry.timestamp)}
                    for entry in subscriptions.email_suppressions
                ],
                "list_suppressions": [
                    {"list_id": entry.list_id, "reason": entry.reason, "timestamp": jsonapi.isoformat(entry.timestamp)}
                    for entry in subscriptions.email_list_suppressions
                ],
            }
        },
        "sms": {
            "marketing": _consent(subscriptions.sms_marketing, "can_receive_sms_marketing", has_phone),
            "transactional": _consent(subscriptions.sms_transactional, "can_receive_sms_transactional", has_phone),
        },
    }


def _consent(consent: Consent, can_receive: str, reachable: bool) -> dict[str, Any]:
    when = _optional_iso(consent.timestamp)
    return {
        can_receive: reachable and consent.state == "SUBSCRIBED",
        "consent": consent.state,
        "consent_timestamp": when,
        "last_updated": when,
        "method": consent.method,
        "method_detail": "",
    }


@ROUTES.route("GET", "/api/profiles")
def get_profiles(call: Call) -> Reply:
    view = View.of(call, LIST_INCLUDABLE)
    conditions = parse_filter(call.param("filter"))
    keep = _profile_predicate(conditions)
    sort = choose_sort(call, SORTS, default="id")
    ordered = sorted(_candidates(call.account.profiles, conditions), key=sort.key)
    page = paginate(ordered, sort, call.param("page[cursor]"), page_size(call), keep)
    resources = [profile_resource(profile, view) for profile in page.items]
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page), _related(page.items, view)))


def _profile_predicate(conditions: list[Condition]) -> Predicate[Profile]:
    """Profile fields are tested directly, each suppression family against its entries."""
    tests = [predicate([c for c in conditions if not c.field.startswith(tuple(ENTRIES))], FILTERABLE)]
    for prefix, (fields, entries_of) in ENTRIES.items():
        family = [c for c in conditions if c.field.startswith(prefix)]
        if family:
            tests.append(_any_entry(predicate(family, fields), entries_of))
    return lambda profile: all(test(profile) for test in tests)


def _any_entry(entry_matches: Predicate[Any], entries_of: Callable[[Profile], list[Any]]) -> Predicate[Profile]:
    return lambda profile: any(map(entry_matches, entries_of(profile)))


def _candidates(store: ProfileStore, conditions: list[Condition]) -> list[Profile]:
    """Profiles an identifier condition points at, straight from the indexes, else all of
    them; the full filter still runs over whatever this returns."""
    for condition in conditions:
        if condition.operator in ("equals", "any") and (condition.field == "id" or condition.field in INDEXED):
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            found = (
                store.get(value) if condition.field == "id" else store.find(INDEXED[condition.field], value)
                for value in values
                if isinstance(value, str)
            )
            return list({profile.id: profile for profile in found if profile is not None}.values())
    return list(store)


@ROUTES.route("GET", "/api/profiles/{id}")
def get_profile(call: Call) -> Reply:
    view = View.of(call, ONE_INCLUDABLE)
    profile = _existing(call)
    return Reply(200, jsonapi.single(profile_resource(profile, view), view, _related([profile], view)))


def _existing(call: Call, profile_id: str | None = None) -> Profile:
    return existing(call.account.profiles.get, "profile", profile_id or call.path_params["id"])


@ROUTES.route("POST", "/api/profiles")
def create_profile(call: Call) -> Reply:
    data = resource_data(call.body, "profile")
    attributes = attributes_of(data)
    profile = _save(call, None, attributes, meta=None)
    return _profile_reply(call, 201, profile)


@ROUTES.route("POST", "/api/profile-import")
def create_or_update_profile(call: Call) -> Reply:
    data = resource_data(call.body, "profile")
    attributes = attributes_of(data)
    profile_id = member(data, "id", "/data", str)
    target: Profile | None
    if profile_id is not None:
        target = _existing(call, profile_id)
    else:
        found = identity.identifiers(attributes, ATTRIBUTES)
        target = next(iter(identity.matching(call.account.profiles, found)), None)
    profile = _save(call, target, attributes, member(data, "meta", "/data", dict))
    return _profile_reply(call, 200 if target else 201, profile)


@ROUTES.route("PATCH", "/api/profiles/{id}")
def update_profile(call: Call) -> Reply:
    data = resource_data(call.body, "profile")
    path_id(data, call.path_params["id"])
    attributes = attributes_of(data)
    profile = _save(call, _existing(call), attributes, member(data, "meta", "/data", dict))
    return _profile_reply(call, 200, profile)


def _save(
    call: Call, target: Profile | None, attributes: Mapping[str, Any], meta: Mapping[str, Any] | None
) -> Profile:
    """A server-side write: create when there is no target; identifiers may change but
    never onto an identifier another profile owns."""
    store = call.account.profiles
    found = identity.identifiers(attributes, ATTRIBUTES)
    duplicate = identity.duplicate_of(store, target, found)
    if duplicate is not None:
        raise errors.duplicate_profile(duplicate.id)
    if target is None and not any(name in found for name in REQUIRED_ONE_OF):
        raise errors.invalid(
            "One of email, phone_number or external_id is required to create a profile.", pointer=ATTRIBUTES
        )
    profile = target or identity.create(store, call.ids, call.now)
    identity.replace_identifiers(store, profile, attributes, found)
    identity.write(profile, attributes, meta, ATTRIBUTES, call.now)
    return profile


def _profile_reply(call: Call, status: int, profile: Profile) -> Reply:
    view = View.of(call)
    return Reply(status, jsonapi.single(profile_resource(profile, view), view))


@ROUTES.route("POST", "/client/profiles")
def create_client_profile(call: Call) -> Reply:
    identity.identify(call.account.profiles, resource_data(call.body, "profile"), "/data", call.ids, call.now)
    return Reply(202)
