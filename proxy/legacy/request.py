"""One legacy request, its parameters gathered from wherever the client put them.

Clients disagree about where things go: `api_key` in the query, a form body or a JSON
body (even on GET and DELETE), an `api-key` header; `Content-Type` often lies. So the
body is parsed by what it actually contains.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy
from yarl import query_to_pairs

from proxy.legacy import exact_json
from proxy.legacy.errors import LegacyError


@dataclass(frozen=True, slots=True)
class LegacyRequest:
    method: str
    raw_path: str
    params: MultiDictProxy[Any]  # query first, then body fields
    headers: CIMultiDictProxy[str]
    json_body: Any = None  # the parsed JSON body, when the body was JSON

    @property
    def api_key(self) -> str | None:
        key = self.params.get("api_key") or self.headers.get("api-key")
        return key.strip() if isinstance(key, str) and key.strip() else None


def parse_request(
    method: str,
    raw_path: str,
    query: MultiDictProxy[str] | Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> LegacyRequest:
    fields, json_body = _body_fields(body)
    params: MultiDictProxy[Any]
    if not fields and isinstance(query, MultiDictProxy):
        params = query  # aiohttp's parsed query is already a read-only view: no copy needed
    else:
        merged: MultiDict[Any] = MultiDict(query)
        merged.extend(fields)
        params = MultiDictProxy(merged)
    return LegacyRequest(
        method=method.upper(),
        raw_path=raw_path,
        params=params,
        # aiohttp's headers are already a read-only case-insensitive view: no copy needed
        headers=headers if isinstance(headers, CIMultiDictProxy) else CIMultiDictProxy(CIMultiDict(headers)),
        json_body=json_body,
    )


def _body_fields(body: bytes) -> tuple[list[tuple[str, Any]], Any]:
    text = body.strip()
    if not text:
        return [], None
    if text[:1] in (b"{", b"["):
        try:
            document = exact_json.loads(text)
        except exact_json.InvalidJson:
            raise LegacyError(400, "The request body is not valid JSON.") from None
        fields = list(document.items()) if isinstance(document, dict) else []
        return fields, document
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError:
        raise LegacyError(400, "The request body is not valid UTF-8.") from None
    # `parse_qsl(decoded, keep_blank_values=True)`'s pairs, percent-decoded in C: a form
    # holding a JSON payload is mostly escapes (~12x faster than urllib's Python loop).
    return query_to_pairs(decoded), None
