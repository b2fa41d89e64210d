"""explainUser over GraphQL: one Entra user through the sync's own steps (issue 6)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from models import ConnectionScope as _Scope
from models import ReviewItem as ItemModel
from schema.connections import ConnectionScope, _connection_pk, _runtime
from schema.errors import (
    ConnectionNotReadyError,
    ConsentRequiredError,
    EntraUserNotFoundError,
    MicrosoftUnavailableError,
    NotConfiguredError,
    NotFoundError,
    ReauthRequiredError,
    ValidationError,
    to_error,
)
from schema.review import ReviewItem
from schema.types import EndUser, Info, Site
from services.errors import DomainError
from services.sync import explain
from services.sync.planner import DecisionKind
from services.sync.reasons import SkipReason, reason_text

SyncAction = strawberry.enum(
    DecisionKind,
    name="SyncAction",
    description=(
        "What the next sync does with an Entra user: CREATE, UPDATE, UNCHANGED (nothing to "
        "write, S10), SKIP (with a reason) or REVIEW (sent to the review queue)."
    ),
)


@strawberry.enum(
    description=(
        "How the Entra user matches an end user: LINK (the end user synced from this Entra "
        "object, S7), EMAIL (S2), NONE (no end user: a new one would be created) or AMBIGUOUS "
        "(several candidates, or a case for the review queue)."
    )
)
class MatchedBy(Enum):
    LINK = "LINK"
    EMAIL = "EMAIL"
    NONE = "NONE"
    AMBIGUOUS = "AMBIGUOUS"


def _code(reason: SkipReason | None) -> str | None:
    return None if reason is None else reason.value


async def _end_user(info: Info, pk: int | None) -> EndUser | None:
    if pk is None or pk <= 0:
        return None
    row = await info.context.end_user_loader.load(pk)
    return EndUser.from_model(row) if row else None


async def _site(info: Info, pk: int | None) -> Site | None:
    if pk is None:
        return None
    row = await info.context.site_loader.load(pk)
    return Site.from_model(row) if row else None


@strawberry.type(description="The Entra user as Graph returned it (the properties a sync reads).")
class ExplainedEntraUser:
    id: str
    user_principal_name: str | None
    mail: str | None
    display_name: str | None
    given_name: str | None
    surname: str | None
    job_title: str | None
    business_phone: str | None
    mobile_phone: str | None
    office_location: str | None
    department: str | None
    user_type: str | None
    account_enabled: bool | None


@strawberry.type(description="The connection's filters for this user (W4, W5 and any other).")
class ExplainedFilter:
    passed: bool
    reason: str | None = strawberry.field(description="The skip reason code when filtered out.")
    reason_message: str | None
    user_type: str | None = strawberry.field(description="MEMBER or GUEST as W5 reads it.")
    group_filter: str = strawberry.field(description="NONE, ALL_GROUPS or SELECTED (W4).")
    group_ids: list[str] = strawberry.field(
        description=(
            "SELECTED: the selected groups the user is in, nested groups included; "
            "ALL_GROUPS: every group it is in; NONE: empty."
        )
    )


@strawberry.type(description="Routing (W1-W3, W6): the site a new end user would be created in.")
class ExplainedRouting:
    scope: ConnectionScope  # type: ignore[valid-type]
    classification: str | None = strawberry.field(description="OFFICE or DEPARTMENT (W1).")
    value: str | None = strawberry.field(description="The user's office or department value.")
    mapping_key: str | None = strawberry.field(
        description="The value as mappings compare it (trimmed, case-folded; blank: undefined)."
    )
    mapped: bool
    site_pk: strawberry.Private[int | None]

    @strawberry.field(description="The routed site; null when the value is not mapped (W3).")
    async def site(self, info: Info) -> Site | None:
        return await _site(info, self.site_pk)


@strawberry.type(description="The end user the Entra user matches (S2, S7, S9), and by what.")
class ExplainedMatch:
    email: str | None = strawberry.field(description="The email matched by; null: see reason.")
    by: MatchedBy
    reason: str | None = strawberry.field(
        description="Why the match stops the sync (NO_EMAIL, DUPLICATE_EMAIL, ...), if it does."
    )
    reason_message: str | None
    end_user_pk: strawberry.Private[int | None]
    candidate_pks: strawberry.Private[list[int]]

    @strawberry.field(description="The matched end user (LINK or EMAIL).")
    async def end_user(self, info: Info) -> EndUser | None:
        return await _end_user(info, self.end_user_pk)

    @strawberry.field(description="Every end user of the scope with this email.")
    async def candidates(self, info: Info) -> list[EndUser]:
        rows = await info.context.end_user_loader.load_many(self.candidate_pks)
        return [EndUser.from_model(r) for r in rows if r is not None]


@strawberry.type(description="One field the next sync would write: from what to what.")
class FieldChange:
    field: str
    old: str
    new: str


@strawberry.type(description="What the next sync would do with this Entra user (R7, R8).")
class ExplainedOutcome:
    action: SyncAction  # type: ignore[valid-type]
    reason: str | None = strawberry.field(description="SKIP: the reason code; REVIEW: the case.")
    reason_message: str | None
    changes: list[FieldChange] = strawberry.field(
        description="CREATE: every value set; UPDATE: every field changed, old and new."
    )
    trims: list[str] = strawberry.field(description="S11: values cut or cleaned, as field:REASON.")
    site_pk: strawberry.Private[int | None]
    end_user_pk: strawberry.Private[int | None]

    @strawberry.field(description="CREATE: the site; otherwise the matched end user's site.")
    async def site(self, info: Info) -> Site | None:
        return await _site(info, self.site_pk)

    @strawberry.field(description="UPDATE, UNCHANGED, and SKIP after a match: the end user.")
    async def end_user(self, info: Info) -> EndUser | None:
        return await _end_user(info, self.end_user_pk)


@strawberry.type(
    description=(
        "The lifecycle policy's outcome for the matched end user: INACTIVE (reason: the cause), "
        "ACTIVE (RETURNED), or SKIP (MAILBOX_UNKNOWN: the shared-mailbox exemption could not "
        "decide). Issue 6."
    )
)
class ExplainedLifecycle:
    action: str
    reason: str
    reason_message: str


@strawberry.type(
    description=(
        "One Entra user of a connection through the sync's own steps: filters, routing, match "
        "and the next sync's decision. Planned as if it came first in a run."
    )
)
class UserExplanation:
    entra_user: ExplainedEntraUser
    filter: ExplainedFilter
    routing: ExplainedRouting
    match: ExplainedMatch | None = strawberry.field(
        description="Null when the user routes to no site (nothing to match in)."
    )
    outcome: ExplainedOutcome
    lifecycle: ExplainedLifecycle | None = strawberry.field(
        description="What the lifecycle policy would do to the end user; null: nothing."
    )
    review_conflicts: bool = strawberry.field(
        description="Whether the connection sends ambiguous matches to the review queue."
    )
    review_item_pk: strawberry.Private[int | None]

    @strawberry.field(description="The user's review item, if it ever had one.")
    async def review_item(self, info: Info) -> ReviewItem | None:
        if self.review_item_pk is None:
            return None
        row = await ItemModel.get_or_none(
            id=self.review_item_pk, account_id=info.context.who.account_id
        )
        return ReviewItem.from_model(row) if row else None

    @classmethod
    def build(cls, e: explain.Explanation) -> UserExplanation:
        u, d = e.user, e.decision
        reason: str | None = None
        if d.review is not None:
            reason = d.review.kind
        elif d.reason is not None:
            reason = d.reason.value
        match = None
        if e.match is not None:
            match = ExplainedMatch(
                email=e.match.email,
                by=MatchedBy(e.match.by),
                reason=_code(e.match.reason),
                reason_message=reason_text(e.match.reason.value) if e.match.reason else None,
                end_user_pk=e.match.end_user_id,
                candidate_pks=list(e.match.candidate_ids),
            )
        return cls(
            entra_user=ExplainedEntraUser(
                id=u.id,
                user_principal_name=u.user_principal_name,
                mail=u.mail,
                display_name=u.display_name,
                given_name=u.given_name,
                surname=u.surname,
                job_title=u.job_title,
                business_phone=u.business_phone,
                mobile_phone=u.mobile_phone,
                office_location=u.office_location,
                department=u.department,
                user_type=u.user_type,
                account_enabled=u.account_enabled,
            ),
            filter=ExplainedFilter(
                passed=e.filter.reason is None,
                reason=_code(e.filter.reason),
                reason_message=e.filter.reason.message if e.filter.reason else None,
                user_type=e.filter.user_type,
                group_filter=e.filter.group_filter,
                group_ids=list(e.filter.groups),
            ),
            routing=ExplainedRouting(
                scope=_Scope(e.route.scope),
                classification=e.route.classification,
                value=e.route.value,
                mapping_key=e.route.key,
                mapped=e.route.site_id is not None,
                site_pk=e.route.site_id,
            ),
            match=match,
            outcome=ExplainedOutcome(
                action=d.kind,
                reason=reason,
                reason_message=reason_text(reason) if reason else None,
                changes=[FieldChange(field=n, old=o, new=v) for n, (o, v) in d.changes.items()],
                trims=[f"{t.field}:{t.reason.value}" for t in d.trims],
                site_pk=d.site_id,
                end_user_pk=d.existing_id,
            ),
            lifecycle=None
            if e.lifecycle is None
            else ExplainedLifecycle(
                action=e.lifecycle.action,
                reason=e.lifecycle.code,
                reason_message=reason_text(e.lifecycle.code),
            ),
            review_conflicts=e.review_on,
            review_item_pk=e.review.item_id if e.review is not None else None,
        )


ExplainUserResult = Annotated[
    UserExplanation
    | ValidationError
    | NotFoundError
    | EntraUserNotFoundError
    | ConnectionNotReadyError
    | ReauthRequiredError
    | ConsentRequiredError
    | MicrosoftUnavailableError
    | NotConfiguredError,
    strawberry.union("ExplainUserResult"),
]


@strawberry.type
class ExplainQuery:
    @strawberry.field(
        description=(
            "For one Entra user of a connection (its object id, or its user principal name or "
            "mail): which filter lets it in or out, which site routing picks, which end user it "
            "matches and by what, and what the next sync would change, field by field. Reads "
            "the user (and for group filters its groups) from Graph; writes nothing."
        )
    )
    async def explain_user(
        self,
        info: Info,
        connection_id: strawberry.ID,
        entra_user_id: str | None = None,
        email: str | None = None,
    ) -> ExplainUserResult:
        try:
            result = await explain.explain_user(
                _runtime(info),
                info.context.who,
                _connection_pk(connection_id),
                entra_user_id=entra_user_id,
                email=email,
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return UserExplanation.build(result)
