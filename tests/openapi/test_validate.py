"""validate_request / validate_response against the pinned spec.

The accepted bodies are the minimal documented ones from new-api-targets.md §3.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from proxy.openapi import Spec, validate_request, validate_response

EVENT = {
    "data": {
        "type": "event",
        "attributes": {
            "properties": {},
            "metric": {"data": {"type": "metric", "attributes": {"name": "Placed Order"}}},
            "profile": {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}},
        },
    }
}
PROFILE = {"data": {"type": "profile", "attributes": {"email": "ada@example.com"}}}
PROFILE_IMPORT = {
    "data": {
        "type": "profile",
        "attributes": {"email": "ada@example.com", "properties": {"plan": "gold"}},
    }
}
METRIC_AGGREGATE = {
    "data": {
        "type": "metric-aggregate",
        "attributes": {
            "metric_id": "ABC123",
            "measurements": ["count"],
            "filter": [
                "greater-or-equal(datetime,2026-06-01T00:00:00)",
                "less-than(datetime,2026-07-01T00:00:00)",
            ],
        },
    }
}
SUBSCRIBE = {
    "data": {
        "type": "profile-subscription-bulk-create-job",
        "attributes": {
            "profiles": {
                "data": [
                    {
                        "type": "profile",
                        "attributes": {
                            "email": "ada@example.com",
                            "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
                        },
                    }
                ]
            }
        },
        "relationships": {"list": {"data": {"type": "list", "id": "Y6nRLr"}}},
    }
}
LIST_MEMBERS = {"data": [{"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H"}]}
CLIENT_SUBSCRIPTION = {
    "data": {
        "type": "subscription",
        "attributes": {"profile": PROFILE},
        "relationships": {"list": {"data": {"type": "list", "id": "Y6nRLr"}}},
    }
}
UPDATE_PROFILE = {
    "data": {
        "type": "profile",
        "id": "01GDDKASAP8TKDDA2GRZDSVP4H",
        "attributes": {"first_name": "Ada"},
    }
}
CAMPAIGN = {
    "data": {
        "type": "campaign",
        "attributes": {
            "name": "July promo",
            "audiences": {"included": ["Y6nRLr"]},
            "campaign-messages": {
                "data": [
                    {
                        "type": "campaign-message",
                        "attributes": {
                            "definition": {
                                "channel": "email",
                                "content": {
                                    "subject": "Hello",
                                    "from_email": "store@example.com",
                                    "from_label": "Store",
                                },
                            }
                        },
                    }
                ]
            },
        },
    }
}


def _body(document: Any) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("method", "path", "query", "document"),
    [
        ("POST", "/api/events", [], EVENT),
        ("POST", "/api/profiles", [], PROFILE),
        ("POST", "/api/profile-import", [], PROFILE_IMPORT),
        ("PATCH", "/api/profiles/01GDDKASAP8TKDDA2GRZDSVP4H", [], UPDATE_PROFILE),
        ("POST", "/api/metric-aggregates", [], METRIC_AGGREGATE),
        ("POST", "/api/profile-subscription-bulk-create-jobs", [], SUBSCRIBE),
        ("POST", "/api/lists/Y6nRLr/relationships/profiles", [], LIST_MEMBERS),
        ("DELETE", "/api/lists/Y6nRLr/relationships/profiles", [], LIST_MEMBERS),
        (
            "POST",
            "/api/lists",
            [],
            {"data": {"type": "list", "attributes": {"name": "Newsletter"}}},
        ),
        ("POST", "/api/campaigns", [], CAMPAIGN),
    ],
)
def test_accepts_documented_server_bodies(
    spec: Spec, api_headers: dict, method: str, path: str, query: list, document: Any
) -> None:
    assert validate_request(spec, method, path, query, api_headers, _body(document)) == []


@pytest.mark.parametrize(
    ("path", "document"),
    [
        ("/client/events", EVENT),
        ("/client/profiles", PROFILE),
        ("/client/subscriptions", CLIENT_SUBSCRIPTION),
    ],
)
def test_accepts_documented_client_bodies(
    spec: Spec, client_headers: dict, path: str, document: Any
) -> None:
    query = [("company_id", "PUBLIC")]
    assert validate_request(spec, "POST", path, query, client_headers, _body(document)) == []


def test_accepts_a_full_get_profiles_query(spec: Spec, api_headers: dict) -> None:
    del api_headers["Content-Type"]
    query = [
        ("filter", 'equals(email,"ada@example.com")'),
        ("fields[profile]", "email,first_name,location.city"),
        ("additional-fields[profile]", "subscriptions"),
        ("include", "push-tokens"),
        ("sort", "-updated"),
        ("page[size]", "100"),
        ("page[cursor]", "bmV4dDo6aWQ6OjQz"),
    ]
    assert validate_request(spec, "GET", "/api/profiles", query, api_headers, None) == []


def test_accepts_headers_in_any_case_and_beta_revisions(spec: Spec) -> None:
    headers = {"REVISION": "2026-07-15.pre", "authorization": "Klaviyo-API-Key pk_x"}
    assert validate_request(spec, "GET", "/api/metrics", [], headers, None) == []


def _errors(
    spec: Spec, headers: dict, method: str, path: str, query=(), document: Any = None
) -> list[str]:
    body = None if document is None else _body(document)
    return validate_request(spec, method, path, list(query), headers, body)


def test_rejects_unknown_operation(spec: Spec, api_headers: dict) -> None:
    assert _errors(spec, api_headers, "GET", "/api/v2/lists") == [
        "no operation for GET /api/v2/lists in spec 2026-07-15"
    ]


def test_rejects_missing_revision(spec: Spec, api_headers: dict) -> None:
    del api_headers["revision"]
    assert _errors(spec, api_headers, "POST", "/api/events", document=EVENT) == [
        "create_event: missing required header 'revision'"
    ]


@pytest.mark.parametrize("revision", ["2026-7-15", "2026-02-30", "latest", "2026-07-15."])
def test_rejects_malformed_revision(spec: Spec, api_headers: dict, revision: str) -> None:
    api_headers["revision"] = revision
    assert _errors(spec, api_headers, "GET", "/api/metrics") == [
        f"get_metrics: header 'revision' must be YYYY-MM-DD or YYYY-MM-DD.suffix, got {revision!r}"
    ]


def test_rejects_missing_auth(spec: Spec, client_headers: dict) -> None:
    assert _errors(spec, client_headers, "POST", "/api/events", document=EVENT) == [
        "create_event: missing header 'Authorization' (expected 'Klaviyo-API-Key <private key>')"
    ]


def test_rejects_other_auth_schemes_without_echoing_the_secret(
    spec: Spec, api_headers: dict
) -> None:
    api_headers["Authorization"] = "Bearer s3cret-token"
    [problem] = _errors(spec, api_headers, "POST", "/api/events", document=EVENT)
    assert "got scheme 'Bearer'" in problem and "s3cret" not in problem


def test_rejects_private_key_on_client_endpoints(spec: Spec, api_headers: dict) -> None:
    errors = _errors(spec, api_headers, "POST", "/client/events", [("company_id", "P")], EVENT)
    assert errors == [
        "create_client_event: client operation must not send an Authorization header "
        "(public key goes in company_id)"
    ]


def test_rejects_missing_company_id(spec: Spec, client_headers: dict) -> None:
    assert _errors(spec, client_headers, "POST", "/client/profiles", document=PROFILE) == [
        "create_client_profile: missing required query parameter 'company_id'"
    ]


def test_rejects_unknown_and_repeated_query_params(spec: Spec, api_headers: dict) -> None:
    errors = _errors(
        spec,
        api_headers,
        "GET",
        "/api/profiles/abc/lists",
        [("page[size]", "5"), ("sort", "x"), ("sort", "y")],
    )
    assert errors[0] == "get_lists_for_profile: query parameter 'sort' given 2 times"
    assert errors[1] == (
        "get_lists_for_profile: unknown query parameter 'page[size]' (declared: fields[list])"
    )
    assert len(errors) == 4


def test_rejects_bad_filter_field(spec: Spec, api_headers: dict) -> None:
    [problem] = _errors(
        spec, api_headers, "GET", "/api/events", [("filter", 'equals(email,"a@b.com")')]
    )
    assert problem.startswith(
        "get_events: query parameter 'filter': field 'email' cannot be filtered on (filterable: "
    )


def test_rejects_unparsable_filter(spec: Spec, api_headers: dict) -> None:
    assert _errors(
        spec, api_headers, "GET", "/api/profiles", [("filter", "or(equals(email,'a'))")]
    ) == [
        "get_profiles: query parameter 'filter': operator 'or' is not supported; "
        "combine with and() at column 1"
    ]


def test_rejects_campaign_listing_without_its_required_filter(
    spec: Spec, api_headers: dict
) -> None:
    assert _errors(spec, api_headers, "GET", "/api/campaigns") == [
        "get_campaigns: missing required query parameter 'filter'"
    ]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("101", "101 is above the maximum 100"),
        ("0", "0 is below the minimum 1"),
        ("ten", "'ten' is not an integer"),
        ("", "empty value"),
    ],
)
def test_rejects_bad_page_size(spec: Spec, api_headers: dict, value: str, problem: str) -> None:
    assert _errors(spec, api_headers, "GET", "/api/profiles", [("page[size]", value)]) == [
        f"get_profiles: query parameter 'page[size]': {problem}"
    ]


def test_rejects_enum_violations_in_lists_and_scalars(spec: Spec, api_headers: dict) -> None:
    query = [("fields[profile]", "email,shoe_size"), ("include", "lists"), ("sort", "name")]
    assert _errors(spec, api_headers, "GET", "/api/profiles", query) == [
        "get_profiles: query parameter 'fields[profile]': 'shoe_size' is not one of "
        + ", ".join(
            map(
                repr,
                spec.by_id("get_profiles").parameter("query", "fields[profile]")["schema"]["items"][
                    "enum"
                ],
            )
        ),
        "get_profiles: query parameter 'include': "
        "'lists' is not one of 'conversations', 'push-tokens'",
        "get_profiles: query parameter 'sort': 'name' is not one of "
        + ", ".join(
            map(repr, spec.by_id("get_profiles").parameter("query", "sort")["schema"]["enum"])
        ),
    ]


def test_rejects_path_param_outside_its_enum(spec: Spec, api_headers: dict) -> None:
    [problem] = _errors(spec, api_headers, "GET", "/api/mapped-metrics/bogus")
    assert problem.startswith("get_mapped_metric: path parameter 'id': 'bogus' is not one of ")


def test_rejects_body_missing_required_field(spec: Spec, api_headers: dict) -> None:
    event = copy.deepcopy(EVENT)
    del event["data"]["attributes"]["metric"]
    assert _errors(spec, api_headers, "POST", "/api/events", document=event) == [
        "create_event: request body /data/attributes: 'metric' is a required property"
    ]


def test_rejects_body_with_wrong_nested_type(spec: Spec, api_headers: dict) -> None:
    document = copy.deepcopy(SUBSCRIBE)
    marketing = document["data"]["attributes"]["profiles"]["data"][0]["attributes"][
        "subscriptions"
    ]["email"]["marketing"]
    marketing["consent"] = "UNSUBSCRIBED"
    [problem] = _errors(
        spec, api_headers, "POST", "/api/profile-subscription-bulk-create-jobs", document=document
    )
    assert problem.startswith(
        "bulk_subscribe_profiles: request body "
        "/data/attributes/profiles/data/0/attributes/subscriptions/email/marketing/consent: "
        "'UNSUBSCRIBED' is not one of ['SUBSCRIBED']"
    )


def test_checks_date_time_formats(spec: Spec, api_headers: dict) -> None:
    event = copy.deepcopy(EVENT)
    event["data"]["attributes"]["time"] = "2026-06-01T12:30:00"  # no offset: Klaviyo reads UTC
    assert _errors(spec, api_headers, "POST", "/api/events", document=event) == []
    event["data"]["attributes"]["time"] = "June 1st"
    assert _errors(spec, api_headers, "POST", "/api/events", document=event) == [
        "create_event: request body /data/attributes/time: 'June 1st' is not a 'date-time'"
    ]


def test_honours_nullable(spec: Spec, api_headers: dict) -> None:
    document = {
        "data": {"type": "profile", "id": "A", "attributes": {"first_name": None, "location": None}}
    }
    assert _errors(spec, api_headers, "PATCH", "/api/profiles/A", document=document) == []
    document["data"]["attributes"]["first_name"] = 7
    [problem] = _errors(spec, api_headers, "PATCH", "/api/profiles/A", document=document)
    assert (
        problem == "update_profile: request body /data/attributes/first_name: "
        "7 is not of type 'string', 'null'"
    )


def test_names_the_failing_field_inside_the_intended_alternative(
    spec: Spec, api_headers: dict
) -> None:
    # definition is anyOf email/sms/mobile_push; `channel: email` makes the email branch get
    # furthest, so its error is reported instead of "not valid under any of the schemas".
    document = copy.deepcopy(CAMPAIGN)
    message = document["data"]["attributes"]["campaign-messages"]["data"][0]
    message["attributes"]["definition"]["content"]["subject"] = 5
    assert _errors(spec, api_headers, "POST", "/api/campaigns", document=document) == [
        "create_campaign: request body "
        "/data/attributes/campaign-messages/data/0/attributes/definition/content/subject: "
        "5 is not of type 'string', 'null'"
    ]


def test_lists_alternatives_when_none_is_closer(spec: Spec, api_headers: dict) -> None:
    document = {"data": {"type": "profile", "id": "A", "attributes": {"location": "Paris"}}}
    assert _errors(spec, api_headers, "PATCH", "/api/profiles/A", document=document) == [
        "update_profile: request body /data/attributes/location: matches none of the "
        "alternatives ('Paris' is not of type 'null'; 'Paris' is not of type 'object')"
    ]


def test_validates_against_the_beta_spec(beta_spec: Spec, api_headers: dict) -> None:
    operation = next(op for op in beta_spec.operations if op.method == "GET" and "{" not in op.path)
    api_headers["revision"] = "2026-07-15.pre"
    del api_headers["Content-Type"]
    required = [(p["name"], "x") for p in operation.parameters_in("query") if p.get("required")]
    assert validate_request(beta_spec, "GET", operation.path, required, api_headers, None) == []


def test_rejects_wrong_content_type(spec: Spec, api_headers: dict) -> None:
    api_headers["Content-Type"] = "application/json"
    assert _errors(spec, api_headers, "POST", "/api/events", document=EVENT) == [
        "create_event: header 'Content-Type' must be application/vnd.api+json, "
        "got 'application/json'"
    ]


def test_rejects_missing_body_and_invalid_json(spec: Spec, api_headers: dict) -> None:
    assert _errors(spec, api_headers, "POST", "/api/events") == [
        "create_event: missing request body"
    ]
    errors = validate_request(spec, "POST", "/api/events", [], api_headers, b"{not json")
    assert errors[0].startswith("create_event: request body is not valid JSON: ")


def test_rejects_body_on_get(spec: Spec, api_headers: dict) -> None:
    assert _errors(spec, api_headers, "GET", "/api/profiles", document={"data": {}}) == [
        "get_profiles: GET /api/profiles takes no request body, got 12 bytes"
    ]


def test_rejects_patch_id_that_differs_from_the_path(spec: Spec, api_headers: dict) -> None:
    assert _errors(spec, api_headers, "PATCH", "/api/profiles/OTHER", document=UPDATE_PROFILE) == [
        "update_profile: request body /data/id: '01GDDKASAP8TKDDA2GRZDSVP4H' does not match "
        "the path id 'OTHER'"
    ]


def test_relationship_patch_carries_the_related_id(spec: Spec, api_headers: dict) -> None:
    document = {"data": {"type": "image", "id": "IMG1"}}
    path = "/api/campaign-messages/MSG1/relationships/image"
    assert _errors(spec, api_headers, "PATCH", path, document=document) == []


METRICS_PAGE = {
    "data": [
        {
            "type": "metric",
            "id": "Y6nRLr",
            "attributes": {
                "name": "Placed Order",
                "created": "2026-01-01T00:00:00+00:00",
                "updated": "2026-01-02T00:00:00+00:00",
                "integration": {"name": "Shopify", "category": "eCommerce"},
            },
            "relationships": {
                "flow-triggers": {
                    "data": [],
                    "links": {
                        "self": "https://a.klaviyo.com/x",
                        "related": "https://a.klaviyo.com/y",
                    },
                }
            },
            "links": {"self": "https://a.klaviyo.com/api/metrics/Y6nRLr"},
        }
    ],
    "links": {"self": "https://a.klaviyo.com/api/metrics"},
    "meta": {"agent_hints": {"next_steps": []}},
}


def test_validate_response_accepts_a_metrics_collection(spec: Spec) -> None:
    assert validate_response(spec, "GET", "/api/metrics", 200, _body(METRICS_PAGE)) == []


def test_validate_response_rejects_a_broken_metrics_collection(spec: Spec) -> None:
    page = copy.deepcopy(METRICS_PAGE)
    del page["data"][0]["links"]
    page["data"][0]["type"] = "metrc"
    assert validate_response(spec, "GET", "/api/metrics", 200, _body(page)) == [
        "get_metrics: 200 response body /data/0: 'links' is a required property",
        "get_metrics: 200 response body /data/0/type: 'metrc' is not one of ['metric']",
    ]


def test_spec_does_not_allow_null_pagination_links(spec: Spec) -> None:
    # CollectionLinks.next/prev are non-nullable strings in the spec, although
    # new-api-targets.md §1.3 shows `"prev": null`. Kept strict: the spec is the contract.
    page = copy.deepcopy(METRICS_PAGE)
    page["links"]["next"] = None
    assert validate_response(spec, "GET", "/api/metrics", 200, _body(page)) == [
        "get_metrics: 200 response body /links/next: None is not of type 'string'"
    ]


def test_validate_response_accepts_202_without_body(spec: Spec) -> None:
    assert validate_response(spec, "POST", "/api/events", 202, b"") == []
    assert validate_response(spec, "POST", "/api/events", 202, b"{}") == [
        "create_event: 202 response declares no body, got 2 bytes"
    ]


def test_validate_response_requires_declared_bodies(spec: Spec) -> None:
    assert validate_response(spec, "GET", "/api/metrics", 200, b"") == [
        "get_metrics: 200 response must have a JSON body, got none"
    ]


def test_validate_response_status_keys(spec: Spec) -> None:
    error = _body(
        {"errors": [{"id": "1", "status": 429, "code": "throttled", "title": "T", "detail": "D"}]}
    )
    assert validate_response(spec, "POST", "/api/events", 429, error) == []
    assert validate_response(spec, "POST", "/api/events", 200, b"") == [
        "create_event: status 200 is not declared (declared: 202, 4XX, 5XX)"
    ]
    assert validate_response(spec, "POST", "/api/events", 500, b'{"errors": [{}]}') == [
        "create_event: 500 response body /errors/0: 'id' is a required property",
        "create_event: 500 response body /errors/0: 'code' is a required property",
        "create_event: 500 response body /errors/0: 'title' is a required property",
        "create_event: 500 response body /errors/0: 'detail' is a required property",
    ]
