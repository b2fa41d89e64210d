"""The conflict review queue over GraphQL: reviewItems, resolveReviewItem (issue 6)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Self

import strawberry
from strawberry import relay

from models import ReviewItem as ItemModel
from models import ReviewKind as _ReviewKind
from models import ReviewResolution as _ReviewResolution
from models import ReviewStatus as _ReviewStatus
from schema.errors import (
    EndUserNotInScopeError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
    to_error,
)
from schema.ids import account_rows, decode_id, encode_id
from schema.pagination import Connection, decode_cursor, page_size, to_connection
from schema.types import EndUser, Info, Site
from services import review
from services.errors import DomainError, NotFound
from services.pagination import Page
from services.sync.reasons import reason_text

ReviewKind = strawberry.enum(
    _ReviewKind,
    description=(
        "SEVERAL_PRODUCT_MATCHES: several end users have the email; SAME_EMAIL_IN_ENTRA: "
        "another Entra user has it, ignoring case; SITE_DISAGREES: the one end user with it "
        "is in another site than routing picks (first match only)."
    ),
)
ReviewStatus = strawberry.enum(_ReviewStatus, description="OPEN items wait for an admin.")
ReviewResolution = strawberry.enum(
    _ReviewResolution,
    description=(
        "LINK: sync into the chosen end user; CREATE: create a new end user in the routed site; "
        "IGNORE: leave the Entra user out of this connection's syncs."
    ),
)


@strawberry.type(
    description=(
        "An ambiguous case a sync sent to review instead of guessing (connections with "
        "reviewConflicts on); one per Entra user and connection."
    )
)
class ReviewItem(relay.Node):
    id: relay.NodeID[int]
    connection_id: strawberry.ID
    kind: ReviewKind  # type: ignore[valid-type]
    status: ReviewStatus  # type: ignore[valid-type]
    entra_object_id: str
    email: str = strawberry.field(description="The Entra user's email, as the sync matches it.")
    display_name: str
    first_run_id: strawberry.ID | None = strawberry.field(
        description="The run that first met the case."
    )
    last_run_id: strawberry.ID | None = strawberry.field(
        description="The latest run that met the case."
    )
    resolution: ReviewResolution | None  # type: ignore[valid-type]
    resolved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    candidate_pks: strawberry.Private[list[int]]
    routed_site_pk: strawberry.Private[int | None]
    resolved_end_user_pk: strawberry.Private[int | None]

    @strawberry.field(description="The case in plain words.")
    def kind_message(self) -> str:
        return reason_text(_ReviewKind(self.kind).value)

    @strawberry.field(description="The end users the case is about that still exist (up to 20).")
    async def candidates(self, info: Info) -> list[EndUser]:
        rows = await info.context.end_user_loader.load_many(self.candidate_pks)
        return [EndUser.from_model(r) for r in rows if r is not None]

    @strawberry.field(description="The site routing picks for this Entra user (W3/W6).")
    async def routed_site(self, info: Info) -> Site | None:
        if self.routed_site_pk is None:
            return None
        row = await info.context.site_loader.load(self.routed_site_pk)
        return Site.from_model(row) if row else None

    @strawberry.field(description="LINK: the end user chosen.")
    async def resolved_end_user(self, info: Info) -> EndUser | None:
        if self.resolved_end_user_pk is None:
            return None
        row = await info.context.end_user_loader.load(self.resolved_end_user_pk)
        return EndUser.from_model(row) if row else None

    @classmethod
    def from_model(cls, m: ItemModel) -> Self:
        return cls(
            id=m.id,
            connection_id=strawberry.ID(encode_id("TenantConnection", m.connection_id)),
            kind=m.kind,
            status=m.status,
            entra_object_id=m.entra_object_id,
            email=m.email,
            display_name=m.display_name,
            first_run_id=strawberry.ID(encode_id("SyncRun", m.first_run_id))
            if m.first_run_id
            else None,
            last_run_id=strawberry.ID(encode_id("SyncRun", m.last_run_id))
            if m.last_run_id
            else None,
            resolution=m.resolution,
            resolved_at=m.resolved_at,
            created_at=m.created_at,
            updated_at=m.updated_at,
            candidate_pks=[int(i) for i in m.candidate_ids][:20],
            routed_site_pk=m.routed_site_id,
            resolved_end_user_pk=m.resolved_end_user_id,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        rows = await account_rows(ItemModel, node_ids, info.context.who.account_id)
        return [cls.from_model(row) if row is not None else None for row in rows]


@strawberry.type
class ReviewItemPayload:
    review_item: ReviewItem


ResolveReviewItemResult = Annotated[
    ReviewItemPayload
    | ValidationError
    | NotFoundError
    | PermissionDeniedError
    | EndUserNotInScopeError,
    strawberry.union("ResolveReviewItemResult"),
]


@strawberry.input(
    description=(
        "An admin's choice for a review item; the next sync follows it. `endUserId` (an "
        "EndUser id of the connection's scope) is required for LINK and refused otherwise."
    )
)
class ResolveReviewItemInput:
    id: strawberry.ID
    resolution: ReviewResolution  # type: ignore[valid-type]
    end_user_id: strawberry.ID | None = None


@strawberry.type
class ReviewQuery:
    @strawberry.field(
        description=(
            "A connection's review queue in creation order, optionally by status; another "
            "account's connection reads as empty. `first` is 1..maxPageSize (default 50)."
        )
    )
    async def review_items(
        self,
        info: Info,
        connection_id: strawberry.ID,
        status: ReviewStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ReviewItem]:
        size = page_size(first, info.context.limits.max_page_size)
        after_id = decode_cursor(after)
        pk = decode_id(connection_id, "TenantConnection")
        try:
            if pk is None:
                raise NotFound("connection")
            page = await review.list_review_items(
                info.context.who, pk, status=status, first=size, after_id=after_id
            )
        except NotFound:
            page = Page(items=[], has_next=False, has_previous=after_id is not None)
        return to_connection(page, ReviewItem.from_model)  # type: ignore[arg-type]


@strawberry.type
class ReviewMutation:
    @strawberry.mutation(
        description=(
            "Resolve a review item: LINK to an end user, CREATE a new one, or IGNORE the Entra "
            "user; the next sync (full or incremental) follows it. Needs ADMIN."
        )
    )
    async def resolve_review_item(
        self, info: Info, input: ResolveReviewItemInput
    ) -> ResolveReviewItemResult:
        try:
            info.context.who.require_admin()
            item_pk = decode_id(input.id, "ReviewItem")
            if item_pk is None:
                raise NotFound("review item")
            user_pk = None
            if input.end_user_id is not None:
                user_pk = decode_id(input.end_user_id, "EndUser")
                if user_pk is None:
                    raise NotFound("end user")
            item = await review.resolve_review_item(
                info.context.who, item_pk, _ReviewResolution(input.resolution), user_pk
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ReviewItemPayload(review_item=ReviewItem.from_model(item))
