"""Group commit: many writers wait on one commit, so durable acceptance costs one fsync
per group of requests instead of one per request.

While a commit runs, new items gather; the next commit takes all of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from proxy import metrics

T = TypeVar("T")


class GroupCommit(Generic[T]):
    def __init__(self, commit: Callable[[list[T]], Awaitable[None]]) -> None:
        self._commit = commit
        self._waiting: list[tuple[T, asyncio.Future[None]]] = []
        self._running: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> None:
        """Return once a commit holding the item succeeded; raise what it raised."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._running is None:
            self._running = asyncio.create_task(self._drain())
        await asyncio.shield(future)  # a cancelled caller must not cancel the others' commit

    async def _drain(self) -> None:
        try:
            while self._waiting:
                group, self._waiting = self._waiting, []
                try:
                    await self._commit([item for item, _ in group])
                except Exception as error:  # every writer of the group hears it
                    _settle(group, error)
                else:
                    _settle(group, None)
                    metrics.SPOOL_COMMIT_SIZE.observe(len(group))
        finally:
            self._running = None

    async def flush(self) -> None:
        """Wait for every submitted item's commit."""
        while self._running is not None:
            await asyncio.shield(self._running)


def _settle(group: list[tuple[object, asyncio.Future[None]]], error: Exception | None) -> None:
    for _, future in group:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)
