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
    LifecyclePolicy,
    MatchAttribute,
    ReviewKind,
    ReviewResolution,
    ReviewStatus,
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
    # Sync policies beyond the SPEC, each opt-in: the defaults reproduce S1-S11 exactly.
    # Lifecycle: what happens to imported users disabled, deleted or out of scope in Entra.
    lifecycle_policy = fields.CharEnumField(
        LifecyclePolicy, max_length=16, default=LifecyclePolicy.KEEP
    )
    lifecycle_exempt_shared = fields.BooleanField(default=False)
    # Ambiguous matches go to the review queue instead of the SPEC's automatic choice.
    review_conflicts = fields.BooleanField(default=False)
    # {field: FieldRule}; a field not named keeps its default rule (services.sync.fields).
    field_rules: dict[str, str] = fields.JSONField(default=dict)
    # Richer filters, applied after the W4 and W5 ones.
    filter_enabled_only = fields.BooleanField(default=False)
    filter_licensed_only = fields.BooleanField(default=False)
    include_domains: list[str] = fields.JSONField(default=list)
    exclude_domains: list[str] = fields.JSONField(default=list)
    exclusion_patterns: list[str] = fields.JSONField(default=list)
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


class ReviewItem(Model):
    """An ambiguous case a sync sent to the review queue instead of guessing, and its resolution.

    One per Entra user and connection: a later run that meets the same case updates it (and
    follows its resolution once an admin has chosen).
    """

    id = fields.IntField(primary_key=True)
    account_id = fields.IntField()
    connection: fields.ForeignKeyRelation[TenantConnection] = fields.ForeignKeyField(
        "models.TenantConnection", related_name="review_items", on_delete=fields.CASCADE
    )
    connection_id: int
    kind = fields.CharEnumField(ReviewKind, max_length=24)
    status = fields.CharEnumField(ReviewStatus, max_length=8, default=ReviewStatus.OPEN)
    entra_object_id = fields.CharField(max_length=64)
    email = fields.CharField(max_length=320, default="")
    display_name = fields.CharField(max_length=256, default="")
    # The product users the case is about (end user ids), and the site routing picked.
    candidate_ids: list[int] = fields.JSONField(default=list)
    routed_site_id = fields.IntField(null=True)
    first_run_id = fields.IntField(null=True)
    last_run_id = fields.IntField(null=True)
    resolution = fields.CharEnumField(ReviewResolution, max_length=8, null=True)
    resolved_end_user_id = fields.IntField(null=True)
    resolved_by = fields.IntField(null=True)  # api key id
    resolved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "review_item"
        unique_together = (("connection", "entra_object_id"),)
        indexes = (("account_id", "status"),)
