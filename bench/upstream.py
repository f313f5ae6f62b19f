"""A minimal, fast stand-in for the new API: fixed JSON:API answers, optional latency.

Besides the metrics and the event writes, it serves the answers recorded from the demo
sandbox (bench/fixtures/upstream.json, see bench.record) at their operations' paths, and
a list of `--members` generated profiles at `/api/lists/{id}/profiles`, made page by page
when asked, so even a 100,000-member list costs the stand-in no memory. A profiles read
filtered on `any(id,[…])` (members/all's push-token read) answers one profile for each id
asked, as Klaviyo does, not the recorded page of 23: the proxy must parse what it would
parse in production. A list read honours `additional-fields[list]=profile_count` and
`fields[list]` as Klaviyo does (the recording asked for neither).

Every answer carries Klaviyo's `RateLimit-Limit`, `-Remaining` and `-Reset` headers, counted
per operation in fixed windows as Klaviyo (and the sandbox) count them, so the proxy's
governor reads and corrects with them as it must in production. The tiers counted are
Klaviyo's raised `UNLIMITED` times, as the bench configures the proxy's
(`bench.harness.raised_tiers`): the bookkeeping runs, the load is never throttled.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from aiohttp import web

from bench.harness import ROOT, UNLIMITED
from proxy.newapi.messages import UpstreamRequest
from proxy.openapi.spec import RateLimit
from proxy.sandbox.ratelimit import FixedWindowLimiter, Throttled
from proxy.upstream.tiers import TierTable, load_tiers, tiers_path

METRICS = orjson.dumps(
    {
        "data": [
            {
                "type": "metric",
                "id": f"M{i:05d}",
                "attributes": {
                    "name": f"Metric {i}",
                    "created": "2024-01-01T00:00:00+00:00",
                    "updated": "2024-01-01T00:00:00+00:00",
                    "integration": {"id": "7FtS4J", "name": "API", "category": "API"},
                },
                "links": {"self": f"https://a.klaviyo.com/api/metrics/M{i:05d}"},
            }
            for i in range(9)
        ],
        "links": {"self": "https://a.klaviyo.com/api/metrics"},
    }
)
JSON_API = "application/vnd.api+json"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upstream.json"
RECORDED = orjson.loads(FIXTURES.read_bytes())
MEMBERS = "GET /api/lists/{id}/profiles"
PROFILES = "GET /api/profiles"
LIST = "GET /api/lists/{id}"
BASE_URL = "https://a.klaviyo.com"
PAGE_SIZE = (20, 100)  # the new API's default and largest page[size] for list members
CURSOR = "bench-"  # + the offset of the page's first member

Handler = Callable[[web.Request], Awaitable[web.Response]]


class MemberPages:
    """A list of `size` members, each a copy of a recorded profile with its own id and email."""

    def __init__(self, recorded_page: dict[str, Any], size: int) -> None:
        profile = recorded_page["data"][0]
        text = orjson.dumps(profile).decode().replace(profile["attributes"]["email"], "\0")
        self._pieces = [piece.split("\0") for piece in text.split(profile["id"])]
        self.size = size

    def page(self, list_id: str, query: dict[str, str]) -> bytes:
        offset = _offset(query.get("page[cursor]"))
        count = _page_size(query.get("page[size]"))
        end = min(offset + count, self.size)
        links = {"self": self._link(list_id, count, offset), "next": self._link(list_id, count, end) if end < self.size else None}
        members = ",".join(self._member(n) for n in range(offset, end))
        return b'{"data":[%s],"links":%s}' % (members.encode(), orjson.dumps(links))

    def _member(self, n: int) -> str:
        profile_id, email = f"01BENCH{n:019d}", f"member{n}@example.com"
        return profile_id.join(email.join(parts) for parts in self._pieces)

    def _link(self, list_id: str, count: int, offset: int) -> str:
        query = {"page[size]": count, **({"page[cursor]": f"{CURSOR}{offset}"} if offset else {})}
        return f"{BASE_URL}/api/lists/{list_id}/profiles?{urlencode(query)}"


class ProfilesById:
    """`GET /api/profiles?filter=any(id,[…])&include=push-tokens`: each id asked as a copy of
    the recorded profile; one in `TOKEN_EVERY` has the recorded push token, as in the recording."""

    TOKEN_EVERY = 23
    _IDS = re.compile(r'"([^"]+)"')

    def __init__(self, recorded_page: dict[str, Any]) -> None:
        self._recorded = orjson.dumps(recorded_page)
        with_token = next(p for p in recorded_page["data"] if p["relationships"]["push-tokens"]["data"])
        without = next(p for p in recorded_page["data"] if not p["relationships"]["push-tokens"]["data"])
        token = recorded_page["included"][0]
        # "\0" stands for the profile's id, "\1" for its token's (JSON:API: included resources are unique)
        self._with_token = self._template(with_token, with_token["id"], token["id"])
        self._without = self._template(without, without["id"])
        self._token = self._template(token, with_token["id"], token["id"])

    @staticmethod
    def _template(resource: dict[str, Any], profile_id: str, token_id: str = "\1") -> str:
        return orjson.dumps(resource).decode().replace(profile_id, "\0").replace(token_id, "\1")

    def page(self, query: dict[str, str]) -> bytes:
        condition = query.get("filter", "")
        if not condition.startswith("any(id,"):
            return self._recorded
        data, included = [], []
        for n, profile_id in enumerate(self._IDS.findall(condition)):
            if n % self.TOKEN_EVERY == self.TOKEN_EVERY - 1:
                token_id = f"PT{profile_id}"
                data.append(self._with_token.replace("\0", profile_id).replace("\1", token_id))
                included.append(self._token.replace("\0", profile_id).replace("\1", token_id))
            else:
                data.append(self._without.replace("\0", profile_id))
        links = orjson.dumps({"self": f"{BASE_URL}/api/profiles", "next": None})
        return b'{"data":[%s],"included":[%s],"links":%s}' % (",".join(data).encode(), ",".join(included).encode(), links)


def list_answer(recorded: dict[str, Any], members: int, query: Mapping[str, str]) -> dict[str, Any]:
    """The recorded list, as Klaviyo answers the query: `profile_count` when
    `additional-fields[list]` asks for it (the generated list's size), only the attributes
    `fields[list]` names when it names some."""
    attributes = dict(recorded["data"]["attributes"])
    if "profile_count" in query.get("additional-fields[list]", "").split(","):
        attributes["profile_count"] = members
    if "fields[list]" in query:
        wanted = query["fields[list]"].split(",")
        attributes = {name: value for name, value in attributes.items() if name in wanted}
    return {**recorded, "data": {**recorded["data"], "attributes": attributes}}


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.startswith(CURSOR) or not cursor.removeprefix(CURSOR).isdigit():
        raise _invalid("page[cursor]", "The page cursor is not valid.")
    return int(cursor.removeprefix(CURSOR))


def _page_size(value: str | None) -> int:
    default, largest = PAGE_SIZE
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= largest:
        raise _invalid("page[size]", f"Page size must be between 1 and {largest}.")
    return int(value)


def _invalid(parameter: str, detail: str) -> web.HTTPBadRequest:
    error = {"status": 400, "code": "invalid", "title": "Invalid input.", "detail": detail, "source": {"parameter": parameter}}
    return web.HTTPBadRequest(text=orjson.dumps({"errors": [error]}).decode(), content_type=JSON_API)


def rate_limited(tiers: TierTable, clock: Callable[[], float] = time.time) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """A middleware counting every request against its operation's tier raised `UNLIMITED`
    times and answering Klaviyo's `RateLimit-*` headers (a 429 with `Retry-After` past
    the cap, as Klaviyo would, though the bench never comes near it)."""
    limiter = FixedWindowLimiter()

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        tier = tiers.tier_of(UpstreamRequest(request.method, request.raw_path.partition("?")[0], tuple(request.query.items())))
        if tier is None:  # not an operation of the revision: Klaviyo's router answers it
            return await handler(request)
        operation, limit = tier
        admitted = limiter.take(operation, _raised(limit), clock())
        if isinstance(admitted, Throttled):
            detail = f"Request was throttled. Expected available in {admitted.retry_after} seconds."
            error = {"status": 429, "code": "throttled", "title": "Request was throttled.", "detail": detail}
            headers = {"Retry-After": str(admitted.retry_after)}
            return web.Response(status=429, body=orjson.dumps({"errors": [error]}), content_type=JSON_API, headers=headers)
        try:
            response = await handler(request)
        except web.HTTPException as answer:  # an error answer is counted and reported too
            answer.headers.update(admitted.headers())
            raise
        response.headers.update(admitted.headers())
        return response

    return middleware


def _raised(limit: RateLimit) -> RateLimit:
    return RateLimit(limit.burst * UNLIMITED, limit.steady * UNLIMITED, limit.daily and limit.daily * UNLIMITED)


def build_app(latency_ms: float, members: int = 0) -> web.Application:
    async def pause() -> None:
        if latency_ms:
            await asyncio.sleep(latency_ms / 1000)

    def answering(body: bytes) -> Handler:
        async def fixed(_request: web.Request) -> web.Response:
            await pause()
            return web.Response(body=body, content_type=JSON_API)

        return fixed

    pages = MemberPages(RECORDED["answers"][MEMBERS], members)

    async def list_members(request: web.Request) -> web.Response:
        await pause()
        return web.Response(body=pages.page(request.match_info["id"], dict(request.query)), content_type=JSON_API)

    async def accepted(request: web.Request) -> web.Response:
        await request.read()
        await pause()
        return web.Response(status=202)

    profiles = ProfilesById(RECORDED["answers"][PROFILES])
    recorded_list = RECORDED["answers"][LIST]

    async def one_list(request: web.Request) -> web.Response:
        await pause()
        return web.Response(body=orjson.dumps(list_answer(recorded_list, members, request.query)), content_type=JSON_API)

    async def profiles_by_id(request: web.Request) -> web.Response:
        await pause()
        return web.Response(body=profiles.page(dict(request.query)), content_type=JSON_API)

    app = web.Application(middlewares=[rate_limited(load_tiers(tiers_path(ROOT / "mappings")))])
    app.router.add_get("/api/metrics", answering(METRICS))
    for operation, document in RECORDED["answers"].items():
        if operation not in (MEMBERS, PROFILES, LIST):
            method, path = operation.split(" ")
            app.router.add_route(method, path, answering(orjson.dumps(document)))
    app.router.add_get("/api/lists/{id}/profiles", list_members)
    app.router.add_get("/api/profiles", profiles_by_id)
    app.router.add_get("/api/lists/{id}", one_list)
    app.router.add_post("/client/events", accepted)
    app.router.add_post("/api/events", accepted)
    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--members", type=int, default=0, help="how many profiles the generated list holds")
    args = parser.parse_args()
    web.run_app(build_app(args.latency_ms, args.members), host="127.0.0.1", port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
