"""The dimensions a metric-aggregates query may segment by (`by`, and the filterable
fields): the spec's enum for the pinned revision, which the legacy export checks its
`by` against and the sandbox serves (a test compares it with the spec)."""

from __future__ import annotations

DIMENSIONS = (
    "$attributed_channel", "$attributed_flow", "$attributed_message", "$attributed_variation",
    "$campaign_channel", "$flow", "$flow_channel", "$message", "$message_send_cohort",
    "$usage_amount", "$value_currency", "$variation", "$variation_send_cohort", "Bot Click",
    "Bounce Type", "Campaign Name", "Client Canonical", "Client Name", "Client Type",
    "Email Domain", "Failure Source", "Failure Type", "From Number", "From Phone Region",
    "Inbox Provider", "List", "Message Format", "Message Name", "Message Type", "Method",
    "Segment Count", "Subject", "To Number", "To Phone Region", "URL", "form_id",
)  # fmt: skip
