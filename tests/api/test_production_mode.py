"""Production safety: no GraphiQL, no introspection, unexpected errors masked but logged."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.settings import Settings
from tests.factories import gql, make_account


@pytest.fixture
async def prod_client(database_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(database_url=database_url, data_dir=tmp_path, mode="production")
    app = create_app(settings, manage_database=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        yield c


async def test_introspection_is_off_in_production(prod_client: httpx.AsyncClient) -> None:
    t = await make_account()
    body = await gql(prod_client, t.admin_key, "{ __schema { types { name } } }")
    assert body.get("data") is None
    assert "introspection" in body["errors"][0]["message"].lower()


async def test_introspection_is_on_in_development(client: httpx.AsyncClient) -> None:
    t = await make_account()
    body = await gql(client, t.admin_key, "{ __schema { queryType { name } } }")
    assert body["data"]["__schema"]["queryType"]["name"] == "Query"


async def test_graphiql_only_in_development(
    prod_client: httpx.AsyncClient, client: httpx.AsyncClient
) -> None:
    dev = await client.get("/graphql", headers={"Accept": "text/html"})
    assert dev.status_code == 200 and "graphiql" in dev.text.lower()
    prod = await prod_client.get("/graphql", headers={"Accept": "text/html"})
    assert prod.status_code != 200 or "graphiql" not in prod.text.lower()


async def test_unexpected_errors_are_masked_and_logged(
    prod_client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    from models import EndUser, Site

    t = await make_account()
    site = await Site.create(account=t.account, name="S")
    user = await EndUser.create(account=t.account, site=site, email="a@b.c", email_key="a@b.c")
    # A user whose site row vanished underneath (simulated data race) makes the resolver raise.
    await prod_client.post("/graphql")  # warm-up
    from tortoise import connections

    conn = connections.get("default")
    if conn.schema_generator.DIALECT == "sqlite":
        await conn.execute_script("PRAGMA foreign_keys = OFF")
        await conn.execute_script(f"UPDATE end_user SET site_id = 999999 WHERE id = {user.id}")
    else:
        pytest.skip("PostgreSQL enforces the foreign key; the race cannot be simulated")
    with caplog.at_level(logging.ERROR, logger="entrasync.api"):
        body = await gql(
            prod_client, t.admin_key, "{ endUsers { edges { node { site { name } } } } }"
        )
    assert body["errors"][0]["message"] == "Internal server error."
    assert "vanished" not in str(body)
    assert any("unexpected error" in r.message for r in caplog.records)
