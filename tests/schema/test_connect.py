"""Connect, check and disconnect through the API, with real msal against the simulator (C1-C7)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import httpx
import pytest

from models import ConnectionStatus, EndUser, SignInRequest, TenantConnection, UserSource
from schema.ids import encode_id
from services.runtime import Runtime
from simulator.server import Simulator
from tests.factories import gql, make_account, make_site, make_user

START = """
mutation($input: StartConnectInput!) {
  startConnect(input: $input) {
    __typename
    ... on StartConnectPayload { signInUrl connection { id status scope } }
    ... on Error { message }
  }
}"""
COMPLETE = """
mutation($code: String!, $state: String!) {
  completeConnect(input: {code: $code, state: $state}) {
    __typename
    ... on ConnectionPayload { connection { id status tenantId tenantName grantedScopes connectedBy statusMessage } }
    ... on Error { message }
  }
}"""
DISCONNECT = """
mutation($id: ID!) {
  disconnect(input: {id: $id}) {
    __typename
    ... on ConnectionPayload { connection { id status } }
    ... on Error { message }
  }
}"""
CHECK = """
mutation($id: ID!) {
  checkConnection(input: {id: $id}) {
    __typename
    ... on ConnectionPayload { connection { status statusMessage } }
    ... on Error { message }
  }
}"""


async def sign_in(url: str) -> dict[str, str]:
    """What a browser does with auto-accept on: GET the sign-in URL, read the redirect."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        assert resp.status in (302, 303), await resp.text()
        location = resp.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def start(client: httpx.AsyncClient, key: str, **input_: Any) -> dict[str, Any]:
    body = await gql(client, key, START, {"input": input_})
    result: dict[str, Any] = body["data"]["startConnect"]
    return result


async def connect(client: httpx.AsyncClient, key: str, **input_: Any) -> dict[str, Any]:
    started = await start(client, key, **input_)
    assert started["__typename"] == "StartConnectPayload", started
    params = await sign_in(started["signInUrl"])
    done = (await gql(client, key, COMPLETE, {"code": params["code"], "state": params["state"]}))[
        "data"
    ]["completeConnect"]
    assert done["__typename"] == "ConnectionPayload", done
    return done["connection"]  # type: ignore[no-any-return]


async def test_c2_full_connect_flow_reaches_connected(
    sim_client: httpx.AsyncClient, sim: Simulator, runtime: Runtime
) -> None:
    t = await make_account()
    started = await start(sim_client, t.admin_key, scope="ACCOUNT")
    assert started["connection"]["status"] == "PENDING"
    assert started["signInUrl"].startswith(sim.base_url + "/organizations/oauth2/v2.0/authorize?")
    params = await sign_in(started["signInUrl"])
    done = (
        await gql(
            sim_client, t.admin_key, COMPLETE, {"code": params["code"], "state": params["state"]}
        )
    )["data"]["completeConnect"]
    conn = done["connection"]
    tenant = sim.tenant("contoso.example")
    assert conn["status"] == "CONNECTED"
    assert conn["tenantId"] == tenant.tenant_id
    assert conn["tenantName"] == tenant.display_name
    assert any(s.endswith("User.Read.All") for s in conn["grantedScopes"])
    row = await TenantConnection.get(account_id=t.account.id)
    assert row.token_cache and row.token_cache.startswith("v1.")
    assert await SignInRequest.all().count() == 0  # consumed


async def test_c2_browser_redirect_route_completes_sign_in(sim_client: httpx.AsyncClient) -> None:
    t = await make_account()
    started = await start(sim_client, t.admin_key, scope="ACCOUNT")
    params = await sign_in(started["signInUrl"])
    page = await sim_client.get("/oauth/callback", params=params)
    assert page.status_code == 200 and "Connected" in page.text
    assert (
        await TenantConnection.get(account_id=t.account.id)
    ).status is ConnectionStatus.CONNECTED
    replay = await sim_client.get("/oauth/callback", params=params)
    assert replay.status_code == 400 and "already used" in replay.text


async def test_c2_replayed_and_forged_state_are_refused(sim_client: httpx.AsyncClient) -> None:
    t = await make_account()
    started = await start(sim_client, t.admin_key, scope="ACCOUNT")
    params = await sign_in(started["signInUrl"])
    first = await gql(sim_client, t.admin_key, COMPLETE, params | {})
    assert first["data"]["completeConnect"]["__typename"] == "ConnectionPayload"
    replay = (
        await gql(
            sim_client, t.admin_key, COMPLETE, {"code": params["code"], "state": params["state"]}
        )
    )["data"]["completeConnect"]
    assert replay["__typename"] == "SignInFailedError"
    forged = (
        await gql(
            sim_client, t.admin_key, COMPLETE, {"code": params["code"], "state": "forged-state"}
        )
    )["data"]["completeConnect"]
    assert forged["__typename"] == "SignInFailedError"


async def test_c2_code_from_another_sign_in_fails_pkce(sim_client: httpx.AsyncClient) -> None:
    """Code injection: a code issued for sign-in A redeemed with B's state (B's PKCE verifier)."""
    t = await make_account()
    a = await sign_in((await start(sim_client, t.admin_key, scope="ACCOUNT"))["signInUrl"])
    b = await sign_in((await start(sim_client, t.admin_key, scope="ACCOUNT"))["signInUrl"])
    mixed = (
        await gql(sim_client, t.admin_key, COMPLETE, {"code": a["code"], "state": b["state"]})
    )["data"]["completeConnect"]
    assert mixed["__typename"] == "SignInFailedError"
    assert not await TenantConnection.filter(status=ConnectionStatus.CONNECTED).exists()


async def test_c2_other_account_cannot_complete_my_sign_in(sim_client: httpx.AsyncClient) -> None:
    a, b = await make_account(), await make_account()
    params = await sign_in((await start(sim_client, a.admin_key, scope="ACCOUNT"))["signInUrl"])
    stolen = (await gql(sim_client, b.admin_key, COMPLETE, params))["data"]["completeConnect"]
    assert stolen["__typename"] == "SignInFailedError"
    # The rightful owner can still finish it.
    mine = (await gql(sim_client, a.admin_key, COMPLETE, params))["data"]["completeConnect"]
    assert mine["__typename"] == "ConnectionPayload"


async def test_c1_technician_and_other_account_cannot_connect_or_disconnect(
    sim_client: httpx.AsyncClient,
) -> None:
    a, b = await make_account(), await make_account()
    assert (await start(sim_client, a.tech_key, scope="ACCOUNT"))[
        "__typename"
    ] == "PermissionDeniedError"
    conn = await connect(sim_client, a.admin_key, scope="ACCOUNT")
    denied = (await gql(sim_client, a.tech_key, DISCONNECT, {"id": conn["id"]}))["data"][
        "disconnect"
    ]
    assert denied["__typename"] == "PermissionDeniedError"
    foreign = (await gql(sim_client, b.admin_key, DISCONNECT, {"id": conn["id"]}))["data"][
        "disconnect"
    ]
    missing = (
        await gql(sim_client, b.admin_key, DISCONNECT, {"id": encode_id("TenantConnection", 10**6)})
    )["data"]["disconnect"]
    assert foreign == missing and foreign["__typename"] == "NotFoundError"
    reauth = await start(sim_client, b.admin_key, scope="ACCOUNT", connectionId=conn["id"])
    assert reauth["__typename"] == "NotFoundError"
    assert (
        await TenantConnection.get(account_id=a.account.id)
    ).status is ConnectionStatus.CONNECTED


async def test_c4_c5_site_connections_and_a_site_fed_twice(sim_client: httpx.AsyncClient) -> None:
    t = await make_account()
    paris, lyon = await make_site(t.account, "Paris"), await make_site(t.account, "Lyon")
    await connect(sim_client, t.admin_key, scope="SITE", siteId=encode_id("Site", paris.id))
    twice = await start(sim_client, t.admin_key, scope="SITE", siteId=encode_id("Site", paris.id))
    assert twice["__typename"] == "SiteAlreadyConnectedError"
    other = await start(sim_client, t.admin_key, scope="SITE", siteId=encode_id("Site", lyon.id))
    assert other["__typename"] == "StartConnectPayload"
    account_level = await connect(sim_client, t.admin_key, scope="ACCOUNT")
    assert account_level["status"] == "CONNECTED"
    listed = await gql(
        sim_client,
        t.tech_key,
        "{ tenantConnections { edges { node { scope status site { name } } } } }",
    )
    nodes = [e["node"] for e in listed["data"]["tenantConnections"]["edges"]]
    assert {(n["scope"], n["status"], (n["site"] or {}).get("name")) for n in nodes} == {
        ("SITE", "CONNECTED", "Paris"),
        ("SITE", "PENDING", "Lyon"),
        ("ACCOUNT", "CONNECTED", None),
    }


async def test_c5_two_sign_ins_for_one_site_only_the_first_completes(
    sim_client: httpx.AsyncClient,
) -> None:
    t = await make_account()
    site = await make_site(t.account, "Paris")
    sid = encode_id("Site", site.id)
    first = await sign_in(
        (await start(sim_client, t.admin_key, scope="SITE", siteId=sid))["signInUrl"]
    )
    second = await sign_in(
        (await start(sim_client, t.admin_key, scope="SITE", siteId=sid))["signInUrl"]
    )
    ok = (await gql(sim_client, t.admin_key, COMPLETE, first))["data"]["completeConnect"]
    assert ok["__typename"] == "ConnectionPayload"
    late = (await gql(sim_client, t.admin_key, COMPLETE, second))["data"]["completeConnect"]
    assert late["__typename"] == "SiteAlreadyConnectedError"
    assert await TenantConnection.filter(site_id=site.id).count() == 1


async def test_c6_revoked_refresh_token_turns_needs_reauth(
    sim_client: httpx.AsyncClient, sim: Simulator
) -> None:
    t = await make_account()
    conn = await connect(sim_client, t.admin_key, scope="ACCOUNT")
    ok = (await gql(sim_client, t.admin_key, CHECK, {"id": conn["id"]}))["data"]["checkConnection"]
    assert ok["connection"]["status"] == "CONNECTED"
    tenant = sim.tenant("contoso.example")
    sim.state.revoke_refresh_tokens(tenant.tenant_id)
    sim.state.expire_access_tokens()
    res = (await gql(sim_client, t.admin_key, CHECK, {"id": conn["id"]}))["data"]["checkConnection"]
    assert res["__typename"] == "ReauthRequiredError"
    assert "sign in again" in res["message"]
    row = await TenantConnection.get(account_id=t.account.id)
    assert row.status is ConnectionStatus.NEEDS_REAUTH
    assert "sign in again" in row.status_message
    # Signing in again restores it.
    again = await start(sim_client, t.admin_key, connectionId=conn["id"])
    params = await sign_in(again["signInUrl"])
    done = (await gql(sim_client, t.admin_key, COMPLETE, params))["data"]["completeConnect"]
    assert done["connection"]["status"] == "CONNECTED" and done["connection"]["id"] == conn["id"]


async def test_c6_withdrawn_consent_turns_needs_consent(
    sim_client: httpx.AsyncClient, sim: Simulator
) -> None:
    t = await make_account()
    conn = await connect(sim_client, t.admin_key, scope="ACCOUNT")
    sim.state.withdraw_consent(sim.tenant("contoso.example").tenant_id)
    res = (await gql(sim_client, t.admin_key, CHECK, {"id": conn["id"]}))["data"]["checkConnection"]
    assert res["__typename"] == "ConsentRequiredError"
    assert (
        await TenantConnection.get(account_id=t.account.id)
    ).status is ConnectionStatus.NEEDS_CONSENT


async def test_c7_disconnect_deletes_token_and_keeps_users(sim_client: httpx.AsyncClient) -> None:
    t = await make_account()
    site = await make_site(t.account)
    user = await make_user(site, source=UserSource.ENTRA, entra_object_id="oid-x")
    conn = await connect(sim_client, t.admin_key, scope="ACCOUNT")
    res = (await gql(sim_client, t.admin_key, DISCONNECT, {"id": conn["id"]}))["data"]["disconnect"]
    assert res["connection"]["status"] == "DISCONNECTED"
    row = await TenantConnection.get(account_id=t.account.id)
    assert row.token_cache is None and row.home_account_id is None
    kept = await EndUser.get(id=user.id)
    assert (kept.email, kept.source, kept.entra_object_id) == (
        user.email,
        UserSource.ENTRA,
        "oid-x",
    )
    check = (await gql(sim_client, t.admin_key, CHECK, {"id": conn["id"]}))["data"][
        "checkConnection"
    ]
    assert check["__typename"] == "ConnectionNotReadyError"


async def test_c3_token_canary_appears_nowhere(
    sim_client: httpx.AsyncClient, sim: Simulator, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Every token the simulator issued is absent from the database file, the logs and responses."""
    caplog.set_level(logging.DEBUG)
    t = await make_account()
    responses: list[str] = []
    started = await start(sim_client, t.admin_key, scope="ACCOUNT")
    responses.append(str(started))
    params = await sign_in(started["signInUrl"])
    done = await gql(sim_client, t.admin_key, COMPLETE, params)
    responses.append(str(done))
    conn_id = done["data"]["completeConnect"]["connection"]["id"]
    sim.state.expire_access_tokens()  # force a refresh, so a rotated cache is written too
    responses.append(str(await gql(sim_client, t.admin_key, CHECK, {"id": conn_id})))
    responses.append(
        str(
            await gql(
                sim_client,
                t.admin_key,
                "{ tenantConnections { edges { node { id status grantedScopes connectedBy } } } }",
            )
        )
    )
    grants = sim.state.grants
    secrets = [*grants.access, *grants.refresh, *grants.codes, params["code"]]
    assert len(grants.access) >= 2 and len(grants.refresh) >= 1  # the sign-in and the refresh
    haystacks = {"responses": "\n".join(responses), "logs": caplog.text}
    if settings.resolved_database_url.startswith("sqlite://"):
        db_path = Path(settings.resolved_database_url.removeprefix("sqlite://"))
        # WAL mode: recent pages live in the -wal file until a checkpoint.
        files = [db_path, db_path.with_name(db_path.name + "-wal")]
        haystacks["database"] = "".join(
            f.read_bytes().decode("latin-1") for f in files if f.exists()
        )
    else:
        rows = await TenantConnection.all().values()
        haystacks["database"] = repr(rows)
    for where, text in haystacks.items():
        for secret in secrets:
            assert secret not in text, f"a token leaked into {where}"


async def test_connections_show_their_newest_run(sim_client: httpx.AsyncClient) -> None:
    from models import ConnectionScope, RunStatus, SyncRun

    t = await make_account()
    conns = [
        await TenantConnection.create(account_id=t.account.id, scope=ConnectionScope.ACCOUNT)
        for _ in range(3)
    ]
    for conn in conns[:2]:
        for status in (RunStatus.FAILED, RunStatus.SUCCEEDED):
            await SyncRun.create(account_id=t.account.id, connection=conn, status=status)
    body = await gql(
        sim_client, t.tech_key, "{ tenantConnections { edges { node { lastRun { status } } } } }"
    )
    runs = [e["node"]["lastRun"] for e in body["data"]["tenantConnections"]["edges"]]
    assert runs == [{"status": "SUCCEEDED"}, {"status": "SUCCEEDED"}, None]
