"""Fixtures for the sandbox tests: two accounts, a clock the test steps, and a client
that speaks to the sandbox through `SandboxTransport` and holds every answer of a known
operation against the spec's response schemas."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import pytest
from sandbox_helpers import ACME_PRIVATE_KEY, ACME_PUBLIC_KEY, next_params

from proxy.newapi.messages import UpstreamRequest
from proxy.openapi.spec import Spec, pinned_spec
from proxy.openapi.validate import validate_response
from proxy.revision import PINNED_REVISION
from proxy.sandbox import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY, Account, Sandbox, SandboxTransport, demo_sandbox
from proxy.sandbox.ids import IdFactory

OTHER_PRIVATE_KEY = "pk_other" + "Z9y8X7w6V5" * 2 + "u4T3s2R1Q"
OTHER_PUBLIC_KEY = "OthrCo"
# Midnight UTC, so the 1 s, 60 s and 24 h windows all start here.
START = 1_700_006_400.0


class SteppedClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return orjson.loads(self.body) if self.body else None

    @property
    def data(self) -> Any:
        return self.json["data"]

    @property
    def error(self) -> dict[str, Any]:
        (error,) = self.json["errors"]
        return error


class Client:
    """Requests as the proxy would send them: revision, credentials and media type set."""

    def __init__(self, sandbox: Sandbox, spec: Spec, private_key: str, public_key: str) -> None:
        self.transport = SandboxTransport(sandbox)
        self.spec = spec
        self.private_key = private_key
        self.public_key = public_key

    async def get(self, path: str, params: Mapping[str, str] | None = None, **options: Any) -> Answer:
        return await self.request("GET", path, params, **options)

    async def post(self, path: str, body: Any, params: Mapping[str, str] | None = None, **options: Any) -> Answer:
        return await self.request("POST", path, params, body=body, **options)

    async def patch(self, path: str, body: Any, **options: Any) -> Answer:
        return await self.request("PATCH", path, None, body=body, **options)

    async def walk(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every item of a listing, following `links.next` exactly as the sandbox wrote it."""
        items: list[dict[str, Any]] = []
        page: Mapping[str, str] | None = params
        while page is not None:
            answer = await self.get(path, page)
            assert answer.status == 200, answer.json
            items += answer.data
            page = next_params(answer.json)
        return items

    async def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        body: Any = None,
        headers: Mapping[str, str | None] | None = None,
        raw_body: bytes | None = None,
    ) -> Answer:
        query = list(params.items() if isinstance(params, Mapping) else params or [])
        if path.startswith("/client/") and not any(name == "company_id" for name, _ in query):
            query.append(("company_id", self.public_key))
        merged = {**self._default_headers(path, body is not None or raw_body is not None), **(headers or {})}
        request = UpstreamRequest(
            method=method,
            path=path,
            query=tuple(query),
            headers={name: value for name, value in merged.items() if value is not None},
            body=raw_body if raw_body is not None else (orjson.dumps(body) if body is not None else None),
        )
        response = await self.transport.send(request)
        self._check_against_spec(request, response.status, response.body)
        return Answer(response.status, response.headers, response.body)

    def _default_headers(self, path: str, has_body: bool) -> dict[str, str]:
        headers = {"revision": PINNED_REVISION}
        if path.startswith("/api/"):
            headers["Authorization"] = f"Klaviyo-API-Key {self.private_key}"
        if has_body:
            headers["Content-Type"] = "application/vnd.api+json"
        return headers

    def _check_against_spec(self, request: UpstreamRequest, status: int, body: bytes) -> None:
        if self.spec.operation(request.method, request.path) is None:
            return
        problems = validate_response(self.spec, request.method, request.path, status, body)
        assert problems == [], f"{request.method} {request.path} answered off-spec: {problems}"


@pytest.fixture(scope="session")
def loaded_spec() -> Spec:
    """The pinned spec the sandbox validates requests against."""
    return pinned_spec()


@pytest.fixture
def clock() -> SteppedClock:
    return SteppedClock()


@pytest.fixture
def sandbox(loaded_spec: Spec, clock: SteppedClock) -> Sandbox:
    accounts = [
        Account(public_key=ACME_PUBLIC_KEY, private_keys=(ACME_PRIVATE_KEY,)),
        Account(public_key=OTHER_PUBLIC_KEY, private_keys=(OTHER_PRIVATE_KEY,)),
    ]
    return Sandbox(accounts, spec=loaded_spec, clock=clock, ids=IdFactory(random.Random(7)))


@pytest.fixture
def acme(sandbox: Sandbox) -> Account:
    return sandbox.account(ACME_PUBLIC_KEY)


@pytest.fixture
def client_for(loaded_spec: Spec) -> Callable[..., Client]:
    """A client for a sandbox a test builds itself; the Acme account's keys unless given."""

    def make(sandbox: Sandbox, private_key: str = ACME_PRIVATE_KEY, public_key: str = ACME_PUBLIC_KEY) -> Client:
        return Client(sandbox, loaded_spec, private_key, public_key)

    return make


@pytest.fixture
def api(sandbox: Sandbox, client_for: Callable[..., Client]) -> Client:
    return client_for(sandbox)


@pytest.fixture
def seeded(loaded_spec: Spec, clock: SteppedClock) -> Sandbox:
    """A sandbox holding the demo account (`make demo`'s data)."""
    return demo_sandbox(spec=loaded_spec, clock=clock)


@pytest.fixture
def demo(seeded: Sandbox, client_for: Callable[..., Client]) -> Client:
    return client_for(seeded, DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY)


@pytest.fixture
def other_api(sandbox: Sandbox, loaded_spec: Spec) -> Client:
    return Client(sandbox, loaded_spec, OTHER_PRIVATE_KEY, OTHER_PUBLIC_KEY)
