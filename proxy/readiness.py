"""What `/readyz` answers: whether upstream answered lately and whether the spool works.

Upstream counts as unreachable only while its last failure is recent: a replica taken out
of service gets no traffic that could show upstream is back. With the spool on, an
unreachable upstream does not make the proxy unready: it still accepts and keeps the
fire-and-forget writes, which is the point of the spool.
"""

from __future__ import annotations

from typing import Any

from proxy.spool.service import SpoolService
from proxy.upstream.observed import ObservedTransport


async def readiness(observed: ObservedTransport, spool: SpoolService | None) -> tuple[bool, dict[str, Any]]:
    upstream = observed.reachability()
    spool_health = await spool.health() if spool is not None else None
    ready = (spool_health is None or spool_health["ok"]) and (upstream != "unreachable" or spool_health is not None)
    report: dict[str, Any] = {"status": "ready" if ready else "not ready", "upstream": upstream}
    if spool_health is not None:
        report["spool"] = spool_health
    return ready, report
