"""Tortoise models: the only place that knows table layouts."""

from models.account import Account, ApiKey, Site
from models.end_user import EndUser
from models.enums import AccountMode, Role, UserSource

__all__ = ["Account", "AccountMode", "ApiKey", "EndUser", "Role", "Site", "UserSource"]
