"""The conflict review queue for admins (issue 6): list a connection's items, resolve one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from models import EndUser, ReviewItem, ReviewResolution, ReviewStatus
from services.caller import Caller
from services.connections import get_connection
from services.errors import EndUserNotInScope, InvalidInput, NotFound
from services.pagination import Page, page_by_id
from services.sync.rules import email_key
from services.sync.scope import scope_of


async def list_review_items(
    caller: Caller,
    connection_id: int,
    *,
    status: ReviewStatus | None,
    first: int,
    after_id: int | None,
) -> Page[ReviewItem]:
    """The connection's review items in id order. Raises NotFound for another account's."""
    conn = await get_connection(caller, connection_id)
    items = ReviewItem.filter(connection_id=conn.id, account_id=caller.account_id)
    if status is not None:
        items = items.filter(status=status)
    return await page_by_id(items, first=first, after_id=after_id)


async def waiting_counts(account_id: int, connection_ids: Sequence[int]) -> list[int]:
    """Open review items per connection, in the order given, in one query."""
    rows = await (
        ReviewItem.filter(
            account_id=account_id, connection_id__in=list(connection_ids), status=ReviewStatus.OPEN
        )
        .annotate(waiting=Count("id"))
        .group_by("connection_id")
        .values_list("connection_id", "waiting")
    )
    by_connection = {int(c): int(n) for c, n in rows}
    return [by_connection.get(i, 0) for i in connection_ids]


async def resolve_review_item(
    caller: Caller,
    item_id: int,
    resolution: ReviewResolution,
    end_user_id: int | None,
) -> ReviewItem:
    """Record an admin's choice for one review item; the next sync follows it.

    - LINK: `end_user_id` (an end user of the connection's scope) is linked to the Entra user
      now (its link columns are written, as a sync would), so the next sync matches it by link
      and syncs the Entra user into it. Another end user linked to the same Entra object loses
      that link.
    - CREATE: the next sync creates a new end user in the routed site (EMAIL_CONFLICT when that
      site holds the email already).
    - IGNORE: syncs skip the Entra user (REVIEW_IGNORED) until resolved otherwise.

    A resolved item may be resolved again; a LINK replaced by another choice removes the link
    it wrote when the end user still holds it. Raises PermissionDenied (not ADMIN), NotFound
    (item or end user, another account's included), InvalidInput (`endUserId` missing for LINK
    or given otherwise), EndUserNotInScope.
    """
    caller.require_admin()
    item = await ReviewItem.get_or_none(id=item_id, account_id=caller.account_id)
    if item is None:
        raise NotFound("review item")
    if resolution is ReviewResolution.LINK and end_user_id is None:
        raise InvalidInput("endUserId", "LINK needs the end user to link to")
    if resolution is not ReviewResolution.LINK and end_user_id is not None:
        raise InvalidInput("endUserId", "only LINK takes an end user")
    conn = await get_connection(caller, item.connection_id)
    tenant_id = conn.entra_tenant_id or ""
    target: EndUser | None = None
    if end_user_id is not None:
        target = await EndUser.get_or_none(id=end_user_id, account_id=caller.account_id)
        if target is None:
            raise NotFound("end user")
        if not await scope_of(conn).filter(id=target.id).exists():
            raise EndUserNotInScope("the end user is not in a site this connection syncs into")
        owner = _intact_tenant(target)
        if owner is not None and owner != tenant_id:
            raise EndUserNotInScope("the end user is synced from another Entra tenant (C5)")
    async with in_transaction():
        linked = scope_of(conn).filter(
            entra_tenant_id=tenant_id, entra_object_id=item.entra_object_id
        )
        if target is not None:
            linked = linked.exclude(id=target.id)
        if target is not None or item.resolution is ReviewResolution.LINK:
            # One end user per Entra object: S7's link decides which, so no other keeps it.
            await linked.update(entra_object_id=None, entra_tenant_id=None, entra_last_email=None)
        if target is not None:
            # Intact (S7) when Entra's email is the stored one up to case: then the sync keeps
            # the product's spelling; otherwise the next sync renames it to Entra's email.
            same = bool(item.email) and email_key(item.email) == target.email_key
            await EndUser.filter(id=target.id).update(
                entra_object_id=item.entra_object_id,
                entra_tenant_id=tenant_id,
                entra_last_email=item.email if same else target.email,
            )
        item.status = ReviewStatus.RESOLVED
        item.resolution = resolution
        item.resolved_end_user_id = end_user_id
        item.resolved_by = caller.api_key_id
        item.resolved_at = datetime.now(UTC)
        await item.save(
            update_fields=[
                "status",
                "resolution",
                "resolved_end_user_id",
                "resolved_by",
                "resolved_at",
                "updated_at",
            ]
        )
    return item


def _intact_tenant(user: EndUser) -> str | None:
    """The tenant an end user holds an intact S7 link to (see StoredUser.intact_link_tenant)."""
    if user.entra_object_id is None or user.entra_last_email is None:
        return None
    if email_key(user.entra_last_email) != user.email_key:
        return None
    return user.entra_tenant_id
