"""Connect, check and disconnect Entra tenants (C1-C7): sign-in through msal, tokens encrypted at rest."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from entra.auth import EntraAuth
from entra.config import APP_SCOPE
from entra.errors import (
    AuthUnavailable,
    CipherError,
    ConsentRequired,
    EntraError,
    GraphUnavailable,
    ReauthRequired,
    SignInError,
)
from entra.graph import GraphClient
from entra.oauth import parse_admin_consent
from entra.tokens import AppTokenSource, DelegatedTokenSource, TokenSource
from models import (
    AuthMode,
    ConnectionScope,
    ConnectionStatus,
    ImportMapping,
    SignInRequest,
    Site,
    SyncRun,
    TenantConnection,
)
from services.caller import Caller
from services.errors import (
    ConnectionNotReady,
    ConsentNeeded,
    MicrosoftUnavailable,
    NotConfigured,
    NotFound,
    ReauthNeeded,
    SignInFailed,
    SiteAlreadyConnected,
    TenantAlreadyConnected,
)
from services.pagination import Page, page_by_id
from services.runtime import Runtime
from services.sites import get_site
from services.webhooks.events import notify_connection_status

log = logging.getLogger("entrasync.connections")

SIGN_IN_TTL = timedelta(minutes=10)
# Statuses in which a connection holds its site or tenant (C5). A PENDING one holds nothing until
# its sign-in completes, when the check runs again.
LIVE = (
    ConnectionStatus.CONNECTED,
    ConnectionStatus.NEEDS_REAUTH,
    ConnectionStatus.NEEDS_CONSENT,
)


def _state_hash(state: str) -> str:
    return hashlib.sha256(state.encode()).hexdigest()


def _bound(connection_id: int) -> str:
    return f"tenant_connection:{connection_id}"


# App-only connections sign an admin in only to learn (and bind) their tenant: identity, nothing more.
IDENTITY_SCOPES = ("https://graph.microsoft.com/User.Read",)


def _sign_in_scopes(conn: TenantConnection) -> tuple[str, ...] | None:
    return IDENTITY_SCOPES if conn.auth_mode is AuthMode.APP_ONLY else None


def _auth(rt: Runtime) -> EntraAuth:
    if rt.auth is None:
        raise NotConfigured()
    return rt.auth


async def list_connections(
    caller: Caller, *, first: int, after_id: int | None, status: ConnectionStatus | None = None
) -> Page[TenantConnection]:
    qs = TenantConnection.filter(account_id=caller.account_id)
    if status is not None:
        qs = qs.filter(status=status)
    return await page_by_id(qs, first=first, after_id=after_id)


async def get_connection(caller: Caller, connection_id: int) -> TenantConnection:
    """Raises NotFound for a missing connection or another account's (A4)."""
    conn = await TenantConnection.get_or_none(id=connection_id, account_id=caller.account_id)
    if conn is None:
        raise NotFound("connection")
    return conn


async def fed_sites(account_id: int, *, exclude: int | None = None) -> set[int]:
    """Sites fed by a live connection: its own SITE connection or an ACCOUNT mapping (C5)."""
    live = TenantConnection.filter(account_id=account_id, status__in=LIVE)
    if exclude is not None:
        live = live.exclude(id=exclude)
    site_level = await live.filter(scope=ConnectionScope.SITE).values_list("site_id", flat=True)
    live_ids = list(await live.values_list("id", flat=True))
    mapped = await ImportMapping.filter(
        account_id=account_id, connection_id__in=live_ids
    ).values_list("site_id", flat=True)
    return {int(str(s)) for s in [*site_level, *mapped] if s is not None}


async def start_connect(
    rt: Runtime,
    caller: Caller,
    *,
    scope: ConnectionScope,
    site_id: int | None = None,
    connection_id: int | None = None,
    login_hint: str | None = None,
    auth_mode: AuthMode = AuthMode.DELEGATED,
) -> tuple[TenantConnection, str]:
    """Begin a Microsoft sign-in (C2) for a new connection, or to re-authorise an existing one.

    Returns the connection (PENDING when new) and the sign-in URL to send the admin to.
    Raises PermissionDenied, NotFound, SiteAlreadyConnected, NotConfigured, MicrosoftUnavailable.
    """
    caller.require_admin()
    auth = _auth(rt)
    if connection_id is not None:
        conn = await get_connection(caller, connection_id)
    else:
        site: Site | None = None
        if scope is ConnectionScope.SITE:
            if site_id is None:
                raise NotFound("site")
            site = await get_site(caller, site_id)
            if site.id in await fed_sites(caller.account_id):
                raise SiteAlreadyConnected(site.name)
        # Sign-ins that were started and abandoned leave PENDING rows; drop the expired ones.
        await TenantConnection.filter(
            account_id=caller.account_id,
            status=ConnectionStatus.PENDING,
            entra_tenant_id=None,
            created_at__lt=datetime.now(UTC) - SIGN_IN_TTL,
        ).delete()
        conn = TenantConnection(
            account_id=caller.account_id, scope=scope, site=site, auth_mode=auth_mode
        )
    try:
        started = await auth.start_sign_in(
            rt.redirect_uri, login_hint=login_hint or None, scopes=_sign_in_scopes(conn)
        )
    except EntraError as exc:
        raise MicrosoftUnavailable(f"could not start the Microsoft sign-in: {exc.message}") from exc
    async with in_transaction():
        if conn.id is None:
            await conn.save()
        request = SignInRequest(
            connection=conn,
            account_id=caller.account_id,
            state_hash=_state_hash(started.state),
            flow="",
            expires_at=datetime.now(UTC) + SIGN_IN_TTL,
        )
        await request.save()
        # The flow holds the PKCE verifier and nonce: encrypted, bound to its own row.
        request.flow = rt.cipher.encrypt(
            json.dumps(started.flow).encode(), bound_to=f"sign_in_request:{request.id}"
        )
        await SignInRequest.filter(id=request.id, account_id=caller.account_id).update(
            flow=request.flow
        )
    return conn, started.auth_uri


async def _take_sign_in(
    rt: Runtime, state: str, caller: Caller | None, kind: str = "SIGN_IN"
) -> tuple[SignInRequest, dict[str, Any]]:
    """Find and consume (delete) the sign-in for `state`: a state works once, within its TTL."""
    # With a caller, another account's state is looked up as what it is to them: unknown (A4).
    found = SignInRequest.filter(state_hash=_state_hash(state), kind=kind)
    if caller is not None:
        found = found.filter(account_id=caller.account_id)
    request = await found.first()
    if request is None:
        raise SignInFailed("this sign-in is unknown, was already used, or has expired; start again")
    deleted = await SignInRequest.filter(id=request.id, account_id=request.account_id).delete()
    if deleted != 1:  # a concurrent completion consumed it first
        raise SignInFailed("this sign-in is unknown, was already used, or has expired; start again")
    if request.expires_at < datetime.now(UTC):
        raise SignInFailed("this sign-in has expired; start again")
    try:
        flow = json.loads(rt.cipher.decrypt(request.flow, bound_to=f"sign_in_request:{request.id}"))
    except CipherError as exc:
        raise SignInFailed("this sign-in can no longer be read; start again") from exc
    return request, flow


async def complete_connect(
    rt: Runtime, caller: Caller | None, params: Mapping[str, str]
) -> tuple[TenantConnection, str | None]:
    """Finish a sign-in from Microsoft's redirect parameters (code, state, or error).

    `caller` is None on the browser redirect route, where the single-use state is the proof; the
    mutation passes the admin, whose account must own the sign-in. Raises PermissionDenied,
    SignInFailed, ConsentNeeded, TenantAlreadyConnected, SiteAlreadyConnected (C5),
    MicrosoftUnavailable, NotConfigured.
    """
    if caller is not None:
        caller.require_admin()
    auth = _auth(rt)
    state = params.get("state") or ""
    if not state:
        raise SignInFailed("the sign-in response has no state")
    request, flow = await _take_sign_in(rt, state, caller)
    conn = await TenantConnection.get(id=request.connection_id, account_id=request.account_id)
    try:
        result = await auth.complete_sign_in(flow, params, scopes=_sign_in_scopes(conn))
    except SignInError as exc:
        raise SignInFailed(exc.message) from exc
    except ConsentRequired as exc:
        raise ConsentNeeded(exc.message) from exc
    except EntraError as exc:
        raise MicrosoftUnavailable(exc.message) from exc

    if conn.scope is ConnectionScope.SITE and conn.site_id in await fed_sites(
        conn.account_id, exclude=conn.id
    ):
        if conn.status is ConnectionStatus.PENDING and not conn.entra_tenant_id:
            await conn.delete()
        site = await Site.get(id=conn.site_id, account_id=conn.account_id)
        raise SiteAlreadyConnected(site.name)
    if conn.entra_tenant_id and conn.entra_tenant_id != result.tenant_id:
        raise SignInFailed(
            "you signed in to a different tenant than this connection's; sign in with an admin of "
            f"{conn.tenant_name or conn.entra_tenant_id}"
        )
    await _refuse_duplicate(conn, result.tenant_id)

    if conn.auth_mode is AuthMode.APP_ONLY:
        return conn, await _ask_admin_consent(rt, conn, result.tenant_id, result.username)
    source = DelegatedTokenSource(
        auth,
        token_cache=result.token_cache,
        home_account_id=result.home_account_id,
        tenant_id=result.tenant_id,
    )
    tenant_name = await _tenant_name(rt, source, result.tenant_id)
    conn.entra_tenant_id = result.tenant_id
    conn.tenant_name = tenant_name or conn.tenant_name
    conn.home_account_id = result.home_account_id
    conn.granted_scopes = " ".join(result.granted_scopes)
    conn.connected_by = result.username[:320]
    conn.connected_at = datetime.now(UTC)
    conn.status = ConnectionStatus.CONNECTED
    conn.status_message = ""
    conn.token_cache = rt.cipher.encrypt(result.token_cache.encode(), bound_to=_bound(conn.id))
    await conn.save()
    log.info("connection %s connected to tenant %s", conn.id, result.tenant_id)
    return conn, None


async def _refuse_duplicate(conn: TenantConnection, tenant_id: str) -> None:
    """Raises TenantAlreadyConnected when the tenant is already live here with the same scope."""
    duplicate = (
        await TenantConnection.filter(
            account_id=conn.account_id,
            entra_tenant_id=tenant_id,
            scope=conn.scope,
            site_id=conn.site_id,
            status__in=LIVE,
        )
        .exclude(id=conn.id)
        .first()
    )
    if duplicate is not None:
        if conn.status is ConnectionStatus.PENDING and not conn.entra_tenant_id:
            await conn.delete()
        raise TenantAlreadyConnected(duplicate.tenant_name or tenant_id)


async def _ask_admin_consent(
    rt: Runtime, conn: TenantConnection, tenant_id: str, username: str
) -> str:
    """App-only, step 2: the admin who signed in grants application permissions for *their*
    tenant. Their `tid` is recorded now, so the consent redirect's `tenant` is checked against
    it rather than trusted (graph-and-msal.md: never authenticate with that parameter)."""
    auth = _auth(rt)
    state = secrets.token_urlsafe(32)
    async with in_transaction():
        request = SignInRequest(
            connection=conn,
            account_id=conn.account_id,
            state_hash=_state_hash(state),
            kind="ADMIN_CONSENT",
            flow="",
            expires_at=datetime.now(UTC) + SIGN_IN_TTL,
        )
        await request.save()
        request.flow = rt.cipher.encrypt(
            json.dumps({"tenant_id": tenant_id, "username": username}).encode(),
            bound_to=f"sign_in_request:{request.id}",
        )
        await request.save(update_fields=["flow"])
        conn.status_message = "waiting for an admin to grant application permissions"
        await conn.save(update_fields=["status_message", "updated_at"])
    return auth.admin_consent_url(tenant_id, rt.admin_consent_redirect_uri, state)


async def complete_admin_consent(rt: Runtime, params: Mapping[str, str]) -> TenantConnection:
    """App-only, step 3: Microsoft's admin-consent redirect. Verifies the consenting tenant is
    the signed-in admin's and that a client-credentials token can be had, then connects with no
    user token stored. Raises SignInFailed, ConsentNeeded, TenantAlreadyConnected,
    MicrosoftUnavailable, NotConfigured.
    """
    auth = _auth(rt)
    state = params.get("state") or ""
    if not state:
        raise SignInFailed("the admin-consent response has no state")
    request, expected = await _take_sign_in(rt, state, None, kind="ADMIN_CONSENT")
    conn = await TenantConnection.get(id=request.connection_id, account_id=request.account_id)
    try:
        tenant = parse_admin_consent(params, expected_state=state)
    except SignInError as exc:
        raise SignInFailed(exc.message) from exc
    except ConsentRequired as exc:
        raise ConsentNeeded(exc.message) from exc
    tenant_id = str(expected["tenant_id"])
    if tenant.casefold() != tenant_id.casefold():
        raise SignInFailed("consent was given for a different tenant than the signed-in admin's")
    if conn.entra_tenant_id and conn.entra_tenant_id != tenant_id:
        raise SignInFailed("consent was given for a different tenant than this connection's")
    await _refuse_duplicate(conn, tenant_id)
    source = AppTokenSource(auth, tenant_id=tenant_id)
    try:
        await source(force_refresh=True)
    except ConsentRequired as exc:
        raise ConsentNeeded(exc.message) from exc
    except EntraError as exc:
        raise MicrosoftUnavailable(exc.message) from exc
    conn.tenant_name = await _tenant_name(rt, source, tenant_id) or conn.tenant_name
    conn.entra_tenant_id = tenant_id
    conn.home_account_id = None
    conn.token_cache = None  # type: ignore[assignment]
    conn.granted_scopes = APP_SCOPE
    conn.connected_by = str(expected.get("username") or "")[:320]
    conn.connected_at = datetime.now(UTC)
    conn.status = ConnectionStatus.CONNECTED
    conn.status_message = ""
    await conn.save()
    log.info("connection %s connected app-only to tenant %s", conn.id, tenant_id)
    return conn


async def _tenant_name(rt: Runtime, source: TokenSource, tenant_id: str) -> str:
    """The tenant's display name from Graph; a failure here must not undo a good sign-in."""
    try:
        async with GraphClient(rt.http, graph_url=rt.graph_url, token=source) as graph:
            org = await graph.organization()
    except EntraError as exc:
        log.warning("could not read the tenant name of %s: %s", tenant_id, exc.message)
        return ""
    return org.display_name


async def disconnect(caller: Caller, connection_id: int) -> TenantConnection:
    """C7: delete the stored token, stop schedules, keep every imported user as it is.

    Raises PermissionDenied, NotFound.
    """
    caller.require_admin()
    conn = await get_connection(caller, connection_id)
    async with in_transaction():
        await SignInRequest.filter(connection_id=conn.id).delete()
        conn.token_cache = None  # type: ignore[assignment]
        conn.home_account_id = None
        conn.status = ConnectionStatus.DISCONNECTED
        conn.status_message = "disconnected by an admin"
        conn.sync_interval_minutes = None
        conn.next_sync_at = None
        conn.delta_link = None  # type: ignore[assignment]
        await conn.save()
        # A run in progress stops after its current batch; the token it held is gone.
        await SyncRun.filter(active_connection_id=conn.id).update(cancel_requested=True)
    return conn


async def mark_status(
    rt: Runtime, conn: TenantConnection, status: ConnectionStatus, message: str
) -> None:
    """Record a C6 status; webhooks hear of it when it is news (not on every failing call)."""
    changed = conn.status is not status
    conn.status = status
    conn.status_message = message[:500]
    await conn.save(update_fields=["status", "status_message", "updated_at"])
    if changed:
        await notify_connection_status(rt, conn)


@asynccontextmanager
async def graph_for(rt: Runtime, conn: TenantConnection) -> AsyncIterator[GraphClient]:
    """A Graph client acting through the connection's stored sign-in.

    Token refreshes are re-encrypted and saved at once. A refused refresh token turns the
    connection NEEDS_REAUTH, missing permissions NEEDS_CONSENT (C6), and raises ReauthNeeded or
    ConsentNeeded; Microsoft outages raise MicrosoftUnavailable. Raises ConnectionNotReady when
    the connection has no usable token.
    """
    auth = _auth(rt)
    if conn.status is not ConnectionStatus.CONNECTED:
        raise ConnectionNotReady(conn.status.value, conn.status_message)
    if conn.auth_mode is AuthMode.APP_ONLY:
        async with _mapped_errors(rt, conn):
            async with GraphClient(
                rt.http,
                graph_url=rt.graph_url,
                token=AppTokenSource(auth, tenant_id=conn.entra_tenant_id or ""),
            ) as graph:
                yield graph
        return
    if not conn.token_cache:
        raise ConnectionNotReady(conn.status.value, conn.status_message)
    missing = set(auth.config.scopes) - set(conn.granted_scopes.split())
    if missing:
        message = "the product now needs permissions this tenant has not granted: " + ", ".join(
            sorted(s.rsplit("/", 1)[-1] for s in missing)
        )
        await mark_status(rt, conn, ConnectionStatus.NEEDS_CONSENT, message)
        raise ConsentNeeded(message)
    try:
        cache = rt.cipher.decrypt(conn.token_cache, bound_to=_bound(conn.id)).decode()
    except CipherError as exc:
        message = "the stored sign-in cannot be decrypted (was the encryption key changed?); sign in again"
        await mark_status(rt, conn, ConnectionStatus.NEEDS_REAUTH, message)
        raise ReauthNeeded(message) from exc

    async def persist(new_cache: str) -> None:
        encrypted = rt.cipher.encrypt(new_cache.encode(), bound_to=_bound(conn.id))
        conn.token_cache = encrypted
        await TenantConnection.filter(id=conn.id, status=ConnectionStatus.CONNECTED).update(
            token_cache=encrypted
        )

    source = DelegatedTokenSource(
        auth,
        token_cache=cache,
        home_account_id=conn.home_account_id or "",
        tenant_id=conn.entra_tenant_id or "",
        on_cache_change=persist,
    )
    async with _mapped_errors(rt, conn):
        async with GraphClient(rt.http, graph_url=rt.graph_url, token=source) as graph:
            yield graph


@asynccontextmanager
async def _mapped_errors(rt: Runtime, conn: TenantConnection) -> AsyncIterator[None]:
    """Microsoft's answers as domain errors, recording C6 statuses on the connection."""
    try:
        yield
    except ReauthRequired as exc:
        message = (
            f"Microsoft refused the stored sign-in ({exc.message}); an admin must sign in again"
        )
        await mark_status(rt, conn, ConnectionStatus.NEEDS_REAUTH, message)
        raise ReauthNeeded(message) from exc
    except ConsentRequired as exc:
        message = f"permissions are missing or were withdrawn ({exc.message}); an admin must consent again"
        await mark_status(rt, conn, ConnectionStatus.NEEDS_CONSENT, message)
        raise ConsentNeeded(message) from exc
    except (AuthUnavailable, GraphUnavailable) as exc:
        raise MicrosoftUnavailable(f"Microsoft is unavailable: {exc.message}") from exc
    except EntraError as exc:
        raise MicrosoftUnavailable(f"Microsoft answered with an error: {exc.message}") from exc


async def check_connection(rt: Runtime, caller: Caller, connection_id: int) -> TenantConnection:
    """Talk to the tenant once (its organization) and record what Microsoft says (C6).

    Raises NotFound, ConnectionNotReady, ReauthNeeded, ConsentNeeded, MicrosoftUnavailable.
    """
    conn = await get_connection(caller, connection_id)
    async with graph_for(rt, conn) as graph:
        org = await graph.organization()
    if org.display_name and org.display_name != conn.tenant_name:
        conn.tenant_name = org.display_name
        await conn.save(update_fields=["tenant_name", "updated_at"])
    return conn
