"""A flood of distinct keys cannot grow the proxy's memory (issue 16, item 4, the state
part): the usage inventory folds keys past its cap into one row, and the rate budget
forgets idle keys and caps the rest."""

from __future__ import annotations

import tracemalloc

from proxy.openapi.spec import RateLimit
from proxy.staging.usage import MAX_ROWS, OTHER_KEYS, MemoryUsage, UsageInventory
from proxy.state.sqlite import SQLiteFile
from proxy.state.sqlite_usage import SQLiteUsage
from proxy.upstream.budget import LocalBudget

KEYS = 20_000
LIMIT = RateLimit(burst=10, steady=150, daily=None)
BOUND = 15 * 1024 * 1024


async def flood(inventory: UsageInventory, budget: LocalBudget, now: float) -> None:
    for n in range(KEYS):
        key = f"pk_{n:034d}"
        inventory.record("GET /api/v1/metrics", key, 200, ["GET /api/metrics"], 12.5)
        await budget.reserve(f"pk:{n:016x}|GET /api/metrics", LIMIT, now + n * 0.01)
        if n % 500 == 0:
            await inventory.flush()
    await inventory.flush()


async def test_twenty_thousand_keys_stay_within_fifteen_megabytes():
    inventory, budget = UsageInventory(MemoryUsage()), LocalBudget()
    await flood(inventory, budget, 1_750_000_000.0)  # warm: code paths, caches, interned strings
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    inventory, budget = UsageInventory(MemoryUsage()), LocalBudget()
    await flood(inventory, budget, 1_750_001_000.0)
    after, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert after - before < BOUND
    rows = await inventory.snapshot()
    assert len(rows) <= MAX_ROWS + 1
    other = next(row for row in rows if row["key"] == OTHER_KEYS)
    assert sum(row["calls"] for row in rows) == KEYS  # nothing lost: the tail is aggregated
    assert other["calls"] == KEYS - MAX_ROWS
    assert len(budget) <= LocalBudget.MAX_KEYS


async def test_the_shared_inventory_is_bounded_too(tmp_path):
    file = SQLiteFile(tmp_path / "state.sqlite3")
    inventory = UsageInventory(SQLiteUsage(file))
    for n in range(MAX_ROWS + 500):
        inventory.record("GET /api/v1/lists", f"pk_{n:034d}", 200, [], 3.0)
        if n % 400 == 0:
            await inventory.flush()
    rows = await inventory.snapshot()
    assert len(rows) == MAX_ROWS + 1 and sum(row["calls"] for row in rows) == MAX_ROWS + 500
    await file.close()


async def test_idle_budget_keys_are_forgotten():
    budget = LocalBudget()
    for n in range(LocalBudget.SWEEP_EVERY - 1):
        await budget.reserve(f"pk:{n}|GET /api/metrics", LIMIT, 1_000.0)
    await budget.reserve("pk:late|GET /api/metrics", LIMIT, 1_100.0)  # the others' windows are over
    assert len(budget) == 1
