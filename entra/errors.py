"""The errors entra raises: the only exceptions that leave the Microsoft boundary."""

from __future__ import annotations

import re

# The tree, and when to catch each (every class below is an `EntraError`):
#
#   EntraError                 anything that went wrong talking to Microsoft; catch it to turn
#   |                          any failure of a run into "failed" with the message.
#   +-- GraphError             Graph answered with an error (status, code, request_id).
#   |   +-- GraphRequestError  Graph refused the request as made (4xx, 501); retrying the same
#   |   |                      request won't help: a bug, an unsupported query, a bad filter.
#   |   +-- GraphNotFound      404: the user/group/object id does not exist (any more).
#   |   +-- GraphUnavailable   429/5xx/timeouts/connection errors that outlived the retry policy
#   |   |                      (R10); retry the whole run later, `retry_after` says when.
#   |   +-- DeltaTokenExpired  the delta link is no longer valid (syncStateNotFound,
#   |   |                      resyncRequired, 410 Gone): drop it and run a full sync (R9).
#   |   +-- GraphAccessDenied  403 Authorization_RequestDenied: the token lacks a permission;
#   |                          also a ConsentRequired, so C6 handling catches it.
#   +-- AuthError              the token service (msal / login.microsoftonline.com) failed;
#   |   |                      carries the OAuth `code` and AADSTS `error_codes`.
#   |   +-- ReauthRequired     refresh token rejected, revoked or expired, or no account in
#   |   |                      the cache: the connection needs a new sign-in (C6 NEEDS_REAUTH).
#   |   +-- ConsentRequired    a permission the product needs was not (or no longer) granted:
#   |   |                      an admin must consent again (C6 NEEDS_CONSENT).
#   |   +-- SignInError        the sign-in redirect can't be completed: forged/replayed state,
#   |   |                      PKCE mismatch, expired code, the user cancelled. Show `message`
#   |   |                      to the admin and offer to start over.
#   |   +-- AuthUnavailable    the token service was unreachable or answered 5xx/429; transient,
#   |                          the stored token is still fine: retry later, don't ask for re-auth.
#   +-- CipherError            a stored ciphertext can't be decrypted (tampered, moved to another
#                              row, key no longer in the keyring).
#
# Messages never contain secrets: no access/refresh tokens, authorization codes, client secret,
# PKCE verifier or cipher keys. Graph request URLs are reported by path only (no query string,
# which may hold skip/delta tokens).

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)bearer\s+\S+")
_MAX_DETAIL = 300


def redact(text: str, *, limit: int = _MAX_DETAIL) -> str:
    """Remove anything shaped like a bearer token or JWT, drop control characters, and truncate."""
    text = _BEARER.sub("Bearer [redacted]", text)
    text = _JWT.sub("[redacted-jwt]", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text).strip()
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


class EntraError(Exception):
    """Base of every error entra raises; `message` is safe to log and to show an admin."""

    def __init__(self, message: str) -> None:
        self.message = redact(message, limit=4 * _MAX_DETAIL)
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class GraphError(EntraError):
    """Microsoft Graph answered with an error, or never answered usefully."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.request_id = request_id
        parts = [redact(message)]
        if status is not None or code:
            parts.append(f"[{status or '-'} {code or '-'}]")
        if request_id:
            parts.append(f"request-id {request_id}")
        # Explicit base call: GraphAccessDenied also inherits AuthError, whose __init__ would
        # otherwise run next in the MRO and overwrite `code`.
        EntraError.__init__(self, " ".join(parts))


class GraphRequestError(GraphError):
    """Graph refused the request as made (400, 401 after a refresh, 403, 405, 501, ...)."""


class GraphNotFound(GraphError):
    """The object addressed by the request does not exist (404)."""


class GraphUnavailable(GraphError):
    """Throttling or transient failures outlived the retry policy; try again later."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        attempts: int = 0,
    ) -> None:
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(message, status=status, code=code, request_id=request_id)


class DeltaTokenExpired(GraphError):
    """The delta link expired or was invalidated; drop it and start a full round (R9)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        location: str | None = None,
    ) -> None:
        # `location` is the URL Graph suggests for the restart (410 Gone); informational, since
        # a restart is simply delta_pages(None).
        self.location = location
        super().__init__(message, status=status, code=code, request_id=request_id)


class AuthError(EntraError):
    """The token service refused or failed; `code` is the OAuth error, if any."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        error_codes: tuple[int, ...] = (),
        correlation_id: str | None = None,
    ) -> None:
        self.code = code
        self.error_codes = error_codes
        self.correlation_id = correlation_id
        parts = [redact(message)]
        if code:
            parts.append(f"[{code}]")
        if error_codes:
            parts.append(" ".join(f"AADSTS{n}" for n in error_codes))
        if correlation_id:
            parts.append(f"correlation-id {correlation_id}")
        EntraError.__init__(self, " ".join(parts))


class ReauthRequired(AuthError):
    """The stored sign-in can no longer produce tokens; an admin must sign in again."""


class ConsentRequired(AuthError):
    """A needed permission is missing; `missing_scopes` lists them when known."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        error_codes: tuple[int, ...] = (),
        correlation_id: str | None = None,
        missing_scopes: tuple[str, ...] = (),
    ) -> None:
        self.missing_scopes = missing_scopes
        if missing_scopes:
            message = f"{message} (missing: {', '.join(missing_scopes)})"
        super().__init__(message, code=code, error_codes=error_codes, correlation_id=correlation_id)


class SignInError(AuthError):
    """The sign-in redirect could not be completed; `message` is safe to show the admin."""


class AuthUnavailable(AuthError):
    """The token service could not be reached or failed (5xx, 429, network); transient."""


class GraphAccessDenied(GraphError, ConsentRequired):
    """Graph 403 Authorization_RequestDenied: the token lacks a permission (C6 NEEDS_CONSENT)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        # ConsentRequired/AuthError attributes, so handlers of either family can read them.
        self.missing_scopes = ()
        self.error_codes = ()
        self.correlation_id = request_id
        GraphError.__init__(self, message, status=status, code=code, request_id=request_id)


class CipherError(EntraError):
    """A ciphertext could not be decrypted or parsed; its content is never revealed."""
