"""v1 campaign recipients, from the campaign's audiences: the new API keeps no per-campaign
recipient list (hazard 9), so recipients are reconstructed from who the audiences held
when the campaign was sent.

A campaign that has not been sent (draft, scheduled) or was cancelled has no recipients:
the answer is empty without reading any audience. For a sent (or sending) campaign, the
included lists and segments are read in the campaign's order, each by when people
joined (`sort`), only people who joined before the send time, one upstream page at a
time; a person already served by an earlier audience or in an excluded one (joined
before the send too) is skipped, as is anyone without an email address or whose email
was globally suppressed at the send time (a suppression dated after the send did not
stop it). `next_offset` records the audience, the upstream cursor and how much of that
page was served, so the next page resumes exactly there without reading what came before.
Membership history is not kept by the new API: someone who joined before the send and
left since is no longer found.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from typing import Any, Mapping, Sequence

from proxy.engine.context import Context
from proxy.handlers.campaign_reads import audiences_of, campaign_and_message
from proxy.legacy import paging_token
from proxy.legacy.errors import LegacyError
from proxy.legacy.responses import LegacyResponse, json_response
from proxy.shapes.campaign import (
    audience_ids,
    emailable_at,
    included_and_excluded,
    legacy_recipient,
    recipient_status,
    recipients_page,
    was_sent,
)
from proxy.shapes.filter_expr import any_of
from proxy.upstream.client import Call

MEMBERS = {"list": "/api/lists/{id}/profiles", "segment": "/api/segments/{id}/profiles"}
MEMBER_PAGE_SIZE = 100  # the most a list's or segment's profiles page serves
# The email and its global suppressions (`email.marketing` is the smallest complete
# object that holds them); the spec makes `joined_group_at` a member's required attribute.
MEMBER_FIELDS = "email,joined_group_at,subscriptions.email.marketing"
MEMBER_VIEW = (("additional-fields[profile]", "subscriptions"), ("fields[profile]", MEMBER_FIELDS))
_OFFSET_VERSION = 1

Profile = Mapping[str, Any]
Audience = Mapping[str, Any]  # a legacy list object: `id` and `list_type` matter here


@dataclass(frozen=True, slots=True)
class Offset:
    sort: str  # "asc" | "desc"
    audience: int = 0  # which included audience
    cursor: str | None = None  # the upstream page within it
    skip: int = 0  # people of that page already served


def encode_offset(offset: Offset) -> str:
    return paging_token.encode(_OFFSET_VERSION, offset.sort, offset.audience, offset.cursor, offset.skip)


def decode_offset(token: str) -> Offset:
    try:
        sort, audience, cursor, skip = paging_token.decode(token, _OFFSET_VERSION, 4)
        valid = sort in ("asc", "desc") and isinstance(cursor, (str, type(None)))
        if not valid or not all(isinstance(n, int) and n >= 0 for n in (audience, skip)):
            raise ValueError
        return Offset(sort, audience, cursor, skip)
    except ValueError:
        raise LegacyError(400, "Invalid value for offset: use the next_offset of the previous page.") from None


async def recipients(ctx: Context) -> LegacyResponse:
    campaign_id = ctx.path_params["campaign_id"]
    token = ctx.params["offset"]
    start = decode_offset(token) if token else Offset(ctx.params["sort"])
    campaign, message, _ = await campaign_and_message(ctx, campaign_id)
    send_time = (campaign.get("attributes") or {}).get("send_time")
    if not was_sent(campaign) or not send_time:
        return json_response(recipients_page([], None))
    audiences = await audiences_of(ctx, audience_ids(campaign))
    included, excluded = ([audiences[i] for i in group_ids if i in audiences] for group_ids in included_and_excluded(campaign))
    served, following = await _collect(ctx, included, excluded, start, ctx.params["count"], send_time)
    status = recipient_status(campaign)
    variation = message["id"] if message else None
    data = [legacy_recipient(profile, status, variation) for profile in served]
    return json_response(recipients_page(data, encode_offset(following) if following else None))


async def _collect(
    ctx: Context, included: Sequence[Audience], excluded: Sequence[Audience], at: Offset, count: int, send_time: str
) -> tuple[list[Profile], Offset | None]:
    """Up to `count` recipients from `at` on, and where the page after them starts (None: done)."""
    served: list[Profile] = []
    joined_before = f"less-than(joined_group_at,{send_time})"
    while at.audience < len(included):
        reply = await ctx.send(_members_call(ctx, included[at.audience], at, joined_before))
        unserved = ((reply.document or {}).get("data") or [])[at.skip :]
        others = [*included[: at.audience], *excluded]
        emails = [email for profile in unserved if (email := _email(profile))]
        elsewhere = await _members_among(ctx, others, emails, joined_before)
        for index, profile in enumerate(unserved, start=at.skip):
            if len(served) == count:
                return served, replace(at, skip=index)
            email = _email(profile)
            if email and email.lower() not in elsewhere and emailable_at(profile, send_time):
                served.append(profile)
        at = replace(at, cursor=reply.next_cursor, skip=0) if reply.next_cursor else Offset(at.sort, at.audience + 1)
        if len(served) == count:
            break
    return served, at if at.audience < len(included) else None


def _members_call(ctx: Context, audience: Audience, at: Offset, joined_before: str) -> Call:
    query = [
        ("filter", joined_before),
        ("sort", "joined_group_at" if at.sort == "asc" else "-joined_group_at"),
        ("page[size]", str(MEMBER_PAGE_SIZE)),
        *MEMBER_VIEW,
    ]
    if at.cursor:
        query.append(("page[cursor]", at.cursor))
    return ctx.call("GET", MEMBERS[audience["list_type"]], path_params={"id": audience["id"]}, query=tuple(query))


async def _members_among(
    ctx: Context, audiences: Sequence[Audience], emails: list[str], joined_before: str
) -> set[str]:
    """Which of the emails (at most one page of them) belonged to any of the audiences at the send."""
    if not audiences or not emails:
        return set()
    condition = f"and({any_of('email', emails)},{joined_before})"
    query = (("filter", condition), ("page[size]", str(MEMBER_PAGE_SIZE)), ("fields[profile]", "email,joined_group_at"))
    replies = await asyncio.gather(
        *(
            ctx.send(ctx.call("GET", MEMBERS[audience["list_type"]], path_params={"id": audience["id"]}, query=query))
            for audience in audiences
        )
    )
    return {email.lower() for reply in replies for profile in (reply.document or {}).get("data") or () if (email := _email(profile))}


def _email(profile: Profile) -> str | None:
    return (profile.get("attributes") or {}).get("email")
