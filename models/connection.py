"""Tenant connections (the link to one Entra tenant) and the sign-ins that create them."""

from tortoise import fields
from tortoise.models import Model

from models.account import Account, Site
from models.enums import (
    AuthMode,
    Classification,
    ConnectionScope,
    ConnectionStatus,
    GroupFilter,
    MatchAttribute,
)


class TenantConnection(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="connections", on_delete=fields.CASCADE
    )
    account_id: int
    scope = fields.CharEnumField(ConnectionScope, max_length=10)
    site: fields.ForeignKeyNullableRelation[Site] = fields.ForeignKeyField(
        "models.Site", related_name="connections", null=True, on_delete=fields.CASCADE
    )
    site_id: int | None
    status = fields.CharEnumField(ConnectionStatus, max_length=20, default=ConnectionStatus.PENDING)
    auth_mode = fields.CharEnumField(AuthMode, max_length=10, default=AuthMode.DELEGATED)
    status_message = fields.CharField(max_length=500, default="")
    entra_tenant_id = fields.CharField(max_length=64, null=True)
    tenant_name = fields.CharField(max_length=256, default="")
    granted_scopes = fields.TextField(default="")
    # msal's home_account_id ("oid.tid") of the admin who signed in; not a secret.
    home_account_id = fields.CharField(max_length=200, null=True)
    connected_by = fields.CharField(max_length=320, default="")
    connected_at = fields.DatetimeField(null=True)
    # msal's serialized token cache, AES-GCM encrypted and bound to this row (C3); never logged.
    token_cache = fields.TextField(null=True)
    # The import configuration (W1-W7), saved with the connection and reused by every sync.
    configured_at = fields.DatetimeField(null=True)
    classification = fields.CharEnumField(Classification, max_length=12, null=True)
    group_filter = fields.CharEnumField(GroupFilter, max_length=12, default=GroupFilter.NONE)
    selected_group_ids: list[str] = fields.JSONField(default=list)
    user_types: list[str] = fields.JSONField(default=list)
    match_attribute = fields.CharEnumField(MatchAttribute, max_length=6, default=MatchAttribute.UPN)
    # Bumped on every configuration change, so an incremental round knows a full one is due.
    config_version = fields.IntField(default=0)
    # Continuous sync (R4): every `sync_interval_minutes`, or never when null.
    sync_interval_minutes = fields.IntField(null=True)
    next_sync_at = fields.DatetimeField(null=True, db_index=True)
    # Incremental sync (R9): the delta link of the last fully applied round, valid only for the
    # configuration version it was taken under.
    delta_link = fields.TextField(null=True)
    delta_config_version = fields.IntField(default=0)
    last_full_sync_at = fields.DatetimeField(null=True)
    # Mass-change guard: a run that would update, skip or no longer find more than this share of
    # the connection's imported users waits for an admin's approval; null turns the guard off.
    mass_change_threshold = fields.FloatField(null=True, default=0.5)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tenant_connection"
        indexes = (("account", "status"), ("site", "status"))


class SignInRequest(Model):
    """One started sign-in: single use, short-lived, looked up by the hash of its `state`."""

    id = fields.IntField(primary_key=True)
    connection: fields.ForeignKeyRelation[TenantConnection] = fields.ForeignKeyField(
        "models.TenantConnection", related_name="sign_ins", on_delete=fields.CASCADE
    )
    connection_id: int
    account_id = fields.IntField()
    state_hash = fields.CharField(max_length=64, unique=True)
    # SIGN_IN: msal's flow; ADMIN_CONSENT: the tenant the signed-in admin belongs to (app-only).
    kind = fields.CharField(max_length=16, default="SIGN_IN")
    # msal's flow (PKCE verifier, nonce), encrypted and bound to this row.
    flow = fields.TextField()
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "sign_in_request"


class ImportMapping(Model):
    """W3: one classification value (office or department, or `Undefined`) routed to one site."""

    id = fields.IntField(primary_key=True)
    connection: fields.ForeignKeyRelation[TenantConnection] = fields.ForeignKeyField(
        "models.TenantConnection", related_name="mappings", on_delete=fields.CASCADE
    )
    connection_id: int
    account_id = fields.IntField(db_index=True)
    value = fields.CharField(max_length=256)
    # classification_key(value): how routing compares values (trimmed, NFC, case-folded).
    value_key = fields.CharField(max_length=256)
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "models.Site", related_name="mappings", on_delete=fields.CASCADE
    )
    site_id: int

    class Meta:
        table = "import_mapping"
        unique_together = (("connection", "value_key"),)
