"""Legacy email-template shapes and the legacy `to` field of template send."""

import json

import pytest

from proxy.shapes.template import (
    InvalidRecipients,
    legacy_template,
    queued_send,
    rendered_template,
    send_recipients,
)

TEMPLATE = {
    "type": "template",
    "id": "RipRmi",
    "attributes": {
        "name": "Welcome", "editor_type": "CODE", "html": "<p>Hi</p>", "text": "Hi", "amp": None,
        "created": "2016-01-01T18:58:54+00:00", "updated": "2016-01-02T06:00:00Z",
    },
}  # fmt: skip


def test_a_template_in_the_legacy_shape():
    shaped = legacy_template(TEMPLATE)
    assert list(shaped) == ["object", "id", "name", "html", "created", "updated"]
    assert shaped == {
        "object": "email-template", "id": "RipRmi", "name": "Welcome", "html": "<p>Hi</p>",
        "created": "2016-01-01 18:58:54", "updated": "2016-01-02 06:00:00",
    }  # fmt: skip


def test_render_and_send_answers_nest_their_result_under_data():
    assert rendered_template(TEMPLATE) == {
        "object": "email-template", "id": "RipRmi", "name": "Welcome", "data": {"html": "<p>Hi</p>", "text": "Hi"},
    }  # fmt: skip
    job = {"type": "template-preview-send-job", "id": "J1", "attributes": {"status": "queued"}}
    assert queued_send(TEMPLATE, job) == {"object": "email-template", "id": "RipRmi", "name": "Welcome", "data": {"status": "queued"}}


@pytest.mark.parametrize(
    ("to", "addresses"),
    [
        (" ada@example.com ", ["ada@example.com"]),
        (json.dumps([{"name": "Ada", "email": "ada@example.com"}, {"email": "bo@example.com"}]), ["ada@example.com", "bo@example.com"]),
        (json.dumps(["ada@example.com"]), ["ada@example.com"]),
    ],
)
def test_to_is_an_address_or_a_json_array(to, addresses):
    assert send_recipients(to) == addresses


@pytest.mark.parametrize("to", ["[", "[]", '[{"name": "Ada"}]', "[1]"])
def test_to_without_addresses_is_refused(to):
    with pytest.raises(InvalidRecipients):
        send_recipients(to)
