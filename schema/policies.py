"""Sync policies over GraphQL (issue 6): the saved policies, their preview by dry run, and saving."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Self

import strawberry

from models import LifecyclePolicy as _LifecyclePolicy
from schema.connections import ConnectionPayload, TenantConnection, _connection_pk, _runtime
from schema.errors import (
    ConnectionNotReadyError,
    NotFoundError,
    PermissionDeniedError,
    PreviewRequiredError,
    RunInProgressError,
    ValidationError,
    to_error,
)
from schema.ids import decode_id
from schema.types import Info
from services import policies
from services.errors import DomainError
from services.sync.config import Policies

if TYPE_CHECKING:
    from schema.sync import SyncRun


class _FieldRule(StrEnum):
    OVERWRITE = "OVERWRITE"
    CREATE_ONLY = "CREATE_ONLY"
    KEEP_WHEN_BLANK = "KEEP_WHEN_BLANK"
    NOT_SYNCED = "NOT_SYNCED"


FieldRule = strawberry.enum(
    _FieldRule,
    name="FieldRule",
    description=(
        "How a sync writes one field of an end user: OVERWRITE with Entra's value, a blank one "
        "included (S4's rule for names and job title); CREATE_ONLY, set when the user is "
        "created and never updated; KEEP_WHEN_BLANK, overwrite except that a blank never "
        "erases a value (S4's rule for phones); NOT_SYNCED, never written."
    ),
)
LifecyclePolicy = strawberry.enum(
    _LifecyclePolicy,
    description=(
        "What a sync does to imported users disabled, deleted or out of scope in Entra: KEEP "
        "(S5, the default) or MARK_INACTIVE (never deleted; reactivated when they return)."
    ),
)


_FIELD_NAMES = (
    "firstName, lastName, jobTitle, phone, mobile, department, office, displayName or managerEmail."
)


@strawberry.type(description="One field's rule.")
class FieldRuleEntry:
    field: str = strawberry.field(description=_FIELD_NAMES)
    rule: FieldRule  # type: ignore[valid-type]


@strawberry.type(
    description=(
        "A connection's sync policies beyond the SPEC; the defaults change nothing. Filters "
        "apply after the group and user type filters (W4, W5); users they leave out are "
        "skipped with their own reason codes and counted in skippedByFilter."
    )
)
class SyncPolicies:
    lifecycle: LifecyclePolicy  # type: ignore[valid-type]
    exempt_shared_mailboxes: bool
    review_conflicts: bool
    field_rules: list[FieldRuleEntry] = strawberry.field(
        description="Every field with its rule (defaults included)."
    )
    enabled_only: bool = strawberry.field(
        description="Only accounts enabled in Entra (FILTERED_DISABLED)."
    )
    licensed_only: bool = strawberry.field(
        description="Only accounts holding a license (FILTERED_UNLICENSED)."
    )
    include_domains: list[str] = strawberry.field(
        description=(
            "When not empty, only users whose email (the match attribute) is in one of these "
            "domains (FILTERED_DOMAIN)."
        )
    )
    exclude_domains: list[str] = strawberry.field(
        description="Users whose email is in one of these domains are left out (FILTERED_DOMAIN)."
    )
    exclusion_patterns: list[str] = strawberry.field(
        description=(
            "Shell-style patterns (*, ?, [abc]), case-insensitive, matched against the whole "
            "userPrincipalName, mail and displayName, e.g. svc-* or room-*@contoso.com "
            "(FILTERED_PATTERN)."
        )
    )

    @classmethod
    def from_policies(cls, p: Policies) -> Self:
        return cls(
            lifecycle=_LifecyclePolicy(p.lifecycle),
            exempt_shared_mailboxes=p.exempt_shared_mailboxes,
            review_conflicts=p.review_conflicts,
            field_rules=[
                FieldRuleEntry(field=policies.API_NAMES[name], rule=_FieldRule(rule))
                for name, rule in p.field_rules.items()
            ],
            enabled_only=p.enabled_only,
            licensed_only=p.licensed_only,
            include_domains=list(p.include_domains),
            exclude_domains=list(p.exclude_domains),
            exclusion_patterns=list(p.exclusion_patterns),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, object] | None) -> Self | None:
        if data is None:
            return None
        try:
            return cls.from_policies(Policies.from_json(data))
        except ValueError:
            return None


@strawberry.input(description="One field's rule to set.")
class FieldRuleInput:
    field: str = strawberry.field(description=_FIELD_NAMES)
    rule: FieldRule  # type: ignore[valid-type]


@strawberry.input(
    description=(
        "Sync policies to change; a field left out (null) keeps its saved value, and "
        "fieldRules changes only the fields it names. Lists hold at most 100 entries; domains "
        "are compared case-insensitively, a leading @ is dropped."
    )
)
class SyncPoliciesInput:
    lifecycle: LifecyclePolicy | None = None  # type: ignore[valid-type]
    exempt_shared_mailboxes: bool | None = None
    review_conflicts: bool | None = None
    field_rules: list[FieldRuleInput] | None = None
    enabled_only: bool | None = None
    licensed_only: bool | None = None
    include_domains: list[str] | None = None
    exclude_domains: list[str] | None = None
    exclusion_patterns: list[str] | None = None

    def changes(self) -> policies.PolicyChanges:
        lifecycle = self.lifecycle
        return policies.PolicyChanges(
            lifecycle=None if lifecycle is None else str(lifecycle),
            exempt_shared_mailboxes=self.exempt_shared_mailboxes,
            review_conflicts=self.review_conflicts,
            field_rules=None
            if self.field_rules is None
            else [(r.field, str(r.rule)) for r in self.field_rules],
            enabled_only=self.enabled_only,
            licensed_only=self.licensed_only,
            include_domains=self.include_domains,
            exclude_domains=self.exclude_domains,
            exclusion_patterns=self.exclusion_patterns,
        )


@strawberry.input
class PreviewSyncPoliciesInput:
    connection_id: strawberry.ID
    policies: SyncPoliciesInput


@strawberry.input
class UpdateSyncPoliciesInput:
    connection_id: strawberry.ID
    policies: SyncPoliciesInput
    preview_run_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "Required when filters or field rules change: a SUCCEEDED previewSyncPolicies run "
            "of exactly these policies."
        ),
    )


@strawberry.type
class PreviewSyncPoliciesPayload:
    run: Annotated[SyncRun, strawberry.lazy("schema.sync")]


PreviewSyncPoliciesResult = Annotated[
    PreviewSyncPoliciesPayload
    | ValidationError
    | NotFoundError
    | PermissionDeniedError
    | ConnectionNotReadyError
    | RunInProgressError,
    strawberry.union("PreviewSyncPoliciesResult"),
]
UpdateSyncPoliciesResult = Annotated[
    ConnectionPayload
    | ValidationError
    | NotFoundError
    | PermissionDeniedError
    | PreviewRequiredError,
    strawberry.union("UpdateSyncPoliciesResult"),
]


@strawberry.type
class PolicyMutation:
    @strawberry.mutation(
        description=(
            "Preview sync policies: a dry run (R7) of the saved import configuration with these "
            "policies, always a full round. Its change log shows what they would change; "
            "nothing else is written or saved. Needs ADMIN."
        )
    )
    async def preview_sync_policies(
        self, info: Info, input: PreviewSyncPoliciesInput
    ) -> PreviewSyncPoliciesResult:
        from schema.sync import SyncRun

        try:
            run = await policies.preview_policies(
                _runtime(info),
                info.context.who,
                _connection_pk(input.connection_id),
                input.policies.changes(),
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return PreviewSyncPoliciesPayload(run=SyncRun.from_model(run))

    @strawberry.mutation(
        description=(
            "Save sync policies. Filters and field rules need previewRunId (a SUCCEEDED "
            "previewSyncPolicies run of exactly these policies) and make the next run a full "
            "round; lifecycle and review settings need no preview. Needs ADMIN."
        )
    )
    async def update_sync_policies(
        self, info: Info, input: UpdateSyncPoliciesInput
    ) -> UpdateSyncPoliciesResult:
        preview = None
        if input.preview_run_id is not None:
            preview = decode_id(input.preview_run_id, "SyncRun") or 0
        try:
            conn = await policies.update_policies(
                info.context.who,
                _connection_pk(input.connection_id),
                input.policies.changes(),
                preview,
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConnectionPayload(connection=TenantConnection.from_model(conn))
