"""Domain errors: expected outcomes that the API turns into typed results.

Catch `DomainError` to handle any expected failure; each subclass names one situation.
Messages are safe to show to the caller: they never hold secrets or other accounts' data.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every expected failure of a use case."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(DomainError):
    """The object does not exist for this caller (another account's objects look the same, A4)."""

    def __init__(self, kind: str) -> None:
        super().__init__(f"{kind} not found")
        self.kind = kind


class PermissionDenied(DomainError):
    """The caller's role may not do this (C1: only ADMIN may change things)."""

    def __init__(self, message: str = "this action needs the ADMIN role") -> None:
        super().__init__(message)


class InvalidInput(DomainError):
    """One input value is wrong; `field` names it in the API's spelling."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def refuse_nul(field: str, value: str) -> str:
    """Raises InvalidInput for a NUL character, which PostgreSQL text cannot hold and no name needs."""
    if "\x00" in value:
        raise InvalidInput(field, "text cannot contain NUL characters")
    return value


class SiteNameTaken(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a site named {name!r} already exists")
        self.name = name


class EmailTaken(DomainError):
    """Emails are unique per site, case-insensitively (S2)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an end user with email {email!r} already exists in this site")
        self.email = email


class SiteAlreadyConnected(DomainError):
    """C5: a site is fed by at most one connection."""

    def __init__(self, site_name: str) -> None:
        super().__init__(f"site {site_name!r} is already fed by another Entra connection")
        self.site_name = site_name


class TenantAlreadyConnected(DomainError):
    """The same tenant is already connected with the same scope (and site)."""

    def __init__(self, tenant_name: str) -> None:
        super().__init__(f"tenant {tenant_name!r} is already connected here; use its connection")
        self.tenant_name = tenant_name


class SignInFailed(DomainError):
    """The Microsoft sign-in could not be completed (forged, replayed or expired state, PKCE,
    cancelled consent, a different tenant than the connection's)."""


class ConsentNeeded(DomainError):
    """The tenant has not granted (or withdrew) permissions the product needs (C6)."""


class ReauthNeeded(DomainError):
    """The stored sign-in was refused by Microsoft; an admin must sign in again (C6)."""


class MicrosoftUnavailable(DomainError):
    """Microsoft could not be reached or kept failing; nothing was changed, try again later."""


class NotConfigured(DomainError):
    """The deployment has no Entra app registration (ENTRASYNC_ENTRA_CLIENT_ID/SECRET)."""

    def __init__(self) -> None:
        super().__init__(
            "no Entra app is configured: set ENTRASYNC_ENTRA_CLIENT_ID and ENTRASYNC_ENTRA_CLIENT_SECRET"
        )


class ConnectionNotReady(DomainError):
    """The connection cannot talk to Microsoft in its current status."""

    def __init__(self, status: str, detail: str = "") -> None:
        text = f"the connection is {status}"
        super().__init__(f"{text}: {detail}" if detail else text)
        self.status = status


class TooManyGroups(DomainError):
    """W4: at most 999 groups can be selected."""

    def __init__(self, count: int, limit: int) -> None:
        super().__init__(f"{count} groups selected; at most {limit} can be (W4)")
        self.count = count
        self.limit = limit


class UnknownGroups(DomainError):
    """W4: some selected group ids do not exist in the tenant."""

    def __init__(self, ids: list[str]) -> None:
        shown = ", ".join(ids[:5]) + (" ..." if len(ids) > 5 else "")
        super().__init__(f"{len(ids)} selected group(s) do not exist in the tenant: {shown}")
        self.ids = ids


class RunNotAwaitingApproval(DomainError):
    """approveSyncRun/rejectSyncRun of a run the mass-change guard is not holding (any more)."""

    def __init__(self, status: str) -> None:
        super().__init__(f"the run is {status}, not AWAITING_APPROVAL")
        self.status = status


class EntraUserNotFound(DomainError):
    """explainUser: the connection's tenant has no live user with this id, UPN or mail."""

    def __init__(self, key: str) -> None:
        super().__init__(f"no user {key!r} in the connection's Entra tenant")
        self.key = key


class EndUserNotInScope(DomainError):
    """resolveReviewItem LINK to an end user the connection cannot sync into: outside its scope
    (another site of a site-level connection), or synced from another Entra tenant (C5)."""


class PreviewRequired(DomainError):
    """Filters and field rules are saved only after a succeeded dry run of the same policies."""


class RunInProgress(DomainError):
    """The connection already has a run; a preview starts once it has ended (R5)."""

    def __init__(self, run_id: int) -> None:
        super().__init__(
            "the connection already has a run in progress; preview again once it has ended"
        )
        self.run_id = run_id
