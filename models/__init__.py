"""Tortoise models: the only place that knows table layouts."""

from models.account import Account, ApiKey, Site
from models.connection import ImportMapping, SignInRequest, TenantConnection
from models.end_user import EndUser
from models.enums import (
    AccountMode,
    ChangeAction,
    Classification,
    ConnectionScope,
    ConnectionStatus,
    GroupFilter,
    MatchAttribute,
    Role,
    RunStatus,
    RunTrigger,
    UserSource,
)
from models.sync_run import ChangeLogEntry, SyncRun

__all__ = [
    "ChangeAction",
    "ChangeLogEntry",
    "Classification",
    "GroupFilter",
    "ImportMapping",
    "MatchAttribute",
    "RunStatus",
    "RunTrigger",
    "SyncRun",
    "Account",
    "AccountMode",
    "ApiKey",
    "ConnectionScope",
    "ConnectionStatus",
    "EndUser",
    "Role",
    "SignInRequest",
    "Site",
    "TenantConnection",
    "UserSource",
]
