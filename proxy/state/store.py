"""The state store as the application holds it: the key-value face handlers see
(`proxy.engine.state.KeyValue`), the shared rate budget and the usage inventory, over
one backend. Each backend makes `put_new` and `bump` atomic across every process that
shares it.
"""

from __future__ import annotations

from dataclasses import dataclass

from proxy.engine.state import KeyValue
from proxy.staging.usage import UsageStore
from proxy.upstream.budget import Budget


@dataclass(frozen=True)
class State:
    """The store's three faces, sharing one backend (and one connection)."""

    values: KeyValue
    budget: Budget
    usage: UsageStore
    where: str  # "redis", "sqlite <path>" or "process memory": logged at start-up

    async def aclose(self) -> None:
        await self.usage.aclose()
        await self.budget.aclose()
        await self.values.aclose()
