"""Typed error results: every mutation returns a union of its payload and these (all implement Error)."""

from __future__ import annotations

import strawberry

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


def to_error(exc: domain.DomainError) -> Error:
    """Map a domain error to its GraphQL type; unknown ones are a programming error and raise."""
    if isinstance(exc, domain.InvalidInput):
        return ValidationError(message=exc.message, field=exc.field)
    if isinstance(exc, domain.NotFound):
        return NotFoundError(message=exc.message)
    if isinstance(exc, domain.PermissionDenied):
        return PermissionDeniedError(message=exc.message)
    if isinstance(exc, domain.SiteNameTaken):
        return SiteNameTakenError(message=exc.message, name=exc.name)
    if isinstance(exc, domain.EmailTaken):
        return EmailTakenError(message=exc.message, email=exc.email)
    raise TypeError(f"no GraphQL error type for {type(exc).__name__}") from exc
