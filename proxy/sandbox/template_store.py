"""Email templates as one sandbox account holds them.

Two kinds live side by side: reusable templates (the account's library, what
GET /api/templates lists) and the private copies Klaviyo makes when a template is
assigned to a campaign message, which only that message uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from proxy.sandbox.by_id import ById

# Klaviyo caps the templates an account may create through the API.
API_TEMPLATE_CAP = 1000


@dataclass(eq=False)
class Template:
    id: str
    name: str
    editor_type: str  # CODE or USER_DRAGGABLE
    html: str
    text: str | None
    amp: str | None
    created: float
    updated: float
    reusable: bool = True  # False: a campaign message's private copy
    api_created: bool = True  # counts toward API_TEMPLATE_CAP


@dataclass(frozen=True, slots=True)
class PreviewSend:
    """A test send of a template, as the beta preview-send job recorded it (never delivered)."""

    id: str
    template_id: str
    recipients: tuple[str, ...]
    context: Mapping[str, Any]
    created_at: float


class TemplateStore(ById[Template]):
    def __init__(self) -> None:
        super().__init__()
        self.preview_sends: list[PreviewSend] = []

    def library(self) -> list[Template]:
        """The reusable templates, the ones listings show."""
        return [template for template in self._by_id.values() if template.reusable]

    def add(self, template: Template) -> None:
        self._by_id[template.id] = template

    def remove(self, template_id: str) -> None:
        self._by_id.pop(template_id, None)

    def api_created(self) -> int:
        return sum(1 for template in self._by_id.values() if template.api_created and template.reusable)
