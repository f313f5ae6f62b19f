"""The operations the sandbox implements, one module per resource type."""

from proxy.sandbox.resources import events, metrics, profiles
from proxy.sandbox.routing import Route

ROUTES: tuple[Route, ...] = (*metrics.ROUTES, *events.ROUTES, *profiles.ROUTES)
