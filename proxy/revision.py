"""The one place the new-API revision is pinned.

Mapping entries may name another revision (a beta `.pre` route), never a second default.
"""

PINNED_REVISION = "2026-07-15"
BETA_REVISION = f"{PINNED_REVISION}.pre"
