"""Mutations on sites and end users; each returns a union of its payload and typed errors (A2)."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.connections import ConnectionMutation
from schema.errors import (
    EmailTakenError,
    NotFoundError,
    PermissionDeniedError,
    SiteNameTakenError,
    ValidationError,
    to_error,
)
from schema.ids import decode_id, encode_id
from schema.lifecycle import LifecycleMutation
from schema.policies import PolicyMutation
from schema.review import ReviewMutation
from schema.sync import SyncMutation
from schema.types import EndUser, Info, Site
from schema.webhooks import WebhookMutation
from schema.wizard import WizardMutation
from services import end_users, sites
from services.errors import DomainError, NotFound


@strawberry.type
class SitePayload:
    site: Site


@strawberry.type
class EndUserPayload:
    end_user: EndUser


@strawberry.type
class DeleteEndUserPayload:
    deleted_id: strawberry.ID


CreateSiteResult = Annotated[
    SitePayload | ValidationError | SiteNameTakenError | PermissionDeniedError,
    strawberry.union("CreateSiteResult"),
]
UpdateSiteResult = Annotated[
    SitePayload | ValidationError | SiteNameTakenError | NotFoundError | PermissionDeniedError,
    strawberry.union("UpdateSiteResult"),
]
CreateEndUserResult = Annotated[
    EndUserPayload | ValidationError | EmailTakenError | NotFoundError | PermissionDeniedError,
    strawberry.union("CreateEndUserResult"),
]
UpdateEndUserResult = Annotated[
    EndUserPayload | ValidationError | EmailTakenError | NotFoundError | PermissionDeniedError,
    strawberry.union("UpdateEndUserResult"),
]
DeleteEndUserResult = Annotated[
    DeleteEndUserPayload | NotFoundError | PermissionDeniedError,
    strawberry.union("DeleteEndUserResult"),
]


@strawberry.input
class CreateSiteInput:
    name: str = strawberry.field(description="1 to 200 characters, unique in the account.")


@strawberry.input
class UpdateSiteInput:
    id: strawberry.ID
    name: str = strawberry.field(description="1 to 200 characters, unique in the account.")


@strawberry.input
class CreateEndUserInput:
    site_id: strawberry.ID
    email: str = strawberry.field(
        description="Unique per site, case-insensitively; at most 320 characters."
    )
    first_name: str = ""
    last_name: str = ""
    job_title: str = ""
    phone: str = ""
    mobile: str = ""


@strawberry.input(
    description="Only the fields given change. A later sync overwrites synced fields (S6)."
)
class UpdateEndUserInput:
    id: strawberry.ID
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    job_title: str | None = None
    phone: str | None = None
    mobile: str | None = None


@strawberry.input
class DeleteEndUserInput:
    id: strawberry.ID


def _pk(value: str, type_name: str, kind: str) -> int:
    pk = decode_id(value, type_name)
    if pk is None:
        raise NotFound(kind)
    return pk


_TEXT_FIELDS = ("first_name", "last_name", "job_title", "phone", "mobile")


@strawberry.type
class Mutation(
    ConnectionMutation,
    WizardMutation,
    SyncMutation,
    WebhookMutation,
    LifecycleMutation,
    ReviewMutation,
    PolicyMutation,
):
    @strawberry.mutation(description="Create a site. Needs ADMIN.")
    async def create_site(self, info: Info, input: CreateSiteInput) -> CreateSiteResult:
        try:
            site = await sites.create_site(info.context.who, input.name)
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SitePayload(site=Site.from_model(site))

    @strawberry.mutation(description="Rename a site. Needs ADMIN.")
    async def update_site(self, info: Info, input: UpdateSiteInput) -> UpdateSiteResult:
        try:
            info.context.who.require_admin()
            site = await sites.update_site(
                info.context.who, _pk(input.id, "Site", "site"), name=input.name
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SitePayload(site=Site.from_model(site))

    @strawberry.mutation(description="Create an end user by hand (source MANUAL). Needs ADMIN.")
    async def create_end_user(
        self,
        info: Info,
        input: CreateEndUserInput,
    ) -> CreateEndUserResult:
        try:
            info.context.who.require_admin()
            user = await end_users.create_end_user(
                info.context.who,
                _pk(input.site_id, "Site", "site"),
                input.email,
                {name: getattr(input, name) for name in _TEXT_FIELDS},
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return EndUserPayload(end_user=EndUser.from_model(user))

    @strawberry.mutation(
        description="Edit an end user. Needs ADMIN. Editing an imported user's email makes the next sync create a new user (S7)."
    )
    async def update_end_user(
        self,
        info: Info,
        input: UpdateEndUserInput,
    ) -> UpdateEndUserResult:
        patch = end_users.EndUserPatch(
            email=input.email,
            values={n: v for n in _TEXT_FIELDS if (v := getattr(input, n)) is not None},
        )
        try:
            info.context.who.require_admin()
            user = await end_users.update_end_user(
                info.context.who, _pk(input.id, "EndUser", "end user"), patch
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return EndUserPayload(end_user=EndUser.from_model(user))

    @strawberry.mutation(description="Delete an end user. Needs ADMIN.")
    async def delete_end_user(
        self,
        info: Info,
        input: DeleteEndUserInput,
    ) -> DeleteEndUserResult:
        try:
            info.context.who.require_admin()
            pk = await end_users.delete_end_user(
                info.context.who, _pk(input.id, "EndUser", "end user")
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return DeleteEndUserPayload(deleted_id=strawberry.ID(encode_id("EndUser", pk)))
