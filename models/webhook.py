"""Outbound webhooks of an account and the log of their deliveries."""

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.account import Account


class WebhookEvent(StrEnum):
    RUN_SUCCEEDED = "RUN_SUCCEEDED"
    RUN_FAILED = "RUN_FAILED"
    CONNECTION_NEEDS_ATTENTION = "CONNECTION_NEEDS_ATTENTION"  # NEEDS_REAUTH or NEEDS_CONSENT
    REVIEW_QUEUE_WAITING = "REVIEW_QUEUE_WAITING"
    MASS_CHANGE_GUARD_TRIPPED = "MASS_CHANGE_GUARD_TRIPPED"
    PING = "PING"  # sent by testWebhook only; no webhook subscribes to it


class DeliveryStatus(StrEnum):
    PENDING = "PENDING"  # waiting for its next attempt (or being attempted)
    DELIVERED = "DELIVERED"  # the receiver answered 2xx
    FAILED = "FAILED"  # attempts exhausted, a final 4xx, or the webhook can no longer send


class Webhook(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="webhooks", on_delete=fields.CASCADE
    )
    account_id: int
    url = fields.CharField(max_length=2048)
    description = fields.CharField(max_length=500, default="")
    events: list[str] = fields.JSONField(default=list)
    enabled = fields.BooleanField(default=True)
    # The HMAC signing secret, AES-GCM encrypted and bound to this row ("webhook:<id>"); shown to
    # the admin once, at creation and on rotation, never returned again nor logged.
    signing_secret = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook"
        indexes = (("account", "enabled"),)


class WebhookDelivery(Model):
    """One event for one webhook: persisted before it is sent, so a restart resumes it."""

    id = fields.BigIntField(primary_key=True)
    webhook: fields.ForeignKeyRelation[Webhook] = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    webhook_id: int
    account_id = fields.IntField()
    event = fields.CharEnumField(WebhookEvent, max_length=32)
    # The X-Entrasync-Delivery header and the body's "id": receivers dedupe on it.
    delivery_id = fields.UUIDField(unique=True)
    # The exact JSON body, built once: every attempt sends the same bytes.
    body = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=10, default=DeliveryStatus.PENDING)
    attempts = fields.IntField(default=0)
    last_status_code = fields.IntField(null=True)
    last_error = fields.CharField(max_length=500, default="")
    # Due time while PENDING; a dispatcher's claim pushes it ahead by the claim's lifetime, so a
    # dispatcher that dies mid-attempt leaves the delivery due again later, never lost.
    next_attempt_at = fields.DatetimeField(null=True)
    # The claim of the dispatcher attempting it now: only that dispatcher may record the outcome.
    claim_token = fields.CharField(max_length=32, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        indexes = (("status", "next_attempt_at"), ("webhook", "id"), ("status", "created_at"))
