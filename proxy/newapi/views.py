"""Views: the parts of a new-API answer a caller reads, as TypedDicts.

An answer decoded with a view (`proxy.upstream.client.Call.view`, msgspec) holds those
parts as plain dicts and lists, as a full parse would, and nothing else: the rest is
skipped without being built. A members/all batch reads 20 pages of whole profiles (about
2 MB) for three fields each; building and freeing everything else was a third of its CPU.
Keys a view names are present when the answer has them, absent when it has not; a leaf
is whatever JSON value the answer holds (`Any`), so a view never refuses what a full
parse would have let the reshaper judge.
"""

from __future__ import annotations

from typing import Any, TypedDict


class Links(TypedDict, total=False):
    next: Any


class Contact(TypedDict, total=False):
    email: Any
    phone_number: Any


class Member(TypedDict, total=False):
    type: Any
    id: Any
    attributes: Contact | None


class MembersPage(TypedDict, total=False):
    """A page of group members, for `proxy.shapes.members.member_record`."""

    data: list[Member] | None
    links: Links | None


class Linkage(TypedDict, total=False):
    type: Any
    id: Any


class ToMany(TypedDict, total=False):
    data: list[Linkage] | None


PushTokenRelationships = TypedDict("PushTokenRelationships", {"push-tokens": ToMany | None}, total=False)


class ProfileWithTokens(TypedDict, total=False):
    type: Any
    id: Any
    relationships: PushTokenRelationships | None


class Token(TypedDict, total=False):
    token: Any


class PushToken(TypedDict, total=False):
    type: Any
    id: Any
    attributes: Token | None


class ProfilesWithPushTokens(TypedDict, total=False):
    """Profiles read with `include=push-tokens`, for `proxy.shapes.members.push_tokens`."""

    data: list[ProfileWithTokens] | None
    included: list[PushToken] | None
    links: Links | None
