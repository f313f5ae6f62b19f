"""Deterministic demo data: one account with metrics from three integrations, named and
located profiles, and a month of events (some sharing a second, to exercise paging).

Timestamps are relative to the sandbox clock at build time; everything else repeats
exactly, because all randomness comes from one seeded generator.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from proxy.sandbox.core import Sandbox
from proxy.sandbox.demo_content import add_content
from proxy.sandbox.demo_groups import add_groups
from proxy.sandbox.enrolment import Seeder
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.store import Account, Consent, Event, Integration, Metric, Profile, PushToken

DEMO_PRIVATE_KEY = "pk_demo60jjoqbvml5Shvdx0yAFy2qEboqPAO"  # "pk_" + 34 alphanumerics, as Klaviyo issues
DEMO_PUBLIC_KEY = "DemoPk"
SEED = 20260715
DAY = 86_400

INTEGRATIONS = {
    "Klaviyo": Integration(id="0rG4eQ", name="Klaviyo", category="Internal"),
    "API": Integration(id="7FtS4J", name="API", category="API"),
    "Shopify": Integration(id="SHPfy1", name="Shopify", category="Ecommerce"),
}
# (metric name, integration, relative frequency)
METRICS = (
    ("Placed Order", "Shopify", 3),
    ("Ordered Product", "Shopify", 4),
    ("Viewed Product", "API", 8),
    ("Active on Site", "API", 10),
    ("Received Email", "Klaviyo", 9),
    ("Opened Email", "Klaviyo", 6),
    ("Clicked Email", "Klaviyo", 3),
    ("Subscribed to List", "Klaviyo", 1),
)
PEOPLE = (
    ("Ada", "Lovelace"), ("Grace", "Hopper"), ("Alan", "Turing"), ("Katherine", "Johnson"),
    ("Linus", "Pauling"), ("Rosalind", "Franklin"), ("Niels", "Bohr"), ("Hedy", "Lamarr"),
    ("Edsger", "Dijkstra"), ("Barbara", "Liskov"), ("Claude", "Shannon"), ("Margaret", "Hamilton"),
    ("Donald", "Knuth"), ("Frances", "Allen"), ("John", "McCarthy"), ("Radia", "Perlman"),
    ("Tim", "Berners-Lee"), ("Shafi", "Goldwasser"), ("Ken", "Thompson"), ("Annie", "Easley"),
    ("Dennis", "Ritchie"), ("Sophie", "Wilson"), ("Guido", "van Rossum"), ("Joan", "Clarke"),
    ("Carl", "Gauss"),
)  # fmt: skip
PLACES = (
    {"city": "Boston", "region": "MA", "country": "United States", "zip": "02110", "timezone": "America/New_York"},
    {"city": "Austin", "region": "TX", "country": "United States", "zip": "78701", "timezone": "America/Chicago"},
    {"city": "London", "region": "England", "country": "United Kingdom", "zip": "EC1A 1BB", "timezone": "Europe/London"},
    {"city": "Berlin", "region": "Berlin", "country": "Germany", "zip": "10115", "timezone": "Europe/Berlin"},
    {"city": "Toronto", "region": "ON", "country": "Canada", "zip": "M5H 2N2", "timezone": "America/Toronto"},
)
PRODUCTS = (("Linen Shirt", 48.0), ("Canvas Tote", 22.5), ("Wool Beanie", 18.0), ("Trail Runner", 119.0), ("Desk Lamp", 64.0))
SUBJECTS = ("Spring arrivals are here", "Your cart misses you", "20% off this weekend", "New in: the linen edit")
SHARED_SECOND_EVERY = 8  # one event in eight reuses the previous event's second
# Every fourth person never subscribed; those are suppressed, cycling through the
# reasons, two of them in the same second.
SUPPRESSION_REASONS = ("UNSUBSCRIBE", "HARD_BOUNCE", "INVALID_EMAIL", "SPAM_COMPLAINT", "USER_SUPPRESSED")
FLOWS = ("R8fLwz", "Vq3kTm")  # flows some orders are attributed to
EVENT_COUNT = 300


def demo_sandbox(**kwargs: Any) -> Sandbox:
    """A sandbox holding the demo account; keyword arguments go to `Sandbox`."""
    now = kwargs.get("clock", time.time)()
    return Sandbox([demo_account(now)], **kwargs)


def demo_account(now: float) -> Account:
    account = Account(public_key=DEMO_PUBLIC_KEY, private_keys=(DEMO_PRIVATE_KEY,))
    add_demo_data(account, now)
    return account


def demo_seeder(clock: Callable[[], float] = time.time) -> Seeder:
    """Fills each account a staging key enrols (`--seed`) with the demo data; the data of
    each account comes from its own generator, so no two accounts share an id."""
    return lambda account: add_demo_data(account, clock(), f"{SEED}:{account.public_key}")


def add_demo_data(account: Account, now: float, seed: int | str = SEED) -> None:
    rng = random.Random(seed)
    ids = IdFactory(rng)
    metrics = _add_metrics(account, ids, now)
    profiles = [_add_profile(account, rng, ids, index, now) for index in range(len(PEOPLE))]
    _add_events(account, rng, ids, metrics, profiles, now)
    add_groups(account, rng, ids, profiles, now)
    add_content(account, ids, now)
    # One phone with the app: a push token, under a fixed id so the seeded ids stay as they were.
    grace = profiles[1]
    grace.push_tokens.append(PushToken("01DEMOPUSHT0KEN0000000000G", "d3m0-ios-token-grace", "ios", "APNs", grace.created))


def _add_metrics(account: Account, ids: IdFactory, now: float) -> list[tuple[Metric, int]]:
    weighted = []
    for index, (name, integration, weight) in enumerate(METRICS):
        created = now - 400 * DAY + index * 3600
        metric = Metric(id=ids.short(), name=name, integration=INTEGRATIONS[integration], created=created, updated=created)
        account.metrics.add(metric)
        weighted.append((metric, weight))
    return weighted


def _add_profile(account: Account, rng: random.Random, ids: IdFactory, index: int, now: float) -> Profile:
    first, last = PEOPLE[index]
    created = now - rng.randint(31, 400) * DAY - rng.randint(0, DAY)
    profile = Profile(
        id=ids.ulid(created),
        created=created,
        updated=created + rng.randint(0, 30) * DAY,
        email=f"{first}.{last.replace(' ', '')}@example.com".lower(),
        phone_number=f"+1555{rng.randint(1000000, 9999999)}" if index % 3 == 0 else None,
        external_id=f"cust-{1000 + index}" if index % 2 == 0 else None,
        first_name=first,
        last_name=last,
        organization=rng.choice(("Analytical Engines", "Compiler Co", None)),
        locale=rng.choice(("en-US", "en-GB", "de-DE")),
        properties={
            "plan": rng.choice(("free", "plus", "pro")),
            "loyalty_points": rng.randint(0, 5000),
            "favorite_category": rng.choice(("apparel", "home", "outdoor")),
        },
    )
    profile.location.update(rng.choice(PLACES))
    if index == 0:
        profile.kx = f"{profile.id.lower()}.{account.public_key}"  # what a `_kx` link parameter carries
    if index % 4 != 3:
        profile.subscriptions.email_marketing = Consent("SUBSCRIBED", created, "FORM")
    else:
        _suppress(profile, index, now)
    account.profiles.add(profile)
    return profile


def _suppress(profile: Profile, index: int, now: float) -> None:
    reason = SUPPRESSION_REASONS[index // 4 % len(SUPPRESSION_REASONS)]
    timestamp = float(int(now) - (20 - index // 8) * DAY)
    profile.subscriptions.suppress_email(reason, timestamp)
    if reason == "UNSUBSCRIBE":
        profile.subscriptions.email_marketing = Consent("UNSUBSCRIBED", timestamp, "PREFERENCE_PAGE")


def _add_events(
    account: Account,
    rng: random.Random,
    ids: IdFactory,
    metrics: list[tuple[Metric, int]],
    profiles: list[Profile],
    now: float,
) -> None:
    choices, weights = zip(*metrics)
    timestamp = int(now)
    for index in range(EVENT_COUNT):
        if index % SHARED_SECOND_EVERY != 1:
            timestamp = int(now) - rng.randint(60, 30 * DAY)
        metric = rng.choices(choices, weights)[0]
        profile = rng.choice(profiles)
        event_id = ids.ulid(timestamp)
        account.events.add(
            Event(
                id=event_id,
                metric_id=metric.id,
                profile_id=profile.id,
                timestamp=timestamp,
                uuid=ids.uuid(),
                event_properties=_properties(metric.name, rng, index),
                unique_id=event_id,  # every seeded event is kept, even two in one second
            )
        )
        profile.last_event_date = max(profile.last_event_date or timestamp, timestamp)


def _properties(metric_name: str, rng: random.Random, index: int) -> dict[str, Any]:
    product, price = rng.choice(PRODUCTS)
    if metric_name == "Placed Order":
        quantity = rng.randint(1, 3)
        order_id = f"#{5000 + index}"
        order = {"$event_id": order_id, "$value": price * quantity, "OrderId": order_id, "ItemNames": [product] * quantity}
        return order | ({"$attributed_flow": FLOWS[index % 2]} if index % 3 == 0 else {})
    if metric_name == "Ordered Product":
        return {"$value": price, "ProductName": product, "OrderId": f"#{5000 + index}"}
    if metric_name == "Viewed Product":
        return {"ProductName": product, "Price": price, "URL": f"https://shop.example.com/p/{product.lower().replace(' ', '-')}"}
    if metric_name == "Active on Site":
        return {"page": rng.choice(("/", "/collections/new", "/cart"))}
    if metric_name == "Subscribed to List":
        return {"List": "Newsletter"}
    email = {"Subject": rng.choice(SUBJECTS), "Campaign Name": "Spring launch"}
    if metric_name == "Clicked Email":
        email["URL"] = "https://shop.example.com/collections/new"
    return email
