"""STYLE 3: a nested list query runs a constant number of SQL statements (DataLoaders, no N+1)."""

from __future__ import annotations

import logging

import httpx
import pytest

from tests.factories import gql, make_account, make_site, make_user

QUERY = "{ endUsers(first: 100) { edges { node { email site { id name } } } } }"


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.statements.append(record.getMessage())


@pytest.fixture
def sql_log() -> _Counter:
    logger = logging.getLogger("tortoise.db_client")
    handler = _Counter()
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    yield handler  # type: ignore[misc]
    logger.removeHandler(handler)
    logger.setLevel(old)


async def test_nested_site_of_100_users_costs_constant_queries(
    client: httpx.AsyncClient, sql_log: _Counter
) -> None:
    t = await make_account()
    sites = [await make_site(t.account, f"S{i}") for i in range(10)]
    for i in range(100):
        await make_user(sites[i % 10], email=f"n{i}@example.com")
    counts = []
    for _ in range(2):
        sql_log.statements.clear()
        body = await gql(client, t.tech_key, QUERY)
        assert len(body["data"]["endUsers"]["edges"]) == 100
        counts.append(len([s for s in sql_log.statements if "SELECT" in s.upper()]))
    sql_log.statements.clear()
    small = await gql(client, t.tech_key, QUERY.replace("100", "5"))
    assert len(small["data"]["endUsers"]["edges"]) == 5
    small_count = len([s for s in sql_log.statements if "SELECT" in s.upper()])
    # key lookup + users page + one batched site load, whatever the page size.
    assert counts[0] == counts[1] == small_count <= 3


async def test_review_items_with_candidates_and_sites_cost_constant_queries(
    client: httpx.AsyncClient, sql_log: _Counter
) -> None:
    from models import ConnectionScope, ReviewItem, ReviewKind, TenantConnection
    from schema.ids import encode_id

    t = await make_account()
    conn = await TenantConnection.create(account=t.account, scope=ConnectionScope.ACCOUNT)
    sites = [await make_site(t.account, f"R{i}") for i in range(5)]
    for i in range(30):
        users = [await make_user(sites[(i + j) % 5], email=f"r{i}@example.com") for j in (0, 1)]
        await ReviewItem.create(
            account_id=t.account.id,
            connection_id=conn.id,
            kind=ReviewKind.SEVERAL_PRODUCT_MATCHES,
            entra_object_id=f"obj-{i}",
            candidate_ids=[u.id for u in users],
            routed_site_id=sites[i % 5].id,
        )
    query = (
        '{ reviewItems(connectionId: "%s", first: %d) { edges { node { '
        "kind routedSite { name } candidates { email site { name } } } } } }"
    )
    counts = []
    for first in (30, 3):
        sql_log.statements.clear()
        body = await gql(
            client, t.tech_key, query % (encode_id("TenantConnection", conn.id), first)
        )
        assert len(body["data"]["reviewItems"]["edges"]) == first
        counts.append(len([s for s in sql_log.statements if "SELECT" in s.upper()]))
    # key lookup, connection, items page, one batch of end users, and at most two of sites
    # (routed sites, then the candidates' sites not among them), whatever the page size.
    assert max(counts) <= 6
