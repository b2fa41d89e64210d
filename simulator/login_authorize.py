"""`/authorize` and `/adminconsent`: validation, the consent page, and the redirect back to the app."""

from __future__ import annotations

import time
import uuid
from urllib.parse import urlencode

from aiohttp import web

from simulator.context import state_of
from simulator.grants import GRAPH_RESOURCE, OIDC_SCOPES, AuthCode, PendingConsent
from simulator.login_discovery import resolve_tenant
from simulator.login_errors import (
    EntraError,
    missing_parameter,
    redirect_mismatch,
    unknown_client,
)
from simulator.login_pages import consent_page, error_page, form_post_page
from simulator.login_scopes import parse_delegated
from simulator.registration import AppRegistration
from simulator.state import SimState
from simulator.tenant import SimTenant
from simulator.wire import url_token

_DECLINED = EntraError("access_denied", 65004, "User declined to consent to access the app.")


def _respond(redirect_uri: str, mode: str, params: dict[str, str]) -> web.Response:
    """Deliver an authorization response the way `response_mode` asks."""
    if mode == "form_post":
        return form_post_page(redirect_uri, params)
    separator = "#" if mode == "fragment" else ("&" if "?" in redirect_uri else "?")
    return web.Response(
        status=302, headers={"Location": redirect_uri + separator + urlencode(params)}
    )


def _error_params(error: EntraError, state: str | None, request: web.Request) -> dict[str, str]:
    correlation = request.headers.get("client-request-id") or str(uuid.uuid4())
    params = {
        "error": error.error,
        "error_description": error.description(correlation, str(uuid.uuid4()), time.time()),
    }
    if error.error == "access_denied":
        params["error_subcode"] = "cancel"
    if state is not None:
        params["state"] = state
    return params


def _client_and_redirect(
    state: SimState, query: dict[str, str], segment: str
) -> tuple[SimTenant | None, AppRegistration, str]:
    """Checks whose failure Entra shows on a page: the redirect URI can't be trusted yet."""
    tenant = resolve_tenant(state, segment)
    client_id = query.get("client_id")
    if not client_id:
        raise missing_parameter("client_id")
    app = state.apps.get(client_id)
    if app is None:
        raise unknown_client(client_id, tenant.domain if tenant else segment)
    redirect_uri = query.get("redirect_uri")
    if not redirect_uri:
        raise missing_parameter("redirect_uri")
    if redirect_uri not in app.redirect_uris:
        raise redirect_mismatch(redirect_uri, client_id)
    return tenant, app, redirect_uri


def _pick_tenant(state: SimState, pending: PendingConsent, choice: str | None) -> SimTenant:
    """The tenant signed in to: the path's, the picker's, login_hint's domain, or the first one."""
    if pending.tenant_id:
        return state.tenants[pending.tenant_id]
    if choice and choice in state.tenants:
        return state.tenants[choice]
    if pending.login_hint and "@" in pending.login_hint:
        hinted = state.find_tenant(pending.login_hint.rpartition("@")[2])
        if hinted is not None:
            return hinted
    return next(iter(state.tenants.values()))


def _signed_in_user(tenant: SimTenant, login_hint: str | None) -> str:
    if login_hint:
        hinted = tenant.find_user(login_hint)
        if hinted is not None:
            return str(hinted["id"])
    return str(tenant.admin["id"])


async def authorize(request: web.Request) -> web.Response:
    state = state_of(request)
    query = dict(request.query)
    try:
        tenant, app, redirect_uri = _client_and_redirect(state, query, request.match_info["tenant"])
    except EntraError as exc:
        return error_page(exc.description(str(uuid.uuid4()), str(uuid.uuid4()), time.time()))
    mode = query.get("response_mode", "query")
    try:
        pending = _authorization_request(query, app, tenant, redirect_uri, mode)
    except EntraError as exc:
        return _respond(redirect_uri, mode, _error_params(exc, query.get("state"), request))
    if state.auto_accept:
        return _accept(state, pending, None, request)
    if query.get("prompt") == "none":
        login_required = EntraError(
            "login_required", 50058, "A silent sign-in request was sent but no user is signed in."
        )
        return _respond(redirect_uri, mode, _error_params(login_required, pending.state, request))
    return _show_consent(state, pending, app, request)


def _authorization_request(
    query: dict[str, str],
    app: AppRegistration,
    tenant: SimTenant | None,
    redirect_uri: str,
    mode: str,
) -> PendingConsent:
    response_type = query.get("response_type")
    if not response_type:
        raise missing_parameter("response_type")
    if response_type != "code":
        raise EntraError(
            "unsupported_response_type", 70005, f"response_type '{response_type}' is not supported."
        )
    if mode not in ("query", "fragment", "form_post"):
        raise EntraError("invalid_request", 900144, f"Invalid response_mode '{mode}'.")
    scopes = parse_delegated(query.get("scope"), app, tenant.domain if tenant else "organizations")
    # Entra makes PKCE optional for confidential clients; the simulator insists, as entrasync must send it.
    challenge = query.get("code_challenge")
    if not challenge:
        raise missing_parameter("code_challenge")
    if query.get("code_challenge_method") != "S256":
        raise EntraError("invalid_request", 50149, "Invalid Code_Challenge_method parameter.")
    if not 43 <= len(challenge) <= 128:
        raise EntraError("invalid_request", 501491, "Invalid size of Code_Challenge parameter.")
    return PendingConsent(
        kind="authorize",
        tenant_id=tenant.tenant_id if tenant else None,
        client_id=app.client_id,
        redirect_uri=redirect_uri,
        response_mode=mode,
        state=query.get("state"),
        scopes=tuple(sorted(scopes.graph)) + tuple(sorted(scopes.oidc)),
        code_challenge=challenge,
        code_challenge_method="S256",
        nonce=query.get("nonce"),
        login_hint=query.get("login_hint") or query.get("domain_hint"),
    )


def _show_consent(
    state: SimState, pending: PendingConsent, app: AppRegistration, request: web.Request
) -> web.Response:
    pending_id = url_token(24)
    state.grants.pending[pending_id] = pending
    tenant = _pick_tenant(state, pending, None)
    picker = None
    if pending.tenant_id is None:
        picker = [(t.tenant_id, f"{t.display_name} ({t.domain})") for t in state.tenants.values()]
    permissions = [s for s in pending.scopes if s not in OIDC_SCOPES]
    if pending.kind == "adminconsent":
        permissions = [f"{p} (application)" for p in app.application_permissions]
    if "offline_access" in pending.scopes:
        permissions.append("Maintain access to data you have given it access to")
    return consent_page(
        action=request.path,
        pending_id=pending_id,
        app_name=app.display_name,
        permissions=permissions,
        signed_in_as=str(tenant.admin["userPrincipalName"]),
        tenants=picker,
        selected=tenant.tenant_id,
        admin=pending.kind == "adminconsent",
    )


async def decide(request: web.Request) -> web.Response:
    """The consent page's form: Accept (with the picked tenant) or Cancel."""
    state = state_of(request)
    form = await request.post()
    pending = state.grants.pending.pop(str(form.get("pending", "")), None)
    if pending is None:
        return error_page("AADSTS90015: Requested query string is too long or the request expired.")
    if form.get("decision") != "accept":
        params = _error_params(_DECLINED, pending.state, request)
        if pending.kind == "adminconsent":
            params = {"admin_consent": "True", **params, "error": "consent_required"}
            params.pop("error_subcode", None)
        return _respond(pending.redirect_uri, pending.response_mode, params)
    choice = form.get("tenant")
    return _accept(state, pending, choice if isinstance(choice, str) else None, request)


def _accept(
    state: SimState, pending: PendingConsent, choice: str | None, request: web.Request
) -> web.Response:
    tenant = _pick_tenant(state, pending, choice)
    app = state.apps[pending.client_id]
    params: dict[str, str]
    if pending.kind == "adminconsent":
        state.grant_admin_consent(tenant, app.client_id)
        params = {
            "admin_consent": "True",
            "tenant": tenant.tenant_id,
            "scope": " ".join(GRAPH_RESOURCE + p for p in app.application_permissions),
        }
    else:
        graph = {s for s in pending.scopes if s not in OIDC_SCOPES}
        state.grants.grant_consent(tenant.tenant_id, app.client_id, delegated=graph)
        code = url_token(96)
        state.grants.codes[code] = AuthCode(
            code=code,
            tenant_id=tenant.tenant_id,
            client_id=app.client_id,
            redirect_uri=pending.redirect_uri,
            code_challenge=pending.code_challenge,
            code_challenge_method=pending.code_challenge_method,
            scopes=pending.scopes,
            nonce=pending.nonce,
            user_id=_signed_in_user(tenant, pending.login_hint),
            expires_at=time.time() + state.config.code_lifetime,
        )
        params = {"code": code}
    if pending.state is not None:
        params["state"] = pending.state
    if pending.kind == "authorize":
        params["session_state"] = str(uuid.uuid4())
    return _respond(pending.redirect_uri, pending.response_mode, params)


async def admin_consent(request: web.Request) -> web.Response:
    """v2.0 admin consent: grants the app's configured application permissions tenant-wide."""
    state = state_of(request)
    query = dict(request.query)
    try:
        tenant, app, redirect_uri = _client_and_redirect(state, query, request.match_info["tenant"])
    except EntraError as exc:
        return error_page(exc.description(str(uuid.uuid4()), str(uuid.uuid4()), time.time()))
    scope = query.get("scope", "")
    if not scope.split():
        error = missing_parameter("scope")
        return _respond(redirect_uri, "query", _error_params(error, query.get("state"), request))
    pending = PendingConsent(
        kind="adminconsent",
        tenant_id=tenant.tenant_id if tenant else None,
        client_id=app.client_id,
        redirect_uri=redirect_uri,
        response_mode="query",
        state=query.get("state"),
        scopes=tuple(scope.split()),
    )
    if state.auto_accept:
        return _accept(state, pending, None, request)
    return _show_consent(state, pending, app, request)
