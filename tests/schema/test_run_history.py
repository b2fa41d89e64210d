"""R1/A1: a long run history read from its newest end (`last`/`before`), as a UI shows it."""

from __future__ import annotations

from typing import Any

import httpx

from models import ConnectionScope, RunStatus, SyncRun, TenantConnection
from schema.ids import encode_id
from tests.factories import gql, make_account

PAGE = """
query($c: ID, $first: Int, $after: String, $last: Int, $before: String) {
  syncRuns(connectionId: $c, first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}"""


async def test_newest_runs_first_page_then_older_ones(client: httpx.AsyncClient) -> None:
    t = await make_account()
    conn = await TenantConnection.create(account_id=t.account.id, scope=ConnectionScope.ACCOUNT)
    other = await TenantConnection.create(account_id=t.account.id, scope=ConnectionScope.ACCOUNT)
    ids: list[str] = []
    for i in range(7):
        run = await SyncRun.create(
            account_id=t.account.id, connection=conn, status=RunStatus.SUCCEEDED
        )
        ids.append(encode_id("SyncRun", run.id))
        if i % 2:  # another connection's runs interleave, and stay out of the filter
            await SyncRun.create(account_id=t.account.id, connection=other)
    c = encode_id("TenantConnection", conn.id)

    async def page(**variables: Any) -> dict[str, Any]:
        body = await gql(client, t.tech_key, PAGE, {"c": c, **variables})
        result: dict[str, Any] = body["data"]["syncRuns"]
        return result

    newest = await page(last=3)
    assert [e["node"]["id"] for e in newest["edges"]] == ids[4:]
    assert newest["pageInfo"]["hasPreviousPage"] is True
    assert newest["pageInfo"]["hasNextPage"] is False
    older = await page(last=3, before=newest["pageInfo"]["startCursor"])
    assert [e["node"]["id"] for e in older["edges"]] == ids[1:4]
    assert older["pageInfo"]["hasPreviousPage"] is True
    assert older["pageInfo"]["hasNextPage"] is True
    oldest = await page(last=3, before=older["pageInfo"]["startCursor"])
    assert [e["node"]["id"] for e in oldest["edges"]] == ids[:1]
    assert oldest["pageInfo"]["hasPreviousPage"] is False
    # Forward paging is unchanged.
    forward = await page(first=4)
    assert [e["node"]["id"] for e in forward["edges"]] == ids[:4]


async def test_mixing_directions_or_a_bad_last_is_refused(client: httpx.AsyncClient) -> None:
    t = await make_account()
    for variables in ({"first": 2, "last": 2}, {"after": None, "first": 1, "before": "x"}):
        body = await gql(client, t.tech_key, PAGE, {"c": None, **variables})
        assert body["errors"][0]["extensions"]["code"] == "BAD_PAGE_SIZE", variables
    for last in (0, 101):
        body = await gql(client, t.tech_key, PAGE, {"c": None, "last": last})
        assert body["errors"][0]["message"] == "`last` must be between 1 and 100"
