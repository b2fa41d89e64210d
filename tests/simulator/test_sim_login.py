"""The simulated Entra login, driven by the real msal library over loopback."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

import aiohttp
import msal
import pytest

from simulator.registration import DEMO_APP
from simulator.server import Simulator, run_simulator
from simulator.tenant import generate_tenant
from simulator.testing import (
    GRAPH_SCOPES,
    REDIRECT_URI,
    GraphCaller,
    SignIn,
    follow_authorize,
    msal_app,
    to_http,
)
from simulator.wire import unb64url_json


async def test_discovery_advertises_https_endpoints_by_tenant_guid(sim: Simulator) -> None:
    tenant = sim.tenant("contoso.example")
    async with aiohttp.ClientSession() as http:
        url = f"{sim.base_url}/contoso.example/v2.0/.well-known/openid-configuration"
        async with http.get(url) as response:
            doc = await response.json()
        async with http.get(
            f"{sim.base_url}/organizations/v2.0/.well-known/openid-configuration"
        ) as response:
            multi = await response.json()
        async with http.get(
            f"{sim.base_url}/nope.example/v2.0/.well-known/openid-configuration"
        ) as response:
            unknown_status, unknown = response.status, await response.json()
    https = sim.authority("")
    assert doc["token_endpoint"] == f"{https}{tenant.tenant_id}/oauth2/v2.0/token"
    assert doc["authorization_endpoint"] == f"{https}{tenant.tenant_id}/oauth2/v2.0/authorize"
    assert doc["issuer"] == f"{https}{tenant.tenant_id}/v2.0"
    assert multi["issuer"] == f"{https}{{tenantid}}/v2.0"
    assert multi["token_endpoint"] == f"{https}organizations/oauth2/v2.0/token"
    assert unknown_status == 400 and unknown["error"] == "invalid_tenant"
    assert unknown["error_codes"] == [90002]


async def test_msal_refuses_an_unknown_tenant(sim: Simulator) -> None:
    with pytest.raises(ValueError, match="Unable to get authority configuration"):
        await asyncio.to_thread(msal_app, sim, "nope.example")


async def test_auth_code_flow_yields_tokens_and_an_account(sim: Simulator, sign_in: SignIn) -> None:
    app, result = await sign_in()
    tenant = sim.tenant("contoso.example")
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599
    assert result["refresh_token"] and result["access_token"]
    assert set(result["scope"].split()) >= set(GRAPH_SCOPES)
    claims = result["id_token_claims"]
    assert claims["aud"] == DEMO_APP.client_id and claims["tid"] == tenant.tenant_id
    assert claims["preferred_username"] == "admin@contoso.example"
    assert unb64url_json(result["client_info"]) == {"uid": claims["oid"], "utid": tenant.tenant_id}
    (account,) = app.get_accounts()
    assert account["home_account_id"] == f"{claims['oid']}.{tenant.tenant_id}"
    assert account["username"] == "admin@contoso.example"
    cached = await asyncio.to_thread(app.acquire_token_silent, GRAPH_SCOPES, account)
    assert cached["token_source"] == "cache"
    refreshed = await asyncio.to_thread(
        app.acquire_token_silent, GRAPH_SCOPES, account, force_refresh=True
    )
    assert refreshed["token_source"] == "identity_provider"
    assert refreshed["access_token"] != result["access_token"]
    consent = sim.state.grants.consent(tenant.tenant_id, DEMO_APP.client_id)
    assert consent is not None
    assert consent.delegated == {"GroupMember.Read.All", "User.Read.All"}


async def test_login_hint_picks_the_tenant_for_organizations() -> None:
    tenants = [generate_tenant(seed=1, users=30), generate_tenant(seed=2, users=30)]
    async with run_simulator(tenants=tenants, auto_accept=True) as sim:
        app = await asyncio.to_thread(msal_app, sim)
        flow = app.initiate_auth_code_flow(
            GRAPH_SCOPES,
            redirect_uri=REDIRECT_URI,
            response_mode="form_post",
            login_hint="admin@fabrikam.example",
        )
        params = await follow_authorize(sim, flow["auth_uri"])
        result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, flow, params)
    assert result["id_token_claims"]["tid"] == tenants[1].tenant_id


async def _code_and_flow(sim: Simulator) -> tuple[Any, dict[str, Any], dict[str, str]]:
    app = await asyncio.to_thread(msal_app, sim)
    flow = app.initiate_auth_code_flow(
        GRAPH_SCOPES, redirect_uri=REDIRECT_URI, response_mode="form_post"
    )
    return app, flow, await follow_authorize(sim, flow["auth_uri"])


async def test_wrong_pkce_verifier_is_refused(sim: Simulator) -> None:
    app, flow, params = await _code_and_flow(sim)
    wrong = dict(flow, code_verifier="x" * 64)
    result = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, wrong, params)
    assert result["error"] == "invalid_grant" and result["error_codes"] == [501481]
    assert result["error_description"].startswith("AADSTS501481: ")
    assert "\r\nTrace ID: " in result["error_description"]
    assert "\r\nCorrelation ID: " in result["error_description"]
    assert {"timestamp", "trace_id", "correlation_id"} <= set(result)


async def test_authorization_code_is_single_use(sim: Simulator) -> None:
    app, flow, params = await _code_and_flow(sim)
    first = await asyncio.to_thread(app.acquire_token_by_auth_code_flow, dict(flow), params)
    assert "access_token" in first
    # A fresh app: msal replays an identical failed request from its own cache otherwise.
    again = await asyncio.to_thread(msal_app, sim)
    second = await asyncio.to_thread(again.acquire_token_by_auth_code_flow, dict(flow), params)
    assert second["error"] == "invalid_grant" and second["error_codes"] == [54005]


async def test_revoked_refresh_token_is_refused(sim: Simulator, sign_in: SignIn) -> None:
    app, _ = await sign_in()
    sim.state.revoke_refresh_tokens("contoso.example")
    (account,) = app.get_accounts()
    result = await asyncio.to_thread(
        app.acquire_token_silent_with_error, GRAPH_SCOPES, account, force_refresh=True
    )
    assert result["error"] == "invalid_grant" and result["error_codes"] == [50173]


async def test_withdrawn_consent_blocks_refresh_and_graph(
    sim: Simulator, sign_in: SignIn, graph: GraphCaller
) -> None:
    app, result = await sign_in()
    assert (await graph.get("/users?$top=1", token=result["access_token"])).status == 200
    sim.state.withdraw_consent("contoso.example")
    (account,) = app.get_accounts()
    refused = await asyncio.to_thread(
        app.acquire_token_silent_with_error, GRAPH_SCOPES, account, force_refresh=True
    )
    assert refused["error"] == "invalid_grant" and refused["error_codes"] == [65001]
    assert refused["suberror"] == "consent_required"
    denied = await graph.get("/users?$top=1", token=result["access_token"])
    assert denied.status == 403
    assert denied.body["error"]["code"] == "Authorization_RequestDenied"


async def test_client_credentials_need_admin_consent(sim: Simulator) -> None:
    tenant = sim.tenant("contoso.example")
    before = await asyncio.to_thread(msal_app, sim, tenant.tenant_id)
    refused = await asyncio.to_thread(
        before.acquire_token_for_client, ["https://graph.microsoft.com/.default"]
    )
    assert refused["error"] == "unauthorized_client" and refused["error_codes"] == [700016]
    query = urlencode(
        {
            "client_id": DEMO_APP.client_id,
            "scope": "https://graph.microsoft.com/.default",
            "redirect_uri": REDIRECT_URI,
            "state": "s1",
        }
    )
    granted = await follow_authorize(sim, f"{sim.base_url}/organizations/v2.0/adminconsent?{query}")
    assert granted["admin_consent"] == "True" and granted["tenant"] == tenant.tenant_id
    assert granted["state"] == "s1"
    app = await asyncio.to_thread(msal_app, sim, tenant.tenant_id)
    result = await asyncio.to_thread(
        app.acquire_token_for_client, ["https://graph.microsoft.com/.default"]
    )
    assert result["token_type"] == "Bearer" and "refresh_token" not in result
    async with aiohttp.ClientSession() as http:
        headers = {"Authorization": f"Bearer {result['access_token']}"}
        async with http.get(f"{sim.graph_url}/users?$top=2", headers=headers) as response:
            assert response.status == 200


async def test_client_credentials_scope_must_be_graph_default(sim: Simulator) -> None:
    sim.state.grant_admin_consent("contoso.example")
    app = await asyncio.to_thread(msal_app, sim, "contoso.example")
    result = await asyncio.to_thread(
        app.acquire_token_for_client, ["https://graph.microsoft.com/User.Read.All"]
    )
    assert result["error"] == "invalid_scope" and result["error_codes"] == [1002012]


async def test_wrong_client_secret_is_invalid_client(sim: Simulator) -> None:
    sim.state.grant_admin_consent("contoso.example")
    app = await asyncio.to_thread(
        lambda: msal.ConfidentialClientApplication(
            DEMO_APP.client_id,
            client_credential="wrong",
            authority=sim.authority("contoso.example"),
            validate_authority=False,
            instance_discovery=False,
            azure_region=False,
            http_client=msal_app(sim).http_client,
        )
    )
    result = await asyncio.to_thread(
        app.acquire_token_for_client, ["https://graph.microsoft.com/.default"]
    )
    assert result["error"] == "invalid_client" and result["error_codes"] == [7000215]


async def test_bad_redirect_uri_is_shown_not_redirected(sim: Simulator) -> None:
    app = await asyncio.to_thread(msal_app, sim)
    flow = app.initiate_auth_code_flow(
        GRAPH_SCOPES, redirect_uri="http://evil.example/cb", response_mode="form_post"
    )
    async with aiohttp.ClientSession() as http:
        async with http.get(to_http(sim, flow["auth_uri"]), allow_redirects=False) as response:
            text = await response.text()
    assert response.status == 400 and "Location" not in response.headers
    assert "AADSTS50011" in text and "evil.example" not in response.headers.get("Location", "")


async def test_unknown_scope_redirects_with_an_error(sim: Simulator) -> None:
    app = await asyncio.to_thread(msal_app, sim)
    flow = app.initiate_auth_code_flow(
        ["https://graph.microsoft.com/Mail.Teleport"],
        redirect_uri=REDIRECT_URI,
        response_mode="form_post",
    )
    params = await follow_authorize(sim, flow["auth_uri"])
    assert params["error"] == "invalid_client" and params["state"] == flow["state"]
    assert params["error_description"].startswith("AADSTS650053: ")


async def test_consent_page_accept_and_cancel() -> None:
    tenants = [generate_tenant(seed=1, users=30), generate_tenant(seed=2, users=30)]
    query = urlencode(
        {
            "client_id": DEMO_APP.client_id,
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "scope": " ".join([*GRAPH_SCOPES, "openid", "offline_access"]),
            "state": "st",
            "code_challenge": "c" * 43,
            "code_challenge_method": "S256",
        }
    )
    async with run_simulator(tenants=tenants) as sim, aiohttp.ClientSession() as http:
        auth_uri = f"{sim.base_url}/organizations/oauth2/v2.0/authorize?{query}"
        async with http.get(auth_uri) as response:
            page = await response.text()
        assert response.status == 200
        assert (
            "entrasync demo" in page and "User.Read.All" in page and "admin@contoso.example" in page
        )
        assert 'name="tenant"' in page and "fabrikam.example" in page
        pending = page.split('name="pending" value="')[1].split('"')[0]
        action = f"{sim.base_url}/organizations/oauth2/v2.0/authorize"
        form = {"pending": pending, "decision": "accept", "tenant": tenants[1].tenant_id}
        async with http.post(action, data=form, allow_redirects=False) as response:
            location = response.headers["Location"]
        assert location.startswith(REDIRECT_URI + "?code=") and "state=st" in location
        assert "session_state=" in location
        async with http.get(auth_uri) as response:
            page = await response.text()
        pending = page.split('name="pending" value="')[1].split('"')[0]
        async with http.post(
            action, data={"pending": pending, "decision": "cancel"}, allow_redirects=False
        ) as response:
            cancelled = response.headers["Location"]
        assert "error=access_denied" in cancelled and "state=st" in cancelled
    assert sim.state.grants.consent(tenants[1].tenant_id, DEMO_APP.client_id) is not None
    assert sim.state.grants.consent(tenants[0].tenant_id, DEMO_APP.client_id) is None
