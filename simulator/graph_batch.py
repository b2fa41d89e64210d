"""Graph JSON batching (`POST /v1.0/$batch`): at most 20 items, dependsOn and 424, per-item faults."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

from multidict import CIMultiDict

from simulator.fault_responses import graph_fault
from simulator.graph_http import (
    GraphError,
    GraphRequest,
    GraphResponse,
    Route,
    authenticate,
    bad_request,
    dispatch,
    error_body,
)
from simulator.state import RequestRecord, SimState
from simulator.wire import dumps

MAX_BATCH = 20
_HIDDEN_HEADERS = frozenset({"x-ms-ags-diagnostic", "client-request-id", "request-id"})


def _validate(payload: Any) -> list[dict[str, Any]]:
    items = payload.get("requests") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise bad_request("Invalid batch payload format.", "BadRequest")
    if len(items) > MAX_BATCH:
        raise bad_request(
            f"Number of batch requests exceeds the limit of {MAX_BATCH}.", "BadRequest"
        )
    seen: set[str] = set()
    for item in items:
        if not isinstance(item, dict) or not all(
            isinstance(item.get(k), str) for k in ("id", "method", "url")
        ):
            raise bad_request("Invalid batch payload format.", "BadRequest")
        folded = item["id"].casefold()  # ids are not case-sensitive
        if folded in seen:
            raise bad_request("Batch request contains duplicate Ids.", "BadRequest")
        seen.add(folded)
    for item in items:
        for dependency in item.get("dependsOn") or []:
            if not isinstance(dependency, str) or dependency.casefold() not in seen:
                raise bad_request(f"Request dependsOn id '{dependency}' not found.", "BadRequest")
    return items


async def run_batch(
    state: SimState, routes: list[Route], graph_url: str, outer: GraphRequest
) -> GraphResponse:
    try:
        authenticate(state, outer)
        try:
            payload = json.loads(outer.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise bad_request(
                "Unable to read JSON request payload. Please ensure Content-Type header is set and "
                "payload is of valid JSON format.",
                "BadRequest",
            ) from None
        items = _validate(payload)
    except GraphError as exc:
        body = dumps(error_body(exc.status, exc.code, exc.message, outer))
        return GraphResponse(exc.status, body, "application/json", dict(exc.headers))
    by_id = {item["id"].casefold(): item for item in items}
    done: dict[str, dict[str, Any]] = {}

    async def run(item: dict[str, Any]) -> dict[str, Any]:
        key = item["id"].casefold()
        if key not in done:
            done[key] = {}  # guards against dependency cycles
            dependencies = [await run(by_id[d.casefold()]) for d in item.get("dependsOn") or []]
            if any(d.get("status", 424) >= 400 for d in dependencies):
                done[key] = _failed_dependency(item, outer)
            else:
                done[key] = await _run_item(state, routes, graph_url, outer, item)
        return done[key]

    responses = [await run(item) for item in items]
    # Graph answers in any order; a client that relies on order must fail here, not in production.
    state.rng.shuffle(responses)
    return GraphResponse(200, dumps({"responses": responses}))


def _failed_dependency(item: dict[str, Any], outer: GraphRequest) -> dict[str, Any]:
    return {
        "id": item["id"],
        "status": 424,
        "headers": {"Content-Type": "application/json"},
        "body": error_body(
            424,
            "FailedDependency",
            "The request was not executed because of a failed dependency.",
            outer,
        ),
    }


async def _run_item(
    state: SimState, routes: list[Route], graph_url: str, outer: GraphRequest, item: dict[str, Any]
) -> dict[str, Any]:
    url: str = item["url"]
    path, _, query = ("/" + url.lstrip("/")).partition("?")
    headers = CIMultiDict({str(k): str(v) for k, v in (item.get("headers") or {}).items()})
    headers["Authorization"] = outer.headers.get("Authorization", "")
    body = item.get("body")
    request = GraphRequest(
        item["method"].upper(), path, query, headers, b"" if body is None else dumps(body)
    )
    if url.startswith(("http://", "https://")):
        response = GraphResponse(
            400,
            dumps(
                error_body(400, "BadRequest", "Invalid request URL; it must be relative.", request)
            ),
        )
    else:
        fault = state.faults.take("/v1.0" + path)
        if fault is not None:
            await asyncio.sleep(fault.delay)
            response = graph_fault(fault if not fault.drop else type(fault)(status=500), request)
        else:
            response = await dispatch(state, routes, graph_url, request)
    retry_after = response.headers.get("Retry-After")
    state.requests.append(
        RequestRecord(
            request.method,
            "/v1.0" + path,
            query,
            response.status,
            time.monotonic(),
            float(retry_after) if retry_after else None,
            batch_item=item["id"],
        )
    )
    return _item_response(item["id"], response)


def _item_response(item_id: str, response: GraphResponse) -> dict[str, Any]:
    headers = {k: v for k, v in response.headers.items() if k.lower() not in _HIDDEN_HEADERS}
    headers["Content-Type"] = response.content_type
    body: Any
    if response.content_type.startswith("application/json"):
        body = response.json()
    else:
        body = base64.b64encode(response.body).decode("ascii")  # non-JSON bodies travel base64
    return {"id": item_id, "status": response.status, "headers": headers, "body": body}
