"""Accounts, their sites, and the API keys that act for them."""

from tortoise import fields
from tortoise.models import Model

from models.enums import AccountMode, Role


class Account(Model):
    id = fields.IntField(primary_key=True)
    name = fields.CharField(max_length=200)
    mode = fields.CharEnumField(AccountMode, max_length=20)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "account"


class Site(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sites", on_delete=fields.CASCADE
    )
    account_id: int
    name = fields.CharField(max_length=200)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "site"
        unique_together = (("account", "name"),)


class ApiKey(Model):
    """A bearer credential: only its SHA-256 is stored; `prefix` finds the row without the secret."""

    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="api_keys", on_delete=fields.CASCADE
    )
    account_id: int
    name = fields.CharField(max_length=200, default="")
    role = fields.CharEnumField(Role, max_length=20)
    prefix = fields.CharField(max_length=16, unique=True)
    key_hash = fields.CharField(max_length=64)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "api_key"
