"""Who is calling: the account and role behind an authenticated API key."""

from __future__ import annotations

from dataclasses import dataclass

from models.enums import Role
from services.errors import PermissionDenied


@dataclass(frozen=True, slots=True)
class Caller:
    account_id: int
    role: Role
    api_key_id: int

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN

    def require_admin(self) -> None:
        """Raises PermissionDenied unless the caller is an ADMIN (C1)."""
        if not self.is_admin:
            raise PermissionDenied()
