"""Staging keys: a sandbox asked to enrol gives each unseen well-formed key an account of
its own; a plain sandbox refuses them as Klaviyo does."""

from __future__ import annotations

from sandbox_helpers import ACME_PRIVATE_KEY, ACME_PUBLIC_KEY, profile_body

from proxy.sandbox import Sandbox
from proxy.sandbox.enrolment import Enrolment, derived_public_key

NEW_KEY = "pk_" + "N3wApp" * 5 + "abcd"


def event_body(email: str) -> dict:
    return {"data": {"type": "event", "attributes": {
        "properties": {}, "metric": {"data": {"type": "metric", "attributes": {"name": "Staged"}}},
        "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
    }}}


async def test_a_plain_sandbox_refuses_unknown_keys(client_for, acme):
    plain = Sandbox([acme])
    assert (await client_for(plain, NEW_KEY).get("/api/metrics")).status == 401
    assert (await client_for(plain, public_key="NewTok").post("/client/events", event_body("a@example.com"))).status == 400


async def test_unseen_well_formed_keys_get_empty_accounts_of_their_own(client_for, acme):
    sandbox = Sandbox([acme], enrolment=Enrolment())
    fresh = client_for(sandbox, NEW_KEY)
    assert (await fresh.get("/api/profiles")).data == []
    assert (await fresh.post("/api/profiles", profile_body({"email": "own@example.com"}))).status == 201
    assert (await client_for(sandbox).get("/api/profiles", {"filter": 'equals(email,"own@example.com")'})).data == []
    tokens = client_for(sandbox, public_key="NewTok")
    assert (await tokens.post("/client/events", event_body("t@example.com"))).status == 202
    assert {account.public_key for account in sandbox.accounts} == {ACME_PUBLIC_KEY, "NewTok", derived_public_key(NEW_KEY, lambda _: False)}


async def test_malformed_keys_are_still_refused(client_for, acme):
    sandbox = Sandbox([acme], enrolment=Enrolment())
    assert (await client_for(sandbox, "pk_short").get("/api/metrics")).status == 401
    assert (await client_for(sandbox, public_key="toolongtoken").post("/client/events", event_body("a@example.com"))).status == 400
    assert len(sandbox.accounts) == 1


async def test_a_listed_pair_shares_one_account_and_nothing_else_enrols(client_for, acme):
    sandbox = Sandbox([acme], enrolment=Enrolment(listed=(("PairTk", NEW_KEY),)))
    paired = client_for(sandbox, NEW_KEY, "PairTk")
    assert (await paired.post("/client/events", event_body("p@example.com"))).status == 202
    assert [metric["attributes"]["name"] for metric in (await paired.get("/api/metrics")).data] == ["Staged"]
    assert (await client_for(sandbox, "pk_" + "z" * 34).get("/api/metrics")).status == 401
    assert (await client_for(sandbox, ACME_PRIVATE_KEY).get("/api/metrics")).status == 200


def test_seeded_accounts_get_data_with_ids_of_their_own():
    from proxy.sandbox.seed import demo_sandbox, demo_seeder

    sandbox = demo_sandbox(enrolment=Enrolment(listed=((None, NEW_KEY),), seed=demo_seeder()))
    demo, staged = sandbox.accounts
    assert len(staged.profiles) == len(demo.profiles) > 0
    assert not {profile.id for profile in staged.profiles} & {profile.id for profile in demo.profiles}
    assert staged.private_keys == (NEW_KEY,)
