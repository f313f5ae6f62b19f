"""Staging with an app's own keys: the official legacy client (klaviyo==3.1.7), unmodified
and holding made-up but well-formed keys, runs a session against the proxy as
`serve --sandbox` builds it."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from urllib.parse import urlencode

import aiohttp
import pytest
from klaviyo import Klaviyo
from klaviyo.api_helper import KlaviyoAPI
from klaviyo.exceptions import KlaviyoAuthenticationError

from proxy.cli import _with_sandbox
from proxy.config import Settings
from proxy.revision import PINNED_REVISION
from proxy.sandbox.seed import DEMO_PRIVATE_KEY

APP_PRIVATE_KEY = "pk_" + "StagingApp0123456789abcdefghijklmn"[:34]
APP_TOKEN = "StgApp"
OTHER_PRIVATE_KEY = "pk_" + "OtherApp" * 4 + "zz"


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def start(aiohttp_server, monkeypatch):
    """The proxy in front of its embedded sandbox, as `serve --sandbox` runs it; the legacy
    client's base URL (a class constant, also the constructor default) points at it."""

    async def started(**changes):
        settings = replace(Settings(sandbox=True), **changes)
        sandbox_port = free_port()
        server = await aiohttp_server(_with_sandbox(settings, sandbox_port))
        server.sandbox_url = f"http://127.0.0.1:{sandbox_port}"
        base = f"http://{server.host}:{server.port}/api"
        monkeypatch.setattr(KlaviyoAPI, "KLAVIYO_API_SERVER", base)
        monkeypatch.setattr(KlaviyoAPI.__init__, "__defaults__", (None, None, base))
        return server

    return started


async def call(function, *args, **kwargs):
    return await asyncio.to_thread(function, *args, **kwargs)


async def test_a_legacy_client_with_its_own_keys_runs_a_session(start):
    await start()
    client = Klaviyo(public_token=APP_TOKEN, private_token=APP_PRIVATE_KEY)
    assert (await call(client.Metrics.get_metrics)).data["data"] == []  # its own, empty account
    created = await call(client.Lists.create_list, "Staging newsletter")
    list_id = created.data["list_id"]
    lists = await call(client.Lists.get_lists)
    assert [(item["list_id"], item["list_name"]) for item in lists.data] == [(list_id, "Staging newsletter")]
    added = await call(client.Lists.add_members_to_list, list_id, [{"email": "stage@example.com"}])
    assert [member["email"] for member in added.data] == ["stage@example.com"]
    members = await call(client.Lists.get_members_from_list, list_id, ["stage@example.com"])
    assert [member["email"] for member in members.data] == ["stage@example.com"]
    tracked = await call(client.Public.track, "Staged", email="stage@example.com", properties={"$value": 5})
    assert tracked.data == 1
    # The demo key still reads the demo account, which the app's calls did not touch.
    demo = Klaviyo(private_token=DEMO_PRIVATE_KEY)
    assert "Staging newsletter" not in [item["list_name"] for item in (await call(demo.Lists.get_lists)).data]


async def test_a_listed_token_and_key_share_one_account(start):
    await start(sandbox_keys=((APP_TOKEN, APP_PRIVATE_KEY),))
    client = Klaviyo(public_token=APP_TOKEN, private_token=APP_PRIVATE_KEY)
    assert (await call(client.Public.track, "Staged Purchase", email="pair@example.com")).data == 1
    metrics = await call(client.Metrics.get_metrics)
    assert [metric["name"] for metric in metrics.data["data"]] == ["Staged Purchase"]
    # A list names the keys that get an account: any other key is refused as Klaviyo would.
    with pytest.raises(KlaviyoAuthenticationError):
        await call(Klaviyo(private_token=OTHER_PRIVATE_KEY).Metrics.get_metrics)


async def test_seeded_accounts_start_with_the_demo_data(start):
    await start(sandbox_seed=True)
    metrics = await call(Klaviyo(private_token=OTHER_PRIVATE_KEY).Metrics.get_metrics)
    assert len(metrics.data["data"]) == 8


async def test_malformed_keys_are_still_refused(start):
    await start()
    with pytest.raises(KlaviyoAuthenticationError):
        await call(Klaviyo(private_token="pk_short").Metrics.get_metrics)


async def test_the_sign_up_form_needs_no_public_key_in_sandbox_mode(start):
    """The form posts a list id and an email, no `?a=`, and no KLP_PUBLIC_KEY is set: the
    person reaches the account holding the list."""
    server = await start()
    list_id = (await call(Klaviyo(private_token=APP_PRIVATE_KEY).Lists.create_list, "Footer form")).data["list_id"]
    form = urlencode({"g": list_id, "email": "footer@example.com", "$source": "Footer"})
    async with aiohttp.ClientSession() as session:
        async with session.post(
            server.make_url("/ajax/subscriptions/subscribe"), data=form,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as reply:
            assert reply.status == 200
            assert await reply.json() == {"success": True, "data": {"is_subscribed": False, "email": "footer@example.com"}, "errors": []}
        # The subscription job runs after its 202, as Klaviyo's does: poll as a client would.
        for _ in range(50):
            if await profiles_named(session, server.sandbox_url, APP_PRIVATE_KEY, "footer@example.com"):
                break
            await asyncio.sleep(0.1)
        assert await profiles_named(session, server.sandbox_url, APP_PRIVATE_KEY, "footer@example.com") == 1
        assert await profiles_named(session, server.sandbox_url, DEMO_PRIVATE_KEY, "footer@example.com") == 0


async def profiles_named(session: aiohttp.ClientSession, sandbox_url: str, key: str, email: str) -> int:
    headers = {"Authorization": f"Klaviyo-API-Key {key}", "revision": PINNED_REVISION}
    params = {"filter": f'equals(email,"{email}")'}
    async with session.get(f"{sandbox_url}/api/profiles", params=params, headers=headers) as reply:
        assert reply.status == 200
        return len((await reply.json())["data"])
