from proxy.newapi.messages import UpstreamRequest, UpstreamResponse


def test_a_header_is_found_whatever_the_case_of_its_name():
    response = UpstreamResponse(200, {"ratelimit-limit": "75", "Retry-After": "3"})
    assert response.header("RateLimit-Limit") == "75"
    assert response.header("retry-after") == "3"
    assert response.header("Retry-After") == "3"
    assert response.header("RateLimit-Reset") is None


def test_of_names_equal_but_for_case_the_first_is_found_and_the_exact_one_first_of_all():
    response = UpstreamResponse(200, {"X-Thing": "first", "x-thing": "second", "X-THING": "third"})
    assert response.header("x-Thing") == "first"
    assert response.header("X-THING") == "third"
    assert response.header("x-thing") == "second"


def test_the_lowered_names_are_no_part_of_the_message_as_data():
    asked, fresh = UpstreamResponse(200, {"A": "1"}), UpstreamResponse(200, {"A": "1"})
    assert asked.header("a") == "1"
    assert asked == fresh and repr(asked) == repr(fresh)
    request = UpstreamRequest("GET", "/api/metrics", (), {"authorization": "Klaviyo-API-Key k"})
    assert request.header("Authorization") == "Klaviyo-API-Key k"
    assert request == UpstreamRequest("GET", "/api/metrics", (), {"authorization": "Klaviyo-API-Key k"})


def test_a_request_finds_a_header_whatever_the_case_the_first_of_equal_names_and_the_exact_one_first_of_all():
    request = UpstreamRequest("GET", "/api/metrics", (), {"X-Thing": "first", "x-thing": "second", "X-THING": "third"})
    assert request.header("x-Thing") == "first"
    assert request.header("X-THING") == "third"
    assert request.header("x-thing") == "second"
    assert request.header("Authorization") is None
