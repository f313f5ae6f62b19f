"""Several upstream calls for one legacy request: run independent ones concurrently, a
few at a time, and read whole listings one page at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable, Sequence
from typing import Any, TypeVar

from proxy.engine.context import Context
from proxy.engine.styles import walk
from proxy.upstream.client import Call

IN_FLIGHT = 8

T = TypeVar("T")


async def gather_bounded(coroutines: Iterable[Coroutine[Any, Any, T]], limit: int = IN_FLIGHT) -> list[T]:
    """Run the coroutines at most `limit` at a time, results in order. The first failure
    cancels the rest and is raised as itself, so the engine maps it like any upstream
    failure."""
    slots = asyncio.Semaphore(limit)

    async def bounded(coroutine: Coroutine[Any, Any, T]) -> T:
        async with slots:
            return await coroutine

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(bounded(coroutine)) for coroutine in coroutines]
    except BaseExceptionGroup as failures:
        raise failures.exceptions[0] from None
    return [task.result() for task in tasks]


async def collect(ctx: Context, call: Call) -> list[dict[str, Any]]:
    """Every resource of a listing, following its cursors."""
    return [resource async for resource, _ in walk(ctx, call)]


def in_batches(values: Sequence[T], size: int) -> list[Sequence[T]]:
    return [values[start : start + size] for start in range(0, len(values), size)]
