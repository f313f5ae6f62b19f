"""Consent on a list: v2 subscribe, unsubscribe and the subscription check, and sign-up
form posts to /ajax/subscriptions/subscribe (hazards 10 and 11)."""

from __future__ import annotations

from typing import Any, Sequence

from proxy.engine.auth import with_public_key
from proxy.engine.context import Context
from proxy.engine.fanout import gather_bounded, in_batches
from proxy.handlers.members import MEMBERSHIP, write_membership
from proxy.engine.matching import LOOKUP_SIZE, requested_identifiers
from proxy.handlers.resolve import find_members, requested_profiles, resolve_profiles
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, empty_response, json_response
from proxy.shapes.filter_expr import any_of
from proxy.shapes.member_input import CHECK_LIMIT, LegacyProfile, legacy_profile
from proxy.shapes.members import check_record, member_record, unique
from proxy.shapes.subscriptions import (
    CHANNELS,
    client_subscription_body,
    consenting_fields,
    is_subscribed,
    job_body,
    subscribing_reaches_email,
    subscription_entry,
    unsubscription_entry,
)
from proxy.upstream.client import Credentials

LIST = "/api/lists/{id}"
SUBSCRIBE_JOB = "/api/profile-subscription-bulk-create-jobs"
UNSUBSCRIBE_JOB = "/api/profile-subscription-bulk-delete-jobs"
SUBSCRIBES_PER_JOB = 1000
UNSUBSCRIBES_PER_JOB = 100
CONSENT = (
    ("additional-fields[profile]", "subscriptions"),
    ("fields[profile]", "email,phone_number,joined_group_at,subscriptions"),
)
# Sign-up form fields that steer the post rather than describe the person.
FORM_CONTROLS = frozenset({"g", "a", "$fields", "$list_fields"})
EMAIL_SUPPRESSIONS = (
    ("additional-fields[profile]", "subscriptions"),
    ("fields[profile]", "subscriptions.email.marketing"),
)
NOTHING_SUBSCRIBED = (
    "Nothing was subscribed: a phone number is subscribed to SMS only with SMS consent "
    "($consent including sms, or sms_consent), and no email address was given."
)


async def subscribe(ctx: Context) -> LegacyResponse:
    """The members the subscription will put on the list, or `[]` from a double opt-in
    list: nobody joins it before confirming. The job has no status to read, so the answer
    is a prediction from the profiles' state (the suppressions that keep someone off are
    those the job leaves alone, so it does not matter whether it has run yet)."""
    list_id = ctx.path_params["list_id"]
    profiles = requested_profiles(ctx)
    query = (("fields[list]", "opt_in_process"),)
    found = await ctx.send(ctx.call("GET", LIST, path_params={"id": list_id}, query=query))
    single_opt_in = found.document["data"]["attributes"].get("opt_in_process") == "single_opt_in"
    consenting = await subscribe_profiles(ctx, list_id, profiles)
    if not single_opt_in:
        return json_response([])
    return json_response(await _joining(ctx, consenting))


async def subscribe_profiles(
    ctx: Context, list_id: str, profiles: Sequence[LegacyProfile]
) -> list[tuple[dict[str, Any], LegacyProfile]]:
    """Find or create the profiles, then give each one's consent in bulk jobs scoped to the
    list; the profiles (resource, request) that consented to something."""
    resources = await resolve_profiles(ctx, profiles)
    consenting = [
        (resource, entry, profile)
        for resource, profile in zip(resources, profiles)
        if (entry := subscription_entry(resource["id"], profile)) is not None
    ]
    await gather_bounded(
        ctx.send(ctx.call("POST", SUBSCRIBE_JOB, body=job_body("create", list_id, [entry for _, entry, _ in batch])))
        for batch in in_batches(consenting, SUBSCRIBES_PER_JOB)
    )
    return [(resource, profile) for resource, _, profile in consenting]


async def _joining(ctx: Context, consenting: list[tuple[dict[str, Any], LegacyProfile]]) -> list[dict[str, Any]]:
    """Member records of those the job will subscribe on some channel: a profile that
    consents by email only and holds a suppression the job does not lift (a bounce, an
    invalid address) is left out."""
    email_only = [resource["id"] for resource, profile in consenting if consenting_fields(profile) == ["email"]]
    calls = [
        ctx.call("GET", "/api/profiles", query=(("filter", any_of("id", batch)), ("page[size]", str(LOOKUP_SIZE)), *EMAIL_SUPPRESSIONS))
        for batch in in_batches(email_only, LOOKUP_SIZE)
    ]
    replies = await gather_bounded(ctx.send(call) for call in calls)
    blocked = {
        resource["id"]
        for reply in replies
        for resource in (reply.document or {}).get("data") or ()
        if not subscribing_reaches_email(resource)
    }
    return unique(member_record(resource) for resource, _ in consenting if resource["id"] not in blocked)


async def check_subscriptions(ctx: Context) -> LegacyResponse:
    list_id = ctx.path_params["list_id"]
    matches = await find_members(ctx, "list", list_id, requested_identifiers(ctx, CHECK_LIMIT), CONSENT)
    return json_response(
        unique(check_record(resource) for field, resource in matches if is_subscribed(resource, field, list_id))
    )


async def unsubscribe(ctx: Context) -> LegacyResponse:
    """Unsubscribe from the list only those who are on it: the new job would unsubscribe
    anyone else from everything. Members named by push token alone cannot be unsubscribed
    (the new API needs the app's platform), so they are only taken off the list."""
    list_id = ctx.path_params["list_id"]
    matches = await find_members(ctx, "list", list_id, requested_identifiers(ctx), MEMBERSHIP)
    channels: dict[str, dict[str, str]] = {}  # profile id -> identifiers naming a channel
    for field, resource in matches:
        value = (resource.get("attributes") or {}).get(field)
        if field in CHANNELS and value:
            channels.setdefault(resource["id"], {})[field] = value
    entries = [unsubscription_entry(identifiers) for identifiers in channels.values()]
    await gather_bounded(
        ctx.send(ctx.call("POST", UNSUBSCRIBE_JOB, body=job_body("delete", list_id, list(batch))))
        for batch in in_batches(entries, UNSUBSCRIBES_PER_JOB)
    )
    await write_membership(ctx, "DELETE", list_id, (r["id"] for _, r in matches if r["id"] not in channels))
    return empty_response()


async def ajax_subscribe(ctx: Context) -> LegacyResponse:
    """A sign-up form post: `g` is the list, every other field describes the person."""
    list_id = ctx.params["g"]
    form = {name: ctx.request.params[name] for name in ctx.request.params if name not in FORM_CONTROLS}
    profile = legacy_profile(form)
    if not (profile.attributes.get("email") or profile.attributes.get("phone_number")):
        raise LegacyError(400, "An email address is required.")
    if not consenting_fields(profile):
        # The form would subscribe nobody (a phone number without SMS consent): nothing is
        # sent, and the form hears that it failed rather than a success that did nothing.
        raise LegacyError(400, NOTHING_SUBSCRIBED)
    if ctx.credentials.private_key:
        await subscribe_profiles(ctx, list_id, [profile])
    else:
        body = client_subscription_body(list_id, profile, form.get("$source"))
        await ctx.send(ctx.call("POST", "/client/subscriptions", body=body), _public_key(ctx))
    # Klaviyo takes the subscription asynchronously (and double opt-in awaits a
    # confirmation), so the proxy cannot say the person is subscribed yet.
    email = profile.attributes.get("email") or ""
    return json_response({"success": True, "data": {"is_subscribed": False, "email": email}, "errors": []})


def _public_key(ctx: Context) -> Credentials:
    """The site's public key: the form's `a`, else the configured one."""
    return with_public_key(ctx.credentials, ctx.params["a"], ctx.settings)
