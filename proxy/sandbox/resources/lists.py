"""Lists: create, read, rename, delete; their members (GET /api/lists/{id}/profiles), and
adding or removing members by profile id, which never touches consent."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any, TypeVar

from proxy.openapi.filters import Condition
from proxy.sandbox import errors, jsonapi
from proxy.sandbox.filtering import Field, as_seconds, parse_filter, predicate
from proxy.sandbox.groups import DOUBLE_OPT_IN, SINGLE_OPT_IN, MailingList, Members, Membership, Segment
from proxy.sandbox.jsonapi import Relationship, Resource, View
from proxy.sandbox.lookup import existing
from proxy.sandbox.pagination import choose_sort, page_links, page_size, paginate, requested_page
from proxy.sandbox.payload import attributes_of, member, path_id, resource_data
from proxy.sandbox.resources import named
from proxy.sandbox.resources.profiles import profile_resource
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.sandbox.store import Profile, ProfileStore, PushToken

ROUTES = RouteTable()

ATTRIBUTES = "/data/attributes"
INCLUDABLE = frozenset({"flow-triggers", "tags"})
OPT_IN_PROCESSES = (DOUBLE_OPT_IN, SINGLE_OPT_IN)
MAX_PROFILES_PER_CALL = 1000
GROUP_RELATED = (("profiles", "profile"), ("tags", "tag"), ("flow-triggers", "flow"))
MEMBER_RELATED = (("lists", "list"), ("segments", "segment"), ("push-tokens", "push-token"))
G = TypeVar("G", MailingList, Segment)

MEMBER_SORTS = {"joined_group_at": attrgetter("order")}


def list_resource(mailing_list: MailingList, profile_count: int | None = None) -> Resource:
    attributes: dict[str, Any] = {
        "name": mailing_list.name,
        "created": jsonapi.isoformat(mailing_list.created),
        "updated": jsonapi.isoformat(mailing_list.updated),
        "opt_in_process": mailing_list.opt_in_process,
    }
    if profile_count is not None:
        attributes["profile_count"] = profile_count
    return Resource("list", mailing_list.id, attributes, group_relationships())


def group_relationships() -> tuple[Relationship, ...]:
    return tuple(Relationship(name, type_) for name, type_ in GROUP_RELATED)


@ROUTES.route("GET", "/api/lists")
def get_lists(call: Call) -> Reply:
    return group_page(call, call.account.lists, named.FILTERABLE, list_resource)


@ROUTES.route("GET", "/api/lists/{id}")
def get_list(call: Call) -> Reply:
    return one_group(call, "list", existing_list, list_resource)


def group_page(
    call: Call, groups: Iterable[G], filterable: Mapping[str, Field[G]], render: Callable[[G], Resource]
) -> Reply:
    """One page of lists or segments, which are listed alike."""
    view = View.of(call, INCLUDABLE)
    page = requested_page(call, groups, filterable, named.SORTS, default_sort="id")
    return Reply(200, jsonapi.collection([render(group) for group in page.items], view, page_links(call, page)))


def one_group(
    call: Call, resource_type: str, find: Callable[[Call], G], render: Callable[[G, int | None], Resource]
) -> Reply:
    """One list or segment, with `profile_count` when `additional-fields` asks for it."""
    view = View.of(call, INCLUDABLE)
    group = find(call)
    count = live_member_count(group, call.account.profiles) if view.wants(resource_type, "profile_count") else None
    return Reply(200, jsonapi.single(render(group, count), view))


def existing_list(call: Call, list_id: str | None = None) -> MailingList:
    return existing(call.account.lists.get, "list", list_id or call.path_params["id"])


def live_member_count(group: MailingList | Segment, profiles: ProfileStore) -> int:
    """Members whose profile still exists (a deleted profile leaves its memberships behind)."""
    return sum(1 for membership in group.members.ordered() if profiles.get(membership.profile_id) is not None)


@ROUTES.route("POST", "/api/lists")
def create_list(call: Call) -> Reply:
    attributes = attributes_of(resource_data(call.body, "list"))
    name = _name(member(attributes, "name", ATTRIBUTES, str, required=True))
    mailing_list = MailingList(
        id=call.ids.short(),
        name=name,
        created=call.now,
        updated=call.now,
        opt_in_process=_opt_in_process(attributes) or DOUBLE_OPT_IN,
    )
    call.account.lists.add(mailing_list)
    return Reply(201, jsonapi.single(list_resource(mailing_list), View.of(call)))


@ROUTES.route("PATCH", "/api/lists/{id}")
def update_list(call: Call) -> Reply:
    data = resource_data(call.body, "list")
    path_id(data, call.path_params["id"])
    attributes = attributes_of(data)
    mailing_list = existing_list(call)
    name = member(attributes, "name", ATTRIBUTES, str)
    if name is not None:
        mailing_list.name = _name(name)
    mailing_list.opt_in_process = _opt_in_process(attributes) or mailing_list.opt_in_process
    mailing_list.updated = call.now
    return Reply(200, jsonapi.single(list_resource(mailing_list), View.of(call)))


def _name(name: str) -> str:
    if not name.strip():
        raise errors.invalid("A list name may not be blank.", pointer=f"{ATTRIBUTES}/name")
    return name


def _opt_in_process(attributes: dict[str, Any]) -> str | None:
    value = member(attributes, "opt_in_process", ATTRIBUTES, str)
    if value is not None and value not in OPT_IN_PROCESSES:
        raise errors.invalid(
            f"opt_in_process must be one of {', '.join(OPT_IN_PROCESSES)}.", pointer=f"{ATTRIBUTES}/opt_in_process"
        )
    return value


@ROUTES.route("DELETE", "/api/lists/{id}")
def delete_list(call: Call) -> Reply:
    existing_list(call)
    call.account.lists.remove(call.path_params["id"])
    return Reply(204)


@ROUTES.route("POST", "/api/lists/{id}/relationships/profiles")
def add_profiles_to_list(call: Call) -> Reply:
    mailing_list = existing_list(call)
    profile_ids = _profile_ids(call)
    for profile_id in profile_ids:
        mailing_list.members.add(profile_id, call.now)
        mailing_list.pending.pop(profile_id, None)  # added outright: no confirmation awaited any more
    return Reply(204)


@ROUTES.route("DELETE", "/api/lists/{id}/relationships/profiles")
def remove_profiles_from_list(call: Call) -> Reply:
    mailing_list = existing_list(call)
    for profile_id in _profile_ids(call):
        mailing_list.members.remove(profile_id)
    return Reply(204)


def _profile_ids(call: Call) -> list[str]:
    """The ids of a resource-identifier array body, each an existing profile."""
    if not isinstance(call.body, dict):
        raise errors.invalid("The request body must be a JSON object.", pointer="/")
    items = member(call.body, "data", "", list, required=True)
    if len(items) > MAX_PROFILES_PER_CALL:
        raise errors.invalid(f"At most {MAX_PROFILES_PER_CALL} profiles per call.", pointer="/data")
    profile_ids = []
    for index, item in enumerate(items):
        at = f"/data/{index}"
        if not isinstance(item, dict) or item.get("type") != "profile":
            raise errors.invalid("Each item must be a profile resource identifier.", pointer=at)
        profile_id = member(item, "id", at, str, required=True)
        profile_ids.append(existing(call.account.profiles.get, "profile", profile_id, pointer=f"{at}/id").id)
    return profile_ids


@ROUTES.route("GET", "/api/lists/{id}/profiles")
def get_profiles_for_list(call: Call) -> Reply:
    return group_profiles(call, existing_list(call))


def group_profiles(call: Call, group: MailingList | Segment) -> Reply:
    """One page of a group's members as profiles that carry `joined_group_at`."""
    view = View.of(call)
    profiles = call.account.profiles
    conditions = parse_filter(call.param("filter"))
    matches = predicate(conditions, member_fields(profiles))
    sort = choose_sort(call, MEMBER_SORTS, default="joined_group_at")
    page = paginate(
        _member_candidates(group.members, profiles, conditions),
        sort,
        call.param("page[cursor]"),
        page_size(call),
        lambda membership: profiles.get(membership.profile_id) is not None and matches(membership),
    )
    resources = [member_resource(profiles.get(m.profile_id), m, view) for m in page.items]
    return Reply(200, jsonapi.collection(resources, view, page_links(call, page)))


def member_fields(profiles: ProfileStore) -> dict[str, Field[Membership]]:
    def of_profile(name: str) -> Callable[[Membership], Any]:
        return lambda membership: getattr(profiles.get(membership.profile_id), name, None)

    return {
        "profile_id": Field(attrgetter("profile_id")),
        "email": Field(of_profile("email")),  # exact: see proxy.sandbox.identity on emails
        "phone_number": Field(of_profile("phone_number")),
        "_kx": Field(of_profile("kx")),
        # A member matches on its profile's first push token (demo profiles hold one at most).
        "push_token": Field(lambda membership: next((t.token for t in _tokens(profiles, membership)), None)),
        "joined_group_at": Field(attrgetter("joined"), fold=as_seconds),
    }


def _tokens(profiles: ProfileStore, membership: Membership) -> list[PushToken]:
    profile = profiles.get(membership.profile_id)
    return profile.push_tokens if profile is not None else []


def _member_candidates(members: Members, profiles: ProfileStore, conditions: list[Condition]) -> Sequence[Membership]:
    """The memberships an identifier condition points at, found through the profile
    indexes; else every membership. The full filter still runs over the result."""
    for condition in conditions:
        if condition.operator in ("equals", "any") and condition.field in ("profile_id", "email", "phone_number"):
            values = condition.value if isinstance(condition.value, list) else [condition.value]
            found = (_profile_by(profiles, condition.field, value) for value in values if isinstance(value, str))
            memberships = {p.id: m for p in found if p is not None and (m := members.get(p.id)) is not None}
            return sorted(memberships.values(), key=attrgetter("order"))
    return members.ordered()


def _profile_by(profiles: ProfileStore, field: str, value: str) -> Profile | None:
    return profiles.get(value) if field == "profile_id" else profiles.find(field, value)


def member_resource(profile: Profile, membership: Membership, view: View) -> Resource:
    attributes = {**profile_resource(profile, view).attributes, "joined_group_at": jsonapi.isoformat(membership.joined)}
    return Resource("profile", profile.id, attributes, tuple(Relationship(n, t) for n, t in MEMBER_RELATED))
