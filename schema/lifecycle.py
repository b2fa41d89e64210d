"""Pins and manual (de)activation of end users (issue 6): what an admin decides about one user."""

from __future__ import annotations

from typing import Annotated

import strawberry

from schema.errors import NotFoundError, PermissionDeniedError, to_error
from schema.ids import decode_id
from schema.types import EndUser, Info, UserPin
from services import end_users
from services.errors import DomainError, NotFound


@strawberry.type
class SetEndUserPinPayload:
    end_user: EndUser


@strawberry.type
class SetEndUserActivePayload:
    end_user: EndUser


SetEndUserPinResult = Annotated[
    SetEndUserPinPayload | NotFoundError | PermissionDeniedError,
    strawberry.union("SetEndUserPinResult"),
]
SetEndUserActiveResult = Annotated[
    SetEndUserActivePayload | NotFoundError | PermissionDeniedError,
    strawberry.union("SetEndUserActiveResult"),
]


@strawberry.input
class SetEndUserPinInput:
    end_user_id: strawberry.ID
    pin: UserPin | None = strawberry.field(  # type: ignore[valid-type]
        default=None, description="KEEP_ACTIVE, EXCLUDE, or null to remove the pin."
    )


@strawberry.input
class SetEndUserActiveInput:
    end_user_id: strawberry.ID
    active: bool = strawberry.field(
        description="false: inactive with reason MANUAL, which no sync undoes; true: active again."
    )


def _end_user_pk(value: str) -> int:
    pk = decode_id(value, "EndUser")
    if pk is None:
        raise NotFound("end user")
    return pk


@strawberry.type
class LifecycleMutation:
    @strawberry.mutation(
        description=(
            "Pin an end user: KEEP_ACTIVE (no lifecycle policy marks it inactive) or EXCLUDE "
            "(no sync changes it; its Entra user is logged SKIP PINNED_EXCLUDE); null removes "
            "the pin. Needs ADMIN."
        )
    )
    async def set_end_user_pin(self, info: Info, input: SetEndUserPinInput) -> SetEndUserPinResult:
        try:
            info.context.who.require_admin()
            user = await end_users.set_pin(
                info.context.who, _end_user_pk(input.end_user_id), input.pin
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SetEndUserPinPayload(end_user=EndUser.from_model(user))

    @strawberry.mutation(
        description=(
            "Mark an end user inactive (reason MANUAL: it stays inactive whatever Entra says) "
            "or active again. Needs ADMIN."
        )
    )
    async def set_end_user_active(
        self, info: Info, input: SetEndUserActiveInput
    ) -> SetEndUserActiveResult:
        try:
            info.context.who.require_admin()
            user = await end_users.set_active(
                info.context.who, _end_user_pk(input.end_user_id), input.active
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SetEndUserActivePayload(end_user=EndUser.from_model(user))
