"""The sandbox: one in-memory Klaviyo that answers new-API requests as the real one does.

Every request passes the same gates in the same order: route (404/405), revision and
credentials (400/401), the account's quota for the operation (429), the spec (400), and
only then the handler. Beta operations answer only under the beta (`.pre`) revision and are
validated against the beta spec.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import orjson

from proxy.newapi.messages import Query, UpstreamRequest, UpstreamResponse
from proxy.openapi.spec import Spec, pinned_spec
from proxy.openapi.validate import validate_request
from proxy.revision import BETA_REVISION
from proxy.sandbox import errors
from proxy.sandbox.access import AccountDirectory, check_revision
from proxy.sandbox.enrolment import Enrolment
from proxy.sandbox.errors import ApiError
from proxy.sandbox.ids import IdFactory
from proxy.sandbox.jsonapi import MEDIA_TYPE
from proxy.sandbox.operations import OperationLimits, limits_for
from proxy.sandbox.ratelimit import Admitted, FixedWindowLimiter, Throttled
from proxy.sandbox.resources import ROUTES
from proxy.sandbox.routing import Call, Reply, Route, Router
from proxy.sandbox.store import Account

DEFAULT_BASE_URL = "https://a.klaviyo.com"
# Where a spec violation points, read from the validator's wording.
VIOLATION_POINTER = re.compile(r"request body (/\S*):")
VIOLATION_PARAMETER = re.compile(r"(?:query parameter|path parameter|header) '([^']+)'")


class Sandbox:
    def __init__(
        self,
        accounts: Iterable[Account] = (),
        *,
        spec: Spec | None = None,
        beta_spec: Spec | None = None,
        clock: Callable[[], float] = time.time,
        rate_limits: bool = True,
        base_url: str = DEFAULT_BASE_URL,
        ids: IdFactory | None = None,
        enrolment: Enrolment | None = None,
        job_delay: float | None = None,
    ) -> None:
        # Never without a spec: a sandbox that skipped validation would be kinder than Klaviyo.
        self.spec = spec or pinned_spec()
        self.beta_spec = beta_spec or pinned_spec(beta=True)
        self.base_url = base_url
        self.clock = clock
        self.ids = ids or IdFactory()
        self.job_delay = job_delay
        self._accounts = AccountDirectory(accounts, enrolment)
        for account in self._accounts:
            self._set_job_delay(account)
        self._router = Router(ROUTES)
        self._limits = {route.operation_id: limits_for(route.operation_id, self.spec, self.beta_spec) for route in ROUTES}
        self._limiter = FixedWindowLimiter() if rate_limits else None

    def run_due_jobs(self) -> None:
        """Klaviyo runs jobs in the background: an inspection sees those already due as done."""
        now = self.clock()
        for account in self._accounts:
            account.jobs.run_due(now)

    @property
    def accounts(self) -> list[Account]:
        return list(self._accounts)

    def account(self, public_key: str) -> Account:
        return self._accounts.get(public_key)

    def add_account(self, account: Account) -> None:
        self._set_job_delay(account)
        self._accounts.add(account)

    def _set_job_delay(self, account: Account) -> None:
        if self.job_delay is not None:
            account.jobs.delay = self.job_delay

    def list_owner(self, list_id: str) -> Account | None:
        """The account holding a list: a legacy sign-up form named its account by the list alone."""
        return next((account for account in self._accounts if account.lists.get(list_id) is not None), None)

    async def handle(self, request: UpstreamRequest) -> UpstreamResponse:
        now = self.clock()
        try:
            route, path_params = self._router.match(request.method, request.path)
            check_revision(request)
            _require_beta_revision(request, self._limits[route.operation_id])
            account = self._accounts.authenticate(request)
        except ApiError as error:
            return _failure([error], {})
        self._set_job_delay(account)  # accounts enrolled on the fly too
        account.jobs.run_due(now)
        limits = self._limits[route.operation_id]
        admission = self._admit(account, route, limits, request.query, now)
        if isinstance(admission, Throttled):
            return _failure([errors.throttled(admission.retry_after)], {})
        response_headers = admission.headers() if admission else {}
        violations = self._violations(request, limits)
        if violations:
            return _failure(violations, response_headers)
        try:
            call = self._call(request, account, path_params, limits, now)
            reply = route.handler(call)
        except ApiError as error:
            return _failure([error], response_headers)
        return _success(reply, response_headers)

    def _admit(
        self, account: Account, route: Route, limits: OperationLimits, query: Query, now: float
    ) -> Admitted | Throttled | None:
        """Spend the operation's quota, and the quota of every lower tier the query selects
        (`additional-fields[list]=profile_count`: 1/s, 15/m). The spec does not say whether
        such a request also counts in the operation's own tier; the stricter reading is
        that it does, so it must pass both. The headers report the lowest tier it used."""
        if self._limiter is None:
            return None
        admission = self._limiter.take((account.public_key, route.operation_id), limits.ratelimit, now)
        for tier in limits.conditional:
            if isinstance(admission, Throttled) or not tier.applies(query):
                continue
            key = (account.public_key, route.operation_id, tier.parameter, tier.value)
            admission = self._limiter.take(key, tier.ratelimit, now)
        return admission

    def _violations(self, request: UpstreamRequest, limits: OperationLimits) -> list[ApiError]:
        spec = self.beta_spec if limits.beta else self.spec
        problems = validate_request(spec, request.method, request.path, request.query, request.headers, request.body)
        return [_violation(problem) for problem in problems]

    def _call(
        self,
        request: UpstreamRequest,
        account: Account,
        path_params: Mapping[str, str],
        limits: OperationLimits,
        now: float,
    ) -> Call:
        return Call(
            account=account,
            path=request.path,
            path_params=path_params,
            query=request.query,
            body=_json_body(request.body),
            now=now,
            ids=self.ids,
            base_url=self.base_url,
            page_bounds=limits.page_size,
        )


def _require_beta_revision(request: UpstreamRequest, limits: OperationLimits) -> None:
    if limits.beta and request.header("revision") != BETA_REVISION:
        raise errors.invalid(
            f"This operation is in beta: it needs the revision header {BETA_REVISION}.", parameter="revision"
        )


def _json_body(body: bytes | None) -> Any:
    if not body:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise errors.invalid(f"The request body is not valid JSON: {error}", pointer="/") from None


def _violation(problem: str) -> ApiError:
    pointer = VIOLATION_POINTER.search(problem)
    parameter = VIOLATION_PARAMETER.search(problem)
    return errors.invalid(
        problem,
        pointer=pointer.group(1) if pointer else None,
        parameter=parameter.group(1) if parameter and not pointer else None,
    )


def _success(reply: Reply, headers: Mapping[str, str]) -> UpstreamResponse:
    if reply.document is None:
        return UpstreamResponse(reply.status, dict(headers))
    return UpstreamResponse(
        reply.status, {"Content-Type": MEDIA_TYPE, **headers}, orjson.dumps(reply.document)
    )


def _failure(failures: Sequence[ApiError], headers: Mapping[str, str]) -> UpstreamResponse:
    extra = {name: value for error in failures for name, value in error.headers.items()}
    body = orjson.dumps({"errors": [error.as_json() for error in failures]})
    return UpstreamResponse(failures[0].status, {"Content-Type": MEDIA_TYPE, **headers, **extra}, body)
