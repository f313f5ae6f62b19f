"""`klaviyo-legacy-proxy spool status | retry-dead | purge-dead`: look into the spool a
proxy delivers from, and decide what happens to the writes upstream refused."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from proxy.spool.records import Spool, Status


async def run(command: str, open_spool: Callable[[], Awaitable[Spool]]) -> str:
    spool = await open_spool()
    try:
        if command == "retry-dead":
            return f"{await spool.retry_dead()} dead letters put back in line"
        if command == "purge-dead":
            return f"{await spool.purge_dead()} dead letters deleted"
        return render_status(await spool.status(time.time()))
    finally:
        await spool.close()


def render_status(status: Status) -> str:
    oldest = "-" if status.oldest_age is None else f"{status.oldest_age:.1f}s"
    lines = [f"pending: {status.pending} (oldest {oldest})", f"dead letters: {status.dead}"]
    lines += [f"  {count:>6}  {reason}" for reason, count in status.dead_reasons]
    return "\n".join(lines)
