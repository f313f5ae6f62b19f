"""The migration plan as served at /__proxy/migration.

Building the plan walks the spec for every entry (~0.2 s), so it is built once per
process, off the event loop, and kept; rendering also runs off the loop, so neither
stalls the requests the proxy is serving.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from proxy.mapping.table import Entry
from proxy.openapi.spec import Spec, default_spec_path
from proxy.staging.migration import RoutePlan, build_plan, select_used
from proxy.staging.migration_render import RENDERERS

CONTENT_TYPES = {"html": "text/html", "markdown": "text/markdown", "json": "application/json"}


class PlanCache:
    def __init__(self, entries: list[Entry], spec: Spec | None) -> None:
        self._entries = entries
        self._spec = spec
        self._plans: list[RoutePlan] | None = None
        self._lock = asyncio.Lock()

    async def render(self, output: str, usage: list[dict[str, Any]] | None) -> str:
        """`output`: html, markdown or json; `usage`: the inventory snapshot to select by, or None for every route."""
        plans = await self._all()
        if usage is not None:
            plans = select_used(plans, usage)
        return await asyncio.to_thread(RENDERERS[output], plans)

    async def _all(self) -> list[RoutePlan]:
        async with self._lock:
            if self._plans is None:
                self._plans = await asyncio.to_thread(self._build)
            return self._plans

    def _build(self) -> list[RoutePlan]:
        spec = self._spec or Spec.load(default_spec_path())
        return build_plan(self._entries, spec, Spec.load(default_spec_path(beta=True)))


MIGRATION_PLANS = web.AppKey("migration_plans", PlanCache)
