"""Sign-in, silent refresh and app-only tokens through msal against the loopback simulator."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any

import aiohttp
import pytest

from entra.auth import EntraAuth
from entra.config import DEFAULT_SCOPES, EntraConfig
from entra.errors import (
    AuthError,
    AuthUnavailable,
    ConsentRequired,
    GraphAccessDenied,
    ReauthRequired,
    SignInError,
)
from entra.graph import GraphClient
from entra.oauth import parse_admin_consent
from entra.tokens import AppTokenSource, DelegatedTokenSource
from simulator.faults import Fault
from simulator.registration import DEMO_APP
from simulator.tenant import SimTenant
from tests.entra.simflow import ADMIN_CONSENT_REDIRECT, follow, sign_in, start_and_follow


def _admin(tenant: SimTenant) -> str:
    return str(tenant.admin["userPrincipalName"])


async def test_sign_in_returns_tenant_account_and_granted_scopes(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    result = await sign_in(auth, http, _admin(tenant))
    assert result.tenant_id == tenant.tenant_id
    assert result.username == _admin(tenant)
    assert result.home_account_id == f"{tenant.admin_user_id}.{tenant.tenant_id}"
    assert set(result.granted_scopes) == set(DEFAULT_SCOPES)
    assert "RefreshToken" in result.token_cache
    assert result.token_cache not in repr(result)


async def test_auth_uri_is_loopback_http_with_pkce_s256_and_state(
    auth: EntraAuth, sim: Any
) -> None:
    start = await auth.start_sign_in("http://127.0.0.1:8000/oauth/callback")
    assert start.auth_uri.startswith(sim.base_url + "/organizations/oauth2/v2.0/authorize?")
    assert "code_challenge_method=S256" in start.auth_uri
    assert f"state={start.state}" in start.auth_uri
    assert "response_mode" not in start.auth_uri
    assert len(start.state) >= 40
    assert start.flow["code_verifier"] not in repr(start)
    posted = await auth.start_sign_in(
        "http://127.0.0.1:8000/oauth/callback", response_mode="form_post"
    )
    assert "response_mode=form_post" in posted.auth_uri and posted.state != start.state


async def test_flow_survives_a_json_round_trip(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    # The caller stores the flow (encrypted) between the redirect out and the callback.
    start, params = await start_and_follow(auth, http, _admin(tenant))
    stored = json.loads(json.dumps(start.flow))
    result = await auth.complete_sign_in(stored, params)
    assert result.tenant_id == tenant.tenant_id


async def test_silent_acquire_refreshes_once_then_serves_from_cache(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    signed = await sign_in(auth, http, _admin(tenant))
    first = await auth.acquire_token(signed.token_cache, signed.home_account_id, tenant.tenant_id)
    # The sign-in token is cached under `organizations`; the tenant authority refreshes once.
    assert first.token_cache is not None
    second = await auth.acquire_token(first.token_cache, signed.home_account_id, tenant.tenant_id)
    assert second.access_token == first.access_token
    assert second.token_cache is None  # unchanged: nothing to persist
    forced = await auth.acquire_token(
        first.token_cache, signed.home_account_id, tenant.tenant_id, force_refresh=True
    )
    assert forced.access_token != first.access_token and forced.token_cache is not None


async def test_delegated_token_reads_graph_and_refreshes_after_401(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant, sim: Any, config: EntraConfig
) -> None:
    signed = await sign_in(auth, http, _admin(tenant))
    saved: list[str] = []

    async def persist(cache: str) -> None:
        saved.append(cache)

    source = DelegatedTokenSource(
        auth,
        token_cache=signed.token_cache,
        home_account_id=signed.home_account_id,
        tenant_id=signed.tenant_id,
        on_cache_change=persist,
    )
    async with GraphClient(http, graph_url=config.graph_url, token=source) as graph:
        org = await graph.organization()
        assert org.tenant_id == tenant.tenant_id
        sim.state.expire_access_tokens()
        assert (await graph.organization()).tenant_id == tenant.tenant_id
    assert source.cache_changed and saved and saved[-1] == source.token_cache
    statuses = [r.status for r in sim.state.requests if r.path.endswith("/organization")]
    assert statuses == [200, 401, 200]


async def test_forged_state_is_refused(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    start, params = await start_and_follow(auth, http, _admin(tenant))
    with pytest.raises(SignInError) as info:
        await auth.complete_sign_in(start.flow, {**params, "state": secrets.token_urlsafe(32)})
    assert start.state not in str(info.value)
    with pytest.raises(SignInError):
        await auth.complete_sign_in(start.flow, {k: v for k, v in params.items() if k != "state"})
    with pytest.raises(SignInError):
        await auth.complete_sign_in(start.flow, {**params, "state": "état-forgé"})


async def test_replayed_code_is_refused(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    start, params = await start_and_follow(auth, http, _admin(tenant))
    await auth.complete_sign_in(start.flow, params)
    with pytest.raises(SignInError) as info:
        await auth.complete_sign_in(start.flow, params)
    assert info.value.code == "invalid_grant" and info.value.error_codes == (54005,)
    assert params["code"] not in str(info.value)


async def test_wrong_pkce_verifier_is_refused(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    start, params = await start_and_follow(auth, http, _admin(tenant))
    other = base64.urlsafe_b64encode(hashlib.sha256(b"other").digest()).rstrip(b"=").decode()
    with pytest.raises(SignInError) as info:
        await auth.complete_sign_in({**start.flow, "code_verifier": other + "x" * 10}, params)
    assert info.value.error_codes == (501481,)


async def test_error_redirect_becomes_sign_in_error_without_echoing_description(
    auth: EntraAuth,
) -> None:
    start = await auth.start_sign_in("http://127.0.0.1:8000/oauth/callback")
    params = {
        "error": "access_denied",
        "error_description": "AADSTS65004: <b>User declined</b>",
        "state": start.state,
    }
    with pytest.raises(SignInError) as info:
        await auth.complete_sign_in(start.flow, params)
    assert info.value.code == "access_denied" and "<b>" not in str(info.value)


async def test_revoked_refresh_token_needs_reauth(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant, sim: Any
) -> None:
    signed = await sign_in(auth, http, _admin(tenant))
    sim.state.revoke_refresh_tokens(tenant)
    with pytest.raises(ReauthRequired) as info:
        await auth.acquire_token(
            signed.token_cache, signed.home_account_id, tenant.tenant_id, force_refresh=True
        )
    assert info.value.code == "invalid_grant" and 50173 in info.value.error_codes


async def test_unknown_account_or_unreadable_cache_needs_reauth(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant
) -> None:
    signed = await sign_in(auth, http, _admin(tenant))
    with pytest.raises(ReauthRequired):
        await auth.acquire_token(signed.token_cache, "someone.else", tenant.tenant_id)
    with pytest.raises(ReauthRequired):
        await auth.acquire_token("{not json", signed.home_account_id, tenant.tenant_id)


async def test_withdrawn_consent_needs_consent_on_refresh_and_on_graph(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant, sim: Any, config: EntraConfig
) -> None:
    signed = await sign_in(auth, http, _admin(tenant))
    current = await auth.acquire_token(signed.token_cache, signed.home_account_id, tenant.tenant_id)
    sim.state.withdraw_consent(tenant)

    async def token(*, force_refresh: bool = False) -> str:
        return current.access_token

    async with GraphClient(http, graph_url=config.graph_url, token=token) as graph:
        with pytest.raises(ConsentRequired) as denied:
            await graph.organization()
    assert isinstance(denied.value, GraphAccessDenied) and denied.value.status == 403
    with pytest.raises(ConsentRequired) as info:
        await auth.acquire_token(
            current.token_cache or signed.token_cache,
            signed.home_account_id,
            tenant.tenant_id,
            force_refresh=True,
        )
    assert 65001 in info.value.error_codes


async def test_scopes_newer_than_granted_need_consent(
    http: aiohttp.ClientSession, tenant: SimTenant, config: EntraConfig
) -> None:
    async with EntraAuth(config) as auth:
        signed = await sign_in(auth, http, _admin(tenant))
    wider = EntraConfig(
        config.client_id,
        config.client_secret,
        authority_host=config.authority_host,
        graph_url=config.graph_url,
        scopes=(*config.scopes, "https://graph.microsoft.com/Directory.Read.All"),
    )
    async with EntraAuth(wider) as auth:
        with pytest.raises(ConsentRequired):
            await auth.acquire_token(
                signed.token_cache, signed.home_account_id, tenant.tenant_id, force_refresh=True
            )


async def test_app_only_token_after_admin_consent(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant, config: EntraConfig
) -> None:
    with pytest.raises(ConsentRequired):
        await auth.acquire_app_token(tenant.tenant_id)
    state = secrets.token_urlsafe(16)
    url = auth.admin_consent_url(tenant.tenant_id, ADMIN_CONSENT_REDIRECT, state)
    assert "scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in url
    params = await follow(http, url)
    for forged in ("forged", "forgé", ""):
        with pytest.raises(SignInError):
            parse_admin_consent({**params, "state": forged}, expected_state=state)
    consented = parse_admin_consent(params, expected_state=state)
    assert consented == tenant.tenant_id

    token = await auth.acquire_app_token(consented)
    again = await auth.acquire_app_token(consented)
    assert again.access_token == token.access_token  # msal's in-memory cache
    fresh = await auth.acquire_app_token(consented, force_refresh=True)
    assert fresh.access_token != token.access_token
    source = AppTokenSource(auth, tenant_id=consented)
    async with GraphClient(http, graph_url=config.graph_url, token=source) as graph:
        pages = [page async for page in graph.iter_user_pages()]
    assert sum(len(p) for p in pages) == len(tenant.users)


def test_admin_consent_url_refuses_common(auth: EntraAuth) -> None:
    with pytest.raises(ValueError):
        auth.admin_consent_url("common", ADMIN_CONSENT_REDIRECT, "s")


def test_plain_http_authority_is_only_allowed_on_loopback() -> None:
    with pytest.raises(ValueError):
        EntraAuth(EntraConfig("c", "s", authority_host="http://login.example.com"))


async def test_token_endpoint_503_is_auth_unavailable(
    auth: EntraAuth, http: aiohttp.ClientSession, tenant: SimTenant, sim: Any
) -> None:
    signed = await sign_in(auth, http, _admin(tenant))
    sim.state.faults.script(f"/{tenant.tenant_id}/oauth2/v2.0/token", [Fault(status=503)])
    with pytest.raises(AuthUnavailable):
        await auth.acquire_token(
            signed.token_cache, signed.home_account_id, tenant.tenant_id, force_refresh=True
        )


async def test_unreachable_login_service_is_auth_unavailable() -> None:
    config = EntraConfig(
        DEMO_APP.client_id, DEMO_APP.client_secret, authority_host="http://127.0.0.1:9"
    )
    async with EntraAuth(config, timeout=2) as auth:
        with pytest.raises(AuthUnavailable):
            await auth.start_sign_in("http://127.0.0.1:8000/oauth/callback")


async def test_unknown_tenant_is_an_auth_error(auth: EntraAuth) -> None:
    with pytest.raises(AuthError) as info:
        await auth.acquire_app_token("no-such-tenant.example")
    assert info.value.code == "invalid_tenant"
