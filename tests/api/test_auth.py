"""A5: bearer API keys, hashed at rest; unauthenticated and forged requests are refused."""

from __future__ import annotations

import hashlib

import httpx

from models import ApiKey
from tests.factories import gql, make_account

VIEWER = "{ viewer { role } }"


async def test_missing_or_bad_keys_get_401(client: httpx.AsyncClient) -> None:
    t = await make_account()
    for key in (None, "wrong", t.admin_key + "x", t.admin_key[:-1], "es_" + "0" * 12 + "_abc"):
        body = await gql(client, key, VIEWER)
        assert body["_status"] == 401, key
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert "data" not in body
    ok = await gql(client, t.admin_key, VIEWER)
    assert ok["data"]["viewer"]["role"] == "ADMIN"


async def test_basic_scheme_and_401_header(client: httpx.AsyncClient) -> None:
    t = await make_account()
    r = await client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": f"Basic {t.admin_key}"}
    )
    assert r.status_code == 401
    assert r.headers["www-authenticate"].startswith("Bearer")


async def test_keys_are_stored_only_as_hashes(client: httpx.AsyncClient) -> None:
    t = await make_account()
    rows = await ApiKey.filter(account_id=t.account.id).values_list("key_hash", "prefix", "name")
    stored = " ".join(str(v) for row in rows for v in row)
    assert t.admin_key not in stored and t.tech_key not in stored
    assert hashlib.sha256(t.admin_key.encode()).hexdigest() in stored


async def test_revoked_key_is_refused(client: httpx.AsyncClient) -> None:
    from datetime import UTC, datetime

    t = await make_account()
    await ApiKey.filter(account_id=t.account.id, role="ADMIN").update(revoked_at=datetime.now(UTC))
    assert (await gql(client, t.admin_key, VIEWER))["_status"] == 401


async def test_queries_via_get_are_refused(client: httpx.AsyncClient) -> None:
    t = await make_account()
    r = await client.get(
        "/graphql", params={"query": VIEWER}, headers={"Authorization": f"Bearer {t.admin_key}"}
    )
    assert r.status_code in (400, 405)
    assert "viewer" not in r.text


async def test_oversized_body_is_refused_before_parsing(client: httpx.AsyncClient) -> None:
    t = await make_account()
    huge = "{ viewer { role } }" + " " * 30_000
    r = await client.post(
        "/graphql", json={"query": huge}, headers={"Authorization": f"Bearer {t.admin_key}"}
    )
    assert r.status_code == 413


async def test_depth_and_alias_limits(client: httpx.AsyncClient) -> None:
    t = await make_account()
    aliases = "{ " + " ".join(f"a{i}: viewer {{ role }}" for i in range(20)) + " }"
    body = await gql(client, t.admin_key, aliases)
    assert body["errors"] and "aliases" in body["errors"][0]["message"].lower()
    deep = "{ endUsers { edges { node { site { id } } } } }"
    assert "errors" not in await gql(client, t.admin_key, deep)


async def test_health_endpoints(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["database"] == "up"
