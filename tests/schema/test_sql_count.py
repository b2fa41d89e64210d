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
