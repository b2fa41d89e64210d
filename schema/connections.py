"""Tenant connections: the connect flow (C2), checks (C6) and disconnect (C7)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import strawberry
from strawberry import relay

from models import AuthMode as _AuthMode
from models import ConnectionScope as _Scope
from models import ConnectionStatus as _Status
from models import TenantConnection as ConnectionModel
from schema.errors import (
    ConnectionNotReadyError,
    ConsentRequiredError,
    MicrosoftUnavailableError,
    NotConfiguredError,
    NotFoundError,
    PermissionDeniedError,
    ReauthRequiredError,
    SignInFailedError,
    SiteAlreadyConnectedError,
    TenantAlreadyConnectedError,
    to_error,
)
from schema.ids import account_rows, decode_id
from schema.pagination import Connection, decode_cursor, page_size, to_connection
from schema.types import Info, Site
from services import connections
from services.errors import DomainError, NotFound
from services.runtime import Runtime

if TYPE_CHECKING:
    from schema.policies import SyncPolicies
    from schema.sync import SyncRun
    from schema.wizard import ImportConfiguration

ConnectionScope = strawberry.enum(
    _Scope, description="ACCOUNT: routed to many sites (W1-W3); SITE: all into one site (W6)."
)
AuthMode = strawberry.enum(
    _AuthMode,
    description="DELEGATED: an admin's sign-in, refresh token stored encrypted; APP_ONLY: admin consent and client credentials, no user token stored.",
)
ConnectionStatus = strawberry.enum(
    _Status, description="C6: NEEDS_REAUTH and NEEDS_CONSENT say what an admin must do."
)


@strawberry.type(description="The link to one Entra tenant. Tokens are never exposed.")
class TenantConnection(relay.Node):
    id: relay.NodeID[int]
    scope: ConnectionScope  # type: ignore[valid-type]
    auth_mode: AuthMode  # type: ignore[valid-type]
    status: ConnectionStatus  # type: ignore[valid-type]
    status_message: str = strawberry.field(
        description="Why the status is what it is, in plain words."
    )
    tenant_id: str | None = strawberry.field(
        description="The Entra tenant id (GUID) once connected."
    )
    tenant_name: str
    granted_scopes: list[str]
    connected_by: str = strawberry.field(description="The Microsoft account that signed in.")
    connected_at: datetime | None
    sync_interval_minutes: int | None = strawberry.field(
        description="R4: the schedule; null when off."
    )
    next_sync_at: datetime | None
    last_full_sync_at: datetime | None = strawberry.field(
        description=(
            "R9: when the last full round started. Runs in between are incremental (Graph "
            "delta); a full round runs again after the full-sync period and after every "
            "configuration change."
        )
    )
    mass_change_threshold: float | None = strawberry.field(
        description=(
            "The mass-change guard: a run that would update, skip or no longer find more than "
            "this share of the connection's imported users waits for an admin "
            "(approveSyncRun/rejectSyncRun); null when off. Set with setMassChangeGuard."
        )
    )
    created_at: datetime
    site_pk: strawberry.Private[int | None]
    row: strawberry.Private[ConnectionModel]

    @strawberry.field(description="For SITE connections: the site every imported user lands in.")
    async def site(self, info: Info) -> Site | None:
        if self.site_pk is None:
            return None
        row = await info.context.site_loader.load(self.site_pk)
        return Site.from_model(row) if row else None

    @strawberry.field(description="The newest sync run of this connection, if any.")
    async def last_run(
        self, info: Info
    ) -> Annotated[SyncRun, strawberry.lazy("schema.sync")] | None:
        from schema.sync import SyncRun

        row = await info.context.last_run_loader.load(self.id)
        return SyncRun.from_model(row) if row else None

    @strawberry.field(
        description="Review items of this connection waiting for an admin (see reviewItems)."
    )
    async def review_waiting(self, info: Info) -> int:
        return await info.context.review_waiting_loader.load(self.id)

    @strawberry.field(
        description="The saved import configuration (W7); null until configureImport."
    )
    async def configuration(
        self,
    ) -> Annotated[ImportConfiguration, strawberry.lazy("schema.wizard")] | None:
        from schema.wizard import ImportConfiguration

        row = self.row
        return ImportConfiguration.from_model(row) if row.configured_at else None

    @strawberry.field(
        description=(
            "The saved sync policies (filters, field rules, lifecycle, review); the SPEC "
            "defaults until updateSyncPolicies."
        )
    )
    async def sync_policies(
        self,
    ) -> Annotated[SyncPolicies, strawberry.lazy("schema.policies")]:
        from schema.policies import SyncPolicies
        from services.policies import current_policies

        return SyncPolicies.from_policies(current_policies(self.row))

    @classmethod
    def from_model(cls, m: ConnectionModel) -> Self:
        return cls(
            id=m.id,
            scope=m.scope,
            auth_mode=m.auth_mode,
            status=m.status,
            status_message=m.status_message,
            tenant_id=m.entra_tenant_id,
            tenant_name=m.tenant_name,
            granted_scopes=m.granted_scopes.split(),
            connected_by=m.connected_by,
            connected_at=m.connected_at,
            sync_interval_minutes=m.sync_interval_minutes,
            next_sync_at=m.next_sync_at,
            last_full_sync_at=m.last_full_sync_at,
            mass_change_threshold=m.mass_change_threshold,
            created_at=m.created_at,
            site_pk=m.site_id,
            row=m,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await account_rows(ConnectionModel, node_ids, info.context.who.account_id)
        return [cls.from_model(row) if row is not None else None for row in rows]


@strawberry.type
class StartConnectPayload:
    connection: TenantConnection
    sign_in_url: str = strawberry.field(
        description="Send the admin's browser here (Microsoft sign-in)."
    )


@strawberry.type
class ConnectionPayload:
    connection: TenantConnection
    next_step_url: str | None = strawberry.field(
        default=None,
        description="APP_ONLY connections: send the admin's browser here next (Microsoft's admin consent).",
    )


StartConnectResult = Annotated[
    StartConnectPayload
    | NotFoundError
    | PermissionDeniedError
    | SiteAlreadyConnectedError
    | MicrosoftUnavailableError
    | NotConfiguredError,
    strawberry.union("StartConnectResult"),
]
CompleteConnectResult = Annotated[
    ConnectionPayload
    | SignInFailedError
    | ConsentRequiredError
    | TenantAlreadyConnectedError
    | SiteAlreadyConnectedError
    | MicrosoftUnavailableError
    | NotConfiguredError
    | PermissionDeniedError,
    strawberry.union("CompleteConnectResult"),
]
DisconnectResult = Annotated[
    ConnectionPayload | NotFoundError | PermissionDeniedError, strawberry.union("DisconnectResult")
]
CheckConnectionResult = Annotated[
    ConnectionPayload
    | NotFoundError
    | ConnectionNotReadyError
    | ReauthRequiredError
    | ConsentRequiredError
    | MicrosoftUnavailableError
    | NotConfiguredError,
    strawberry.union("CheckConnectionResult"),
]


@strawberry.input(
    description="Start a Microsoft sign-in: a new connection, or again for `connectionId`."
)
class StartConnectInput:
    scope: ConnectionScope = _Scope.ACCOUNT  # type: ignore[valid-type]
    site_id: strawberry.ID | None = strawberry.field(
        default=None, description="Required for SITE scope."
    )
    connection_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Re-authorise this connection (NEEDS_REAUTH, NEEDS_CONSENT, DISCONNECTED).",
    )
    login_hint: str | None = strawberry.field(
        default=None, description="The admin's Microsoft username, to preselect it."
    )
    auth_mode: AuthMode = strawberry.field(  # type: ignore[valid-type]
        default=_AuthMode.DELEGATED,
        description="New connections: APP_ONLY uses admin consent and client credentials.",
    )


@strawberry.input(description="The `code` and `state` Microsoft added to the redirect URI.")
class CompleteConnectInput:
    code: str
    state: str


@strawberry.input
class ConnectionIdInput:
    id: strawberry.ID


def _runtime(info: Info) -> Runtime:
    rt = info.context.services
    assert isinstance(rt, Runtime), "the app was created without a runtime"
    return rt


def _connection_pk(value: str) -> int:
    pk = decode_id(value, "TenantConnection")
    if pk is None:
        raise NotFound("connection")
    return pk


@strawberry.type
class ConnectionQuery:
    @strawberry.field(
        description="The account's tenant connections; `first` is 1..maxPageSize (default 50)."
    )
    async def tenant_connections(
        self,
        info: Info,
        status: ConnectionStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[TenantConnection]:
        page = await connections.list_connections(
            info.context.who,
            first=page_size(first, info.context.limits.max_page_size),
            after_id=decode_cursor(after),
            status=status,
        )
        return to_connection(page, TenantConnection.from_model)  # type: ignore[arg-type]


@strawberry.type
class ConnectionMutation:
    @strawberry.mutation(
        description="C2: start connecting a tenant; returns the Microsoft sign-in URL. Needs ADMIN."
    )
    async def start_connect(self, info: Info, input: StartConnectInput) -> StartConnectResult:
        try:
            info.context.who.require_admin()
            site_pk = None
            if input.site_id is not None:
                site_pk = decode_id(input.site_id, "Site")
                if site_pk is None:
                    raise NotFound("site")
            conn, url = await connections.start_connect(
                _runtime(info),
                info.context.who,
                scope=input.scope,
                site_id=site_pk,
                connection_id=_connection_pk(input.connection_id) if input.connection_id else None,
                login_hint=(input.login_hint or "")[:320] or None,
                auth_mode=input.auth_mode,
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return StartConnectPayload(connection=TenantConnection.from_model(conn), sign_in_url=url)

    @strawberry.mutation(
        description="Finish the sign-in with the redirect's code and state (single use). Needs ADMIN."
    )
    async def complete_connect(
        self, info: Info, input: CompleteConnectInput
    ) -> CompleteConnectResult:
        try:
            conn, next_url = await connections.complete_connect(
                _runtime(info),
                info.context.who,
                {"code": input.code[:4096], "state": input.state[:512]},
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConnectionPayload(
            connection=TenantConnection.from_model(conn), next_step_url=next_url
        )

    @strawberry.mutation(
        description="C7: delete the stored token and stop syncs; imported users stay. Needs ADMIN."
    )
    async def disconnect(self, info: Info, input: ConnectionIdInput) -> DisconnectResult:
        try:
            info.context.who.require_admin()
            conn = await connections.disconnect(info.context.who, _connection_pk(input.id))
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConnectionPayload(connection=TenantConnection.from_model(conn))

    @strawberry.mutation(description="C6: talk to the tenant once and record what Microsoft says.")
    async def check_connection(self, info: Info, input: ConnectionIdInput) -> CheckConnectionResult:
        try:
            conn = await connections.check_connection(
                _runtime(info), info.context.who, _connection_pk(input.id)
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConnectionPayload(connection=TenantConnection.from_model(conn))
