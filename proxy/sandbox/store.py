"""What one sandbox account holds: plain records, and stores that keep the indexes
lookups need. Later resources (lists, segments, templates, campaigns) add a store each.

Records are mutable and handed out by reference; only identifiers (which are indexed)
must be changed through `ProfileStore.set_identifier`.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from proxy.sandbox.by_id import ById
from proxy.sandbox.campaign_store import CampaignStore
from proxy.sandbox.groups import GroupStore, MailingList, Segment
from proxy.sandbox.jobs import JobQueue
from proxy.sandbox.template_store import TemplateStore

LOCATION_FIELDS = (
    "address1", "address2", "city", "country", "latitude", "longitude",
    "region", "zip", "timezone", "ip",
)  # fmt: skip
# `kx` is the `_kx` exchange id; it and `anonymous_id` identify but are never returned.
IDENTIFIERS = ("email", "phone_number", "external_id", "anonymous_id", "kx")


def empty_location() -> dict[str, Any]:
    return dict.fromkeys(LOCATION_FIELDS)


@dataclass
class Consent:
    state: str = "NEVER_SUBSCRIBED"
    timestamp: float | None = None
    method: str | None = None


@dataclass
class Suppression:
    """Why and since when no marketing email may reach the profile (HARD_BOUNCE,
    INVALID_EMAIL, SPAM_COMPLAINT, UNSUBSCRIBE or USER_SUPPRESSED)."""

    reason: str
    timestamp: float


@dataclass
class ListSuppression:
    list_id: str
    reason: str
    timestamp: float


@dataclass
class Subscriptions:
    email_marketing: Consent = field(default_factory=Consent)
    sms_marketing: Consent = field(default_factory=Consent)
    sms_transactional: Consent = field(default_factory=Consent)
    # Global email suppressions override any consent; list suppressions hold per list.
    email_suppressions: list[Suppression] = field(default_factory=list)
    email_list_suppressions: list[ListSuppression] = field(default_factory=list)

    def suppress_email(self, reason: str, timestamp: float) -> bool:
        """Add a global email suppression; False when one for this reason is already there."""
        if any(suppression.reason == reason for suppression in self.email_suppressions):
            return False
        self.email_suppressions.append(Suppression(reason, timestamp))
        return True


@dataclass(frozen=True)
class PushToken:
    """A mobile push token registered for a profile (read through `include=push-tokens`)."""

    id: str
    token: str
    platform: str  # "ios" | "android"
    vendor: str  # "APNs" | "FCM"
    created: float
    enablement_status: str = "AUTHORIZED"
    background: str = "AVAILABLE"


@dataclass(eq=False)
class Profile:
    id: str
    created: float
    updated: float
    email: str | None = None
    phone_number: str | None = None
    external_id: str | None = None
    anonymous_id: str | None = None
    kx: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    organization: str | None = None
    locale: str | None = None
    title: str | None = None
    image: str | None = None
    location: dict[str, Any] = field(default_factory=empty_location)
    properties: dict[str, Any] = field(default_factory=dict)
    last_event_date: float | None = None
    subscriptions: Subscriptions = field(default_factory=Subscriptions)
    push_tokens: list[PushToken] = field(default_factory=list)


@dataclass(frozen=True)
class Integration:
    id: str
    name: str
    category: str


@dataclass(eq=False)
class Metric:
    id: str
    name: str
    integration: Integration
    created: float
    updated: float


@dataclass(eq=False)
class Event:
    id: str
    metric_id: str
    profile_id: str
    timestamp: int  # whole seconds: Klaviyo truncates event times to the second
    uuid: str
    event_properties: dict[str, Any]
    # The de-duplication key: the caller's unique_id, else the timestamp (Klaviyo's rule).
    unique_id: str

    @property
    def order(self) -> tuple[int, str]:
        return (self.timestamp, self.id)


class ProfileStore(ById[Profile]):
    def __init__(self) -> None:
        super().__init__()
        self._by_identifier: dict[str, dict[str, Profile]] = {name: {} for name in IDENTIFIERS}

    def find(self, identifier: str, value: str) -> Profile | None:
        return self._by_identifier[identifier].get(value)

    def add(self, profile: Profile) -> None:
        self._by_id[profile.id] = profile
        for identifier in IDENTIFIERS:
            value = getattr(profile, identifier)
            if value is not None:
                self._by_identifier[identifier][value] = profile

    def set_identifier(self, profile: Profile, identifier: str, value: str | None) -> None:
        index = self._by_identifier[identifier]
        old = getattr(profile, identifier)
        if old is not None:
            index.pop(old, None)
        setattr(profile, identifier, value)
        if value is not None:
            index[value] = profile

    def remove(self, profile: Profile) -> None:
        self._by_id.pop(profile.id, None)
        for identifier in IDENTIFIERS:
            value = getattr(profile, identifier)
            if value is not None:
                self._by_identifier[identifier].pop(value, None)




class MetricStore(ById[Metric]):
    def __init__(self) -> None:
        super().__init__()
        self._by_name: dict[tuple[str, str], Metric] = {}
        self._integrations: dict[str, Integration] = {}

    def find(self, name: str, integration_name: str) -> Metric | None:
        """Metric names are unique per integration, so "Placed Order" from Shopify and
        from the API are two metrics."""
        return self._by_name.get((integration_name, name))

    def integration(self, name: str) -> Integration | None:
        """The integration of that name, as the account's metrics know it."""
        return self._integrations.get(name)

    def add(self, metric: Metric) -> None:
        self._by_id[metric.id] = metric
        self._by_name[(metric.integration.name, metric.name)] = metric
        self._integrations.setdefault(metric.integration.name, metric.integration)


class EventStore:
    """Events kept in (timestamp, id) order overall and per metric and per profile, so a
    filtered page is a binary search plus a short walk."""

    def __init__(self) -> None:
        self._by_id: dict[str, Event] = {}
        self._ordered: list[Event] = []
        self._by_metric: dict[str, list[Event]] = {}
        self._by_profile: dict[str, list[Event]] = {}
        self._unique_keys: set[tuple[str, str, str]] = set()

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Event]:
        return iter(self._ordered)

    def get(self, event_id: str) -> Event | None:
        return self._by_id.get(event_id)

    def add(self, event: Event) -> bool:
        """Store the event unless its profile already has one for this metric with the
        same unique key; like Klaviyo, the later duplicate is dropped silently."""
        unique_key = (event.profile_id, event.metric_id, event.unique_id)
        if unique_key in self._unique_keys:
            return False
        self._unique_keys.add(unique_key)
        self._by_id[event.id] = event
        for ordered in (
            self._ordered,
            self._by_metric.setdefault(event.metric_id, []),
            self._by_profile.setdefault(event.profile_id, []),
        ):
            bisect.insort(ordered, event, key=attrgetter("order"))
        return True

    def remove_profile(self, profile_id: str) -> None:
        """Forget every event of a profile (a data-privacy deletion)."""
        gone = self._by_profile.pop(profile_id, [])
        if not gone:
            return
        for event in gone:
            del self._by_id[event.id]
            self._unique_keys.discard((event.profile_id, event.metric_id, event.unique_id))
        self._ordered[:] = [event for event in self._ordered if event.profile_id != profile_id]
        for metric_id in {event.metric_id for event in gone}:
            kept = [event for event in self._by_metric[metric_id] if event.profile_id != profile_id]
            self._by_metric[metric_id] = kept

    def ordered(
        self,
        *,
        metric_id: str | None = None,
        profile_id: str | None = None,
        first: float = -math.inf,
        last: float = math.inf,
    ) -> Sequence[Event]:
        """Events in (timestamp, id) order with timestamps in [first, last], narrowed by
        one index when a metric or profile is given; a view, not a copy."""
        if metric_id is not None:
            events = self._by_metric.get(metric_id, [])
        elif profile_id is not None:
            events = self._by_profile.get(profile_id, [])
        else:
            events = self._ordered
        timestamp = attrgetter("timestamp")
        start = bisect.bisect_left(events, first, key=timestamp)
        stop = bisect.bisect_right(events, last, key=timestamp)
        return Window(events, start, stop)


class Window(Sequence[Event]):
    """A read-only run of a sorted list, so narrowing by time costs two binary searches."""

    def __init__(self, items: list[Event], start: int, stop: int) -> None:
        self._items = items
        self._start = start
        self._stop = max(start, stop)

    def __len__(self) -> int:
        return self._stop - self._start

    def __getitem__(self, index: int) -> Event:  # type: ignore[override]  # no slices needed
        if not 0 <= index < len(self):
            raise IndexError(index)
        return self._items[self._start + index]


@dataclass(eq=False)
class SuppressionJob:
    """A bulk suppression job: queued when accepted, complete once it has run."""

    id: str
    created_at: float
    total_count: int
    status: str = "queued"
    skipped_count: int = 0  # emails whose profile already had this suppression
    completed_at: float | None = None


@dataclass(frozen=True)
class ImportFailure:
    """One profile a bulk import refused, as `GET …/import-errors` reports it."""

    id: str
    code: str
    title: str
    detail: str
    pointer: str  # into the job's request body
    original_payload: dict[str, Any]  # the profile resource as the request sent it


@dataclass
class ImportJob:
    """A bulk profile import: queued when accepted, complete once it has run."""

    id: str
    created_at: float
    total_count: int
    list_ids: list[str]
    status: str = "queued"
    profile_ids: list[str] = field(default_factory=list)  # the created or updated profiles, in request order
    failures: list[ImportFailure] = field(default_factory=list)  # one per profile the import refused
    completed_at: float | None = None


@dataclass(eq=False)
class Account:
    public_key: str
    private_keys: tuple[str, ...]
    profiles: ProfileStore = field(default_factory=ProfileStore)
    metrics: MetricStore = field(default_factory=MetricStore)
    events: EventStore = field(default_factory=EventStore)
    suppression_jobs: dict[str, SuppressionJob] = field(default_factory=dict)
    import_jobs: dict[str, ImportJob] = field(default_factory=dict)
    lists: GroupStore[MailingList] = field(default_factory=GroupStore)
    segments: GroupStore[Segment] = field(default_factory=GroupStore)
    templates: TemplateStore = field(default_factory=TemplateStore)
    campaigns: CampaignStore = field(default_factory=CampaignStore)
    jobs: JobQueue = field(default_factory=JobQueue)  # asynchronous work not yet run

    def forget(self, profile: Profile) -> None:
        """Delete a profile with its events and group memberships (a data-privacy deletion)."""
        self.profiles.remove(profile)
        self.events.remove_profile(profile.id)
        for group in (*self.lists, *self.segments):
            group.members.remove(profile.id)
        for mailing_list in self.lists:
            mailing_list.pending.pop(profile.id, None)
