"""Done-when: the upstream goes away in the middle of a track burst, the proxy process
is restarted during the outage, the upstream comes back — and every accepted event
arrives exactly once. The proxy runs as real processes; the sandbox is served over HTTP
by the test and keeps its state while it is down."""

import asyncio
import os
import time
from pathlib import Path

import aiohttp
from processes import ROOT, ProxyProcess, Upstream, free_port, track, wait_until

from proxy.sandbox.seed import DEMO_PRIVATE_KEY
from proxy.spool.sqlite import SQLiteSpool

MARK = "restart-run"


def environment(upstream: Upstream, spool: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "KLP_UPSTREAM": f"http://127.0.0.1:{upstream.port}",
        "KLP_PRIVATE_KEY": DEMO_PRIVATE_KEY,
        "KLP_DELIVERY": "spool",
        "KLP_SPOOL_PATH": str(spool),
        "KLP_SPOOL_LINGER": "0.2",
        "KLP_SPOOL_MAX_BACKOFF": "0.5",
        "KLP_SPOOL_DRAIN_TIMEOUT": "2",
        "KLP_RETRY_BUDGET": "0.5",
        "KLP_LOG_LEVEL": "warning",
        "KLP_ADMIN": "false",
    }


async def pending(spool_path: Path) -> int:
    spool = await SQLiteSpool.open(spool_path, exclusive=False)
    status = await spool.status(time.time())
    await spool.close()
    assert status.dead == 0
    return status.pending


async def test_accepted_events_survive_an_outage_and_a_restart(tmp_path):
    upstream = Upstream(free_port())
    await upstream.start()
    spool_path, log = tmp_path / "spool.sqlite3", tmp_path / "proxy.log"
    env = environment(upstream, spool_path)
    async with aiohttp.ClientSession() as session:
        first = ProxyProcess(env, log)
        await first.ready(session)
        answers = await track(session, first, range(0, 300), MARK)
        await upstream.stop()  # mid-burst: some of those are still on their way
        answers += await track(session, first, range(300, 600), MARK)
        assert first.terminate() == 0  # restarted during the outage

        second = ProxyProcess(env, log)
        await second.ready(session)
        answers += await track(session, second, range(600, 900), MARK)
        await asyncio.sleep(0.5)
        waiting = await pending(spool_path)
        assert waiting >= 600 and len(upstream.numbers(MARK)) + waiting >= 900  # held on disk, not lost
        await upstream.start()

        await wait_until(lambda: len(upstream.numbers(MARK)) >= 900, seconds=20)
        assert second.terminate() == 0
    await upstream.stop()
    assert answers == ["1"] * 900, log.read_text()[-2000:]
    assert sorted(upstream.numbers(MARK)) == list(range(900)), log.read_text()[-2000:]  # each exactly once
    assert await pending(spool_path) == 0
