"""What the simulated Entra has handed out: consents, authorization codes, access and refresh tokens."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

from simulator.wire import url_token

GRAPH_RESOURCE = "https://graph.microsoft.com/"
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})

# Delegated Graph permissions the simulator knows, in Graph's own spelling (the token response
# and msal's cache use this spelling, so `user.read.all` comes back as `User.Read.All`).
KNOWN_GRAPH_SCOPES: dict[str, str] = {
    name.casefold(): name
    for name in (
        "User.Read",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Group.Read.All",
        "Group.ReadWrite.All",
        "GroupMember.Read.All",
        "GroupMember.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Organization.Read.All",
        "MailboxSettings.Read",
    )
}


@dataclass
class Consent:
    """What a tenant granted one app: delegated scopes (user/admin consent) and app roles."""

    delegated: set[str] = field(default_factory=set)
    app_roles: set[str] = field(default_factory=set)


@dataclass
class AuthCode:
    code: str
    tenant_id: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    code_challenge_method: str
    scopes: tuple[str, ...]  # as requested (OIDC scopes and Graph scopes in Graph's spelling)
    nonce: str | None
    user_id: str
    expires_at: float
    redeemed: bool = False


@dataclass
class PendingConsent:
    """A sign-in or admin consent waiting on the consent page's Accept or Cancel."""

    kind: Literal["authorize", "adminconsent"]
    tenant_id: str | None  # None for organizations/common: the page asks which tenant
    client_id: str
    redirect_uri: str
    response_mode: str
    state: str | None
    scopes: tuple[str, ...]
    code_challenge: str = ""
    code_challenge_method: str = "S256"
    nonce: str | None = None
    login_hint: str | None = None


@dataclass
class AccessGrant:
    """An issued access token: delegated (`scopes`) or app-only (`roles` read from consent)."""

    tenant_id: str
    client_id: str
    kind: Literal["delegated", "app"]
    scopes: frozenset[str]
    expires_at: float
    user_id: str | None = None


@dataclass
class RefreshGrant:
    tenant_id: str
    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    issued_at: float
    last_used: float
    revoked: bool = False


@dataclass
class GrantStore:
    """Every code and token by value; tokens are opaque URL-safe strings, never JWTs."""

    codes: dict[str, AuthCode] = field(default_factory=dict)
    access: dict[str, AccessGrant] = field(default_factory=dict)
    refresh: dict[str, RefreshGrant] = field(default_factory=dict)
    consents: dict[tuple[str, str], Consent] = field(default_factory=dict)
    pending: dict[str, PendingConsent] = field(default_factory=dict)

    def consent(self, tenant_id: str, client_id: str) -> Consent | None:
        return self.consents.get((tenant_id, client_id))

    def grant_consent(
        self,
        tenant_id: str,
        client_id: str,
        *,
        delegated: set[str] | frozenset[str] = frozenset(),
        app_roles: set[str] | frozenset[str] = frozenset(),
    ) -> Consent:
        consent = self.consents.setdefault((tenant_id, client_id), Consent())
        consent.delegated |= delegated
        consent.app_roles |= app_roles
        return consent

    def new_access_token(self, grant: AccessGrant) -> str:
        token = url_token(48)
        self.access[token] = grant
        return token

    def new_refresh_token(self, grant: RefreshGrant) -> str:
        token = url_token(64)
        self.refresh[token] = grant
        return token

    def expire_access_tokens(self) -> None:
        past = time.time() - 1
        for grant in self.access.values():
            grant.expires_at = min(grant.expires_at, past)

    def revoke_refresh_tokens(self, tenant_id: str) -> None:
        for grant in self.refresh.values():
            if grant.tenant_id == tenant_id:
                grant.revoked = True

    def withdraw_consent(self, tenant_id: str, client_id: str | None = None) -> None:
        for key in [k for k in self.consents if k[0] == tenant_id]:
            if client_id is None or key[1] == client_id:
                del self.consents[key]
