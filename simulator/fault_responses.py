"""What an injected fault looks like on the wire: Graph's error JSON, or Entra's on login paths."""

from __future__ import annotations

from typing import Any

from simulator.faults import Fault
from simulator.graph_http import GraphRequest, GraphResponse, error_body
from simulator.login_errors import EntraError
from simulator.wire import dumps

_GRAPH_ERRORS: dict[int, tuple[str, str]] = {
    429: ("TooManyRequests", "Please retry again later."),
    500: ("generalException", "General exception while processing."),
    502: ("badGateway", "Bad gateway."),
    503: ("serviceNotAvailable", "The service is temporarily unavailable. Please retry later."),
    504: ("gatewayTimeout", "The gateway did not receive a timely response."),
}


def retry_after_header(fault: Fault) -> dict[str, str]:
    # Graph sends fractional seconds (e.g. 2.128); clients must parse a float.
    return {} if fault.retry_after is None else {"Retry-After": f"{fault.retry_after:g}"}


def graph_fault(fault: Fault, request: GraphRequest) -> GraphResponse:
    if fault.body is not None:
        body: dict[str, Any] = fault.body
    else:
        code, message = _GRAPH_ERRORS.get(fault.status, ("UnknownError", "Injected failure."))
        body = error_body(fault.status, code, message, request)
    headers = {
        "request-id": request.request_id,
        "client-request-id": request.client_request_id,
        **retry_after_header(fault),
    }
    if fault.status == 429:
        headers["x-ms-throttle-information"] = "ResourceUnitLimitExceeded"
    return GraphResponse(fault.status, dumps(body), "application/json", headers)


def login_fault_body(fault: Fault, correlation_id: str | None) -> dict[str, Any]:
    if fault.body is not None:
        return fault.body
    return EntraError(
        "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."
    ).body(correlation_id)
