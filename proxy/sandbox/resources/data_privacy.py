"""POST /api/data-privacy-deletion-jobs: forget a profile, its events and memberships.

Exactly one identifier names the profile. Klaviyo deletes asynchronously and says
nothing about what it found: 202 with no body, also when nothing matched.
"""

from __future__ import annotations

from proxy.sandbox import errors
from proxy.sandbox.payload import attributes_of, member, resource_data
from proxy.sandbox.routing import Call, Reply, RouteTable
from proxy.newapi.emails import normal_email

ROUTES = RouteTable()

PROFILE = "/data/attributes/profile/data"


@ROUTES.route("POST", "/api/data-privacy-deletion-jobs")
def request_profile_deletion(call: Call) -> Reply:
    field, value = _identifier(call)
    store = call.account.profiles
    if field == "email":  # a profile identifier in a write: stored spelling (proxy.sandbox.identity)
        value = normal_email(value)
    profile = store.get(value) if field == "id" else store.find(field, value)
    if profile is not None:
        call.account.forget(profile)
    return Reply(202)


def _identifier(call: Call) -> tuple[str, str]:
    attributes = attributes_of(resource_data(call.body, "data-privacy-deletion-job"))
    wrapper = member(attributes, "profile", "/data/attributes", dict, required=True)
    profile = member(wrapper, "data", "/data/attributes/profile", dict, required=True)
    if profile.get("type") != "profile":
        raise errors.invalid("'type' must be 'profile'.", pointer=f"{PROFILE}/type")
    identifiers = member(profile, "attributes", PROFILE, dict, required=True)
    given = {
        "id": member(profile, "id", PROFILE, str),
        "email": member(identifiers, "email", f"{PROFILE}/attributes", str),
        "phone_number": member(identifiers, "phone_number", f"{PROFILE}/attributes", str),
    }
    named = [(field, value) for field, value in given.items() if value is not None]
    if len(named) != 1:
        raise errors.invalid("Exactly one of id, email or phone_number must identify the profile.", pointer=PROFILE)
    return named[0]
