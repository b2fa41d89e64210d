"""Everything mutable in a running simulator: tenants, apps, grants, faults, config, request log."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Literal

from simulator.faults import FaultPlan
from simulator.grants import AccessGrant, GrantStore
from simulator.paging import SnapshotStore
from simulator.registration import DEMO_APP, AppRegistration
from simulator.tenant import SimTenant


@dataclass
class SimConfig:
    """Knobs tests turn; defaults are Entra's and Graph's documented values."""

    access_token_lifetime: int = 3599
    # Entra's refresh tokens die after 90 days without use.
    refresh_token_inactivity: float = 90 * 86400
    code_lifetime: float = 600
    # Graph's users/delta page size is not documented and varies; 200 is what it is commonly seen at.
    delta_page_size: int = 200
    # Directory delta tokens are guaranteed for seven days (reference section 2).
    delta_token_max_age: float | None = 7 * 86400
    # 400 syncStateNotFound (what Graph sends for users) or 410 Gone + Location.
    delta_expired_status: Literal[400, 410] = 400


@dataclass
class RequestRecord:
    """One handled request (or one `$batch` item, with `batch_item` set)."""

    method: str
    path: str
    query: str
    status: int
    time: float  # time.monotonic() when the response was decided
    retry_after: float | None = None
    batch_item: str | None = None
    dropped: bool = False  # the connection was cut halfway through the body


@dataclass
class SimState:
    tenants: dict[str, SimTenant] = field(default_factory=dict)
    apps: dict[str, AppRegistration] = field(default_factory=dict)
    auto_accept: bool = False
    config: SimConfig = field(default_factory=SimConfig)
    grants: GrantStore = field(default_factory=GrantStore)
    faults: FaultPlan = field(default_factory=FaultPlan)
    requests: list[RequestRecord] = field(default_factory=list)
    snapshots: SnapshotStore = field(default_factory=SnapshotStore)
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    @classmethod
    def create(
        cls,
        tenants: list[SimTenant],
        apps: list[AppRegistration] | None = None,
        *,
        auto_accept: bool = False,
    ) -> SimState:
        state = cls(auto_accept=auto_accept)
        for tenant in tenants:
            state.add_tenant(tenant)
        for app in [DEMO_APP] if apps is None else apps:
            state.apps[app.client_id] = app
        return state

    def add_tenant(self, tenant: SimTenant) -> None:
        if tenant.tenant_id in self.tenants:
            raise ValueError(f"tenant {tenant.tenant_id} already exists")
        self.tenants[tenant.tenant_id] = tenant

    def tenant(self, key: str | SimTenant) -> SimTenant:
        """A tenant by GUID or domain (case-insensitive); KeyError when unknown."""
        if isinstance(key, SimTenant):
            return key
        found = self.find_tenant(key)
        if found is None:
            raise KeyError(key)
        return found

    def find_tenant(self, key: str) -> SimTenant | None:
        folded = key.casefold()
        for tenant in self.tenants.values():
            if tenant.tenant_id == folded or tenant.domain.casefold() == folded:
                return tenant
        return None

    # -- faults that model Entra-side events ---------------------------------------------------

    def expire_access_tokens(self) -> None:
        """Every issued access token now answers 401 InvalidAuthenticationToken."""
        self.grants.expire_access_tokens()

    def revoke_refresh_tokens(self, tenant: str | SimTenant) -> None:
        """The tenant's refresh tokens answer invalid_grant AADSTS50173 (as after a password reset)."""
        self.grants.revoke_refresh_tokens(self.tenant(tenant).tenant_id)

    def withdraw_consent(self, tenant: str | SimTenant, client_id: str | None = None) -> None:
        """Remove the app's consent: refresh answers AADSTS65001, Graph answers 403."""
        self.grants.withdraw_consent(self.tenant(tenant).tenant_id, client_id)

    def expire_delta_tokens(self, tenant: str | SimTenant) -> None:
        """Every delta token issued so far for the tenant answers syncStateNotFound."""
        self.tenant(tenant).expire_delta_tokens()

    # -- shortcuts for tests that want Graph access without a sign-in --------------------------

    def grant_admin_consent(
        self, tenant: str | SimTenant, client_id: str = DEMO_APP.client_id
    ) -> None:
        """What an admin's Accept on /adminconsent records: the app's configured permissions."""
        app = self.apps[client_id]
        self.grants.grant_consent(
            self.tenant(tenant).tenant_id,
            client_id,
            delegated=set(app.delegated_permissions),
            app_roles=set(app.application_permissions),
        )

    def issue_access_token(
        self,
        tenant: str | SimTenant,
        *,
        client_id: str = DEMO_APP.client_id,
        app_only: bool = False,
        scopes: tuple[str, ...] | None = None,
    ) -> str:
        """An access token as the token endpoint would issue it, consenting on the way."""
        sim_tenant = self.tenant(tenant)
        app = self.apps[client_id]
        if app_only:
            granted = frozenset(scopes if scopes is not None else app.application_permissions)
            self.grants.grant_consent(sim_tenant.tenant_id, client_id, app_roles=set(granted))
        else:
            granted = frozenset(scopes if scopes is not None else app.delegated_permissions)
            self.grants.grant_consent(sim_tenant.tenant_id, client_id, delegated=set(granted))
        return self.grants.new_access_token(
            AccessGrant(
                tenant_id=sim_tenant.tenant_id,
                client_id=client_id,
                kind="app" if app_only else "delegated",
                scopes=granted,
                expires_at=time.time() + self.config.access_token_lifetime,
                user_id=None if app_only else sim_tenant.admin_user_id,
            )
        )
