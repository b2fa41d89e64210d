"""App-only connections: a signed-in admin's tenant, admin consent, client credentials, no user token stored."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import httpx

from models import AuthMode, ConnectionStatus, SignInRequest, TenantConnection
from simulator.server import Simulator
from simulator.tenant import generate_tenant
from tests.factories import gql, make_account, sign_in_params

START = """
mutation { startConnect(input: {scope: ACCOUNT, authMode: APP_ONLY}) {
  __typename ... on StartConnectPayload { signInUrl connection { id authMode } } ... on Error { message } } }"""
CHECK = """
mutation($id: ID!) { checkConnection(input: {id: $id}) {
  __typename ... on ConnectionPayload { connection { status authMode grantedScopes tenantName } } ... on Error { message } } }"""


async def _redirect_params(url: str) -> dict[str, str]:
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        assert resp.status in (302, 303), await resp.text()
        return {k: v[0] for k, v in parse_qs(urlsplit(resp.headers["Location"]).query).items()}


async def _to_consent(client: httpx.AsyncClient, key: str) -> tuple[str, dict[str, str]]:
    started = (await gql(client, key, START))["data"]["startConnect"]
    assert started["connection"]["authMode"] == "APP_ONLY"
    callback = await client.get(
        "/oauth/callback", params=await sign_in_params(started["signInUrl"])
    )
    assert callback.status_code == 302, callback.text
    consent_url = callback.headers["location"]
    assert "/v2.0/adminconsent?" in consent_url
    return started["connection"]["id"], await _redirect_params(consent_url)


async def test_app_only_connect_stores_no_user_token(
    sim_client: httpx.AsyncClient, sim: Simulator
) -> None:
    t = await make_account()
    conn_id, consent = await _to_consent(sim_client, t.admin_key)
    assert consent["admin_consent"] == "True"
    page = await sim_client.get("/oauth/adminconsent", params=consent)
    assert page.status_code == 200 and "Connected" in page.text
    row = await TenantConnection.get(account_id=t.account.id)
    tenant = sim.tenant("contoso.example")
    assert (row.status, row.auth_mode, row.entra_tenant_id) == (
        ConnectionStatus.CONNECTED,
        AuthMode.APP_ONLY,
        tenant.tenant_id,
    )
    assert row.token_cache is None and row.home_account_id is None
    assert await SignInRequest.all().count() == 0
    checked = (await gql(sim_client, t.admin_key, CHECK, {"id": conn_id}))["data"][
        "checkConnection"
    ]
    assert (
        checked["connection"]["status"] == "CONNECTED"
        and checked["connection"]["tenantName"] == tenant.display_name
    )
    counts = await gql(
        sim_client,
        t.tech_key,
        "query($c: ID!) { directoryUserTypes(connectionId: $c) { __typename ... on UserTypeCounts { members guests } } }",
        {"c": conn_id},
    )
    result: dict[str, Any] = counts["data"]["directoryUserTypes"]
    assert result["__typename"] == "UserTypeCounts" and result["members"] + result["guests"] == len(
        tenant.users
    )
    replay = await sim_client.get("/oauth/adminconsent", params=consent)
    assert replay.status_code == 400


async def test_app_only_consent_for_another_tenant_is_refused(
    sim_client: httpx.AsyncClient, sim: Simulator
) -> None:
    """The consent redirect's `tenant` is checked against the signed-in admin's, never trusted."""
    other = generate_tenant(seed=7, users=20, domain="fabrikam.example")
    sim.state.add_tenant(other)
    sim.state.grant_admin_consent(other)  # fabrikam consented to the app long ago
    t = await make_account()
    _, consent = await _to_consent(sim_client, t.admin_key)
    forged = consent | {"tenant": other.tenant_id}
    page = await sim_client.get("/oauth/adminconsent", params=forged)
    assert page.status_code == 400 and "different tenant" in page.text
    assert not await TenantConnection.filter(status=ConnectionStatus.CONNECTED).exists()


async def test_app_only_withdrawn_consent_turns_needs_consent(
    sim_client: httpx.AsyncClient, sim: Simulator
) -> None:
    t = await make_account()
    conn_id, consent = await _to_consent(sim_client, t.admin_key)
    await sim_client.get("/oauth/adminconsent", params=consent)
    sim.state.withdraw_consent(sim.tenant("contoso.example"))
    res = (await gql(sim_client, t.admin_key, CHECK, {"id": conn_id}))["data"]["checkConnection"]
    assert res["__typename"] == "ConsentRequiredError"
    assert (
        await TenantConnection.get(account_id=t.account.id)
    ).status is ConnectionStatus.NEEDS_CONSENT


async def test_app_only_declined_consent_is_a_clear_failure(sim_client: httpx.AsyncClient) -> None:
    t = await make_account()
    _, consent = await _to_consent(sim_client, t.admin_key)
    declined = {
        "state": consent["state"],
        "error": "access_denied",
        "error_description": "AADSTS65004: User declined to consent",
    }
    page = await sim_client.get("/oauth/adminconsent?" + urlencode(declined))
    assert page.status_code == 400 and "Not connected" in page.text
    assert not await TenantConnection.filter(status=ConnectionStatus.CONNECTED).exists()
