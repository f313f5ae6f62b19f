"""Record the stand-in upstream's answers from the demo sandbox: `python -m bench.record`.

The proxy runs in-process over the sandbox and answers the legacy requests the
benchmarks send; every upstream answer it gets is kept under its operation (the spec's
path template), so bench.upstream serves exactly documents the proxy's reshapers read.
Written once to bench/fixtures/upstream.json; run again only when the sandbox changes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from aiohttp.test_utils import TestClient, TestServer

from proxy.app import create_app
from proxy.config import Settings
from proxy.logs import configure_logging
from proxy.newapi.messages import UpstreamRequest, UpstreamResponse
from proxy.sandbox.core import Sandbox
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, demo_sandbox
from proxy.sandbox.transport import SandboxTransport
from proxy.upstream.tiers import load_tiers, tiers_path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "upstream.json"
CAMPAIGN = "Spring launch"  # included a list and excluded a segment: every call of the read
GROUP = "Newsletter"  # a list, so the member walk reads list pages


class Recorder:
    """A transport that keeps the first answer to each operation."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._inner = SandboxTransport(sandbox)
        self._operation_of = load_tiers(tiers_path(Settings().mappings_dir)).operation_of
        self.answers: dict[str, Any] = {}

    async def send(self, request: UpstreamRequest) -> UpstreamResponse:
        response = await self._inner.send(request)
        if response.status != 200:
            raise RuntimeError(f"{request.method} {request.path}: the sandbox answered {response.status}")
        self.answers.setdefault(self._operation_of(request), orjson.loads(response.body))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


async def record() -> dict[str, Any]:
    sandbox = demo_sandbox()
    (account,) = sandbox.accounts
    campaign_id = next(campaign.id for campaign in account.campaigns if campaign.name == CAMPAIGN)
    group_id = next(group.id for group in account.lists if group.name == GROUP)
    recorder = Recorder(sandbox)
    app = create_app(Settings(rate_governor=False), transport=recorder)
    async with TestClient(TestServer(app)) as client:
        for path in (f"/api/v1/campaign/{campaign_id}", f"/api/v2/group/{group_id}/members/all"):
            response = await client.get(path, params={"api_key": DEMO_PRIVATE_KEY})
            if response.status != 200:
                raise RuntimeError(f"{path}: the proxy answered {response.status}: {await response.text()}")
    return {"campaign_id": campaign_id, "group_id": group_id, "answers": recorder.answers}


def main() -> None:
    configure_logging("error", "console", True)
    FIXTURES.parent.mkdir(exist_ok=True)
    FIXTURES.write_bytes(orjson.dumps(asyncio.run(record()), option=orjson.OPT_INDENT_2) + b"\n")
    print(f"wrote {FIXTURES}")


if __name__ == "__main__":
    main()
