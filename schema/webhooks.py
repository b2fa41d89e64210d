"""Outbound webhooks over GraphQL: register, change, rotate, test, and read the delivery log."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Self
from urllib.parse import urlsplit, urlunsplit

import strawberry
from graphql import GraphQLError
from strawberry import relay

from models import DeliveryStatus as _DeliveryStatus
from models import Webhook as WebhookModel
from models import WebhookDelivery as DeliveryModel
from models import WebhookEvent as _WebhookEvent
from schema.connections import _runtime
from schema.errors import NotFoundError, PermissionDeniedError, ValidationError, to_error
from schema.ids import decode_id, encode_id, parse_pks
from schema.pagination import Connection, decode_cursor, page_size, to_connection
from schema.types import Info
from services import webhooks
from services.errors import DomainError, InvalidInput, NotFound

WebhookEvent = strawberry.enum(
    _WebhookEvent,
    description=(
        "What a webhook is told about. CONNECTION_NEEDS_ATTENTION: a connection became "
        "NEEDS_REAUTH or NEEDS_CONSENT. PING is sent by testWebhook only and cannot be chosen."
    ),
)
WebhookDeliveryStatus = strawberry.enum(
    _DeliveryStatus,
    name="WebhookDeliveryStatus",
    description=(
        "PENDING: waiting for its next attempt; DELIVERED: the receiver answered 2xx; FAILED: "
        "attempts exhausted, a final 4xx, or the webhook could no longer send."
    ),
)
MAX_EVENTS_INPUT = 20


def redacted_url(url: str) -> str:
    """`url` without user info, query string and fragment ("?…" marks a removed query)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    tail = "?…" if parts.query else ""
    return urlunsplit((parts.scheme, host, parts.path, "", "")) + tail


@strawberry.type(
    description="An outbound webhook of the account. Its signing secret is shown only by "
    "createWebhook and rotateWebhookSecret, never again."
)
class Webhook(relay.Node):
    id: relay.NodeID[int]
    full_url: strawberry.Private[str]
    description: str
    events: list[WebhookEvent]  # type: ignore[valid-type]
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @strawberry.field(
        description="Where deliveries are POSTed. TECHNICIAN keys see it without its query "
        "string (receivers often put a token there)."
    )
    def url(self, info: Info) -> str:
        if info.context.who.is_admin:
            return self.full_url
        return redacted_url(self.full_url)

    @classmethod
    def from_model(cls, m: WebhookModel) -> Self:
        return cls(
            id=m.id,
            full_url=m.url,
            description=m.description,
            events=[_WebhookEvent(e) for e in m.events],
            enabled=m.enabled,
            created_at=m.created_at,
            updated_at=m.updated_at,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = list(node_ids)
        pks = parse_pks(ids)
        wanted = [pk for pk in pks if pk is not None]
        rows = await WebhookModel.filter(id__in=wanted, account_id=info.context.who.account_id)
        by_id = {r.id: r for r in rows}
        return [cls.from_model(by_id[pk]) if pk in by_id else None for pk in pks]


@strawberry.type(description="One event sent (or being sent) to one webhook.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(
        description="The delivery id: the body's `id` and the X-Entrasync-Delivery header."
    )
    webhook_id: strawberry.ID
    event: WebhookEvent  # type: ignore[valid-type]
    status: WebhookDeliveryStatus  # type: ignore[valid-type]
    attempts: int
    last_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status at the last attempt; null when none answered."
    )
    last_error: str = strawberry.field(
        description="Why the last attempt did not deliver (at most 500 characters)."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="While PENDING: when it is (re)tried."
    )
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def from_model(cls, m: DeliveryModel) -> Self:
        return cls(
            id=strawberry.ID(str(m.delivery_id)),
            webhook_id=strawberry.ID(encode_id("Webhook", m.webhook_id)),
            event=m.event,
            status=m.status,
            attempts=m.attempts,
            last_status_code=m.last_status_code,
            last_error=m.last_error,
            next_attempt_at=m.next_attempt_at if m.status is _DeliveryStatus.PENDING else None,
            created_at=m.created_at,
            delivered_at=m.delivered_at,
        )


@strawberry.type
class WebhookPayload:
    webhook: Webhook


@strawberry.type
class WebhookSecretPayload:
    webhook: Webhook
    secret: str = strawberry.field(
        description="The signing secret (HMAC-SHA256 key). Shown this once: store it now."
    )


@strawberry.type
class DeleteWebhookPayload:
    deleted_id: strawberry.ID


@strawberry.type
class TestWebhookPayload:
    delivery: WebhookDelivery = strawberry.field(
        description="The PING's outcome: DELIVERED, or FAILED with the receiver's status or error."
    )


CreateWebhookResult = Annotated[
    WebhookSecretPayload | ValidationError | PermissionDeniedError,
    strawberry.union("CreateWebhookResult"),
]
UpdateWebhookResult = Annotated[
    WebhookPayload | ValidationError | NotFoundError | PermissionDeniedError,
    strawberry.union("UpdateWebhookResult"),
]
DeleteWebhookResult = Annotated[
    DeleteWebhookPayload | NotFoundError | PermissionDeniedError,
    strawberry.union("DeleteWebhookResult"),
]
RotateWebhookSecretResult = Annotated[
    WebhookSecretPayload | NotFoundError | PermissionDeniedError,
    strawberry.union("RotateWebhookSecretResult"),
]
TestWebhookResult = Annotated[
    TestWebhookPayload | NotFoundError | PermissionDeniedError,
    strawberry.union("TestWebhookResult"),
]


@strawberry.input
class CreateWebhookInput:
    url: str = strawberry.field(
        description="https:// (http:// only for localhost), no credentials, at most 2048 "
        "characters; private and link-local addresses are refused."
    )
    events: list[WebhookEvent] = strawberry.field(  # type: ignore[valid-type]
        description="At least one event; PING cannot be chosen."
    )
    description: str = strawberry.field(default="", description="At most 500 characters.")


@strawberry.input(description="Only the fields given change.")
class UpdateWebhookInput:
    id: strawberry.ID
    url: str | None = None
    events: list[WebhookEvent] | None = None  # type: ignore[valid-type]
    description: str | None = None
    enabled: bool | None = strawberry.field(
        default=None, description="A disabled webhook is sent nothing; its pending events fail."
    )


@strawberry.input
class WebhookIdInput:
    id: strawberry.ID


def _webhook_pk(value: str) -> int:
    pk = decode_id(value, "Webhook")
    if pk is None:
        raise NotFound("webhook")
    return pk


def _events(values: list[_WebhookEvent]) -> tuple[str, ...]:
    if len(values) > MAX_EVENTS_INPUT:
        raise InvalidInput("events", f"at most {MAX_EVENTS_INPUT} events")
    return tuple(v.value for v in values)


@strawberry.type
class WebhookQuery:
    @strawberry.field(
        description="The account's webhooks in creation order; `first` is 1..maxPageSize (default 50)."
    )
    async def webhooks(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Webhook]:
        page = await webhooks.list_webhooks(
            info.context.who,
            first=page_size(first, info.context.limits.max_page_size),
            after_id=decode_cursor(after),
        )
        return to_connection(page, Webhook.from_model)  # type: ignore[arg-type]

    @strawberry.field(
        description="A webhook's delivery log, oldest first; filter by status. "
        "`first` is 1..maxPageSize (default 50)."
    )
    async def webhook_deliveries(
        self,
        info: Info,
        webhook_id: strawberry.ID,
        status: WebhookDeliveryStatus | None = None,  # type: ignore[valid-type]
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[WebhookDelivery]:
        try:
            page = await webhooks.list_deliveries(
                info.context.who,
                _webhook_pk(webhook_id),
                first=page_size(first, info.context.limits.max_page_size),
                after_id=decode_cursor(after),
                status=status,
            )
        except NotFound:
            raise GraphQLError("webhook not found", extensions={"code": "NOT_FOUND"}) from None
        return to_connection(page, WebhookDelivery.from_model)  # type: ignore[arg-type]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Register a webhook; returns its signing secret, shown only this once. Needs ADMIN."
    )
    async def create_webhook(self, info: Info, input: CreateWebhookInput) -> CreateWebhookResult:
        try:
            info.context.who.require_admin()
            hook, secret = await webhooks.create_webhook(
                _runtime(info),
                info.context.who,
                url=input.url,
                events=_events(input.events),
                description=input.description,
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return WebhookSecretPayload(webhook=Webhook.from_model(hook), secret=secret)

    @strawberry.mutation(
        description="Change a webhook's URL, events, description or enabled flag. Needs ADMIN."
    )
    async def update_webhook(self, info: Info, input: UpdateWebhookInput) -> UpdateWebhookResult:
        try:
            info.context.who.require_admin()
            patch = webhooks.WebhookPatch(
                url=input.url,
                events=_events(input.events) if input.events is not None else None,
                description=input.description,
                enabled=input.enabled,
            )
            hook = await webhooks.update_webhook(
                _runtime(info), info.context.who, _webhook_pk(input.id), patch
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return WebhookPayload(webhook=Webhook.from_model(hook))

    @strawberry.mutation(description="Delete a webhook and its delivery log. Needs ADMIN.")
    async def delete_webhook(self, info: Info, input: WebhookIdInput) -> DeleteWebhookResult:
        try:
            info.context.who.require_admin()
            pk = await webhooks.delete_webhook(info.context.who, _webhook_pk(input.id))
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return DeleteWebhookPayload(deleted_id=strawberry.ID(encode_id("Webhook", pk)))

    @strawberry.mutation(
        description="Replace the signing secret (also for pending retries); returns the new one, "
        "shown only this once. Needs ADMIN."
    )
    async def rotate_webhook_secret(
        self, info: Info, input: WebhookIdInput
    ) -> RotateWebhookSecretResult:
        try:
            info.context.who.require_admin()
            hook, secret = await webhooks.rotate_secret(
                _runtime(info), info.context.who, _webhook_pk(input.id)
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return WebhookSecretPayload(webhook=Webhook.from_model(hook), secret=secret)

    @strawberry.mutation(
        description="Send a PING to the webhook now (once, no retries; also when disabled) and "
        "return the delivery's outcome. Waits up to the delivery timeout. Needs ADMIN."
    )
    async def test_webhook(self, info: Info, input: WebhookIdInput) -> TestWebhookResult:
        try:
            info.context.who.require_admin()
            delivery = await webhooks.send_test(
                _runtime(info), info.context.who, _webhook_pk(input.id)
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return TestWebhookPayload(delivery=WebhookDelivery.from_model(delivery))
