"""Entra app settings as a plain dataclass, and the loopback rule for pointing msal at a simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

GRAPH_RESOURCE = "https://graph.microsoft.com/"

# Delegated scopes, least privilege for what entra/graph.py reads (graph-and-msal.md sections 1-3):
# - User.Read.All: list users and /users/delta with the profile fields sync needs (jobTitle,
#   phones, department, officeLocation, accountEnabled, userType); User.ReadBasic.All returns
#   only names and mail, so it can't serve S4/W1.
# - GroupMember.Read.All: list groups and their transitive members for the W4 group filter;
#   narrower than Group.Read.All (no group content) or Directory.Read.All.
# - User.Read: sign-in and GET /organization (tenant name and verified domains); it is the least
#   privileged delegated permission for that call and needs no admin consent.
# msal adds openid, profile and offline_access itself (the refresh token is what C3 stores).
DEFAULT_SCOPES: tuple[str, ...] = (
    "https://graph.microsoft.com/User.Read.All",
    "https://graph.microsoft.com/GroupMember.Read.All",
    "https://graph.microsoft.com/User.Read",
)
# App-only (client credentials) always asks for every application permission admin-consented
# for Graph: a single resource's `/.default`.
APP_SCOPE = "https://graph.microsoft.com/.default"

_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})


@dataclass(frozen=True, slots=True)
class EntraConfig:
    """The registered app's identity and where Microsoft lives (or the simulator, over loopback)."""

    client_id: str
    client_secret: str = field(repr=False)
    authority_host: str = "https://login.microsoftonline.com"
    graph_url: str = "https://graph.microsoft.com/v1.0"
    scopes: tuple[str, ...] = DEFAULT_SCOPES


@dataclass(frozen=True, slots=True)
class Origin:
    """An authority host split into what msal is given and what a browser may open."""

    msal_host: str  # always https://..., msal refuses anything else
    browser_host: str  # the configured form (http:// for the loopback simulator)
    loopback: bool


def check_origin(url: str, *, what: str) -> Origin:
    """Validate an https URL, or http on 127.0.0.1/localhost only; raises ValueError otherwise."""
    parts = urlsplit(url.rstrip("/"))
    if not parts.hostname or parts.query or parts.fragment or parts.username:
        raise ValueError(f"{what} must be a plain http(s) origin URL")
    if parts.scheme == "https":
        return Origin(msal_host=url.rstrip("/"), browser_host=url.rstrip("/"), loopback=False)
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        host = url.rstrip("/")
        return Origin(
            msal_host="https://" + host[len("http://") :], browser_host=host, loopback=True
        )
    raise ValueError(f"{what} must use https (http is allowed for 127.0.0.1/localhost only)")


def authority_origin(config: EntraConfig) -> Origin:
    """The login origin for `config`; raises ValueError for a non-loopback http host or a path."""
    origin = check_origin(config.authority_host, what="authority_host")
    if urlsplit(origin.browser_host).path not in ("", "/"):
        raise ValueError("authority_host must be an origin without a path")
    return origin
