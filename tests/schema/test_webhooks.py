"""Webhooks through the API: secrets shown once, typed errors, ADMIN only, account isolation,
testWebhook against a real receiver, and the delivery log's pagination."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.runtime import open_runtime
from api.settings import Settings
from models import DeliveryStatus, WebhookDelivery
from schema.ids import decode_id
from services.webhooks import notify, verify
from tests.factories import Tenant, gql, make_account
from tests.webhook_receiver import Answer, Receiver, serve_receiver

CREATE = """
mutation($url: String!, $events: [WebhookEvent!]!, $d: String! = "") {
  createWebhook(input: {url: $url, events: $events, description: $d}) {
    __typename
    ... on WebhookSecretPayload { secret webhook { id url description events enabled } }
    ... on ValidationError { field }
    ... on Error { message }
  }
}"""
UPDATE = """
mutation($input: UpdateWebhookInput!) {
  updateWebhook(input: $input) {
    __typename
    ... on WebhookPayload { webhook { id url description events enabled updatedAt } }
    ... on ValidationError { field }
    ... on Error { message }
  }
}"""
DELETE = """
mutation($id: ID!) {
  deleteWebhook(input: {id: $id}) {
    __typename ... on DeleteWebhookPayload { deletedId } ... on Error { message }
  }
}"""
ROTATE = """
mutation($id: ID!) {
  rotateWebhookSecret(input: {id: $id}) {
    __typename ... on WebhookSecretPayload { secret webhook { id } } ... on Error { message }
  }
}"""
TEST = """
mutation($id: ID!) {
  testWebhook(input: {id: $id}) {
    __typename
    ... on TestWebhookPayload {
      delivery { id webhookId event status attempts lastStatusCode lastError nextAttemptAt deliveredAt }
    }
    ... on Error { message }
  }
}"""
LIST = """
query($first: Int, $after: String) {
  webhooks(first: $first, after: $after) {
    edges { cursor node { id url description events enabled createdAt updatedAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
DELIVERIES = """
query($id: ID!, $status: WebhookDeliveryStatus, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $id, status: $status, first: $first, after: $after) {
    edges { cursor node { id event status attempts lastStatusCode lastError createdAt } }
    pageInfo { hasNextPage endCursor }
  }
}"""
NODE = "query($id: ID!) { node(id: $id) { __typename ... on Webhook { id url events } } }"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as r:
        yield r


async def _create(
    client: httpx.AsyncClient, t: Tenant, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    body = await gql(client, t.admin_key, CREATE, {"url": url, "events": events or ["RUN_FAILED"]})
    result: dict[str, Any] = body["data"]["createWebhook"]
    assert result["__typename"] == "WebhookSecretPayload", result
    return result


async def test_admin_creates_a_webhook_and_sees_its_secret_once(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    created = await _create(client, t, receiver.url(), ["RUN_SUCCEEDED", "RUN_FAILED"])
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    hook = created["webhook"]
    assert hook["url"] == receiver.url() and hook["enabled"] is True
    assert hook["events"] == ["RUN_SUCCEEDED", "RUN_FAILED"]

    later = [
        await gql(client, t.tech_key, LIST),
        await gql(client, t.tech_key, NODE, {"id": hook["id"]}),
        await gql(client, t.admin_key, UPDATE, {"input": {"id": hook["id"], "description": "x"}}),
        await gql(client, t.admin_key, TEST, {"id": hook["id"]}),
        await gql(client, t.tech_key, DELIVERIES, {"id": hook["id"]}),
    ]
    for body in later:
        assert "errors" not in body, body
        assert secret not in json.dumps(body)
    assert later[0]["data"]["webhooks"]["edges"][0]["node"]["id"] == hook["id"]
    assert later[1]["data"]["node"]["url"] == receiver.url()


async def test_rotation_returns_a_new_secret_that_signs_from_then_on(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    created = await _create(client, t, receiver.url())
    rotated = (await gql(client, t.admin_key, ROTATE, {"id": created["webhook"]["id"]}))["data"][
        "rotateWebhookSecret"
    ]
    assert rotated["__typename"] == "WebhookSecretPayload"
    new = rotated["secret"]
    assert new != created["secret"]
    await gql(client, t.admin_key, TEST, {"id": created["webhook"]["id"]})
    [req] = receiver.requests
    ts, sig = req.headers["X-Entrasync-Timestamp"], req.headers["X-Entrasync-Signature"]
    assert verify(new, ts, req.body, sig)
    assert not verify(created["secret"], ts, req.body, sig)


async def test_test_webhook_sends_a_signed_ping_and_returns_the_outcome(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    created = await _create(client, t, receiver.url())
    hook_id = created["webhook"]["id"]
    result = (await gql(client, t.admin_key, TEST, {"id": hook_id}))["data"]["testWebhook"]
    delivery = result["delivery"]
    assert delivery["status"] == "DELIVERED" and delivery["event"] == "PING"
    assert delivery["attempts"] == 1 and delivery["lastStatusCode"] == 200
    assert delivery["deliveredAt"] and delivery["nextAttemptAt"] is None
    assert delivery["webhookId"] == hook_id

    [req] = receiver.requests
    assert req.headers["X-Entrasync-Event"] == "PING"
    assert req.headers["X-Entrasync-Delivery"] == delivery["id"]
    assert verify(
        created["secret"],
        req.headers["X-Entrasync-Timestamp"],
        req.body,
        req.headers["X-Entrasync-Signature"],
    )
    body = json.loads(req.body)
    assert body["event"] == "PING" and body["data"]["webhookId"] == hook_id


async def test_test_webhook_reports_a_failing_receiver_and_does_not_retry(
    client: httpx.AsyncClient, receiver: Receiver, settings: Settings
) -> None:
    t = await make_account()
    hook_id = (await _create(client, t, receiver.url()))["webhook"]["id"]
    receiver.then(Answer(status=500, body="boom"))
    delivery = (await gql(client, t.admin_key, TEST, {"id": hook_id}))["data"]["testWebhook"][
        "delivery"
    ]
    assert delivery["status"] == "FAILED" and delivery["lastStatusCode"] == 500
    assert delivery["lastError"] == "HTTP 500: boom" and delivery["nextAttemptAt"] is None
    # a disabled webhook can still be tested
    await gql(client, t.admin_key, UPDATE, {"input": {"id": hook_id, "enabled": False}})
    again = (await gql(client, t.admin_key, TEST, {"id": hook_id}))["data"]["testWebhook"]
    assert again["delivery"]["status"] == "DELIVERED"
    assert len(receiver.requests) == 2
    assert not await WebhookDelivery.filter(status=DeliveryStatus.PENDING).exists()


@pytest.mark.parametrize(
    ("url", "events", "field"),
    [
        ("http://hooks.example.com/x", ["RUN_FAILED"], "url"),
        ("ftp://hooks.example.com/x", ["RUN_FAILED"], "url"),
        ("https://me:pw@hooks.example.com/x", ["RUN_FAILED"], "url"),
        ("https://169.254.169.254/latest/meta-data", ["RUN_FAILED"], "url"),
        ("https://10.0.0.1/x", ["RUN_FAILED"], "url"),
        ("not a url", ["RUN_FAILED"], "url"),
        ("https://hooks.example.com/x", [], "events"),
        ("https://hooks.example.com/x", ["PING"], "events"),
    ],
)
async def test_create_webhook_validation_errors(
    client: httpx.AsyncClient, url: str, events: list[str], field: str
) -> None:
    t = await make_account()
    result = (await gql(client, t.admin_key, CREATE, {"url": url, "events": events}))["data"][
        "createWebhook"
    ]
    assert result["__typename"] == "ValidationError" and result["field"] == field
    assert (await gql(client, t.admin_key, LIST))["data"]["webhooks"]["edges"] == []


async def test_unknown_event_names_are_refused_by_the_schema(client: httpx.AsyncClient) -> None:
    t = await make_account()
    body = await gql(
        client, t.admin_key, CREATE, {"url": "https://hooks.example.com", "events": ["NOPE"]}
    )
    assert body["errors"] and body.get("data") is None


async def test_update_webhook_changes_only_what_is_given(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    hook = (await _create(client, t, receiver.url()))["webhook"]
    updated = (
        await gql(
            client,
            t.admin_key,
            UPDATE,
            {"input": {"id": hook["id"], "events": ["CONNECTION_NEEDS_ATTENTION", "RUN_FAILED"]}},
        )
    )["data"]["updateWebhook"]["webhook"]
    assert updated["events"] == ["RUN_FAILED", "CONNECTION_NEEDS_ATTENTION"]
    assert updated["url"] == hook["url"] and updated["enabled"] is True
    bad = (
        await gql(
            client,
            t.admin_key,
            UPDATE,
            {"input": {"id": hook["id"], "url": "http://example.com/insecure"}},
        )
    )["data"]["updateWebhook"]
    assert bad["__typename"] == "ValidationError" and bad["field"] == "url"
    long = (
        await gql(
            client, t.admin_key, UPDATE, {"input": {"id": hook["id"], "description": "x" * 501}}
        )
    )["data"]["updateWebhook"]
    assert long["__typename"] == "ValidationError" and long["field"] == "description"


async def test_technician_reads_but_cannot_change_webhooks(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    hook_id = (await _create(client, t, receiver.url()))["webhook"]["id"]
    attempts: list[tuple[str, dict[str, Any], str]] = [
        (CREATE, {"url": receiver.url(), "events": ["RUN_FAILED"]}, "createWebhook"),
        (UPDATE, {"input": {"id": hook_id, "enabled": False}}, "updateWebhook"),
        (DELETE, {"id": hook_id}, "deleteWebhook"),
        (ROTATE, {"id": hook_id}, "rotateWebhookSecret"),
        (TEST, {"id": hook_id}, "testWebhook"),
    ]
    for query, variables, name in attempts:
        result = (await gql(client, t.tech_key, query, variables))["data"][name]
        assert result["__typename"] == "PermissionDeniedError", name
    assert receiver.requests == []
    listed = (await gql(client, t.tech_key, LIST))["data"]["webhooks"]["edges"]
    assert [e["node"]["enabled"] for e in listed] == [True]


async def test_another_accounts_webhook_behaves_as_missing(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    owner, stranger = await make_account(), await make_account()
    hook_id = (await _create(client, owner, receiver.url()))["webhook"]["id"]
    for query, variables, name in [
        (UPDATE, {"input": {"id": hook_id, "enabled": False}}, "updateWebhook"),
        (DELETE, {"id": hook_id}, "deleteWebhook"),
        (ROTATE, {"id": hook_id}, "rotateWebhookSecret"),
        (TEST, {"id": hook_id}, "testWebhook"),
    ]:
        result = (await gql(client, stranger.admin_key, query, variables))["data"][name]
        assert result == {"__typename": "NotFoundError", "message": "webhook not found"}, name
    assert receiver.requests == []
    assert (await gql(client, stranger.admin_key, LIST))["data"]["webhooks"]["edges"] == []
    assert (await gql(client, stranger.admin_key, NODE, {"id": hook_id}))["data"]["node"] is None
    foreign = await gql(client, stranger.tech_key, DELIVERIES, {"id": hook_id})
    assert foreign["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    still = (await gql(client, owner.tech_key, LIST))["data"]["webhooks"]["edges"]
    assert [e["node"]["enabled"] for e in still] == [True]
    # a malformed or wrong-type id is missing too
    for bad in ("nope", "U2l0ZTox"):
        result = (await gql(client, owner.admin_key, DELETE, {"id": bad}))["data"]["deleteWebhook"]
        assert result["__typename"] == "NotFoundError"


async def test_delete_webhook_removes_it_and_its_log(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    hook_id = (await _create(client, t, receiver.url()))["webhook"]["id"]
    await gql(client, t.admin_key, TEST, {"id": hook_id})
    deleted = (await gql(client, t.admin_key, DELETE, {"id": hook_id}))["data"]["deleteWebhook"]
    assert deleted == {"__typename": "DeleteWebhookPayload", "deletedId": hook_id}
    assert (await gql(client, t.admin_key, LIST))["data"]["webhooks"]["edges"] == []
    assert not await WebhookDelivery.exists()
    again = (await gql(client, t.admin_key, DELETE, {"id": hook_id}))["data"]["deleteWebhook"]
    assert again["__typename"] == "NotFoundError"


async def test_delivery_log_pages_and_filters_by_status(
    client: httpx.AsyncClient, receiver: Receiver, settings: Settings
) -> None:
    t = await make_account()
    hook_id = (await _create(client, t, receiver.url()))["webhook"]["id"]
    async with open_runtime(settings) as rt:
        for n in range(3):
            await notify(rt, t.account.id, "RUN_FAILED", {"n": n})
    await gql(client, t.admin_key, TEST, {"id": hook_id})

    first = (await gql(client, t.tech_key, DELIVERIES, {"id": hook_id, "first": 2}))["data"][
        "webhookDeliveries"
    ]
    assert [e["node"]["event"] for e in first["edges"]] == ["RUN_FAILED", "RUN_FAILED"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (
        await gql(
            client,
            t.tech_key,
            DELIVERIES,
            {"id": hook_id, "first": 2, "after": first["pageInfo"]["endCursor"]},
        )
    )["data"]["webhookDeliveries"]
    assert [e["node"]["event"] for e in rest["edges"]] == ["RUN_FAILED", "PING"]
    assert rest["pageInfo"]["hasNextPage"] is False
    pending = (await gql(client, t.tech_key, DELIVERIES, {"id": hook_id, "status": "PENDING"}))[
        "data"
    ]["webhookDeliveries"]["edges"]
    assert [e["node"]["status"] for e in pending] == ["PENDING"] * 3
    delivered = (await gql(client, t.tech_key, DELIVERIES, {"id": hook_id, "status": "DELIVERED"}))[
        "data"
    ]["webhookDeliveries"]["edges"]
    assert [e["node"]["event"] for e in delivered] == ["PING"]
    too_many = await gql(client, t.tech_key, DELIVERIES, {"id": hook_id, "first": 1000})
    assert too_many["errors"][0]["extensions"]["code"] == "BAD_PAGE_SIZE"


async def test_webhooks_list_pages_in_creation_order(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    ids = [(await _create(client, t, receiver.url(f"/{n}")))["webhook"]["id"] for n in range(3)]
    page = (await gql(client, t.tech_key, LIST, {"first": 2}))["data"]["webhooks"]
    assert [e["node"]["id"] for e in page["edges"]] == ids[:2]
    rest = (
        await gql(client, t.tech_key, LIST, {"first": 2, "after": page["pageInfo"]["endCursor"]})
    )["data"]["webhooks"]
    assert [e["node"]["id"] for e in rest["edges"]] == ids[2:]
    assert all(decode_id(i, "Webhook") for i in ids)


async def test_an_account_has_at_most_twenty_webhooks(client: httpx.AsyncClient) -> None:
    t = await make_account()
    for n in range(20):
        await _create(client, t, f"https://hooks.example.com/{n}")
    result = (
        await gql(
            client,
            t.admin_key,
            CREATE,
            {"url": "https://hooks.example.com/21", "events": ["RUN_FAILED"]},
        )
    )["data"]["createWebhook"]
    assert result["__typename"] == "ValidationError" and "at most 20" in result["message"]
    other = await make_account()
    await _create(client, other, "https://hooks.example.com/else")  # per account
    many = await gql(
        client,
        other.admin_key,
        CREATE,
        {"url": "https://hooks.example.com/x", "events": ["RUN_FAILED"] * 21},
    )
    assert many["data"]["createWebhook"]["field"] == "events"


async def test_lists_cost_constant_queries_whatever_the_page_size(
    client: httpx.AsyncClient, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    t = await make_account()
    hook_id = (await _create(client, t, "https://hooks.example.com/x"))["webhook"]["id"]
    for n in range(2):
        await _create(client, t, f"https://hooks.example.com/{n}")
    async with open_runtime(settings) as rt:
        for n in range(30):
            await notify(rt, t.account.id, "RUN_FAILED", {"n": n})

    async def selects(query: str, variables: dict[str, Any]) -> int:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="tortoise.db_client"):
            body = await gql(client, t.tech_key, query, variables)
        assert "errors" not in body, body
        return sum(
            1
            for r in caplog.records
            if r.name == "tortoise.db_client" and "SELECT" in r.getMessage()
        )

    # key look-up + the page (+ the webhook's scoped look-up for its log)
    assert 1 <= await selects(LIST, {"first": 1}) == await selects(LIST, {"first": 3}) <= 2
    assert (
        2
        <= await selects(DELIVERIES, {"id": hook_id, "first": 2})
        == await selects(DELIVERIES, {"id": hook_id, "first": 30})
        <= 3
    )


async def test_technicians_see_webhook_urls_without_their_query(
    client: httpx.AsyncClient, receiver: Receiver
) -> None:
    t = await make_account()
    # Receivers often take a token in the query string (user info is refused at creation).
    secret_url = receiver.url() + "?token=s3cr3t"
    hook_id = (await _create(client, t, secret_url))["webhook"]["id"]
    admin = (await gql(client, t.admin_key, LIST))["data"]["webhooks"]["edges"]
    assert [e["node"]["url"] for e in admin] == [secret_url]
    plain = receiver.url()
    for query, variables in [(LIST, None), (NODE, {"id": hook_id})]:
        body = json.dumps(await gql(client, t.tech_key, query, variables))
        assert "s3cr3t" not in body
        assert json.dumps(plain + "?…")[1:-1] in body
