"""Plain-data builders for the sync rule tests: keyword overrides over sensible defaults."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any

from entra.types import EntraUser
from services.sync import (
    Decision,
    DecisionKind,
    ScopeIndex,
    StoredUser,
    SyncConfig,
    plan_user,
    stored_user_after,
)

TENANT = "tenant-1"
OTHER_TENANT = "tenant-2"
SITE = 10
_ids = itertools.count(1)


def entra_user(**overrides: Any) -> EntraUser:
    number = next(_ids)
    values: dict[str, Any] = {
        "id": f"obj-{number}",
        "user_principal_name": f"user{number}@contoso.com",
        "mail": f"user{number}@contoso.com",
        "given_name": "Ada",
        "surname": "Lovelace",
        "display_name": "Ada Lovelace",
        "job_title": "Engineer",
        "business_phone": "+1 555 0100",
        "mobile_phone": "+1 555 0199",
        "office_location": "Paris",
        "department": "R&D",
        "user_type": "Member",
        "account_enabled": True,
    }
    values.update(overrides)
    return EntraUser(**values)


def site_config(**overrides: Any) -> SyncConfig:
    values: dict[str, Any] = {"scope": "SITE", "tenant_id": TENANT, "site_id": SITE}
    values.update(overrides)
    return SyncConfig(**values)


def account_config(**overrides: Any) -> SyncConfig:
    values: dict[str, Any] = {
        "scope": "ACCOUNT",
        "tenant_id": TENANT,
        "classification": "OFFICE",
        "mappings": {"Paris": 1, "Lyon": 2, "Undefined": 3},
    }
    values.update(overrides)
    return SyncConfig(**values)


def stored(
    email: str = "ada@contoso.com", *, id: int = 1, site_id: int = SITE, **overrides: Any
) -> StoredUser:
    """A manual end user unless overridden; email_key follows the email like the product's."""
    values: dict[str, Any] = {
        "id": id,
        "site_id": site_id,
        "email": email,
        "email_key": email.casefold(),
    }
    values.update(overrides)
    return StoredUser(**values)


def linked(user: EntraUser, email: str, **overrides: Any) -> StoredUser:
    """An end user as a previous sync of `user` with `email` left it (S3, S7)."""
    values: dict[str, Any] = {
        "source": "ENTRA",
        "first_name": user.given_name or "",
        "last_name": user.surname or "",
        "job_title": user.job_title or "",
        "phone": user.business_phone or "",
        "mobile": user.mobile_phone or "",
        "entra_object_id": user.id,
        "entra_tenant_id": TENANT,
        "entra_last_email": email,
        "user_type": user.user_type,
        "account_enabled": user.account_enabled,
    }
    values.update(overrides)
    return stored(email, **values)


def plan_all(
    users: Iterable[EntraUser],
    config: SyncConfig,
    index: ScopeIndex,
    group_member_ids: frozenset[str] | None = None,
) -> list[Decision]:
    """One run's planning, as the engine drives it: one seen-set, created users added."""
    seen: set[str] = set()
    decisions = []
    provisional = itertools.count(-1, -1)
    for user in users:
        decision = plan_user(user, config, index, group_member_ids, seen)
        if decision.kind is DecisionKind.CREATE:
            index.add(stored_user_after(decision, next(provisional)))
        decisions.append(decision)
    return decisions


def apply_all(snapshot: list[StoredUser], decisions: Iterable[Decision]) -> list[StoredUser]:
    """What the engine's writes leave in the database: the next run's snapshot."""
    by_id = {user.id: user for user in snapshot}
    next_id = max(by_id, default=0) + 1
    for decision in decisions:
        if decision.kind is DecisionKind.CREATE:
            by_id[next_id] = stored_user_after(decision, next_id)
            next_id += 1
        elif decision.kind is DecisionKind.UPDATE:
            by_id[decision.existing_id or 0] = stored_user_after(decision)
    users = list(by_id.values())
    # The database's unique (site, email_key) index: a plan that breaks it would fail a batch.
    keys = [(user.site_id, user.email_key) for user in users]
    assert len(keys) == len(set(keys)), "a plan broke the per-site unique email"
    return users
