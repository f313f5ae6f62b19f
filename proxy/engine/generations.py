"""Invalidation of cached reads by the proxy's own writes.

Cached page walks and lookups are kept per account and *family* of resources, under the
family's current generation number. Any write the proxy sends (every non-GET call goes
through `Context.send`) bumps the generation of the families its path can change, so
the next read of that family starts afresh — on every worker and replica, since the
number lives in the shared store. Writes made elsewhere (Klaviyo's UI, other clients)
are seen when the cache's short TTL runs out.
"""

from __future__ import annotations

from proxy.engine.state import KeyValue

GENERATIONS = "gen:"
GENERATION_TTL = 7 * 86_400.0  # far beyond any cache it guards: a lapsed number restarts at 0 safely

# First path segment after /api/ → the cached families a write there can change. Lists'
# member counts belong to "groups", so membership and subscription writes touch it too.
FAMILIES_WRITTEN: dict[str, tuple[str, ...]] = {
    "lists": ("groups", "profiles"),
    "segments": ("groups",),
    "profile-subscription-bulk-create-jobs": ("groups", "profiles"),
    "profile-subscription-bulk-delete-jobs": ("groups", "profiles"),
    "profile-suppression-bulk-create-jobs": ("profiles",),
    "profile-suppression-bulk-delete-jobs": ("profiles",),
    "profiles": ("profiles", "groups"),
    "profile-import": ("profiles", "groups"),
    "profile-bulk-import-jobs": ("profiles", "groups"),
    "data-privacy-deletion-jobs": ("profiles", "groups"),
    "templates": ("templates",),
    "template-clone": ("templates",),
    "campaigns": ("campaigns",),
    "campaign-clone": ("campaigns",),
    "campaign-messages": ("campaigns",),
    "campaign-message-assign-template": ("campaigns",),
    "campaign-send-jobs": ("campaigns",),
}


# A listing's family, by its first path segment; any other segment is its own family
# (metrics, say, which the proxy never writes).
FAMILY_READ = {"lists": "groups", "segments": "groups", "profiles": "profiles", "templates": "templates", "campaigns": "campaigns"}


def family_read(path: str) -> str:
    segment = path.removeprefix("/api/").split("/", 1)[0]
    return FAMILY_READ.get(segment, segment)


def families_written(path: str) -> tuple[str, ...]:
    """`/api/lists/{id}/relationships/profiles` → ("groups", "profiles")."""
    segment = path.removeprefix("/api/").split("/", 1)[0]
    return FAMILIES_WRITTEN.get(segment, ())


async def touched(values: KeyValue, account: str, path: str) -> None:
    for family in families_written(path):
        await values.bump(_key(account, family), GENERATION_TTL)


async def generation(values: KeyValue, account: str, family: str) -> int:
    return int(await values.get(_key(account, family)) or 0)


def _key(account: str, family: str) -> str:
    return f"{GENERATIONS}{account}:{family}"
