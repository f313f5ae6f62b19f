"""Each sandbox handler declares its route where it is defined, and the handler's name is the
operation id. These tests keep that convention honest: a renamed handler must not quietly
serve another operation's path or borrow its rate limits."""

from proxy.openapi.spec import pinned_spec
from proxy.sandbox.resources import ROUTES
from proxy.sandbox.routing import Call, Reply, RouteTable


def test_every_route_is_the_spec_operation_of_its_method_and_path(loaded_spec):
    beta_spec = pinned_spec(beta=True)
    stable = {operation.operation_id for operation in loaded_spec.operations}
    for route in ROUTES:
        operation = (loaded_spec if route.operation_id in stable else beta_spec).by_id(route.operation_id)
        assert (operation.method, operation.path) == (route.method, route.template), route.operation_id


def test_a_route_is_named_by_its_handler_unless_it_names_another_operation():
    table = RouteTable()

    @table.route("POST", "/api/events")
    @table.route("POST", "/client/events", "create_client_event")
    def create_event(call: Call) -> Reply:
        return Reply(202)

    assert sorted((route.template, route.operation_id) for route in table) == [
        ("/api/events", "create_event"),
        ("/client/events", "create_client_event"),
    ]
    assert all(route.handler is create_event for route in table)
