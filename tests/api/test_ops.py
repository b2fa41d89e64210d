"""Operations: Prometheus metrics, structured logs with request and run ids, secrets redacted."""

from __future__ import annotations

import io
import json
import logging

import httpx

from api.logs import JsonFormatter, RedactingFilter, redact
from models import ConnectionScope, RunStatus, SyncRun, TenantConnection
from services import logctx
from tests.factories import gql, make_account


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger(f"entrasync.test.{id(stream)}")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_json_logs_carry_request_and_run_ids_and_never_secrets() -> None:
    logger, stream = _capture()
    t1 = logctx.request_id.set("req-123")
    t2 = logctx.run_id.set(42)
    try:
        logger.info("calling Graph with %s", "Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.c2ln")
        logger.info(
            "key es_0123456789ab_SuperSecretValue-xyz used; refresh_token=abc.def; code=OAQABAAIA"
        )
        try:
            raise RuntimeError("client_secret=hunter2 rejected")
        except RuntimeError:
            logger.exception("token request failed")
    finally:
        logctx.run_id.reset(t2)
        logctx.request_id.reset(t1)
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [entry["request_id"] for entry in lines] == ["req-123"] * 3
    assert all(entry["run_id"] == 42 for entry in lines)
    text = stream.getvalue()
    for secret in ("eyJhbGciOi", "SuperSecretValue", "abc.def", "OAQABAAIA", "hunter2"):
        assert secret not in text
    assert "Bearer [redacted]" in text and "[redacted]" in lines[2]["exception"]


def test_redact_leaves_ordinary_text_alone() -> None:
    text = "synced 1,000 users into site Paris (run 7) in 2.5 s"
    assert redact(text) == text


async def test_metrics_endpoint_reports_runs_users_and_graph_traffic(
    client: httpx.AsyncClient,
) -> None:
    t = await make_account()
    conn = await TenantConnection.create(account_id=t.account.id, scope=ConnectionScope.ACCOUNT)
    await SyncRun.create(
        account_id=t.account.id, connection=conn, status=RunStatus.SUCCEEDED, created=5, updated=2
    )
    await SyncRun.create(
        account_id=t.account.id, connection=conn, status=RunStatus.FAILED, errors=1
    )
    await SyncRun.create(
        account_id=t.account.id,
        connection=conn,
        status=RunStatus.SUCCEEDED,
        dry_run=True,
        created=99,
    )
    body = (await client.get("/metrics")).text
    assert 'entrasync_sync_runs{status="SUCCEEDED"} 2' in body
    assert 'entrasync_sync_runs{status="FAILED"} 1' in body
    assert 'entrasync_sync_users_total{outcome="created"} 5' in body  # dry runs write nothing
    assert 'entrasync_sync_users_total{outcome="updated"} 2' in body
    assert "entrasync_graph_requests_total" in body and "entrasync_active_subscriptions" in body
    assert t.account.name not in body


async def test_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    t = await make_account()
    r = await client.post(
        "/graphql",
        json={"query": "{ viewer { role } }"},
        headers={"Authorization": f"Bearer {t.admin_key}", "X-Request-ID": "abc-1"},
    )
    assert r.headers["x-request-id"] == "abc-1"
    generated = await client.get("/healthz")
    assert len(generated.headers["x-request-id"]) == 32
    assert (await gql(client, t.admin_key, "{ viewer { role } }"))["_status"] == 200
