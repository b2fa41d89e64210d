"""C3 and A5 at rest: the encryption key rotates with every stored token still readable; no token,
key or API key is ever in a database dump, a log line or a response."""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from tortoise import connections

from api.app import create_app
from api.runtime import open_runtime
from api.settings import Settings
from entra.cipher import TokenCipher, generate_key
from entra.errors import CipherError
from models import ConnectionStatus, SignInRequest, TenantConnection
from schema.ids import encode_id
from services.keys import rotate_token_encryption
from services.runtime import Runtime
from simulator.registration import DEMO_APP
from simulator.server import Simulator
from tests.factories import gql
from tests.security.conftest import ENCRYPTION_KEY
from tests.security.world import build_world

OLD = f"k1:{ENCRYPTION_KEY}"
CHECK = "mutation($id: ID!) { checkConnection(input: {id: $id}) { __typename ... on ConnectionPayload { connection { status } } ... on Error { message } } }"
COMPLETE = "mutation($c: String!, $s: String!) { completeConnect(input: {code: $c, state: $s}) { __typename ... on ConnectionPayload { connection { status } } ... on Error { message } } }"


async def _stored() -> list[tuple[str, str]]:
    """Every ciphertext at rest with the owner it is bound to."""
    caches = (
        await TenantConnection.filter(token_cache__not_isnull=True)
        .order_by("id")
        .values_list("id", "token_cache")
    )
    flows = await SignInRequest.all().order_by("id").values_list("id", "flow")
    return [(f"tenant_connection:{i}", str(v)) for i, v in caches] + [
        (f"sign_in_request:{i}", str(v)) for i, v in flows
    ]


async def _dump() -> str:
    """Every row of every table, as raw SQL returns it."""
    conn = connections.get("default")
    if conn.schema_generator.DIALECT == "sqlite":
        _, rows = await conn.execute_query("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = [r["name"] for r in rows]
    else:
        _, rows = await conn.execute_query(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        tables = [r["tablename"] for r in rows]
    out: list[str] = []
    for table in tables:
        for row in await conn.execute_query_dict(f'SELECT * FROM "{table}"'):
            out.append(f"{table}: {row!r}")
    return "\n".join(out)


def _with_key(settings: Settings, setting: str) -> Settings:
    return settings.model_copy(update={"encryption_key": SecretStr(setting)})


async def _api(settings: Settings, rt: Runtime, key: str, query: str, **variables: Any) -> Any:
    app = create_app(settings, runtime=rt, manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        return await gql(c, key, query, variables)


async def test_encryption_key_rotates_with_every_token_still_readable(
    prod_settings: Settings, prod_runtime: Runtime
) -> None:
    world = await build_world(prod_runtime)
    before = await _stored()
    assert len(before) >= 3  # two token caches and a pending sign-in's flow
    conn_id = encode_id("TenantConnection", world.a_conn.id)

    # 1. A new primary key first, the old one kept: everything still decrypts, new writes use k2.
    new = generate_key()
    both = _with_key(prod_settings, f"k2:{new},{OLD}")
    async with open_runtime(both) as rt:
        for owner, value in before:
            assert rt.cipher.key_id(value) == "k1"
            rt.cipher.decrypt(value, bound_to=owner)
        checked = await _api(both, rt, world.a.admin_key, CHECK, id=conn_id)
        assert checked["data"]["checkConnection"]["connection"]["status"] == "CONNECTED"

        # 2. The rotation pass re-encrypts everything still under k1 (a cache that msal rewrote
        # during the check is already under k2); a second pass has nothing to do.
        current = await _stored()
        pending = [owner for owner, value in current if rt.cipher.needs_rotation(value)]
        assert len(pending) >= len(before) - 1
        assert await rotate_token_encryption(rt.cipher) == len(pending)
        assert await rotate_token_encryption(rt.cipher) == 0
        after = await _stored()
        assert [owner for owner, _ in after] == [owner for owner, _ in current]
        for (owner, old_value), (_, value) in zip(current, after, strict=True):
            assert rt.cipher.key_id(value) == "k2"
            assert rt.cipher.decrypt(value, bound_to=owner) == rt.cipher.decrypt(
                old_value, bound_to=owner
            )

    # 3. The old key dropped: every token still works, through the API too.
    only_new = _with_key(prod_settings, f"k2:{new}")
    async with open_runtime(only_new) as rt:
        for owner, value in await _stored():
            rt.cipher.decrypt(value, bound_to=owner)
        with pytest.raises(CipherError):
            rt.cipher.decrypt(before[0][1], bound_to=before[0][0])  # an old copy would not
        checked = await _api(only_new, rt, world.a.admin_key, CHECK, id=conn_id)
        assert checked["data"]["checkConnection"]["connection"]["status"] == "CONNECTED"
        done = await _api(
            only_new,
            rt,
            world.a.admin_key,
            COMPLETE,
            c=world.a_sign_in["code"],
            s=world.a_sign_in["state"],
        )
        assert done["data"]["completeConnect"] == {
            "__typename": "ConnectionPayload",
            "connection": {"status": "CONNECTED"},
        }


async def test_rotation_leaves_an_unreadable_value_alone_and_says_so(
    prod_settings: Settings, prod_runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    world = await build_world(prod_runtime)
    stranger = TokenCipher.from_setting(f"k9:{generate_key()}")
    garbage = stranger.encrypt(b"{}", bound_to=f"tenant_connection:{world.b_conn.id}")
    await TenantConnection.filter(id=world.b_conn.id).update(token_cache=garbage)
    cipher = TokenCipher.from_setting(f"k2:{generate_key()},{OLD}")
    with caplog.at_level(logging.WARNING, logger="entrasync.keys"):
        assert await rotate_token_encryption(cipher) == len(await _stored()) - 1
    assert (await TenantConnection.get(id=world.b_conn.id)).token_cache == garbage
    assert any(f"tenant_connection:{world.b_conn.id}" in r.getMessage() for r in caplog.records)


async def test_rotate_key_command_rotates_the_database(
    prod_settings: Settings, prod_runtime: Runtime, database_url: str
) -> None:
    await build_world(prod_runtime)
    new = generate_key()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENTRASYNC_")}
    env |= {
        "ENTRASYNC_DATABASE_URL": database_url,
        "ENTRASYNC_ENCRYPTION_KEY": f"k2:{new},{OLD}",
        "ENTRASYNC_MODE": "production",
    }
    count = len(await _stored())
    done = subprocess.run(  # noqa: ASYNC221 - a CLI run, as an operator would
        [sys.executable, "-m", "api.cli", "rotate-key"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"re-encrypted {count} value(s) under key k2"
    cipher = TokenCipher.from_setting(f"k2:{new}")
    for owner, value in await _stored():
        assert cipher.key_id(value) == "k2"
        cipher.decrypt(value, bound_to=owner)
    assert new not in done.stdout + done.stderr and ENCRYPTION_KEY not in done.stdout + done.stderr


async def test_no_secret_in_database_dump_logs_or_responses(
    prod_client: httpx.AsyncClient,
    prod_runtime: Runtime,
    sim: Simulator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    world = await build_world(prod_runtime)
    responses = []
    for key in (world.a.admin_key, world.b.admin_key):
        responses.append(
            await gql(
                prod_client,
                key,
                "{ tenantConnections { edges { node { id tenantId tenantName grantedScopes connectedBy "
                "statusMessage configuration { mappings { value } } } } } }",
            )
        )
    responses.append(
        await gql(
            prod_client,
            world.a.admin_key,
            CHECK,
            {"id": encode_id("TenantConnection", world.a_conn.id)},
        )
    )
    grants = sim.state.grants
    tokens = {*grants.access, *grants.refresh}
    assert tokens, "the simulator issued tokens"
    api_keys = {world.a.admin_key, world.a.tech_key, world.b.admin_key, world.b.tech_key}
    canaries = {
        *tokens,
        *api_keys,
        DEMO_APP.client_secret,
        ENCRYPTION_KEY,
        world.a_sign_in["code"],
    }
    dump = await _dump()
    logs = caplog.text
    text = "\n".join(map(str, responses))
    for canary in canaries:
        assert canary not in dump, "a secret is stored in clear"
        assert canary not in logs, "a secret is logged"
        assert canary not in text, "a secret is in a response"
    # A5: API keys are at rest only as SHA-256 hashes (and their public prefix).
    for key in api_keys:
        assert hashlib.sha256(key.encode()).hexdigest() in dump
    # C3: the token caches are at rest, encrypted.
    stored = await TenantConnection.filter(status=ConnectionStatus.CONNECTED).values_list(
        "token_cache", flat=True
    )
    assert stored and all(str(v).startswith("v1.k1.") for v in stored)
