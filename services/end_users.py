"""End users (contacts in MSP mode): the manual edits that people make between syncs (S5-S7)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from models import EndUser, InactiveReason, UserPin, UserSource
from services.caller import Caller
from services.errors import EmailTaken, InvalidInput, NotFound, refuse_nul
from services.pagination import Page, page_by_id
from services.sites import get_site
from services.sync import rules

# Deliberately loose: one @, no spaces, a dot-free local part allowed; mail servers judge the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

TEXT_LIMITS = {"first_name": 100, "last_name": 100, "job_title": 200, "phone": 64, "mobile": 64}


def email_key(email: str) -> str:
    """The case-insensitive key under which emails are unique per site and matched by syncs (S2);
    the same function the sync engine uses, so manual and imported users collide as they should."""
    return rules.email_key(email)


def clean_email(value: str) -> str:
    """Raises InvalidInput for anything that is not a plausible address of at most 320 characters."""
    email = refuse_nul("email", value).strip()
    if len(email) > 320 or not _EMAIL.match(email):
        raise InvalidInput("email", "not a valid email address")
    return email


def clean_text(name: str, value: str) -> str:
    value = refuse_nul(name, value).strip()
    if len(value) > TEXT_LIMITS[name]:
        raise InvalidInput(name, f"at most {TEXT_LIMITS[name]} characters")
    return value


@dataclass(frozen=True, slots=True)
class EndUserFilter:
    site_id: int | None = None
    source: UserSource | None = None
    search: str | None = None
    entra_object_id: str | None = None
    active: bool | None = None


@dataclass(slots=True)
class EndUserPatch:
    """Only the fields that are set change."""

    email: str | None = None
    values: dict[str, str] = field(default_factory=dict)


async def list_end_users(
    caller: Caller, flt: EndUserFilter, *, first: int, after_id: int | None
) -> Page[EndUser]:
    qs = EndUser.filter(account_id=caller.account_id)
    if flt.site_id is not None:
        qs = qs.filter(site_id=flt.site_id)
    if flt.source is not None:
        qs = qs.filter(source=flt.source)
    if flt.entra_object_id is not None:
        qs = qs.filter(entra_object_id=flt.entra_object_id)
    if flt.active is not None:
        qs = qs.filter(active=flt.active)
    if flt.search:
        term = flt.search.strip()
        qs = qs.filter(
            Q(email_key__contains=term.casefold())
            | Q(first_name__icontains=term)
            | Q(last_name__icontains=term)
        )
    return await page_by_id(qs, first=first, after_id=after_id)


async def get_end_user(caller: Caller, user_id: int) -> EndUser:
    """Raises NotFound for a missing user or another account's user (A4)."""
    user = await EndUser.get_or_none(id=user_id, account_id=caller.account_id)
    if user is None:
        raise NotFound("end user")
    return user


async def create_end_user(
    caller: Caller, site_id: int, email: str, values: dict[str, str]
) -> EndUser:
    """Creates a MANUAL end user. Raises PermissionDenied, NotFound (site), InvalidInput, EmailTaken."""
    caller.require_admin()
    site = await get_site(caller, site_id)
    email = clean_email(email)
    cleaned = {k: clean_text(k, v) for k, v in values.items()}
    key = email_key(email)
    if await EndUser.exists(account_id=caller.account_id, site_id=site.id, email_key=key):
        raise EmailTaken(email)
    try:
        user = EndUser(
            account_id=caller.account_id,
            site_id=site.id,
            email=email,
            email_key=key,
            source=UserSource.MANUAL,
        )
        for name, value in cleaned.items():
            setattr(user, name, value)
        await user.save()
        return user
    except IntegrityError as exc:
        raise EmailTaken(email) from exc


async def update_end_user(caller: Caller, user_id: int, patch: EndUserPatch) -> EndUser:
    """Raises PermissionDenied, NotFound, InvalidInput, EmailTaken.

    An edit of a synced field lasts until the next sync overwrites it (S6); an edit of the email
    makes the next sync create a new user for the Entra user (S7).
    """
    caller.require_admin()
    user = await get_end_user(caller, user_id)
    changed: list[str] = []
    if patch.email is not None:
        email = clean_email(patch.email)
        key = email_key(email)
        if key != user.email_key and await EndUser.exists(
            account_id=caller.account_id, site_id=user.site_id, email_key=key
        ):
            raise EmailTaken(email)
        if email != user.email:
            user.email, user.email_key = email, key
            changed += ["email", "email_key"]
    for name, value in patch.values.items():
        value = clean_text(name, value)
        if getattr(user, name) != value:
            setattr(user, name, value)
            changed.append(name)
    if changed:
        try:
            await user.save(update_fields=[*changed, "updated_at"])
        except IntegrityError as exc:
            raise EmailTaken(user.email) from exc
    return user


async def delete_end_user(caller: Caller, user_id: int) -> int:
    """Deletes and returns the id. Raises PermissionDenied, NotFound."""
    caller.require_admin()
    user = await get_end_user(caller, user_id)
    await user.delete()
    return user_id


async def set_pin(caller: Caller, user_id: int, pin: UserPin | None) -> EndUser:
    """An admin's pin (issue 6): KEEP_ACTIVE (no lifecycle policy deactivates the user), EXCLUDE
    (no sync touches it at all), or None (the connection's policies apply).
    Raises PermissionDenied, NotFound."""
    caller.require_admin()
    user = await get_end_user(caller, user_id)
    if user.pin != pin:
        user.pin = pin  # type: ignore[assignment]  # nullable column
        # updated_at moves: the next delta round looks the user up, so an unpinned user is
        # synced again at once (delta.ids_to_look_up).
        await user.save(update_fields=["pin", "updated_at"])
    return user


async def set_active(caller: Caller, user_id: int, active: bool) -> EndUser:
    """A person's own (de)activation (issue 6). Inactive: reason MANUAL, which no sync undoes;
    active: the reason is cleared (a lifecycle policy may deactivate the user again).
    Raises PermissionDenied, NotFound."""
    caller.require_admin()
    user = await get_end_user(caller, user_id)
    if active:
        if user.active and user.inactive_reason is None:
            return user
        user.active = True
        user.inactive_reason = None  # type: ignore[assignment]  # nullable column
        user.inactive_since = None
    else:
        if not user.active and user.inactive_reason is InactiveReason.MANUAL:
            return user
        if user.active or user.inactive_since is None:
            user.inactive_since = datetime.now(UTC)
        user.active, user.inactive_reason = False, InactiveReason.MANUAL
    await user.save(update_fields=["active", "inactive_reason", "inactive_since", "updated_at"])
    return user
