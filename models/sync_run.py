"""Sync runs (R1) and their per-user change log (R8)."""

from tortoise import fields
from tortoise.models import Model

from models.account import Account
from models.connection import TenantConnection
from models.enums import ChangeAction, RunStatus, RunTrigger, SyncMode


class SyncRun(Model):
    id = fields.IntField(primary_key=True)
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="sync_runs", on_delete=fields.CASCADE
    )
    account_id: int
    connection: fields.ForeignKeyRelation[TenantConnection] = fields.ForeignKeyField(
        "models.TenantConnection", related_name="runs", on_delete=fields.CASCADE
    )
    connection_id: int
    # Equal to connection_id while the run is QUEUED, RUNNING or AWAITING_APPROVAL, NULL after: the unique index makes
    # "one run per connection" (R5) a database guarantee rather than a timing one.
    active_connection_id = fields.IntField(null=True, unique=True)
    status = fields.CharEnumField(RunStatus, max_length=20, default=RunStatus.QUEUED)
    trigger = fields.CharEnumField(RunTrigger, max_length=10, default=RunTrigger.MANUAL)
    dry_run = fields.BooleanField(default=False)
    phase = fields.CharField(max_length=32, default="queued")
    fetched = fields.IntField(default=0)
    created = fields.IntField(default=0)
    updated = fields.IntField(default=0)
    unchanged = fields.IntField(default=0)
    skipped_filter = fields.IntField(default=0)
    skipped_unmapped = fields.IntField(default=0)
    errors = fields.IntField(default=0)  # users skipped for bad data (S11)
    # R9: `@removed` entries of a delta round, logged and left untouched in the product (S5).
    removed = fields.IntField(default=0)
    # Lifecycle policies: users marked inactive and reactivated; ambiguous cases sent to review.
    deactivated = fields.IntField(default=0)
    reactivated = fields.IntField(default=0)
    review_waiting = fields.IntField(default=0)
    # A preview: a dry run of proposed sync policies (filters, field rules, lifecycle) that are
    # not saved yet; null for a run of the saved configuration.
    proposed_policies: dict[str, object] | None = fields.JSONField(null=True)
    # R9: FULL or DELTA, decided when the run starts (null while queued), and why in plain words.
    mode = fields.CharEnumField(SyncMode, max_length=5, null=True)
    mode_reason = fields.CharField(max_length=200, default="")
    total = fields.IntField(null=True)  # users Entra holds, when known (for percent)
    error_message = fields.CharField(max_length=1000, default="")
    cancel_requested = fields.BooleanField(default=False)
    requested_by = fields.IntField(null=True)  # api key id
    # The mass-change guard: the connection's imported users counted (null when not checked),
    # how many of them the run would update, skip or no longer find, against which threshold,
    # and whether that is more than the threshold (a dry run only reports it).
    guard_imported = fields.IntField(null=True)
    guard_affected = fields.IntField(null=True)
    guard_threshold = fields.FloatField(null=True)
    guard_tripped = fields.BooleanField(default=False)
    # An admin approved the paused run: it executes once more, without the guard.
    approved_by = fields.IntField(null=True)  # api key id
    approved_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    # When the run was last queued (created, or approved): R6 fails a run QUEUED too long.
    queued_at = fields.DatetimeField(null=True, auto_now_add=True)
    started_at = fields.DatetimeField(null=True)
    finished_at = fields.DatetimeField(null=True)
    heartbeat_at = fields.DatetimeField(null=True)
    # The process that executes (or executed) the run, "host:pid" unless named: an `entrasync
    # worker`, or the API process itself in embedded mode. Where to look when a run died (R6).
    worker = fields.CharField(max_length=200, default="")

    class Meta:
        table = "sync_run"
        indexes = (("account", "id"), ("connection", "id"))


class ChangeLogEntry(Model):
    """One user's outcome in one run: created or updated (field by field), or skipped (with why)."""

    id = fields.BigIntField(primary_key=True)
    run: fields.ForeignKeyRelation[SyncRun] = fields.ForeignKeyField(
        "models.SyncRun", related_name="changes", on_delete=fields.CASCADE
    )
    run_id: int
    account_id = fields.IntField()
    action = fields.CharEnumField(ChangeAction, max_length=8)
    entra_object_id = fields.CharField(max_length=64, default="")
    email = fields.CharField(max_length=320, default="")
    display_name = fields.CharField(max_length=256, default="")
    end_user_id = fields.IntField(null=True)
    site_id = fields.IntField(null=True)
    reason = fields.CharField(max_length=40, default="")  # a SkipReason / trim code
    # {"field": [old, new], ...} for CREATE/UPDATE; trims and notes for others.
    changes: dict[str, list[str]] = fields.JSONField(default=dict)

    class Meta:
        table = "change_log_entry"
        indexes = (("run", "action"),)
