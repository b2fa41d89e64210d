"""`POST /{tenant}/oauth2/v2.0/token`: authorization_code (PKCE), refresh_token, client_credentials."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from typing import Any

from aiohttp import web

from simulator.context import https_base_of, state_of
from simulator.grants import OIDC_SCOPES, AccessGrant, RefreshGrant
from simulator.login_discovery import resolve_tenant
from simulator.login_errors import EntraError, consent_required, missing_parameter, unknown_client
from simulator.login_scopes import (
    check_client_credentials_scope,
    graph_scope_string,
    parse_delegated,
)
from simulator.registration import AppRegistration
from simulator.signing import sign_jwt
from simulator.state import SimState
from simulator.tenant import SimTenant
from simulator.wire import b64url, b64url_json, iso_utc

_MALFORMED = EntraError(
    "invalid_grant", 9002313, "Invalid request. Request is malformed or invalid."
)


async def token(request: web.Request) -> web.Response:
    form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
    try:
        body = _grant(request, form)
    except EntraError as exc:
        return web.json_response(
            exc.body(request.headers.get("client-request-id")),
            status=exc.status,
            headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"},
        )
    return web.json_response(
        body, headers={"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
    )


def _grant(request: web.Request, form: dict[str, str]) -> dict[str, Any]:
    state = state_of(request)
    segment = request.match_info["tenant"]
    tenant = resolve_tenant(state, segment)
    app = _authenticate_client(state, request, form, tenant.domain if tenant else segment)
    grant_type = form.get("grant_type")
    if not grant_type:
        raise missing_parameter("grant_type")
    if grant_type == "authorization_code":
        return _authorization_code(state, request, app, tenant, form)
    if grant_type == "refresh_token":
        return _refresh(state, request, app, tenant, form)
    if grant_type == "client_credentials":
        return _client_credentials(state, app, tenant, form)
    raise EntraError(
        "unsupported_grant_type",
        70003,
        f"The app requested an unsupported grant type '{grant_type}'.",
    )


def _authenticate_client(
    state: SimState, request: web.Request, form: dict[str, str], tenant_label: str
) -> AppRegistration:
    """client_secret_post (what msal sends) or client_secret_basic."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise _MALFORMED from None
    if not client_id:
        raise missing_parameter("client_id")
    app = state.apps.get(client_id)
    if app is None:
        raise unknown_client(client_id, tenant_label)
    if not secret:
        raise EntraError(
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
            status=401,
        )
    if not hmac.compare_digest(secret.encode(), app.client_secret.encode()):
        raise EntraError(
            "invalid_client",
            7000215,
            "Invalid client secret provided. Ensure the secret being sent in the request is the "
            f"client secret value, not the client secret ID, for a secret added to app '{app.client_id}'.",
            status=401,
        )
    return app


def _authorization_code(
    state: SimState,
    request: web.Request,
    app: AppRegistration,
    tenant: SimTenant | None,
    form: dict[str, str],
) -> dict[str, Any]:
    code_value = form.get("code")
    if not code_value:
        raise missing_parameter("code")
    code = state.grants.codes.get(code_value)
    if code is None or code.client_id != app.client_id:
        raise _MALFORMED
    if tenant is not None and tenant.tenant_id != code.tenant_id:
        raise _MALFORMED
    if code.redeemed:
        raise EntraError(
            "invalid_grant",
            54005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or "
            "use an existing refresh token.",
        )
    if time.time() > code.expires_at:
        raise EntraError(
            "invalid_grant",
            70008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a "
            "new interactive authorization request for this user and resource.",
        )
    redirect_uri = form.get("redirect_uri")
    if not redirect_uri:
        raise missing_parameter("redirect_uri")
    if redirect_uri != code.redirect_uri:
        raise EntraError(
            "invalid_grant",
            500112,
            f"The reply address '{redirect_uri}' does not match the reply address "
            f"'{code.redirect_uri}' provided when requesting Authorization code.",
        )
    verifier = form.get("code_verifier")
    if not verifier:
        raise EntraError(
            "invalid_grant",
            50148,
            "The code_verifier does not match the code_challenge supplied in the authorization "
            "request for PKCE.",
        )
    challenge = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    if not hmac.compare_digest(challenge, code.code_challenge):
        raise EntraError(
            "invalid_grant",
            501481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        )
    code.redeemed = True
    sim_tenant = state.tenants[code.tenant_id]
    graph = {s for s in code.scopes if s not in OIDC_SCOPES}
    granted = _consented(state, app, sim_tenant, graph)
    oidc = frozenset(s for s in code.scopes if s in OIDC_SCOPES)
    return _user_tokens(
        state, request, app, sim_tenant, code.user_id, granted, oidc, code.nonce, form
    )


def _refresh(
    state: SimState,
    request: web.Request,
    app: AppRegistration,
    tenant: SimTenant | None,
    form: dict[str, str],
) -> dict[str, Any]:
    value = form.get("refresh_token")
    if not value:
        raise missing_parameter("refresh_token")
    grant = state.grants.refresh.get(value)
    if grant is None or (tenant is not None and tenant.tenant_id != grant.tenant_id):
        raise _MALFORMED
    if grant.client_id != app.client_id:
        raise EntraError("invalid_grant", 70000, "Provided grant is invalid or malformed.")
    now = time.time()
    if grant.revoked:
        raise EntraError(
            "invalid_grant",
            50173,
            "The provided grant has expired due to it being revoked, a fresh auth token is needed. "
            "The user might have changed or reset their password. The grant was issued on "
            f"'{iso_utc(grant.issued_at)}' and the TokensValidFrom date (before which tokens are "
            f"not valid) for this user is '{iso_utc(now)}'.",
        )
    if now - grant.last_used > state.config.refresh_token_inactivity:
        raise EntraError(
            "invalid_grant",
            700082,
            f"The refresh token has expired due to inactivity. The token was issued on "
            f"'{iso_utc(grant.issued_at)}' and was inactive for "
            f"{state.config.refresh_token_inactivity / 86400:g}.00:00:00.",
        )
    grant.last_used = now
    sim_tenant = state.tenants[grant.tenant_id]
    wanted, oidc = set(grant.scopes), frozenset({"openid", "profile", "offline_access"})
    if form.get("scope"):
        # Asking for a permission never consented is how a new product version meets C6.
        scopes = parse_delegated(form.get("scope"), app, sim_tenant.domain)
        wanted, oidc = set(scopes.graph), scopes.oidc | {"offline_access"}
    granted = _consented(state, app, sim_tenant, wanted)
    return _user_tokens(state, request, app, sim_tenant, grant.user_id, granted, oidc, None, form)


def _consented(
    state: SimState, app: AppRegistration, tenant: SimTenant, wanted: set[str]
) -> frozenset[str]:
    """All the Graph permissions consented for the app (Entra answers with every one of them)."""
    consent = state.grants.consent(tenant.tenant_id, app.client_id)
    if consent is None or not wanted <= consent.delegated:
        raise consent_required(app.client_id, app.display_name)
    return frozenset(consent.delegated)


def _user_tokens(
    state: SimState,
    request: web.Request,
    app: AppRegistration,
    tenant: SimTenant,
    user_id: str,
    granted: frozenset[str],
    oidc: frozenset[str],
    nonce: str | None,
    form: dict[str, str],
) -> dict[str, Any]:
    now = time.time()
    lifetime = state.config.access_token_lifetime
    access = state.grants.new_access_token(
        AccessGrant(tenant.tenant_id, app.client_id, "delegated", granted, now + lifetime, user_id)
    )
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": graph_scope_string(granted, oidc),
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }
    if "offline_access" in oidc:
        body["refresh_token"] = state.grants.new_refresh_token(
            RefreshGrant(tenant.tenant_id, app.client_id, user_id, tuple(sorted(granted)), now, now)
        )
    user = tenant.users.get(user_id) or tenant.deleted_users.get(user_id) or {}
    if "openid" in oidc:
        body["id_token"] = _id_token(request, app, tenant, user_id, user, oidc, nonce, now)
    if form.get("client_info") == "1":
        body["client_info"] = b64url_json({"uid": user_id, "utid": tenant.tenant_id})
    return body


def _id_token(
    request: web.Request,
    app: AppRegistration,
    tenant: SimTenant,
    user_id: str,
    user: dict[str, Any],
    oidc: frozenset[str],
    nonce: str | None,
    now: float,
) -> str:
    claims: dict[str, Any] = {
        "aud": app.client_id,
        "iss": f"{https_base_of(request)}/{tenant.tenant_id}/v2.0",
        "iat": int(now),
        "nbf": int(now),
        "exp": int(now) + 3600,
        "name": user.get("displayName"),
        "oid": user_id,
        "preferred_username": user.get("userPrincipalName"),
        "rh": "0.simulated.",
        # Entra's sub is pairwise: stable per user and app, different between apps.
        "sub": b64url(hashlib.sha256(f"{user_id}:{app.client_id}".encode()).digest()[:24]),
        "tid": tenant.tenant_id,
        "uti": b64url(uuid.uuid4().bytes),
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    if "email" in oidc and user.get("mail"):
        claims["email"] = user["mail"]
    return sign_jwt(claims)


def _client_credentials(
    state: SimState, app: AppRegistration, tenant: SimTenant | None, form: dict[str, str]
) -> dict[str, Any]:
    if tenant is None:
        raise EntraError(
            "invalid_request",
            50059,
            "No tenant-identifying information found in either the request or implied by any "
            "provided credentials.",
        )
    check_client_credentials_scope(form.get("scope"), tenant.domain)
    consent = state.grants.consent(tenant.tenant_id, app.client_id)
    if consent is None:
        # No service principal in the tenant: nobody ever consented to the app there.
        raise unknown_client(app.client_id, tenant.domain)
    lifetime = state.config.access_token_lifetime
    # Like Entra, a consented app without app roles still gets a token; Graph then answers 403.
    access = state.grants.new_access_token(
        AccessGrant(
            tenant.tenant_id,
            app.client_id,
            "app",
            frozenset(consent.app_roles),
            time.time() + lifetime,
        )
    )
    return {
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access,
    }
