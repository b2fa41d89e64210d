"""Query root: the caller's account, sites, end users, and node look-ups (A1)."""

from __future__ import annotations

import strawberry
from strawberry import relay

from models import Account as AccountModel
from schema.connections import ConnectionQuery, TenantConnection
from schema.context import Context
from schema.explain import ExplainQuery
from schema.ids import decode_id
from schema.pagination import Connection, decode_cursor, page_size, to_connection
from schema.review import ReviewItem, ReviewQuery
from schema.sync import SyncQuery, SyncRun
from schema.types import Account, EndUser, Info, Site, UserSource, Viewer
from schema.webhooks import Webhook, WebhookQuery
from schema.wizard import WizardQuery
from services import end_users, sites


@strawberry.input(description="Filters for endUsers; all given conditions must hold.")
class EndUserFilterInput:
    site_id: strawberry.ID | None = strawberry.field(default=None, description="A Site id.")
    source: UserSource | None = None  # type: ignore[valid-type]
    search: str | None = strawberry.field(
        default=None,
        description="Part of the email, first or last name (case-insensitive, at most 100 characters).",
    )
    entra_object_id: str | None = None
    active: bool | None = strawberry.field(
        default=None, description="Only active (true) or only inactive (false) end users."
    )


NODE_TYPES: dict[
    str,
    type[Site]
    | type[EndUser]
    | type[TenantConnection]
    | type[SyncRun]
    | type[Webhook]
    | type[ReviewItem],
] = {
    "Site": Site,
    "EndUser": EndUser,
    "TenantConnection": TenantConnection,
    "SyncRun": SyncRun,
    "Webhook": Webhook,
    "ReviewItem": ReviewItem,
}


def _limit(info: Info) -> int:
    return info.context.limits.max_page_size


@strawberry.type
class Query(ConnectionQuery, WizardQuery, SyncQuery, WebhookQuery, ReviewQuery, ExplainQuery):
    @strawberry.field(
        description="Any object by its global id; malformed and other accounts' ids read as null."
    )
    async def node(self, info: Info, id: strawberry.ID) -> relay.Node | None:
        try:
            gid = relay.GlobalID.from_id(id)
        except (ValueError, TypeError):
            return None
        node_type = NODE_TYPES.get(gid.type_name)
        if node_type is None:
            return None
        found = await node_type.resolve_nodes(info=info, node_ids=[gid.node_id], required=False)
        return next(iter(found), None)

    @strawberry.field(description="The account and role of the calling API key.")
    async def viewer(self, info: Info) -> Viewer:
        caller = info.context.who
        account = await AccountModel.get(id=caller.account_id)
        return Viewer(account=Account.from_model(account), role=caller.role)

    @strawberry.field(
        description="The account's sites in creation order; `first` is 1..maxPageSize (default 50)."
    )
    async def sites(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        search: str | None = None,
    ) -> Connection[Site]:
        page = await sites.list_sites(
            info.context.who,
            first=page_size(first, _limit(info)),
            after_id=decode_cursor(after),
            search=(search or "").replace("\x00", "")[:100] or None,
        )
        return to_connection(page, Site.from_model)  # type: ignore[arg-type]

    @strawberry.field(
        description="The account's end users in creation order; `first` is 1..maxPageSize (default 50)."
    )
    async def end_users(
        self,
        info: Info,
        filter: EndUserFilterInput | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[EndUser]:
        flt = filter or EndUserFilterInput()
        site_pk: int | None = None
        if flt.site_id is not None:
            # A foreign or malformed site id filters to nothing, as a missing site would (A4).
            site_pk = decode_id(flt.site_id, "Site") or 0
        page = await end_users.list_end_users(
            info.context.who,
            end_users.EndUserFilter(
                site_id=site_pk,
                source=flt.source,
                search=(flt.search or "").replace("\x00", "")[:100] or None,
                entra_object_id=flt.entra_object_id,
                active=flt.active,
            ),
            first=page_size(first, _limit(info)),
            after_id=decode_cursor(after),
        )
        conn = to_connection(page, EndUser.from_model)  # type: ignore[arg-type]
        # The page's sites in one query, handed to each EndUser (no task per `site` field). Asked
        # directly: through the DataLoader, a batch already complete would still wait for a task
        # of its own (bench/RESULTS.md, "API throughput").
        ids = sorted({e.node.site_pk for e in conn.edges})
        rows = await info.context.load_sites(ids) if ids else []
        by_id = {r.id: Site.from_model(r) for r in rows if r is not None}
        for e in conn.edges:
            e.node.prefetched_site = by_id.get(e.node.site_pk)
        return conn


__all__ = ["Context", "Query"]
