"""Sign-in, token refresh and app-only tokens through msal, each msal call run off the event loop."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import msal
import requests

from entra.config import APP_SCOPE, EntraConfig, authority_origin
from entra.errors import (
    AuthError,
    AuthUnavailable,
    ConsentRequired,
    EntraError,
    ReauthRequired,
    SignInError,
)
from entra.msal_http import MsalHttpSession
from entra.msal_logging import install_msal_log_redaction
from entra.oauth import (
    AccessToken,
    SignInResult,
    SignInStart,
    TokenResult,
    granted_scopes,
    missing_scopes,
    raise_redirect_error,
    token_error,
    validate_tenant,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

_SIGN_IN_TENANT = "organizations"  # multi-tenant, work/school accounts only


class EntraAuth:
    """msal for one registered multi-tenant app; holds no user tokens itself (the caller does).

    Every msal call runs in a worker thread. Delegated calls build a fresh msal app around the
    caller's cache, so nothing user-specific is shared between connections; the price is one
    OpenID discovery GET per call, which is once per sync run. msal wraps its HTTP in a
    ThrottledHttpClient that replays 429/5xx token responses for their Retry-After (5 s default)
    and identical HTTP 400 responses for 60 s. For delegated calls that cache lives one call. The
    per-tenant app-only apps are kept for the process, so a throttled tenant keeps failing fast
    (AuthUnavailable) until its Retry-After has passed; a refused request (e.g. no admin consent
    yet) drops the app instead, so a consent granted a moment later is seen at once.
    """

    def __init__(self, config: EntraConfig, *, timeout: float = 30.0) -> None:
        """Raise ValueError if `authority_host` is http on anything but 127.0.0.1/localhost."""
        self._config = config
        self._origin = authority_origin(config)
        self._timeout = timeout
        self._app_only: dict[str, tuple[msal.ConfidentialClientApplication, MsalHttpSession]] = {}
        self._lock = threading.Lock()
        install_msal_log_redaction()

    def __repr__(self) -> str:
        return (
            f"EntraAuth(client_id={self._config.client_id!r}, host={self._origin.browser_host!r})"
        )

    @property
    def config(self) -> EntraConfig:
        return self._config

    async def __aenter__(self) -> EntraAuth:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP sessions of the cached app-only msal apps."""
        with self._lock:
            apps, self._app_only = list(self._app_only.values()), {}
        for _, http in apps:
            http.close()

    # -- plumbing ---------------------------------------------------------------------------

    def _http(self) -> MsalHttpSession:
        rewrite = self._origin.msal_host if self._origin.loopback else None
        return MsalHttpSession(timeout=self._timeout, rewrite_origin=rewrite)

    def _app(
        self, tenant: str, http: MsalHttpSession, cache: msal.TokenCache | None = None
    ) -> msal.ConfidentialClientApplication:
        loopback = self._origin.loopback
        return msal.ConfidentialClientApplication(
            self._config.client_id,
            client_credential=self._config.client_secret,
            authority=f"{self._origin.msal_host}/{tenant}",
            token_cache=cache,
            http_client=http,
            # Regional token service is for first-party apps only, and a `MSAL_FORCE_REGION` in the
            # environment would rewrite the host; real Entra works without it.
            azure_region=False,
            # The simulator is not a known Microsoft host: skip the instance discovery call to
            # login.microsoftonline.com. Real hosts keep msal's defaults.
            validate_authority=not loopback,
            instance_discovery=False if loopback else None,
        )

    @contextmanager
    def _msal_errors(self, during: str) -> Iterator[None]:
        """Translate transport-level msal/requests failures; never lets them leave entra."""
        try:
            yield
        except EntraError:
            raise
        except requests.RequestException as exc:
            log.warning("%s: token service unreachable (%s)", during, type(exc).__name__)
            raise AuthUnavailable(
                f"{during}: the Microsoft sign-in service is unreachable"
            ) from None
        except msal.exceptions.MsalServiceError as exc:
            log.warning("%s: token service error (%s)", during, type(exc).__name__)
            raise AuthUnavailable(f"{during}: the Microsoft sign-in service failed") from None
        except ValueError as exc:
            # msal raises ValueError when the authority's discovery document is refused (unknown
            # tenant), and json's ValueError when a response is not JSON (a proxy's error page).
            if "authority" in str(exc).lower() or "discovery" in str(exc).lower():
                raise AuthError(
                    f"{during}: the sign-in authority refused this tenant", code="invalid_tenant"
                ) from None
            log.warning("%s: unexpected response (%s)", during, type(exc).__name__)
            raise AuthUnavailable(
                f"{during}: unexpected response from the sign-in service"
            ) from None
        except (msal.exceptions.MsalError, RuntimeError) as exc:
            log.warning("%s: msal failed (%s)", during, type(exc).__name__)
            raise AuthError(f"{during}: the sign-in library failed") from None

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.to_thread(fn)

    def _to_browser(self, uri: str) -> str:
        if self._origin.loopback and uri.startswith(self._origin.msal_host + "/"):
            return self._origin.browser_host + uri[len(self._origin.msal_host) :]
        return uri

    # -- delegated sign-in (C2) -------------------------------------------------------------

    async def start_sign_in(
        self,
        redirect_uri: str,
        *,
        login_hint: str | None = None,
        response_mode: Literal["query", "form_post"] = "query",
        scopes: Sequence[str] | None = None,
    ) -> SignInStart:
        """Begin an authorization-code flow with PKCE (S256), nonce and a random state.

        With `response_mode="form_post"` Microsoft POSTs the result to `redirect_uri` instead of
        putting it in the query string. `scopes` overrides the configured ones (an identity-only
        sign-in asks for `User.Read`). Raises AuthUnavailable/AuthError if the authority's
        discovery document can't be fetched.
        """
        scopes = list(scopes or self._config.scopes)
        state = secrets.token_urlsafe(32)

        def work() -> dict[str, Any]:
            with self._msal_errors("starting sign-in"), self._http() as http:
                app = self._app(_SIGN_IN_TENANT, http)
                # Always built as form_post: msal warns for any other mode.
                flow: dict[str, Any] = app.initiate_auth_code_flow(
                    scopes,
                    redirect_uri=redirect_uri,
                    state=state,
                    login_hint=login_hint,
                    response_mode="form_post",
                )
                return flow

        flow = await self._run(work)
        if response_mode == "query":
            # response_mode lives only in the URL (not in `flow`); without it Entra uses query.
            parts = urlsplit(flow["auth_uri"])
            query = [(k, v) for k, v in parse_qsl(parts.query) if k != "response_mode"]
            flow["auth_uri"] = urlunsplit(parts._replace(query=urlencode(query)))
        return SignInStart(auth_uri=self._to_browser(flow["auth_uri"]), state=state, flow=flow)

    async def complete_sign_in(
        self,
        flow: Mapping[str, Any],
        params: Mapping[str, str],
        *,
        scopes: Sequence[str] | None = None,
    ) -> SignInResult:
        """Redeem the redirect's code for tokens and return the new serialized cache.

        Raises SignInError (state missing/mismatched, error redirect, code expired or replayed,
        PKCE mismatch), ConsentRequired (consent declined or a required scope not granted),
        AuthUnavailable (token service unreachable/5xx) or AuthError.
        """
        error = params.get("error")
        if error:
            raise_redirect_error(error, params.get("error_description", ""))
        if not params.get("state") or not flow.get("state"):
            raise SignInError("the sign-in response has no state")
        if not hmac.compare_digest(str(flow["state"]).encode(), str(params["state"]).encode()):
            raise SignInError("the sign-in response does not belong to this sign-in (state)")
        if not params.get("code"):
            raise SignInError("the sign-in response has no authorization code")
        wanted = tuple(scopes or self._config.scopes)

        def work() -> SignInResult:
            cache = msal.SerializableTokenCache()
            with self._msal_errors("completing sign-in"), self._http() as http:
                app = self._app(_SIGN_IN_TENANT, http, cache)
                try:
                    result = app.acquire_token_by_auth_code_flow(dict(flow), dict(params))
                except (ValueError, RuntimeError, KeyError):
                    # state/nonce mismatch or a malformed flow; msal's message echoes the state.
                    raise SignInError("the sign-in response could not be verified") from None
                if "error" in result:
                    err = token_error(result, during="signing in")
                    if isinstance(err, ConsentRequired):
                        raise err
                    raise SignInError(
                        "the authorization code was refused (expired, reused or not ours)",
                        code=err.code,
                        error_codes=err.error_codes,
                        correlation_id=err.correlation_id,
                    )
                accounts = app.get_accounts()
            claims = result.get("id_token_claims") or {}
            tenant_id = claims.get("tid")
            if not accounts or not isinstance(tenant_id, str):
                raise SignInError("Microsoft returned no account for this sign-in")
            oid = claims.get("oid") or claims.get("sub")
            account = next((a for a in accounts if a.get("local_account_id") == oid), accounts[0])
            missing = missing_scopes(wanted, result.get("scope"))
            if missing:
                raise ConsentRequired(
                    "the sign-in did not grant every permission", missing_scopes=missing
                )
            returned = str(result.get("scope") or " ".join(wanted))
            granted = granted_scopes(returned, wanted)
            return SignInResult(
                tenant_id=tenant_id,
                username=str(account.get("username") or ""),
                home_account_id=str(account["home_account_id"]),
                granted_scopes=granted,
                token_cache=cache.serialize(),
            )

        return await self._run(work)

    # -- silent acquisition (C3, C6) --------------------------------------------------------

    async def acquire_token(
        self,
        token_cache: str,
        home_account_id: str,
        tenant_id: str,
        *,
        force_refresh: bool = False,
    ) -> TokenResult:
        """Get a Graph token for a stored sign-in, refreshing through the tenant's authority.

        Use `force_refresh=True` after Graph answered 401. Raises ReauthRequired (no account or
        refresh token, or the refresh token was rejected/revoked/expired), ConsentRequired
        (permissions withdrawn or older than `config.scopes`), AuthUnavailable (network, 5xx,
        throttled) or AuthError.
        """
        validate_tenant(tenant_id)
        scopes = list(self._config.scopes)

        def work() -> TokenResult:
            cache = msal.SerializableTokenCache()
            try:
                cache.deserialize(token_cache)
            except (ValueError, TypeError):
                raise ReauthRequired("the stored token cache is unreadable") from None
            with self._msal_errors("refreshing the token"), self._http() as http:
                app = self._app(tenant_id, http, cache)
                account = next(
                    (a for a in app.get_accounts() if a.get("home_account_id") == home_account_id),
                    None,
                )
                if account is None:
                    raise ReauthRequired("no account for this connection in the token cache")
                result = app.acquire_token_silent_with_error(
                    scopes, account=account, force_refresh=force_refresh
                )
            if result is None:
                raise ReauthRequired("no refresh token for this connection in the token cache")
            if "error" in result:
                raise token_error(result, during="refreshing the token")
            missing = missing_scopes(self._config.scopes, result.get("scope"))
            if missing:
                raise ConsentRequired(
                    "the granted permissions are older than needed", missing_scopes=missing
                )
            return TokenResult(
                access_token=str(result["access_token"]),
                expires_in=int(result.get("expires_in") or 0),
                token_cache=cache.serialize() if cache.has_state_changed else None,
            )

        return await self._run(work)

    # -- app-only mode ----------------------------------------------------------------------

    def admin_consent_url(self, tenant: str, redirect_uri: str, state: str) -> str:
        """The v2.0 admin-consent URL for app permissions (msal has no helper for it).

        `tenant` is a tenant id/domain or `organizations` (never `common`). Raises ValueError.
        """
        validate_tenant(tenant, allow_reserved=tenant == "organizations")
        query = urlencode(
            {
                "client_id": self._config.client_id,
                "scope": APP_SCOPE,
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self._origin.browser_host}/{tenant}/v2.0/adminconsent?{query}"

    def _tenant_app(self, tenant_id: str) -> msal.ConfidentialClientApplication:
        with self._lock:
            cached = self._app_only.get(tenant_id)
        if cached is not None:
            return cached[0]
        http = self._http()
        try:
            app = self._app(tenant_id, http)
        except BaseException:
            http.close()
            raise
        with self._lock:
            existing = self._app_only.setdefault(tenant_id, (app, http))
        if existing[0] is not app:
            http.close()
        return existing[0]

    def _evict(self, tenant_id: str) -> None:
        with self._lock:
            cached = self._app_only.pop(tenant_id, None)
        if cached is not None:
            cached[1].close()

    async def acquire_app_token(
        self, tenant_id: str, *, force_refresh: bool = False
    ) -> AccessToken:
        """Client-credentials token for `tenant_id` (no refresh token exists or is stored).

        msal serves it from its in-memory cache until near expiry; `force_refresh` drops that
        first. Raises ConsentRequired (no admin consent in that tenant), AuthUnavailable or
        AuthError.
        """
        validate_tenant(tenant_id)

        def work() -> AccessToken:
            with self._msal_errors("getting an app-only token"):
                app = self._tenant_app(tenant_id)
                if force_refresh:
                    app.remove_tokens_for_client()
                result = app.acquire_token_for_client([APP_SCOPE])
            if not result or "error" in result:
                error = token_error(result or {}, during="getting an app-only token")
                if not isinstance(error, AuthUnavailable):
                    # msal would replay this 400 for 60 s from the app's throttle cache, so a
                    # consent granted meanwhile would go unnoticed: start with a fresh app.
                    self._evict(tenant_id)
                raise error
            return AccessToken(
                access_token=str(result["access_token"]),
                expires_in=int(result.get("expires_in") or 0),
            )

        return await self._run(work)
