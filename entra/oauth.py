"""OAuth results, and Entra token-endpoint and redirect errors mapped onto entra's error tree."""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from entra.config import GRAPH_RESOURCE
from entra.errors import AuthError, AuthUnavailable, ConsentRequired, ReauthRequired, SignInError

_OIDC_SCOPES = frozenset({"openid", "profile", "offline_access", "email"})
_RESERVED_TENANTS = frozenset({"common", "organizations", "consumers"})
_TENANT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$")
_OAUTH_CODE = re.compile(r"^[a-z_]{1,64}$")
_AADSTS = re.compile(r"AADSTS(\d{4,9})")
# AADSTS numbers that mean "a permission was not (or no longer) consented", or that the app has
# no service principal in the tenant (admin consent never given or withdrawn).
_CONSENT_CODES = frozenset({65001, 65004, 700016, 7000229})
_CONSENT_SUBERRORS = frozenset({"consent_required"})
_REAUTH_ERRORS = frozenset({"invalid_grant", "interaction_required", "login_required"})
_TRANSIENT_ERRORS = frozenset({"temporarily_unavailable", "server_error", "service_unavailable"})


@dataclass(frozen=True, slots=True)
class SignInStart:
    """Send the admin's browser to `auth_uri`; store `flow` (encrypted) under `state`."""

    auth_uri: str
    state: str
    flow: dict[str, Any] = field(repr=False)  # holds the PKCE verifier and nonce


@dataclass(frozen=True, slots=True)
class SignInResult:
    """A completed sign-in; `token_cache` is msal's serialized cache, to be encrypted at rest."""

    tenant_id: str
    username: str
    home_account_id: str
    granted_scopes: tuple[str, ...]
    token_cache: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenResult:
    """An access token; `token_cache` is the new serialized cache, or None if unchanged."""

    access_token: str = field(repr=False)
    expires_in: int
    token_cache: str | None = field(repr=False)


@dataclass(frozen=True, slots=True)
class AccessToken:
    """An app-only access token and its remaining lifetime in seconds."""

    access_token: str = field(repr=False)
    expires_in: int


def _short_scope(scope: str) -> str:
    return scope.removeprefix(GRAPH_RESOURCE).lower()


def missing_scopes(required: tuple[str, ...], granted: str | None) -> tuple[str, ...]:
    """Scopes of `required` not in the space-separated `granted` (None = all granted, per OAuth)."""
    if granted is None:
        return ()
    have = {_short_scope(s) for s in granted.split()}
    return tuple(s for s in required if _short_scope(s) not in have)


def granted_scopes(returned: str, known: tuple[str, ...]) -> tuple[str, ...]:
    """Entra's granted `scope` string as full Graph scope URIs in `known`'s spelling, OIDC dropped.

    Entra may answer `User.Read.All` or `https://graph.microsoft.com/User.Read.All`; callers
    compare against the configured scopes, so both come back in the configured form.
    """
    spelling = {_short_scope(k): k for k in known}
    out: list[str] = []
    for scope in returned.split():
        if scope.lower() in _OIDC_SCOPES:
            continue
        full = spelling.get(_short_scope(scope)) or (
            scope if "://" in scope else GRAPH_RESOURCE + scope
        )
        if full not in out:
            out.append(full)
    return tuple(out)


def _aadsts(result: Mapping[str, Any]) -> tuple[int, ...]:
    codes = result.get("error_codes")
    if isinstance(codes, list) and all(isinstance(c, int) for c in codes):
        return tuple(codes)
    return tuple(int(n) for n in _AADSTS.findall(str(result.get("error_description") or "")))


def _first_line(result: Mapping[str, Any]) -> str:
    text = str(result.get("error_description") or "").strip()
    return text.splitlines()[0] if text else ""


def token_error(result: Mapping[str, Any], *, during: str) -> AuthError:
    """Map an msal/Entra error dict to the AuthError subtype that says what to do about it."""
    code = str(result.get("error") or "") or None
    codes = _aadsts(result)
    corr = result.get("correlation_id")
    kw: dict[str, Any] = {
        "code": code,
        "error_codes": codes,
        "correlation_id": corr if isinstance(corr, str) else None,
    }
    detail = _first_line(result)
    suffix = f": {detail}" if detail else ""
    if (
        code == "consent_required"
        or result.get("suberror") in _CONSENT_SUBERRORS
        or _CONSENT_CODES.intersection(codes)
    ):
        return ConsentRequired(f"{during} needs admin consent{suffix}", **kw)
    if code in _REAUTH_ERRORS:
        return ReauthRequired(f"{during} was refused; sign in again{suffix}", **kw)
    if code in _TRANSIENT_ERRORS:
        return AuthUnavailable(f"{during} failed at Microsoft; retry later{suffix}", **kw)
    return AuthError(f"{during} failed{suffix}", **kw)


def validate_tenant(tenant: str, *, allow_reserved: bool = False) -> str:
    if not _TENANT.match(tenant):
        raise ValueError("tenant must be a tenant id (GUID) or a verified domain")
    if not allow_reserved and tenant.lower() in _RESERVED_TENANTS:
        raise ValueError(f"tenant must be a specific tenant, not {tenant!r}")
    return tenant


def raise_redirect_error(error: str, description: str) -> NoReturn:
    """Raise the error for an `?error=` redirect from Microsoft (sign-in or admin consent)."""
    code = error if _OAUTH_CODE.match(error) else "invalid_error"
    # The description is attacker-controllable (anyone can craft a redirect): only AADSTS
    # numbers are taken from it.
    codes = tuple(int(n) for n in _AADSTS.findall(description))
    if code == "consent_required" or _CONSENT_CODES.intersection(codes) - {65004}:
        raise ConsentRequired(
            "Microsoft says an administrator must consent", code=code, error_codes=codes
        )
    if code == "access_denied":
        message = "sign-in was cancelled or consent was declined at Microsoft"
    elif code in ("interaction_required", "login_required"):
        message = "Microsoft requires an interactive sign-in; start over"
    elif code in _TRANSIENT_ERRORS:
        message = "Microsoft could not complete the sign-in right now; try again"
    else:
        message = "Microsoft returned an error to the sign-in redirect"
    raise SignInError(message, code=code, error_codes=codes)


def parse_admin_consent(params: Mapping[str, str], *, expected_state: str) -> str:
    """Return the consenting tenant id from the admin-consent redirect.

    The `tenant` parameter only says where consent was given, not who asked: bind it to the
    signed-in admin's `tid` before trusting it. Raises SignInError (state, error redirect,
    malformed) or ConsentRequired (consent not granted).
    """
    state = params.get("state") or ""
    if not expected_state or not hmac.compare_digest(state.encode(), expected_state.encode()):
        raise SignInError("the admin-consent response does not belong to this request (state)")
    error = params.get("error")
    if error:
        raise_redirect_error(error, params.get("error_description", ""))
    if str(params.get("admin_consent", "")).lower() != "true":
        raise ConsentRequired("admin consent was not granted")
    tenant = params.get("tenant") or ""
    try:
        return validate_tenant(tenant)
    except ValueError:
        raise SignInError("the admin-consent response names no valid tenant") from None
