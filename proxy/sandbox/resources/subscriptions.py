"""Consent: the bulk subscribe and unsubscribe jobs, and POST /client/subscriptions.

Like Klaviyo's, each answers 202 with no body once the request is validated, and the work
runs after the response (`proxy.sandbox.jobs`), creating any profile it needs then:
- subscribing to a double opt-in list leaves the profile pending (not a member, consent
  untouched) until it confirms; a single opt-in list, `historical_import`, or no list at
  all (the sandbox's account default is single opt-in) subscribes at once: consent
  SUBSCRIBED, the lifted suppressions cleared, and membership of the list;
- only the channels the `subscriptions` object names are subscribed: an empty object
  subscribes nothing and, the spec being silent, the sandbox then does not add the
  profile to the list either (the stricter reading). Only /client/subscriptions may omit
  the object, which then means marketing consent for each of `email` / `phone_number`
  given, as the spec says;
- unsubscribing with a list removes its members from that list with a list suppression
  and leaves their consent alone, but unsubscribes everyone else globally, as the real
  API warns.
Only the email and SMS channels are kept; others are accepted and ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proxy.openapi.datetimes import parse_datetime
from proxy.sandbox import errors, identity
from proxy.sandbox.groups import DOUBLE_OPT_IN, MailingList
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.resources.lists import existing_list
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Consent, ListSuppression, Profile

ROUTES = RouteTable()

ATTRIBUTES = "/data/attributes"
MAX_SUBSCRIBES = 1000
MAX_UNSUBSCRIBES = 100
# (channel, kind) in request bodies -> the Subscriptions field that keeps its consent.
CHANNELS = {
    ("email", "marketing"): "email_marketing",
    ("sms", "marketing"): "sms_marketing",
    ("sms", "transactional"): "sms_transactional",
}
# Suppressions a subscription lifts; bounces and invalid addresses stay.
LIFTED = frozenset({"UNSUBSCRIBE", "SPAM_COMPLAINT", "USER_SUPPRESSED"})
LIST_UNSUBSCRIBE = "UNSUBSCRIBE"


@dataclass(frozen=True, slots=True)
class Subscriber:
    """One profile of a job: who, and the consent fields named for each channel."""

    profile: Profile
    channels: Mapping[str, Mapping[str, Any]]  # Subscriptions field -> its parameters


@dataclass(frozen=True, slots=True)
class SubscribeEntry:
    """One validated profile entry of a subscribe job, resolved to a profile when it runs."""

    profile_id: str | None
    found: identity.Identifiers
    channels: Mapping[str, Mapping[str, Any]]

    def subscriber(self, call: Call, now: float) -> Subscriber | None:
        store = call.account.profiles
        if self.profile_id is not None:
            profile = store.get(self.profile_id)
            if profile is None:  # deleted since the job was accepted
                return None
        else:
            profile = next(iter(identity.matching(store, self.found)), None) or identity.create(store, call.ids, now)
        identity.fill_identifiers(store, profile, self.found)
        return Subscriber(profile, self.channels)


@ROUTES.route("POST", "/api/profile-subscription-bulk-create-jobs")
def bulk_subscribe_profiles(call: Call) -> Reply:
    attributes, mailing_list, entries = _job_request(call, "profile-subscription-bulk-create-job", MAX_SUBSCRIBES)
    historical = member(attributes, "historical_import", ATTRIBUTES, bool) or False
    accepted = [
        _subscribe_entry(call, entry, f"{ATTRIBUTES}/profiles/data/{index}", historical)
        for index, entry in enumerate(entries)
    ]

    def run(now: float) -> None:
        for entry in accepted:
            subscriber = entry.subscriber(call, now)
            if subscriber is not None:
                _subscribe(subscriber, mailing_list, now, immediately=historical)

    call.account.jobs.defer(call.now, run)
    return Reply(202)


@ROUTES.route("POST", "/api/profile-subscription-bulk-delete-jobs")
def bulk_unsubscribe_profiles(call: Call) -> Reply:
    _, mailing_list, entries = _job_request(call, "profile-subscription-bulk-delete-job", MAX_UNSUBSCRIBES)
    accepted = []
    for index, entry in enumerate(entries):
        entry_at = f"{ATTRIBUTES}/profiles/data/{index}"
        profile_attributes = member(entry, "attributes", entry_at, dict, required=True)
        at = f"{entry_at}/attributes"
        accepted.append((identity.identifiers(profile_attributes, at), _channels(profile_attributes, at, required=True)))

    def run(now: float) -> None:
        for found, channels in accepted:
            for profile in identity.matching(call.account.profiles, found):
                _unsubscribe(profile, channels, mailing_list, now)

    call.account.jobs.defer(call.now, run)
    return Reply(202)


@ROUTES.route("POST", "/client/subscriptions")
def create_client_subscription(call: Call) -> Reply:
    data = resource_data(call.body, "subscription")
    attributes = attributes_of(data)
    profile_wrapper = member(attributes, "profile", ATTRIBUTES, dict, required=True)
    profile_data = member(profile_wrapper, "data", f"{ATTRIBUTES}/profile", dict, required=True)
    at = f"{ATTRIBUTES}/profile/data"
    mailing_list = _related_list(call, data)
    if mailing_list is None:
        raise errors.invalid("'list' is required.", pointer="/data/relationships/list")
    profile_attributes = member(profile_data, "attributes", at, dict, required=True)
    if not any(profile_attributes.get(name) for name in ("email", "phone_number")):
        raise errors.invalid("One of email or phone_number is required.", pointer=f"{at}/attributes")
    identity.identifiers(profile_attributes, f"{at}/attributes")
    if "subscriptions" in profile_attributes:
        # "If you include a subscriptions object, only channels in that object will be subscribed."
        channels = _channels(profile_attributes, f"{at}/attributes", required=True)
    else:  # "If a subscriptions object is not provided, subscriptions are defaulted to MARKETING."
        channels = {
            name: {}
            for name, field in (("email_marketing", "email"), ("sms_marketing", "phone_number"))
            if profile_attributes.get(field)
        }

    def run(now: float) -> None:
        try:
            profile = identity.identify(call.account.profiles, profile_data, at, call.ids, now)
        except errors.ApiError:
            return  # a write the job cannot apply is dropped, unseen by the caller
        _subscribe(Subscriber(profile, channels), mailing_list, now, immediately=False)

    call.account.jobs.defer(call.now, run)
    return Reply(202)


def _subscribe(subscriber: Subscriber, mailing_list: MailingList | None, now: float, *, immediately: bool) -> None:
    profile = subscriber.profile
    if not subscriber.channels:
        return  # an empty subscriptions object subscribes nothing
    if mailing_list is not None and mailing_list.opt_in_process == DOUBLE_OPT_IN and not immediately:
        mailing_list.pending.setdefault(profile.id, now)
        return
    subscriptions = profile.subscriptions
    for name, parameters in subscriber.channels.items():
        consented_at = parameters.get("consented_at")
        when = parse_datetime(consented_at).timestamp() if consented_at else now
        setattr(subscriptions, name, Consent("SUBSCRIBED", when, "API"))
    if "email_marketing" in subscriber.channels:
        subscriptions.email_suppressions[:] = [s for s in subscriptions.email_suppressions if s.reason not in LIFTED]
        if mailing_list is not None:
            _drop_list_suppressions(profile, mailing_list.id)
    if mailing_list is not None:
        mailing_list.members.add(profile.id, now)
        mailing_list.pending.pop(profile.id, None)


def _unsubscribe(profile: Profile, channels: Mapping[str, Any], mailing_list: MailingList | None, now: float) -> None:
    subscriptions = profile.subscriptions
    if mailing_list is not None and profile.id in mailing_list.members:
        mailing_list.members.remove(profile.id)
        if "email_marketing" in channels:
            _drop_list_suppressions(profile, mailing_list.id)
            subscriptions.email_list_suppressions.append(ListSuppression(mailing_list.id, LIST_UNSUBSCRIBE, now))
        return
    if mailing_list is not None:
        mailing_list.pending.pop(profile.id, None)
    for name in channels:
        setattr(subscriptions, name, Consent("UNSUBSCRIBED", now, "API"))
    if "email_marketing" in channels:
        subscriptions.suppress_email("UNSUBSCRIBE", now)


def _drop_list_suppressions(profile: Profile, list_id: str) -> None:
    suppressions = profile.subscriptions.email_list_suppressions
    suppressions[:] = [s for s in suppressions if s.list_id != list_id]


def _job_request(
    call: Call, job_type: str, maximum: int
) -> tuple[dict[str, Any], MailingList | None, list[dict[str, Any]]]:
    """A bulk job's attributes, its list (when it names one) and its 1 to `maximum` profile entries."""
    data = resource_data(call.body, job_type)
    attributes = attributes_of(data)
    return attributes, _related_list(call, data), _profile_entries(attributes, maximum)


def _related_list(call: Call, data: Mapping[str, Any]) -> MailingList | None:
    """The list of `relationships.list`, when the body names one."""
    relationships = member(data, "relationships", "/data", dict) or {}
    wrapper = member(relationships, "list", "/data/relationships", dict)
    if wrapper is None:
        return None
    list_data = member(wrapper, "data", "/data/relationships/list", dict, required=True)
    return existing_list(call, member(list_data, "id", "/data/relationships/list/data", str, required=True))


def _profile_entries(attributes: Mapping[str, Any], maximum: int) -> list[dict[str, Any]]:
    profiles = member(attributes, "profiles", ATTRIBUTES, dict, required=True)
    entries = member(profiles, "data", f"{ATTRIBUTES}/profiles", list, required=True)
    if not 0 < len(entries) <= maximum:
        raise errors.invalid(f"A job takes 1 to {maximum} profiles.", pointer=f"{ATTRIBUTES}/profiles/data")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or entry.get("type") != "profile":
            raise errors.invalid("Each item must be a profile.", pointer=f"{ATTRIBUTES}/profiles/data/{index}")
    return entries


def _subscribe_entry(call: Call, entry: dict[str, Any], at: str, historical: bool) -> SubscribeEntry:
    """One entry of a subscribe job, validated against the account as it stands: the
    profile (by id, else by its identifiers) must be reachable on every channel named."""
    profile_attributes = member(entry, "attributes", at, dict, required=True)
    found = identity.identifiers(profile_attributes, f"{at}/attributes")
    channels = _channels(profile_attributes, f"{at}/attributes", required=True)
    if historical:
        _check_consented_at(channels, f"{at}/attributes/subscriptions", call.now)
    store = call.account.profiles
    named = identity.named_by_id(store, entry, at)
    if named is None and not found:
        raise errors.invalid("A profile needs an id, email or phone_number.", pointer=f"{at}/attributes")
    known = named or next(iter(identity.matching(store, found)), None)
    reachable = {
        field: bool(found.get(field) or (known is not None and getattr(known, field)))
        for field in ("email", "phone_number")
    }
    _check_reachable(reachable, channels, f"{at}/attributes")
    return SubscribeEntry(named.id if named else None, found, channels)


def _channels(attributes: Mapping[str, Any], at: str, *, required: bool) -> dict[str, Mapping[str, Any]]:
    """The consent parameters of each kept channel the `subscriptions` object names."""
    subscriptions = member(attributes, "subscriptions", at, dict, required=required) or {}
    channels = {}
    for (channel, kind), name in CHANNELS.items():
        parameters = (subscriptions.get(channel) or {}).get(kind)
        if isinstance(parameters, dict):
            channels[name] = parameters
    return channels


def _check_consented_at(channels: Mapping[str, Mapping[str, Any]], at: str, now: float) -> None:
    for name, parameters in channels.items():
        consented_at = parameters.get("consented_at")
        if not consented_at or parse_datetime(consented_at).timestamp() > now:
            raise errors.invalid(
                "A historical import needs consented_at, in the past, for every channel.", pointer=f"{at}/{name}"
            )


def _check_reachable(reachable: Mapping[str, bool], channels: Mapping[str, Any], at: str) -> None:
    if "email_marketing" in channels and not reachable["email"]:
        raise errors.invalid("Subscribing to email needs an email address.", pointer=f"{at}/email")
    if {"sms_marketing", "sms_transactional"} & channels.keys() and not reachable["phone_number"]:
        raise errors.invalid("Subscribing to SMS needs a phone number.", pointer=f"{at}/phone_number")
