"""Sites (customers in MSP mode): listing and editing, always inside the caller's account."""

from __future__ import annotations

from tortoise.exceptions import IntegrityError

from models import Site
from services.caller import Caller
from services.errors import InvalidInput, NotFound, SiteNameTaken, refuse_nul
from services.pagination import Page, page_by_id


def clean_site_name(name: str) -> str:
    """Raises InvalidInput unless the name has 1-200 visible characters."""
    name = " ".join(refuse_nul("name", name).split())
    if not name or len(name) > 200:
        raise InvalidInput("name", "a site name needs 1 to 200 characters")
    return name


async def list_sites(
    caller: Caller, *, first: int, after_id: int | None, search: str | None = None
) -> Page[Site]:
    qs = Site.filter(account_id=caller.account_id)
    if search:
        qs = qs.filter(name__icontains=search)
    return await page_by_id(qs, first=first, after_id=after_id)


async def get_site(caller: Caller, site_id: int) -> Site:
    """Raises NotFound for a missing site or another account's site (A4)."""
    site = await Site.get_or_none(id=site_id, account_id=caller.account_id)
    if site is None:
        raise NotFound("site")
    return site


async def create_site(caller: Caller, name: str) -> Site:
    """Raises PermissionDenied, InvalidInput, SiteNameTaken."""
    caller.require_admin()
    name = clean_site_name(name)
    if await Site.exists(account_id=caller.account_id, name=name):
        raise SiteNameTaken(name)
    try:
        return await Site.create(account_id=caller.account_id, name=name)
    except IntegrityError as exc:  # a concurrent create won the race
        raise SiteNameTaken(name) from exc


async def update_site(caller: Caller, site_id: int, *, name: str) -> Site:
    """Raises PermissionDenied, NotFound, InvalidInput, SiteNameTaken."""
    caller.require_admin()
    site = await get_site(caller, site_id)
    name = clean_site_name(name)
    if name != site.name:
        if await Site.exists(account_id=caller.account_id, name=name):
            raise SiteNameTaken(name)
        site.name = name
        try:
            await site.save(update_fields=["name", "updated_at"])
        except IntegrityError as exc:
            raise SiteNameTaken(name) from exc
    return site
