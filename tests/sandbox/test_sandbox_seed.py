"""The demo account: the right amounts, repeatable, and every answer about it on-spec."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, demo_account, demo_sandbox

DAY = 86_400


def test_demo_keys_look_like_klaviyo_keys():
    assert re.fullmatch(r"pk_demo[A-Za-z0-9]{30}", DEMO_PRIVATE_KEY)
    assert re.fullmatch(r"[A-Za-z0-9]{6}", DEMO_PUBLIC_KEY)


def test_demo_data_has_the_promised_shape(clock):
    account = demo_account(clock.now)
    assert (len(account.metrics), len(account.profiles), len(account.events)) == (8, 25, 300)
    assert all(clock.now - 30 * DAY <= event.timestamp < clock.now for event in account.events)
    shared_seconds = [second for second, count in Counter(e.timestamp for e in account.events).items() if count > 1]
    assert len(shared_seconds) >= 10
    assert {m.integration.name for m in account.metrics} == {"Klaviyo", "API", "Shopify"}


def test_demo_data_repeats_exactly(clock):
    first, second = demo_account(clock.now), demo_account(clock.now)
    assert [e.id for e in first.events] == [e.id for e in second.events]
    assert [vars(p) for p in first.profiles] == [vars(p) for p in second.profiles]


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/events", {"page[size]": "1000", "include": "metric,profile", "sort": "-datetime"}),
        ("/api/profiles", {"page[size]": "100", "additional-fields[profile]": "subscriptions"}),
        ("/api/metrics", {}),
    ],
)
async def test_every_demo_resource_reads_back_on_spec(loaded_spec, clock, client_for, path, params):
    client = client_for(demo_sandbox(spec=loaded_spec, clock=clock), DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY)
    items = await client.walk(path, params)  # the client checks each answer against the spec
    assert len(items) == {"/api/events": 300, "/api/profiles": 25, "/api/metrics": 8}[path]
