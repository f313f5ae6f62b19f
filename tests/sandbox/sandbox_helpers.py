"""Request documents and link reading for the sandbox tests (functions, not fixtures)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

# The second seeded account the sandbox tests use beside the demo one.
ACME_PRIVATE_KEY = "pk_acme" + "A1b2C3d4E5" * 3
ACME_PUBLIC_KEY = "AcmeCo"


def event_body(email: str = "ada@example.com", metric: str = "Placed Order", **attributes: Any) -> dict[str, Any]:
    """An EventCreateQueryV2 document; keyword arguments become event attributes."""
    return {
        "data": {
            "type": "event",
            "attributes": {
                "properties": attributes.pop("properties", {}),
                "metric": {"data": {"type": "metric", "attributes": {"name": metric}}},
                "profile": {"data": {"type": "profile", "attributes": attributes.pop("profile", {"email": email})}},
                **attributes,
            },
        }
    }


def profile_body(attributes: Mapping[str, Any], **resource: Any) -> dict[str, Any]:
    """A profile request document; keyword arguments (id, meta) sit beside the attributes."""
    return {"data": {"type": "profile", "attributes": dict(attributes), **resource}}


def next_params(document: dict[str, Any]) -> dict[str, str] | None:
    """The query of `links.next`, or None on the last page."""
    url = document["links"].get("next")
    return dict(parse_qsl(urlsplit(url).query)) if url else None


async def after_jobs(api: Any) -> None:
    """Let the jobs the sandbox has queued run, as they would for a client that waits on
    Klaviyo: time passes beyond the job delay, then the client makes its next request."""
    sandbox = api.transport.sandbox
    sandbox.clock.advance(sandbox.account(api.public_key).jobs.delay)
    answer = await api.get("/api/lists")
    assert answer.status == 200, answer.json
