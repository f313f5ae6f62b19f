"""The operations the sandbox implements, one module per resource type."""

from proxy.sandbox.resources import data_privacy, events, metric_aggregates, metrics, profiles, suppressions
from proxy.sandbox.resources import lists, segments, subscriptions
from proxy.sandbox.resources import campaign_estimations, campaign_messages, campaign_send_jobs, campaigns, templates
from proxy.sandbox.resources import event_bulk_jobs, profile_import_jobs
from proxy.sandbox.routing import Route

ROUTES: tuple[Route, ...] = (
    *metrics.ROUTES,
    *events.ROUTES,
    *profiles.ROUTES,
    *metric_aggregates.ROUTES,
    *suppressions.ROUTES,
    *data_privacy.ROUTES,
    *lists.ROUTES,
    *segments.ROUTES,
    *subscriptions.ROUTES,
    *templates.ROUTES,
    *campaigns.ROUTES,
    *campaign_messages.ROUTES,
    *campaign_send_jobs.ROUTES,
    *campaign_estimations.ROUTES,
    *event_bulk_jobs.ROUTES,
    *profile_import_jobs.ROUTES,
)
