"""Strangler mode: requests already written for the new API go upstream unchanged.

Only the configured upstream is contacted (the transport owns the base URL); hop-by-hop
headers, `Host`, `Cookie` and lengths the transport recomputes are dropped both ways.
"""

from __future__ import annotations

from typing import Mapping

from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.upstream.client import UpstreamClient

_LEGACY_PREFIXES = ("/api/v1/", "/api/v2/", "/api/track", "/api/identify")
_DROPPED = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "transfer-encoding", "upgrade", "host", "cookie", "set-cookie",
        "content-length", "content-encoding",
    }
)  # fmt: skip


def is_new_api(path: str, headers: Mapping[str, str]) -> bool:
    if path.startswith("/client/"):
        return True
    return path.startswith("/api/") and "revision" in headers and not path.startswith(_LEGACY_PREFIXES)


def forwardable(headers: Mapping[str, str]) -> dict[str, str]:
    connection = next((value for name, value in headers.items() if name.lower() == "connection"), "")
    connection_tokens = {token.strip().lower() for token in connection.split(",")}
    return {
        name: value
        for name, value in headers.items()
        if name.lower() not in _DROPPED and name.lower() not in connection_tokens
    }


async def forward(
    upstream: UpstreamClient,
    method: str,
    raw_path: str,
    query: tuple[tuple[str, str], ...],
    headers: Mapping[str, str],
    body: bytes,
    operation: str,
) -> UpstreamResponse:
    request = UpstreamRequest(method, raw_path, query, forwardable(headers), body or None)
    response = await upstream.forward(request, operation)
    return UpstreamResponse(response.status, forwardable(response.headers), response.body)
