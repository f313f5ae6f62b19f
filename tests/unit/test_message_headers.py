from proxy.newapi.messages import UpstreamResponse


def test_a_header_is_found_whatever_the_case_of_its_name():
    response = UpstreamResponse(200, {"ratelimit-limit": "75", "Retry-After": "3"})
    assert response.header("RateLimit-Limit") == "75"
    assert response.header("retry-after") == "3"
    assert response.header("Retry-After") == "3"
    assert response.header("RateLimit-Reset") is None
