"""Typed error results: every mutation returns a union of its payload and these (all implement Error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import strawberry

from schema.ids import encode_id
from services import errors as domain


@strawberry.interface(description="Every expected failure of a mutation implements Error.")
class Error:
    message: str


@strawberry.type(description="An input value is wrong; `field` names the input field.")
class ValidationError(Error):
    field: str


@strawberry.type(description="The object does not exist, or is not visible to this account.")
class NotFoundError(Error):
    pass


@strawberry.type(
    description="The API key's role may not do this (ADMIN is needed to change things)."
)
class PermissionDeniedError(Error):
    pass


@strawberry.type(description="Site names are unique within an account.")
class SiteNameTakenError(Error):
    name: str


@strawberry.type(description="Emails are unique per site, case-insensitively.")
class EmailTakenError(Error):
    email: str


@strawberry.type(description="C5: the site is already fed by another connection.")
class SiteAlreadyConnectedError(Error):
    site_name: str


@strawberry.type(description="This tenant is already connected with the same scope.")
class TenantAlreadyConnectedError(Error):
    tenant_name: str


@strawberry.type(description="The Microsoft sign-in could not be completed; start it again.")
class SignInFailedError(Error):
    pass


@strawberry.type(
    description="C6: the tenant has not granted, or withdrew, permissions the product needs."
)
class ConsentRequiredError(Error):
    pass


@strawberry.type(
    description="C6: Microsoft refused the stored sign-in; an admin must sign in again."
)
class ReauthRequiredError(Error):
    pass


@strawberry.type(
    description="Microsoft could not be reached or kept failing; nothing changed, try later."
)
class MicrosoftUnavailableError(Error):
    pass


@strawberry.type(description="The deployment has no Entra app registration configured.")
class NotConfiguredError(Error):
    pass


@strawberry.type(description="The connection cannot talk to Microsoft in its current status.")
class ConnectionNotReadyError(Error):
    status: str


@strawberry.type(description="W4: at most `limit` groups can be selected.")
class TooManyGroupsError(Error):
    count: int
    limit: int


@strawberry.type(description="W4: these selected group ids do not exist in the tenant.")
class UnknownGroupsError(Error):
    group_ids: list[str]


@strawberry.type(
    description="Only a run the mass-change guard stopped (AWAITING_APPROVAL) can be approved or rejected."
)
class RunNotAwaitingApprovalError(Error):
    status: str


@strawberry.type(description="explainUser: the tenant has no user with this id, UPN or mail.")
class EntraUserNotFoundError(Error):
    key: str


@strawberry.type(
    description=(
        "resolveReviewItem: the end user is outside the connection's scope, or synced from "
        "another Entra tenant (C5)."
    )
)
class EndUserNotInScopeError(Error):
    pass


@strawberry.type(
    description=(
        "Sync policies: filters and field rules are saved only with `previewRunId`, a "
        "SUCCEEDED previewSyncPolicies run of exactly the same policies."
    )
)
class PreviewRequiredError(Error):
    pass


@strawberry.type(
    description="R5: the connection already has a run (`runId`); start again once it has ended."
)
class RunInProgressError(Error):
    run_id: strawberry.ID


Converter = Callable[[domain.DomainError], Error]


def _converters() -> dict[type[domain.DomainError], Converter]:
    d = domain

    def simple(gql: type[Error]) -> Converter:
        return lambda exc: gql(message=exc.message)

    return {
        d.InvalidInput: lambda e: ValidationError(
            message=e.message, field=cast(d.InvalidInput, e).field
        ),
        d.SiteNameTaken: lambda e: SiteNameTakenError(
            message=e.message, name=cast(d.SiteNameTaken, e).name
        ),
        d.EmailTaken: lambda e: EmailTakenError(
            message=e.message, email=cast(d.EmailTaken, e).email
        ),
        d.SiteAlreadyConnected: lambda e: SiteAlreadyConnectedError(
            message=e.message, site_name=cast(d.SiteAlreadyConnected, e).site_name
        ),
        d.TenantAlreadyConnected: lambda e: TenantAlreadyConnectedError(
            message=e.message, tenant_name=cast(d.TenantAlreadyConnected, e).tenant_name
        ),
        d.ConnectionNotReady: lambda e: ConnectionNotReadyError(
            message=e.message, status=cast(d.ConnectionNotReady, e).status
        ),
        d.TooManyGroups: lambda e: TooManyGroupsError(
            message=e.message,
            count=cast(d.TooManyGroups, e).count,
            limit=cast(d.TooManyGroups, e).limit,
        ),
        d.UnknownGroups: lambda e: UnknownGroupsError(
            message=e.message, group_ids=cast(d.UnknownGroups, e).ids
        ),
        d.RunNotAwaitingApproval: lambda e: RunNotAwaitingApprovalError(
            message=e.message, status=cast(d.RunNotAwaitingApproval, e).status
        ),
        d.EntraUserNotFound: lambda e: EntraUserNotFoundError(
            message=e.message, key=cast(d.EntraUserNotFound, e).key
        ),
        d.EndUserNotInScope: simple(EndUserNotInScopeError),
        d.RunInProgress: lambda e: RunInProgressError(
            message=e.message,
            run_id=strawberry.ID(encode_id("SyncRun", cast(d.RunInProgress, e).run_id)),
        ),
        d.PreviewRequired: simple(PreviewRequiredError),
        d.NotFound: simple(NotFoundError),
        d.PermissionDenied: simple(PermissionDeniedError),
        d.SignInFailed: simple(SignInFailedError),
        d.ConsentNeeded: simple(ConsentRequiredError),
        d.ReauthNeeded: simple(ReauthRequiredError),
        d.MicrosoftUnavailable: simple(MicrosoftUnavailableError),
        d.NotConfigured: simple(NotConfiguredError),
    }


_CONVERTERS = _converters()


def to_error(exc: domain.DomainError) -> Error:
    """Map a domain error to its GraphQL type; an unmapped one is a programming error and raises."""
    for kind in type(exc).__mro__:
        convert = _CONVERTERS.get(kind)
        if convert is not None:
            return convert(exc)
    raise TypeError(f"no GraphQL error type for {type(exc).__name__}") from exc
