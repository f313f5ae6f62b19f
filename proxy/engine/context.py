"""Everything a runner needs to serve one legacy request."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, Mapping

from proxy.config import Settings
from proxy.engine.declared import EntryClient
from proxy.engine.delivery import Delivery
from proxy.engine.generations import touched
from proxy.engine.state import KeyValue
from proxy.legacy.request import LegacyRequest
from proxy.mapping.table import Entry
from proxy.newapi.messages import Query
from proxy.path_templates import fill as fill_template
from proxy.shapes.filter_expr import escaped
from proxy.upstream.client import Call, Credentials, Reply


@dataclass(frozen=True, slots=True)
class Context:
    entry: Entry
    request: LegacyRequest
    path_params: Mapping[str, str]
    params: Mapping[str, Any]
    credentials: Credentials
    client: EntryClient  # the upstream, limited to the calls the entry declares
    delivery: Delivery  # how track and identify writes leave: sent now, spooled, or a dry run
    state: KeyValue  # markers, group kinds, page walks, lookups: shared by workers and replicas
    received_at_ns: int
    settings: Settings
    account: str  # the credentials' account fingerprint, which cached state is kept per

    def call(
        self,
        method: str,
        path: str,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Query = (),
        body: Any = None,
        view: Any = None,
    ) -> Call:
        return Call(method, path, path_params or {}, query, body, self.entry.revision, view=view)

    async def send(self, call: Call, credentials: Credentials | None = None) -> Reply:
        try:
            return await self.client.send(call, credentials)
        finally:
            if call.method != "GET":  # even a failed write may have changed something
                await touched(self.state, self.account, call.path)

    def deliver(self, call: Call, credentials: Credentials) -> Awaitable[object]:
        """A fire-and-forget write, handed to the request's delivery (to await: a plain
        call, no coroutine of its own on every write's way)."""
        return self.delivery.deliver(self.client, call, credentials, self.received_at_ns)

    def entry_path_params(self) -> dict[str, str]:
        """The entry's first call's path variables, filled from the legacy path."""
        return {name: fill_template(template, self.path_params) for name, template in self.entry.path_params.items()}

    def entry_query(self, *extra_conditions: str) -> Query:
        """The entry's fixed query, its `filter` conditions and any extra ones joined into one."""
        pairs = [(name, fill(value, self.path_params)) for name, value in self.entry.query.items()]
        conditions = [fill(condition, self.path_params) for condition in self.entry.filter]
        conditions.extend(extra_conditions)
        if conditions:
            pairs.append(("filter", join_conditions(conditions)))
        return tuple(pairs)


def fill(template: str, values: Mapping[str, str]) -> str:
    """Substitute `{name}`; values are escaped so they cannot end a quoted filter string."""
    return fill_template(template, values, escaped)


def join_conditions(conditions: list[str]) -> str:
    return conditions[0] if len(conditions) == 1 else f"and({','.join(conditions)})"
