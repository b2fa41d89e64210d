"""OpenID discovery documents and signing keys, and how a login URL's tenant segment resolves."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulator.context import https_base_of, state_of
from simulator.login_errors import EntraError, unknown_tenant
from simulator.signing import jwks
from simulator.state import SimState
from simulator.tenant import SimTenant

MULTI_TENANT = frozenset({"organizations", "common"})


def resolve_tenant(state: SimState, segment: str) -> SimTenant | None:
    """The tenant named by a GUID or domain; None for organizations/common; else invalid_tenant."""
    if segment.lower() in MULTI_TENANT:
        return None
    tenant = state.find_tenant(segment)
    if tenant is None:
        raise unknown_tenant(segment)
    return tenant


def discovery_document(base: str, segment: str, tenant: SimTenant | None) -> dict[str, Any]:
    """Entra's field set. Specific tenants are spelled by GUID, as Entra normalises them."""
    path = tenant.tenant_id if tenant else segment.lower()
    issuer_tenant = tenant.tenant_id if tenant else "{tenantid}"
    return {
        "token_endpoint": f"{base}/{path}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/{path}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/{issuer_tenant}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": "https://graph.microsoft.com/oidc/userinfo",
        "authorization_endpoint": f"{base}/{path}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/{path}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/{path}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"{base}/{path}/kerberos",
        "tenant_region_scope": "NA" if tenant else None,
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }


async def openid_configuration(request: web.Request) -> web.Response:
    segment = request.match_info["tenant"]
    try:
        tenant = resolve_tenant(state_of(request), segment)
    except EntraError as exc:
        return web.json_response(exc.body(request.headers.get("client-request-id")), status=400)
    return web.json_response(discovery_document(https_base_of(request), segment, tenant))


async def keys(request: web.Request) -> web.Response:
    return web.json_response(jwks())
