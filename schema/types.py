"""GraphQL object types: thin views of the models, related objects loaded through DataLoaders."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Self

import strawberry
from strawberry import relay

from models import Account as AccountModel
from models import AccountMode as _AccountMode
from models import EndUser as EndUserModel
from models import InactiveReason as _InactiveReason
from models import Role as _Role
from models import Site as SiteModel
from models import UserPin as _UserPin
from models import UserSource as _UserSource
from schema.context import Context
from schema.ids import parse_pks

AccountMode = strawberry.enum(
    _AccountMode, description="IT_DEPARTMENT: sites hold end users; MSP: customers hold contacts."
)
Role = strawberry.enum(_Role, description="ADMIN may change things; TECHNICIAN may only read.")
UserSource = strawberry.enum(_UserSource, description="ENTRA marks users imported from Entra ID.")
UserPin = strawberry.enum(
    _UserPin,
    description=(
        "An admin's pin on one end user, respected by every sync: KEEP_ACTIVE (never marked "
        "inactive by a lifecycle policy), EXCLUDE (never touched by a sync at all)."
    ),
)
InactiveReason = strawberry.enum(
    _InactiveReason,
    description=(
        "Why an end user is inactive: DISABLED, SOFT_DELETED, DELETED or OUT_OF_SCOPE (a "
        "connection's lifecycle policy MARK_INACTIVE; undone when the user returns), or MANUAL "
        "(a person; no sync undoes it)."
    ),
)

Info = strawberry.Info[Context, None]


def _int_ids(node_ids: Iterable[str]) -> list[int | None]:
    return parse_pks(node_ids)


@strawberry.type(description="The customer of the product that owns sites, users and connections.")
class Account:
    id: strawberry.ID
    name: str
    mode: AccountMode  # type: ignore[valid-type]

    @classmethod
    def from_model(cls, m: AccountModel) -> Self:
        return cls(id=strawberry.ID(str(m.id)), name=m.name, mode=m.mode)


@strawberry.type(description="Who the API key acts for.")
class Viewer:
    account: Account
    role: Role  # type: ignore[valid-type]


@strawberry.type(description="A site (a customer in MSP mode): holds end users.")
class Site(relay.Node):
    id: relay.NodeID[int]
    name: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, m: SiteModel) -> Self:
        return cls(id=m.id, name=m.name, created_at=m.created_at, updated_at=m.updated_at)

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await info.context.site_loader.load_many([i or 0 for i in _int_ids(node_ids)])
        return [cls.from_model(r) if r else None for r in rows]


async def _load_site(info: Info, pk: int) -> Site:
    row = await info.context.site_loader.load(pk)
    if row is None:
        raise LookupError("site vanished")
    return Site.from_model(row)


@strawberry.type(description="An end user (a contact in MSP mode).")
class EndUser(relay.Node):
    id: relay.NodeID[int]
    email: str
    first_name: str
    last_name: str
    job_title: str
    phone: str
    mobile: str
    department: str = strawberry.field(
        description="Synced only when the connection's field rule for department says so."
    )
    office: str = strawberry.field(
        description="Synced only when the connection's field rule for office says so."
    )
    display_name: str = strawberry.field(
        description="Synced only when the connection's field rule for displayName says so."
    )
    manager_email: str = strawberry.field(
        description=(
            "The manager's email (the manager's userPrincipalName or mail, as the connection "
            "matches users); synced only when the connection's field rule for managerEmail "
            "says so."
        )
    )
    source: UserSource = strawberry.field(  # type: ignore[valid-type]
        description="ENTRA for users imported from Entra ID (show the Entra mark)."
    )
    entra_object_id: str | None
    entra_tenant_id: str | None
    user_type: str | None = strawberry.field(description="Member or Guest, as Entra last said.")
    account_enabled: bool | None
    active: bool = strawberry.field(
        description="False for an end user marked inactive (kept, never deleted by a sync)."
    )
    inactive_reason: InactiveReason | None  # type: ignore[valid-type]
    inactive_since: datetime | None
    pin: UserPin | None = strawberry.field(  # type: ignore[valid-type]
        description="An admin's pin (setEndUserPin); null when the connection's policies apply."
    )
    last_synced_at: datetime | None
    created_at: datetime
    updated_at: datetime
    site_pk: strawberry.Private[int]

    prefetched_site: strawberry.Private[Site | None] = None

    @strawberry.field(description="The site that holds this user.")
    def site(self, info: Info) -> Site:
        if self.prefetched_site is not None:
            return self.prefetched_site
        return _load_site(info, self.site_pk)  # type: ignore[return-value]

    @classmethod
    def from_model(cls, m: EndUserModel) -> Self:
        return cls(
            id=m.id,
            email=m.email,
            first_name=m.first_name,
            last_name=m.last_name,
            job_title=m.job_title,
            phone=m.phone,
            mobile=m.mobile,
            department=m.department,
            office=m.office,
            display_name=m.display_name,
            manager_email=m.manager_email,
            source=m.source,
            entra_object_id=m.entra_object_id,
            entra_tenant_id=m.entra_tenant_id,
            user_type=m.user_type,
            account_enabled=m.account_enabled,
            active=m.active,
            inactive_reason=m.inactive_reason,
            inactive_since=m.inactive_since,
            pin=m.pin,
            last_synced_at=m.last_synced_at,
            created_at=m.created_at,
            updated_at=m.updated_at,
            site_pk=m.site_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        wanted = [i for i in _int_ids(node_ids) if i is not None]
        rows = await EndUserModel.filter(id__in=wanted, account_id=info.context.who.account_id)
        by_id = {r.id: r for r in rows}
        return [cls.from_model(by_id[i]) if i in by_id else None for i in _int_ids(node_ids)]
