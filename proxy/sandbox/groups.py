"""Lists and segments: the two kinds of profile group, their members and their stores.

A list's members are written through the API; a segment's membership is defined when the
segment is made (Klaviyo computes it from the segment's definition; the sandbox takes it
as given) and the API only reads it. Members keep the moment they joined, which the API
shows as `joined_group_at` and sorts by.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol, TypeVar

from proxy.sandbox.by_id import ById

DOUBLE_OPT_IN = "double_opt_in"
SINGLE_OPT_IN = "single_opt_in"


@dataclass(frozen=True, slots=True)
class Membership:
    profile_id: str
    joined: float

    @property
    def order(self) -> tuple[float, str]:
        return (self.joined, self.profile_id)


class Members:
    """A group's memberships in (joined, profile id) order, found by profile id."""

    def __init__(self) -> None:
        self._by_profile: dict[str, Membership] = {}
        self._ordered: list[Membership] = []

    def __len__(self) -> int:
        return len(self._ordered)

    def __contains__(self, profile_id: object) -> bool:
        return profile_id in self._by_profile

    def get(self, profile_id: str) -> Membership | None:
        return self._by_profile.get(profile_id)

    def add(self, profile_id: str, joined: float) -> bool:
        """Join the profile; False (and the first joining time kept) when it is a member already."""
        if profile_id in self._by_profile:
            return False
        membership = Membership(profile_id, joined)
        self._by_profile[profile_id] = membership
        bisect.insort(self._ordered, membership, key=attrgetter("order"))
        return True

    def remove(self, profile_id: str) -> bool:
        membership = self._by_profile.pop(profile_id, None)
        if membership is None:
            return False
        del self._ordered[bisect.bisect_left(self._ordered, membership.order, key=attrgetter("order"))]
        return True

    def ordered(self) -> Sequence[Membership]:
        """Every membership, oldest first; a view, not a copy."""
        return self._ordered


@dataclass(eq=False)
class MailingList:
    id: str
    name: str
    created: float
    updated: float
    opt_in_process: str = DOUBLE_OPT_IN
    members: Members = field(default_factory=Members)
    # Subscribers of a double opt-in list who have not confirmed yet: not members, and
    # their consent is untouched until they confirm.
    pending: dict[str, float] = field(default_factory=dict)


@dataclass(eq=False)
class Segment:
    id: str
    name: str
    created: float
    updated: float
    definition: dict[str, Any]  # a SegmentDefinition document, as the API returns it
    members: Members = field(default_factory=Members)
    is_active: bool = True
    is_starred: bool = False


class Group(Protocol):
    id: str


G = TypeVar("G", bound=Group)


class GroupStore(ById[G]):
    def add(self, group: G) -> None:
        self._by_id[group.id] = group

    def remove(self, group_id: str) -> G | None:
        return self._by_id.pop(group_id, None)
