"""Calling the v2 list routes as legacy clients do, and finding the demo groups (functions,
not fixtures)."""

from __future__ import annotations

from typing import Any

from proxy.sandbox.core import Sandbox
from proxy.sandbox.groups import MailingList, Segment
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.sandbox.store import Account, Consent, Profile

# Where v2 clients put the private key (legacy contract §1.2).
PLACEMENTS = ("json", "query", "header")
NOT_FOUND = {"detail": "The requested resource does not exist."}


async def v2(proxy, method: str, path: str, payload: dict[str, Any] | None = None, placement: str = "json", **options):
    """A v2 call with `api_key` in a JSON body (even on GET and DELETE), the query or the
    `api-key` header; the payload, if any, travels as a JSON body."""
    body = dict(payload or {})
    params = dict(options.pop("params", {}))
    headers = dict(options.pop("headers", {}))
    if placement == "json":
        body["api_key"] = PRIVATE_KEY
    elif placement == "query":
        params["api_key"] = PRIVATE_KEY
    else:
        headers["api-key"] = PRIVATE_KEY
    return await proxy.request(method, path, params=params, headers=headers, json=body or None, **options)


def account(sandbox: Sandbox) -> Account:
    (only,) = sandbox.accounts
    return only


def demo_list(sandbox: Sandbox, name: str) -> MailingList:
    return next(group for group in account(sandbox).lists if group.name == name)


def demo_segment(sandbox: Sandbox, name: str) -> Segment:
    return next(group for group in account(sandbox).segments if group.name == name)


def new_members(sandbox: Sandbox, mailing_list: MailingList, count: int) -> list[Profile]:
    """`count` new email-subscribed profiles joined to the list one second apart."""
    profiles = []
    for index in range(count):
        email = f"m{index:04}.{mailing_list.id}@example.com".lower()
        profile = Profile(f"01{mailing_list.id}M{index:06}", 0.0, 0.0, email=email)
        profile.subscriptions.email_marketing = Consent("SUBSCRIBED", 0.0, "API")
        account(sandbox).profiles.add(profile)
        mailing_list.members.add(profile.id, 1_000.0 + index)
        profiles.append(profile)
    return profiles


async def assert_empty_200(response) -> None:
    """What v2 writes answer: 200, no body, no Content-Type (a 204 breaks a legacy client)."""
    assert response.status == 200
    assert await response.read() == b""
    assert "Content-Type" not in response.headers
