"""Graph JSON batching: up to 20 sub-requests per POST /$batch, throttled items sent again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from entra.errors import GraphError
from entra.transport import (
    RETRY_STATUSES,
    RetryPolicy,
    Transport,
    backoff_delay,
    parse_retry_after,
)
from entra.types import BatchRequest, BatchResponse

log = logging.getLogger(__name__)

BATCH_LIMIT = 20  # Graph's maximum sub-requests per $batch


async def run_batch(
    t: Transport, policy: RetryPolicy, requests: Sequence[BatchRequest]
) -> list[BatchResponse]:
    """Send `requests` in chunks of 20 and return the answers in request order.

    Raises ValueError for duplicate ids (Graph compares them case-insensitively), GraphError if
    an answer is missing, and the transport's GraphError subtypes for the envelope.
    """
    keys = [r.id.lower() for r in requests]
    if len(set(keys)) != len(keys):
        raise ValueError("batch request ids must be unique (case-insensitively)")
    results: dict[str, BatchResponse] = {}
    for start in range(0, len(requests), BATCH_LIMIT):
        results.update(await _run_chunk(t, policy, requests[start : start + BATCH_LIMIT]))
    missing = [r.id for r in requests if r.id.lower() not in results]
    if missing:
        raise GraphError(f"Graph $batch returned no response for {len(missing)} requests")
    return [results[r.id.lower()] for r in requests]


async def _run_chunk(
    t: Transport, policy: RetryPolicy, chunk: Sequence[BatchRequest]
) -> dict[str, BatchResponse]:
    done: dict[str, BatchResponse] = {}
    pending = list(chunk)
    attempt = 0
    waited = 0.0
    while pending:
        attempt += 1
        payload = {"requests": [_batch_item(r) for r in pending]}
        envelope = await t.request("POST", t.url("/$batch"), json_body=payload)
        if not isinstance(envelope, dict):
            raise GraphError("Graph returned a malformed $batch response")
        responses = envelope.get("responses")
        if not isinstance(responses, list):
            raise GraphError("Graph returned a malformed $batch response")
        retry: list[BatchRequest] = []
        waits: list[float] = []
        by_id = {r.id.lower(): r for r in pending}
        for raw in responses:
            resp = _batch_response(raw)
            if resp is None or resp.id.lower() not in by_id:
                continue
            done[resp.id.lower()] = resp
            if resp.status in RETRY_STATUSES:
                retry.append(by_id[resp.id.lower()])
                ra = parse_retry_after(_header(resp.headers, "Retry-After"))
                waits.append(ra if ra is not None else backoff_delay(policy, attempt))
        wait = max(waits, default=0.0)
        if (
            not retry
            or attempt >= policy.max_attempts
            or wait > policy.max_wait
            or waited + wait > policy.total_budget
        ):
            return done
        log.warning("Graph $batch: %d sub-requests throttled; retry in %.2fs", len(retry), wait)
        await asyncio.sleep(wait)
        waited += wait
        pending = retry
    return done


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)


def _batch_item(r: BatchRequest) -> dict[str, Any]:
    item: dict[str, Any] = {"id": r.id, "method": r.method, "url": r.url}
    if r.headers:
        item["headers"] = dict(r.headers)
    if r.body is not None:
        item["body"] = r.body
        item.setdefault("headers", {}).setdefault("Content-Type", "application/json")
    return item


def _batch_response(raw: Any) -> BatchResponse | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("status"), int):
        return None
    headers = raw.get("headers")
    return BatchResponse(
        id=str(raw.get("id")),
        status=raw["status"],
        headers={str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {},
        body=raw.get("body"),
    )
