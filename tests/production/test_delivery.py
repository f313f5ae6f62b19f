"""Delivery: which calls carry spooled writes (bulk when it pays, single otherwise) and
how upstream's answer settles them."""

import asyncio

import orjson
import pytest
from doubles import Scripted, answers

from proxy.config import Settings
from proxy.newapi.errors import UpstreamUnreachable
from proxy.newapi.messages import UpstreamResponse
from proxy.openapi.validate import validate_request
from proxy.revision import PINNED_REVISION
from proxy.sandbox.seed import DEMO_PRIVATE_KEY, DEMO_PUBLIC_KEY
from proxy.spool import batching
from proxy.spool.records import EVENT, PROFILE, Accepted, Stored
from proxy.spool.service import credentials_for
from proxy.spool.sqlite import SQLiteSpool
from proxy.spool.worker import DeliveryWorker, WorkerSettings
from proxy.upstream.client import UpstreamClient, build_request
from proxy.upstream.tiers import load_tiers, tiers_path

TIERS = load_tiers(tiers_path(Settings().mappings_dir))
THRESHOLDS = batching.bulk_thresholds(TIERS)
NOW = 1_750_000_000.0


def event(n: int, email: str | None = None) -> Accepted:
    body = {"data": {"type": "event", "attributes": {
        "properties": {"n": n},
        "metric": {"data": {"type": "metric", "attributes": {"name": "Spooled"}}},
        "profile": {"data": {"type": "profile", "attributes": {"email": email or f"p{n % 7}@example.com"}}},
        "unique_id": f"u-{n}",
        "time": "2025-06-15T15:06:40+00:00",
    }}}
    return Accepted(EVENT, DEMO_PUBLIC_KEY, orjson.dumps(body), NOW)


def profile(n: int, email: str | None = None) -> Accepted:
    body = {"data": {"type": "profile", "attributes": {"email": email or f"p{n}@example.com", "properties": {"n": n}}}}
    return Accepted(PROFILE, DEMO_PUBLIC_KEY, orjson.dumps(body), NOW)


def stored(items: list[Accepted]) -> list[Stored]:
    return [Stored(str(n), item, 0) for n, item in enumerate(items)]


def test_thresholds_come_from_the_tiers():
    # 3,500 single event calls a minute against 150 bulk calls; 750 upserts against 150 imports.
    assert THRESHOLDS == {EVENT: 24, PROFILE: 5}


def test_public_tokens_get_one_client_call_each():
    deliveries = batching.plan(stored([event(n) for n in range(30)]), EVENT, private=False, threshold=24)
    assert {(d.call.path, len(d.stored), d.bulk) for d in deliveries} == {("/client/events", 1, False)}
    assert len(deliveries) == 30


def test_short_private_runs_stay_single_and_long_ones_go_bulk_in_chunks_of_1000():
    short = batching.plan(stored([event(n) for n in range(23)]), EVENT, private=True, threshold=24)
    assert {d.call.path for d in short} == {"/api/events"} and len(short) == 23
    long = batching.plan(stored([event(n) for n in range(2500)]), EVENT, private=True, threshold=24)
    assert [(d.call.path, len(d.stored)) for d in long] == [("/api/event-bulk-create-jobs", 1000)] * 2 + [
        ("/api/event-bulk-create-jobs", 500)
    ]


def test_bulk_chunks_stay_under_the_payload_cap():
    big = [Accepted(EVENT, "", orjson.dumps({"pad": "x" * 1_000_000, **orjson.loads(event(n).body)}), NOW) for n in range(10)]
    chunks = batching.plan(stored(big), EVENT, private=True, threshold=2)
    assert [len(d.stored) for d in chunks] == [4, 4, 2]


@pytest.mark.parametrize(("item", "path"), [(event, "/api/event-bulk-create-jobs"), (profile, "/api/profile-bulk-import-jobs")])
def test_bulk_bodies_are_valid_for_the_pinned_revision(spec, item, path):
    (delivery,) = batching.plan(stored([item(n) for n in range(30)]), item(0).kind, private=True, threshold=5)
    request = build_request(delivery.call, credentials_for(Settings(private_key=DEMO_PRIVATE_KEY))(""))
    assert request.path == path and request.header("revision") == PINNED_REVISION
    assert validate_request(spec, request.method, request.path, request.query, request.headers, request.body) == []


@pytest.fixture
async def spool(tmp_path):
    opened = await SQLiteSpool.open(tmp_path / "spool.sqlite3")
    yield opened
    await opened.close()


def worker_for(spool, transport, **settings) -> DeliveryWorker:
    client = UpstreamClient(transport)
    return DeliveryWorker(
        spool, client, credentials_for(Settings(**settings)), THRESHOLDS, WorkerSettings(0.0, 4.0, 1.0), clock=lambda: NOW
    )


async def deliver_all(spool, worker, items) -> None:
    for item in items:
        await spool.accept(item)
    await worker.deliver(await spool.claim(10_000, NOW, NOW))


async def after_jobs(sandbox) -> None:
    """Past the sandbox's job delay, the next request finds its queued jobs done (as a
    client that waits on Klaviyo would)."""
    (account,) = sandbox.accounts
    await asyncio.sleep(account.jobs.delay)
    account.jobs.run_due(sandbox.clock())


def unique_ids(sandbox) -> list[str]:
    (account,) = sandbox.accounts
    return sorted(e.unique_id for e in account.events if e.unique_id.startswith("u-"))


async def test_a_private_run_goes_out_as_one_bulk_call(spool, upstream, sandbox):
    await deliver_all(spool, worker_for(spool, upstream, private_key=DEMO_PRIVATE_KEY), [event(n) for n in range(30)])
    assert upstream.paths() == ["/api/event-bulk-create-jobs"] and upstream.statuses() == [202]
    await after_jobs(sandbox)
    assert unique_ids(sandbox) == sorted(f"u-{n}" for n in range(30))
    assert (await spool.status(NOW)).pending == 0


async def test_a_mapped_token_is_delivered_with_its_key(spool, upstream, sandbox):
    worker = worker_for(spool, upstream, token_keys={DEMO_PUBLIC_KEY: DEMO_PRIVATE_KEY})
    await deliver_all(spool, worker, [profile(n) for n in range(6)])
    (submitted, *polls) = upstream.paths()
    assert submitted == "/api/profile-bulk-import-jobs" and polls
    assert all(path.startswith("/api/profile-bulk-import-jobs/01") for path in polls)  # reads of the job
    (account,) = sandbox.accounts
    assert account.profiles.find("email", "p5@example.com").properties == {"n": 5}


async def test_public_tokens_deliver_one_client_call_each(spool, upstream, sandbox):
    await deliver_all(spool, worker_for(spool, upstream), [event(n) for n in range(3)] + [profile(9)])
    assert sorted(upstream.paths()) == ["/client/events"] * 3 + ["/client/profiles"]
    assert unique_ids(sandbox) == ["u-0", "u-1", "u-2"]


async def test_a_refused_bulk_call_is_split_so_only_the_bad_write_is_buried(spool, upstream, sandbox):
    items = [event(n) for n in range(29)] + [event(29, email="not-an-email")]
    await deliver_all(spool, worker_for(spool, upstream, private_key=DEMO_PRIVATE_KEY), items)
    assert upstream.statuses()[0] == 400 and upstream.paths().count("/api/events") == 30
    assert unique_ids(sandbox) == sorted(f"u-{n}" for n in range(29))
    status = await spool.status(NOW)
    assert (status.pending, status.dead) == (0, 1)
    assert status.dead_reasons[0][0].startswith("400 invalid: Invalid email address")


async def test_imported_identifies_are_done_only_when_the_job_is_and_refusals_are_buried(spool, upstream, sandbox):
    """Issue 11 item 6: the 202 only queues the job; the spool holds every write until the
    job is complete, then buries exactly the profile the job refused."""
    items = [profile(n) for n in range(5)] + [profile(5, email="not-an-email")] + [profile(n) for n in range(6, 9)]
    for item in items:
        await spool.accept(item)
    worker = worker_for(spool, upstream, private_key=DEMO_PRIVATE_KEY)
    delivering = asyncio.create_task(worker.deliver(await spool.claim(10_000, NOW, NOW)))
    await asyncio.sleep(0.1)  # the job is accepted, not yet run
    assert upstream.paths() == ["/api/profile-bulk-import-jobs"]
    assert (await spool.status(NOW)).pending == 9
    await delivering
    status = await spool.status(NOW)
    assert (status.pending, status.dead) == (0, 1)
    assert status.dead_reasons[0][0].startswith("import-error invalid: Invalid email address")
    assert [path for path in upstream.paths() if path.endswith("/import-errors")]
    (account,) = sandbox.accounts
    assert {n for n in range(9) if account.profiles.find("email", f"p{n}@example.com")} == set(range(9)) - {5}
    await spool.retry_dead()
    (dead,) = await spool.claim(10, NOW, NOW)
    assert orjson.loads(dead.item.body)["data"]["attributes"]["properties"] == {"n": 5}


class ImportDouble:
    """Klaviyo's bulk import as far as the worker sees it: a job that completes with one
    failure, import errors as scripted, and single upserts refusing one address."""

    def __init__(self, errors: list[dict]) -> None:
        self.errors = errors
        self.requests: list = []

    async def send(self, request):
        self.requests.append(request)
        if request.method == "POST" and request.path == "/api/profile-bulk-import-jobs":
            return json_answer(202, {"data": {"type": "profile-bulk-import-job", "id": "J1", "attributes": {"status": "queued"}}})
        if request.path == "/api/profile-bulk-import-jobs/J1":
            return json_answer(200, {"data": {"type": "profile-bulk-import-job", "id": "J1", "attributes": {"status": "complete", "failed_count": 1}}})
        if request.path.endswith("/import-errors"):
            return json_answer(200, {"data": self.errors, "links": {}})
        email = orjson.loads(request.body)["data"]["attributes"]["email"]
        if email == "p1@example.com":
            return json_answer(400, {"errors": [{"code": "invalid", "title": "Invalid input", "detail": "refused"}]})
        return json_answer(200, {"data": {"type": "profile", "id": "P", "attributes": {}}})

    async def aclose(self) -> None:
        pass


def json_answer(status: int, document: dict) -> UpstreamResponse:
    return UpstreamResponse(status, {"Content-Type": "application/vnd.api+json"}, orjson.dumps(document))


@pytest.mark.parametrize(
    ("errors", "singles"),
    [
        ([{"type": "import-error", "id": "e", "attributes": {"code": "invalid", "title": "t", "detail": "d",
          "source": {"pointer": "/data/attributes/profiles/data/1/attributes/email"}}}], 0),
        ([{"type": "import-error", "id": "e", "attributes": {"code": "invalid", "title": "t", "detail": "d", "source": {},
          "original_payload": {"type": "profile", "attributes": {"email": "p1@example.com", "properties": {"n": 1}}}}}], 0),
        ([{"type": "import-error", "id": "e", "attributes": {"code": "invalid", "title": "t", "detail": "d", "source": {}}}], 6),
    ],
    ids=["by pointer", "by original payload", "unattributable: each write alone"],
)
async def test_import_errors_settle_exactly_the_refused_write(spool, errors, singles):
    double = ImportDouble(errors)
    await deliver_all(spool, worker_for(spool, double, private_key=DEMO_PRIVATE_KEY), [profile(n) for n in range(6)])
    status = await spool.status(NOW)
    assert (status.pending, status.dead) == (0, 1)
    assert sum(1 for r in double.requests if r.path == "/api/profile-import") == singles


async def test_an_import_job_that_never_finishes_gives_the_writes_back(spool, monkeypatch):
    monkeypatch.setattr("proxy.spool.import_jobs.PATIENCE", 1.0)
    queued = json_answer(202, {"data": {"type": "profile-bulk-import-job", "id": "J1", "attributes": {"status": "queued"}}})
    processing = json_answer(200, {"data": {"type": "profile-bulk-import-job", "id": "J1", "attributes": {"status": "processing"}}})
    await deliver_all(spool, worker_for(spool, Scripted([queued, processing]), private_key=DEMO_PRIVATE_KEY), [profile(n) for n in range(6)])
    status = await spool.status(NOW)
    assert (status.pending, status.dead) == (6, 0)
    assert await spool.claim(10, NOW, NOW) == []  # back in line after a pause, not lost


async def test_a_429_puts_the_writes_back_until_retry_after(spool):
    throttled = UpstreamResponse(429, {"Retry-After": "7"}, b'{"errors": []}')
    await deliver_all(spool, worker_for(spool, Scripted([throttled])), [event(1)])
    assert await spool.claim(10, NOW + 6, NOW + 6) == []
    (again,) = await spool.claim(10, NOW + 7, NOW + 7)
    assert again.attempts == 1


@pytest.mark.parametrize("failure", [UpstreamResponse(503, {}, b""), UpstreamUnreachable("down")])
async def test_an_outage_puts_the_writes_back_after_a_pause(spool, failure):
    await deliver_all(spool, worker_for(spool, Scripted([failure])), [event(1)])
    assert await spool.claim(10, NOW + 0.49, NOW + 0.49) == []
    (again,) = await spool.claim(10, NOW + 1, NOW + 1)  # the first pause is 0.5-1 s, then it doubles
    assert again.attempts == 1


async def test_a_stopping_worker_delivers_what_is_due_then_returns(spool, upstream, sandbox):
    worker = worker_for(spool, upstream)
    for n in range(5):
        await spool.accept(event(n))
    worker.start()
    await worker.stop()
    assert unique_ids(sandbox) == [f"u-{n}" for n in range(5)]


async def test_a_stopping_worker_gives_up_at_the_drain_timeout(spool):
    class Hanging(Scripted):
        async def send(self, request):
            await asyncio.sleep(30)

    worker = worker_for(spool, Hanging(answers(202)))
    await spool.accept(event(1))
    worker.start()
    await worker.stop()  # the drain timeout is one second
    assert (await spool.status(NOW)).pending == 1


async def test_a_failing_store_does_not_stop_the_worker(spool, upstream, sandbox):
    class Flaky:
        """The spool, except that its first claim fails as an unreachable store would."""

        def __init__(self) -> None:
            self.failed = False

        async def claim(self, *args):
            if not self.failed:
                self.failed = True
                raise ConnectionError("store unreachable")
            return await spool.claim(*args)

        def __getattr__(self, name):
            return getattr(spool, name)

    flaky = Flaky()
    await spool.accept(event(1))
    worker = worker_for(flaky, upstream)
    worker.start()
    await asyncio.sleep(0.3)
    await worker.stop()
    assert flaky.failed and unique_ids(sandbox) == ["u-1"]
