"""members/all over 100,000 members keeps memory flat: the proxy reads one upstream page
at a time (its push-token read beside the next one) and holds one batch of small records,
never the group."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from dataclasses import dataclass

import orjson
import pytest

from proxy.backends import memory_state
from proxy.config import Settings
from proxy.engine.dispatch import Engine
from proxy.handlers.registry import HANDLERS
from proxy.legacy.request import parse_request
from proxy.mapping.table import load_table
from proxy.legacy.errors import LegacyError
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.seed import DEMO_PRIVATE_KEY as PRIVATE_KEY
from proxy.upstream.client import UpstreamClient

MEMBERS = 100_000
LIST_ID = "BigLst"
BASE = "https://a.klaviyo.com"
# Holding the whole group instead (one batch of everything) peaks above 100 MiB.
BOUND = 4 * 1024 * 1024


def _member(index: int) -> dict:
    attributes = {"email": f"member{index}@example.com", "phone_number": None, "joined_group_at": "2024-01-01T00:00:00+00:00"}
    return {"type": "profile", "id": f"01MEMBER{index:018}", "attributes": attributes, "links": {"self": BASE}}


@dataclass
class HugeList:
    """An upstream whose one list has MEMBERS members, served 100 a page (the cursor is the
    offset; every page carries the same hundred people, to keep the test fast), counting
    requests in flight."""

    in_flight: int = 0
    most_in_flight: int = 0
    pages_in_flight: int = 0
    most_pages_in_flight: int = 0
    pages: int = 0
    token_reads: int = 0
    page_data: bytes = orjson.dumps([_member(index) for index in range(100)])

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        page = request.path.endswith("/profiles") and request.path != "/api/profiles"
        self.in_flight += 1
        self.pages_in_flight += page
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        self.most_pages_in_flight = max(self.most_pages_in_flight, self.pages_in_flight)
        try:
            await asyncio.sleep(0)  # answer later, as a network does: what the proxy sends meanwhile overlaps
            return UpstreamResponse(200, {"Content-Type": "application/vnd.api+json"}, self._body(request))
        finally:
            self.in_flight -= 1
            self.pages_in_flight -= page

    def _body(self, request: UpstreamRequest) -> bytes:
        if request.path == "/api/profiles":  # the push-token read beside each page: nobody has one
            self.token_reads += 1
            return b'{"data":[],"links":{"self":"' + BASE.encode() + b'"}}'
        if request.path == f"/api/lists/{LIST_ID}":
            return orjson.dumps({"data": {"type": "list", "id": LIST_ID, "attributes": {"name": "Big"}, "links": {"self": BASE}}})
        query = dict(request.query)
        start = int(query.get("page[cursor]", "0"))
        end = min(start + int(query["page[size]"]), MEMBERS)
        self.pages += 1
        links = {"self": BASE + request.path}
        if end < MEMBERS:
            links["next"] = f"{BASE}{request.path}?page%5Bcursor%5D={end}&page%5Bsize%5D=100"
        return b'{"data":' + self.page_data + b',"links":' + orjson.dumps(links) + b"}"

    async def aclose(self) -> None:
        pass


async def test_walking_100k_members_holds_one_page_and_one_batch():
    upstream = HugeList()
    engine = Engine(load_table(Settings().mappings_dir), Settings(), UpstreamClient(upstream), HANDLERS, state=memory_state().values)
    path = f"/api/v2/group/{LIST_ID}/members/all"
    match = engine.match("GET", path)
    seen, marker, batches = 0, None, 0
    started = time.perf_counter()
    tracemalloc.start()
    try:
        while True:
            query = [("api_key", PRIVATE_KEY)] + ([("marker", str(marker))] if marker else [])
            response = await engine.handle(match, parse_request("GET", path, query, {}, b""), time.time_ns())
            body = orjson.loads(response.body)
            seen += len(body["records"])
            batches += 1
            marker = body.get("marker")
            del body, response
            if marker is None:
                break
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (seen, batches, upstream.pages, upstream.token_reads) == (MEMBERS, MEMBERS // 1000, MEMBERS // 100, MEMBERS // 100)
    assert upstream.most_pages_in_flight == 1  # pages are read one after another
    assert upstream.most_in_flight == 2  # a page's push-token read beside the next page's read
    assert peak < BOUND, f"peak {peak / 2**20:.1f} MiB while walking {MEMBERS} members"
    assert time.perf_counter() - started < 30


class FailingTokenRead(HugeList):
    """The third push-token read fails while the fourth page is being read beside it."""

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        if request.path == "/api/profiles" and self.token_reads == 2:
            await asyncio.sleep(0)
            return UpstreamResponse(503, {"Content-Type": "application/vnd.api+json"}, b'{"errors":[]}')
        return await super().send(request)


async def test_a_failed_push_token_read_fails_the_batch_and_leaves_nothing_running():
    upstream = FailingTokenRead()
    engine = Engine(load_table(Settings().mappings_dir), Settings(), UpstreamClient(upstream), HANDLERS, state=memory_state().values)
    path = f"/api/v2/group/{LIST_ID}/members/all"
    before = asyncio.all_tasks()
    with pytest.raises(LegacyError) as failed:
        await engine.handle(engine.match("GET", path), parse_request("GET", path, [("api_key", PRIVATE_KEY)], {}, b""), time.time_ns())
    assert failed.value.status == 503
    assert asyncio.all_tasks() == before  # no read of the failed batch is left running
    assert upstream.pages == 4  # the failure was seen at the next page, not after the batch
