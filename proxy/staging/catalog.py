"""What each mapping entry turns into, in words a migrating team can act on.

Operation ids come from the official spec when it is available; without it the
reference links fall back to Klaviyo's comparison chart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from proxy.mapping.table import Entry
from proxy.openapi.spec import Spec
from proxy.revision import PINNED_REVISION
from proxy.staging.deprecation import deprecation_headers, reference_url

_PAGING = {
    "page_list": "page with `page[cursor]` taken from `links.next` instead of `page`/`count` (there is no total)",
    "timeline": "filter on `datetime`/`timestamp` and follow `links.next` instead of `since`/`next`",
}


@dataclass(frozen=True, slots=True)
class Target:
    call: str  # "GET /api/metrics"
    operation_id: str | None

    @property
    def reference(self) -> str:
        return reference_url(self.operation_id)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    legacy: str
    targets: tuple[Target, ...]
    advice: str
    deprecation: Mapping[str, str]  # the headers every translated answer of this route carries


def build_catalog(entries: list[Entry], spec: Spec) -> dict[str, CatalogEntry]:
    """Keyed by the legacy route template, as usage is recorded."""
    catalog = {}
    for entry in entries:
        targets = _targets(entry, spec)
        headers = deprecation_headers([target.operation_id for target in targets if target.operation_id])
        catalog[entry.legacy] = CatalogEntry(entry.legacy, targets, advice(entry), headers)
    return catalog


def _targets(entry: Entry, spec: Spec) -> tuple[Target, ...]:
    targets = []
    for call in entry.calls:
        operation = spec.operation(call.method, call.path)
        targets.append(Target(str(call), operation.operation_id if operation else None))
    return tuple(targets)


def advice(entry: Entry) -> str:
    calls = " or ".join(f"`{call}`" for call in entry.calls)
    if entry.auth == "token":
        how = "post a JSON:API body (not base64 or a form) with `?company_id=<public key>`"
    else:
        how = f"send the key as `Authorization: Klaviyo-API-Key …` with a `revision: {PINNED_REVISION}` header"
    sentence = f"Call {calls} instead: {how}"
    if entry.paginate in _PAGING:
        sentence += f"; {_PAGING[entry.paginate]}"
    return sentence + ". Answers are JSON:API resources, not legacy objects."
