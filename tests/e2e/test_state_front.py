"""Warm reads served from each process's own copy of the state store (issue 15): a page
walk's snapshot and first page are kept in process memory while the shared store keeps
them, under names that hold their family's generation, and the generation is still read
from the shared store every time. Another worker's write must start a new snapshot for
everyone, and a copy must never outlive the shared store's time-to-live."""

from __future__ import annotations

from dataclasses import replace

from proxy.app import create_app
from proxy.config import Settings
from proxy.engine.generations import generation, touched
from proxy.engine.state import BY_GENERATION, IMMUTABLE, WALKS
from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.state.front import Fronted
from proxy.state.sqlite import SQLiteFile, SQLiteValues

KEY = {"api_key": DEMO_PRIVATE_KEY}


def template_pages(contract) -> int:
    return sum(1 for request in contract.requests if request.method == "GET" and request.path == "/api/templates")


async def names(proxy) -> list[str]:
    response = await proxy.get("/api/v1/email-templates", params=KEY)
    assert response.status == 200, await response.text()
    return [template["name"] for template in (await response.json())["data"]]


async def test_another_workers_write_starts_a_new_snapshot_for_every_worker(aiohttp_client, contract, tmp_path, monkeypatch):
    settings = replace(Settings(), state_path=tmp_path / "state.sqlite3")
    first = await aiohttp_client(create_app(settings, transport=contract))
    other = await aiohttp_client(create_app(settings, transport=contract))
    before = await names(first)
    walked = template_pages(contract)

    trips: list[str] = []
    scan = SQLiteFile.scan
    monkeypatch.setattr(SQLiteFile, "scan", lambda file, work: trips.append(getattr(work, "__qualname__", "")) or scan(file, work))
    assert await names(first) == before and await names(other) == before
    assert template_pages(contract) == walked, "warm: both workers read the snapshot the first one walked"
    assert not [trip for trip in trips if "get_many" in trip], "a warm read goes to the file's thread"

    created = await other.post("/api/v1/email-templates", params=KEY, data={"name": "AAA first", "html": "<p/>"})
    assert created.status == 200, await created.text()
    after = await names(first)
    assert after[0] == "AAA first" and len(after) == len(before) + 1, "the first worker kept serving its old copy"


async def test_a_kept_copy_never_outlives_the_shared_stores_time_to_live(tmp_path):
    """Two processes on one file: one walks and keeps the snapshot, the other reads it and
    keeps its copy; when the file's row expires the copy is gone too, however warm."""
    now = [1_000_000.0]
    clock = lambda: now[0]  # noqa: E731
    path = tmp_path / "state.sqlite3"
    walker = Fronted(SQLiteValues(SQLiteFile(path), clock=clock), IMMUTABLE, BY_GENERATION, clock=clock)
    reader = Fronted(SQLiteValues(SQLiteFile(path), clock=clock), IMMUTABLE, BY_GENERATION, clock=clock)
    name = f"{WALKS}acct:templates:0:listing"
    await walker.put(name, b"snapshot", 300)
    now[0] += 200
    assert await reader.get(name) == b"snapshot"  # 100 s left in the file: the copy is trusted that long
    now[0] += 99
    assert await reader.get(name) == b"snapshot"
    now[0] += 2
    assert await reader.get(name) is None and await walker.get(name) is None
    await walker.aclose()
    await reader.aclose()


async def test_a_generation_is_read_from_the_file_every_time(tmp_path):
    path = tmp_path / "state.sqlite3"
    one, two = (Fronted(SQLiteValues(SQLiteFile(path)), IMMUTABLE, BY_GENERATION) for _ in range(2))
    assert await generation(one, "acct", "templates") == 0
    await touched(two, "acct", "/api/templates")
    assert await generation(one, "acct", "templates") == 1
    await one.aclose()
    await two.aclose()
