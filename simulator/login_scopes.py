"""Parsing the `scope` parameter the way Entra does: OIDC scopes, Graph permissions, `/.default`."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.grants import GRAPH_RESOURCE, KNOWN_GRAPH_SCOPES, OIDC_SCOPES
from simulator.login_errors import EntraError, missing_parameter
from simulator.registration import AppRegistration

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_DEFAULT = GRAPH_RESOURCE + ".default"


@dataclass(frozen=True)
class ScopeRequest:
    """Graph permissions in Graph's spelling, plus the OIDC scopes asked for."""

    graph: frozenset[str]
    oidc: frozenset[str]


def parse_delegated(raw: str | None, app: AppRegistration, tenant_label: str) -> ScopeRequest:
    """Validate a delegated scope list; `/.default` stands for the app's configured permissions."""
    items = (raw or "").split()
    if not items:
        raise missing_parameter("scope")
    graph: set[str] = set()
    oidc: set[str] = set()
    default = False
    for item in items:
        if item.lower() in OIDC_SCOPES:
            oidc.add(item.lower())
            continue
        permission = _graph_permission(item, tenant_label)
        if permission == ".default":
            default = True
            continue
        canonical = KNOWN_GRAPH_SCOPES.get(permission.casefold())
        if canonical is None:
            raise EntraError(
                "invalid_client",
                650053,
                f"The application '{app.display_name}' asked for scope '{permission}' that doesn't "
                f"exist on the resource '{GRAPH_APP_ID}'. Contact the app's vendor.",
            )
        graph.add(canonical)
    if default and graph:
        raise EntraError(
            "invalid_scope",
            70011,
            "The provided request must include a 'scope' input parameter. The provided value for the "
            f"input parameter 'scope' is not valid. The scope {raw} is not valid. static scope "
            "limit exceeded.",
        )
    if default:
        graph = set(app.delegated_permissions)
    return ScopeRequest(graph=frozenset(graph), oidc=frozenset(oidc))


def check_client_credentials_scope(raw: str | None, tenant_label: str) -> None:
    """Client credentials accept exactly Graph's `/.default` (app permissions are all or nothing)."""
    items = (raw or "").split()
    if not items:
        raise missing_parameter("scope")
    if len(items) == 1 and items[0].casefold() == GRAPH_DEFAULT.casefold():
        return
    for item in items:
        if "://" in item and not item.casefold().startswith(GRAPH_RESOURCE.casefold()):
            _graph_permission(item, tenant_label)  # raises invalid_resource
    raise EntraError(
        "invalid_scope",
        1002012,
        f"The provided value for scope {raw} is not valid. Client credential flows must have a "
        "scope value with /.default suffixed to the resource identifier (application ID URI).",
    )


def _graph_permission(item: str, tenant_label: str) -> str:
    """The permission part of a scope; bare names (`User.Read`) mean Graph, as in Entra."""
    if "://" not in item:
        return item
    resource, _, permission = item.rpartition("/")
    if resource.casefold() + "/" != GRAPH_RESOURCE.casefold():
        raise EntraError(
            "invalid_resource",
            500011,
            f"The resource principal named {resource} was not found in the tenant named "
            f"{tenant_label}. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant. You might have "
            "sent your authentication request to the wrong tenant.",
        )
    return permission


def graph_scope_string(graph: frozenset[str] | set[str], oidc: frozenset[str]) -> str:
    """The `scope` of a token response: Graph permissions as URLs, then OIDC scopes.

    Entra leaves `offline_access` out of the answer; msal caches the access token under this.
    """
    names = [GRAPH_RESOURCE + name for name in sorted(graph)]
    names += sorted(oidc - {"offline_access"})
    return " ".join(names)
