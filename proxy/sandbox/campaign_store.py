"""Campaigns, their messages and the send lifecycle, as one sandbox account holds them.

A send job moves a campaign forward with the sandbox clock: Draft → Scheduled (when its
static send time lies ahead) → Sending → Sent once `SEND_SECONDS` have passed. Records
settle lazily: whoever reads a campaign first asks it to catch up with the clock.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from proxy.sandbox.by_id import ById

# How long the sandbox takes to deliver a campaign once it starts sending.
SEND_SECONDS = 60
# The send job of a campaign (its id is the campaign id) reports the campaign's progress.
JOB_STATUS = {"Scheduled": "queued", "Sending": "processing", "Sent": "complete", "Cancelled": "cancelled"}


class InvalidTransition(ValueError):
    """The campaign's status does not allow the action."""


@dataclass(eq=False)
class CampaignMessage:
    id: str
    campaign_id: str
    definition: dict[str, Any]  # channel, label and content, as the new API writes them
    template_id: str | None
    created: float
    updated: float

    @property
    def channel(self) -> str:
        return str(self.definition["channel"])


@dataclass(eq=False)
class Campaign:
    id: str
    name: str
    created: float
    updated: float
    included: list[str]  # list and segment ids
    excluded: list[str]
    send_strategy: dict[str, Any]
    send_options: dict[str, Any]
    tracking_options: dict[str, Any]
    message_ids: list[str] = field(default_factory=list)
    status: str = "Draft"
    archived: bool = False
    scheduled_at: float | None = None
    send_time: float | None = None

    @property
    def job_status(self) -> str | None:
        """The send job's status; None when no send job exists (a draft)."""
        return JOB_STATUS.get(self.status)

    def settle(self, now: float) -> None:
        if self.status == "Scheduled" and self.send_time is not None and now >= self.send_time:
            self.status = "Sending"
        if self.status == "Sending" and self.send_time is not None and now >= self.send_time + SEND_SECONDS:
            self.status = "Sent"

    def queue_send(self, now: float, start_at: float) -> None:
        if self.status != "Draft":
            raise InvalidTransition(f"Campaign {self.id!r} is {self.status}; only a draft can be sent.")
        self.scheduled_at = now
        self.send_time = max(now, start_at)
        self.status = "Scheduled" if start_at > now else "Sending"
        self.updated = now

    def cancel(self, now: float) -> None:
        if self.status not in ("Scheduled", "Sending"):
            raise InvalidTransition(f"Campaign {self.id!r} is {self.status}; only a scheduled or sending campaign can be cancelled.")
        self.status = "Cancelled"
        self.updated = now

    def revert(self, now: float) -> None:
        if self.status != "Scheduled":
            raise InvalidTransition(f"Campaign {self.id!r} is {self.status}; only a scheduled campaign can be reverted to a draft.")
        self.status = "Draft"
        self.scheduled_at = self.send_time = None
        self.updated = now


class CampaignStore(ById[Campaign]):
    def __init__(self) -> None:
        super().__init__()
        self._messages: dict[str, CampaignMessage] = {}

    def message(self, message_id: str) -> CampaignMessage | None:
        return self._messages.get(message_id)

    def messages_of(self, campaign: Campaign) -> list[CampaignMessage]:
        return [self._messages[message_id] for message_id in campaign.message_ids]

    def add(self, campaign: Campaign, messages: list[CampaignMessage]) -> None:
        self._by_id[campaign.id] = campaign
        for message in messages:
            self._messages[message.id] = message
        campaign.message_ids = [message.id for message in messages]
