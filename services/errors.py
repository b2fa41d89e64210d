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


class SiteNameTaken(DomainError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a site named {name!r} already exists")
        self.name = name


class EmailTaken(DomainError):
    """Emails are unique per site, case-insensitively (S2)."""

    def __init__(self, email: str) -> None:
        super().__init__(f"an end user with email {email!r} already exists in this site")
        self.email = email
