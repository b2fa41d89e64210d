"""End users (contacts in MSP mode): the people that imports create and syncs keep current."""

from tortoise import fields
from tortoise.models import Model

from models.account import Account, Site
from models.enums import InactiveReason, UserPin, UserSource


class EndUser(Model):
    id = fields.IntField(primary_key=True)
    # Denormalised from the site so that every tenant-scoped query filters on one column.
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="end_users", on_delete=fields.CASCADE
    )
    account_id: int
    site: fields.ForeignKeyRelation[Site] = fields.ForeignKeyField(
        "models.Site", related_name="end_users", on_delete=fields.CASCADE
    )
    site_id: int
    email = fields.CharField(max_length=320)
    # casefold(email): the case-insensitive key matched by syncs (S2) and unique per site.
    email_key = fields.CharField(max_length=320)
    first_name = fields.CharField(max_length=100, default="")
    last_name = fields.CharField(max_length=100, default="")
    job_title = fields.CharField(max_length=200, default="")
    phone = fields.CharField(max_length=64, default="")
    mobile = fields.CharField(max_length=64, default="")
    source = fields.CharEnumField(UserSource, max_length=10, default=UserSource.MANUAL)
    entra_object_id = fields.CharField(max_length=64, null=True)
    entra_tenant_id = fields.CharField(max_length=64, null=True)
    # The email Entra gave this user last time: lets S7 tell an Entra-side rename from a product-side edit.
    entra_last_email = fields.CharField(max_length=320, null=True)
    # Optional fields, written only by connections whose field rules sync them.
    department = fields.CharField(max_length=200, default="")
    office = fields.CharField(max_length=200, default="")
    display_name = fields.CharField(max_length=256, default="")
    manager_email = fields.CharField(max_length=320, default="")
    # Lifecycle: an inactive user is kept (never deleted) and says why and since when. Only a
    # connection's opt-in policy, or a person, changes these.
    active = fields.BooleanField(default=True)
    inactive_reason = fields.CharEnumField(InactiveReason, max_length=12, null=True)
    inactive_since = fields.DatetimeField(null=True)
    # An admin's pin: KEEP_ACTIVE (no lifecycle policy deactivates it) or EXCLUDE (no sync
    # touches it at all).
    pin = fields.CharEnumField(UserPin, max_length=12, null=True)
    user_type = fields.CharField(max_length=20, null=True)
    account_enabled = fields.BooleanField(null=True)
    last_synced_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "end_user"
        unique_together = (("site", "email_key"),)
        # (account, updated_at): a delta round (R9) finds the users edited in the product since
        # the last round without reading the whole scope (services/sync/scope.edited_in_product).
        indexes = (
            ("account", "email_key"),
            ("account", "entra_object_id"),
            ("account", "updated_at"),
        )
