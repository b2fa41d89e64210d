"""Tortoise models: the only place that knows table layouts."""

from models.account import Account, ApiKey, Site
from models.connection import ImportMapping, SignInRequest, TenantConnection
from models.end_user import EndUser
from models.enums import (
    AccountMode,
    AuthMode,
    ChangeAction,
    Classification,
    ConnectionScope,
    ConnectionStatus,
    GroupFilter,
    MatchAttribute,
    Role,
    RunStatus,
    RunTrigger,
    SyncMode,
    UserSource,
)
from models.sync_run import ChangeLogEntry, SyncRun
from models.webhook import DeliveryStatus, Webhook, WebhookDelivery, WebhookEvent

__all__ = [
    "Account",
    "AccountMode",
    "ApiKey",
    "AuthMode",
    "ChangeAction",
    "ChangeLogEntry",
    "Classification",
    "ConnectionScope",
    "ConnectionStatus",
    "DeliveryStatus",
    "EndUser",
    "GroupFilter",
    "ImportMapping",
    "MatchAttribute",
    "Role",
    "RunStatus",
    "RunTrigger",
    "SignInRequest",
    "Site",
    "SyncMode",
    "SyncRun",
    "TenantConnection",
    "UserSource",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
]
