from proxy.mapping.chart import parse_chart

CHART = """v1/v2 endpointSupported featuresNew endpointSupported features
GET
/api/v1/metrics
  • Get all metrics
GET
/api/metrics
  • Cursor pages
GET
api/v1/metric/{metric_id}/
timeline
  • one metric
GET
/api/events?filter=equals
(metric_id,"{metric_id}")
  • filtered
GET
/api/v1/campaign/{id}/recipients
  • recipients
GET
/api/campaigns/

GET /api/lists/{list_id}/profiles/
  • two new endpoints for one legacy row
New endpoints without corresponding v1/v2 endpoints
GET /api/segments
"""


def test_rows_pair_legacy_and_new_groups_and_unwrap_paths():
    assert [row.key for row in parse_chart(CHART)] == [
        "GET /api/v1/metrics → GET /api/metrics",
        'GET /api/v1/metric/{metric_id}/timeline → GET /api/events?filter=equals(metric_id,"{metric_id}")',
        "GET /api/v1/campaign/{id}/recipients → GET /api/campaigns",
        "GET /api/v1/campaign/{id}/recipients → GET /api/lists/{list_id}/profiles",
    ]
