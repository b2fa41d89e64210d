"""Sync runs over GraphQL: startSync, cancelSync, runs and change logs, live progress (R1-R8, A3)."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Self, cast

import strawberry
from graphql import GraphQLError
from strawberry import relay
from strawberry.scalars import JSON

from models import ChangeAction as _ChangeAction
from models import ChangeLogEntry as ChangeModel
from models import RunStatus as _RunStatus
from models import RunTrigger as _RunTrigger
from models import SyncMode as _SyncMode
from models import SyncRun as RunModel
from schema.connections import ConnectionPayload, TenantConnection, _connection_pk, _runtime
from schema.errors import (
    ConnectionNotReadyError,
    NotFoundError,
    PermissionDeniedError,
    RunNotAwaitingApprovalError,
    ValidationError,
    to_error,
)
from schema.ids import decode_id, parse_pks
from schema.pagination import Connection, decode_cursor, page_size, to_connection
from schema.types import Info
from services import scheduler
from services.connections import get_connection
from services.errors import DomainError, NotFound
from services.events import account_runs_topic, run_topic
from services.sync import guard, runs
from services.sync.progress import TERMINAL, snapshot
from services.sync.reasons import reason_text

if TYPE_CHECKING:
    from schema.policies import SyncPolicies

RunStatus = strawberry.enum(_RunStatus, description="R1: a run's lifecycle.")
RunTrigger = strawberry.enum(_RunTrigger)
SyncMode = strawberry.enum(
    _SyncMode,
    description=(
        "R9: FULL lists every user of the tenant; DELTA only what changed in Entra since the "
        "last round (Graph /users/delta), plus group members and product edits it must look up."
    ),
)
ChangeAction = strawberry.enum(_ChangeAction, description="R8: what a run did with one Entra user.")


@strawberry.type(
    description=(
        "The mass-change guard's check of a run: of the connection's imported users, how many "
        "it would update, skip or no longer find in Entra, against the threshold."
    )
)
class MassChangeCheck:
    imported_users: int
    affected_users: int
    share: float = strawberry.field(description="affectedUsers / importedUsers, 0 to 1.")
    threshold: float
    tripped: bool = strawberry.field(
        description=(
            "More than the threshold: the run stopped AWAITING_APPROVAL before writing "
            "(a dry run only reports it)."
        )
    )
    approved_at: datetime | None = strawberry.field(
        description="When an admin approved the paused run (it then ran without the guard)."
    )

    @classmethod
    def from_model(cls, m: RunModel) -> MassChangeCheck | None:
        if m.guard_imported is None or m.guard_affected is None or m.guard_threshold is None:
            return None
        return cls(
            imported_users=m.guard_imported,
            affected_users=m.guard_affected,
            share=round(m.guard_affected / m.guard_imported, 4) if m.guard_imported else 0.0,
            threshold=m.guard_threshold,
            tripped=m.guard_tripped,
            approved_at=m.approved_at,
        )


@strawberry.type(description="R1: one execution of an import/sync for a connection.")
class SyncRun(relay.Node):
    id: relay.NodeID[int]
    connection_id: strawberry.ID
    status: RunStatus  # type: ignore[valid-type]
    trigger: RunTrigger  # type: ignore[valid-type]
    dry_run: bool = strawberry.field(
        description="R7: nothing but the run and its change log was written."
    )
    phase: str
    mode: SyncMode | None = strawberry.field(  # type: ignore[valid-type]
        description="R9: the round this run makes; null until it starts."
    )
    mode_reason: str = strawberry.field(
        description="Why the run is FULL or DELTA, e.g. a configuration change or an expired delta token."
    )
    fetched: int
    created: int
    updated: int
    unchanged: int
    skipped_by_filter: int
    skipped_unmapped: int
    errors: int = strawberry.field(
        description="Users skipped for bad data (S11); see the change log."
    )
    removed: int = strawberry.field(
        description="R9: users a delta round reported deleted in Entra; logged as REMOVED, left untouched (S5)."
    )
    deactivated: int = strawberry.field(
        description="End users the lifecycle policy MARK_INACTIVE marked inactive (change log: INACTIVE)."
    )
    reactivated: int = strawberry.field(
        description="Inactive end users that returned and are active again (change log: ACTIVE)."
    )
    review_waiting: int = strawberry.field(
        description=(
            "Review items of the connection waiting for an admin (reviewConflicts on): after "
            "the run, or as its batches go; a dry run counts what it would leave waiting."
        )
    )
    total: int | None = strawberry.field(description="Users in the tenant, when known.")
    percent: float | None
    error_message: str
    mass_change: MassChangeCheck | None = strawberry.field(
        description="The mass-change guard's check; null when the guard did not apply."
    )
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    proposed: strawberry.Private[dict[str, object] | None] = None

    @strawberry.field(
        description=(
            "A preview (previewSyncPolicies): the proposed sync policies this dry run applied "
            "instead of the saved ones; null for a run of the saved configuration."
        )
    )
    def proposed_policies(
        self,
    ) -> Annotated[SyncPolicies, strawberry.lazy("schema.policies")] | None:
        from schema.policies import SyncPolicies

        return SyncPolicies.from_json(self.proposed)

    @classmethod
    def from_model(cls, m: RunModel) -> Self:
        snap = snapshot(m)
        return cls(
            id=m.id,
            connection_id=strawberry.ID(
                str(relay.GlobalID("TenantConnection", str(m.connection_id)))
            ),
            status=m.status,
            trigger=m.trigger,
            dry_run=m.dry_run,
            phase=m.phase,
            mode=m.mode,
            mode_reason=m.mode_reason,
            fetched=m.fetched,
            created=m.created,
            updated=m.updated,
            unchanged=m.unchanged,
            skipped_by_filter=m.skipped_filter,
            skipped_unmapped=m.skipped_unmapped,
            errors=m.errors,
            removed=m.removed,
            deactivated=m.deactivated,
            reactivated=m.reactivated,
            review_waiting=m.review_waiting,
            total=m.total,
            percent=snap["percent"],
            error_message=m.error_message,
            mass_change=MassChangeCheck.from_model(m),
            created_at=m.created_at,
            started_at=m.started_at,
            finished_at=m.finished_at,
            proposed=m.proposed_policies,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = list(node_ids)
        pks = parse_pks(ids)
        wanted = [pk for pk in pks if pk is not None]
        rows = await RunModel.filter(id__in=wanted, account_id=info.context.who.account_id)
        by_id = {r.id: r for r in rows}
        return [cls.from_model(by_id[pk]) if pk in by_id else None for pk in pks]


@strawberry.type(description="R8: one user's outcome in a run.")
class ChangeLogEntry:
    id: strawberry.ID
    action: ChangeAction  # type: ignore[valid-type]
    entra_object_id: str
    email: str
    display_name: str
    end_user_id: strawberry.ID | None
    site_id: strawberry.ID | None
    reason: str = strawberry.field(
        description=(
            "For SKIP: the reason code (FILTERED_GROUP, UNMAPPED, NO_EMAIL, PINNED_EXCLUDE, ...); "
            "for INACTIVE the cause (DISABLED, SOFT_DELETED, DELETED, OUT_OF_SCOPE); for ACTIVE "
            "RETURNED; for REVIEW the case (SEVERAL_PRODUCT_MATCHES, SAME_EMAIL_IN_ENTRA, "
            "SITE_DISAGREES)."
        )
    )
    changes: JSON = strawberry.field(description='{"field": ["old", "new"]} for CREATE and UPDATE.')

    @strawberry.field(
        description="The reason in plain words, for people (the code is for scripts)."
    )
    def reason_message(self) -> str:
        return reason_text(self.reason)

    @classmethod
    def from_model(cls, m: ChangeModel) -> ChangeLogEntry:
        return cls(
            id=strawberry.ID(str(m.id)),
            action=m.action,
            entra_object_id=m.entra_object_id,
            email=m.email,
            display_name=m.display_name,
            end_user_id=strawberry.ID(str(relay.GlobalID("EndUser", str(m.end_user_id))))
            if m.end_user_id
            else None,
            site_id=strawberry.ID(str(relay.GlobalID("Site", str(m.site_id))))
            if m.site_id
            else None,
            reason=m.reason,
            changes=cast(JSON, m.changes),
        )


@strawberry.type(description="R2: a progress snapshot of a run.")
class SyncProgress:
    run_id: strawberry.ID
    status: RunStatus  # type: ignore[valid-type]
    phase: str
    mode: SyncMode | None  # type: ignore[valid-type]
    dry_run: bool
    fetched: int
    created: int
    updated: int
    unchanged: int
    skipped_by_filter: int
    skipped_unmapped: int
    errors: int
    removed: int
    deactivated: int
    reactivated: int
    review_waiting: int
    total: int | None
    percent: float | None
    error_message: str

    @classmethod
    def from_event(cls, ev: dict[str, Any]) -> SyncProgress:
        return cls(
            run_id=strawberry.ID(str(relay.GlobalID("SyncRun", str(ev["run_id"])))),
            status=_RunStatus(ev["status"]),
            phase=ev["phase"],
            mode=_SyncMode(ev["mode"]) if ev.get("mode") else None,
            dry_run=ev["dry_run"],
            fetched=ev["fetched"],
            created=ev["created"],
            updated=ev["updated"],
            unchanged=ev["unchanged"],
            skipped_by_filter=ev["skipped_filter"],
            skipped_unmapped=ev["skipped_unmapped"],
            errors=ev["errors"],
            removed=ev.get("removed", 0),
            deactivated=ev.get("deactivated", 0),
            reactivated=ev.get("reactivated", 0),
            review_waiting=ev.get("review_waiting", 0),
            total=ev["total"],
            percent=ev["percent"],
            error_message=ev["error_message"],
        )


@strawberry.type
class SyncRunPayload:
    run: SyncRun
    already_running: bool = strawberry.field(
        description="R5: true when the connection's running run was returned."
    )


StartSyncResult = Annotated[
    SyncRunPayload | NotFoundError | PermissionDeniedError | ConnectionNotReadyError,
    strawberry.union("StartSyncResult"),
]
CancelSyncResult = Annotated[
    SyncRunPayload | NotFoundError | PermissionDeniedError, strawberry.union("CancelSyncResult")
]
ApproveSyncRunResult = Annotated[
    SyncRunPayload | NotFoundError | PermissionDeniedError | RunNotAwaitingApprovalError,
    strawberry.union("ApproveSyncRunResult"),
]
RejectSyncRunResult = Annotated[
    SyncRunPayload | NotFoundError | PermissionDeniedError | RunNotAwaitingApprovalError,
    strawberry.union("RejectSyncRunResult"),
]
SetMassChangeGuardResult = Annotated[
    ConnectionPayload | ValidationError | NotFoundError | PermissionDeniedError,
    strawberry.union("SetMassChangeGuardResult"),
]


@strawberry.input(
    description=(
        "The mass-change guard of a connection: `threshold` is a share of its imported users "
        "(above 0, at most 1; 0.5 for new connections), null turns the guard off."
    )
)
class SetMassChangeGuardInput:
    connection_id: strawberry.ID
    threshold: float | None = None


@strawberry.input
class StartSyncInput:
    connection_id: strawberry.ID
    dry_run: bool = strawberry.field(default=False, description="R7: plan and log, write no user.")


@strawberry.input(description="R4: sync every `intervalMinutes` (5 to 10080), or null to stop.")
class SetSyncScheduleInput:
    connection_id: strawberry.ID
    interval_minutes: int | None = None


SetSyncScheduleResult = Annotated[
    ConnectionPayload | ValidationError | NotFoundError | PermissionDeniedError,
    strawberry.union("SetSyncScheduleResult"),
]


@strawberry.input
class CancelSyncInput:
    run_id: strawberry.ID


@strawberry.input(description="A run the mass-change guard stopped (AWAITING_APPROVAL).")
class SyncRunApprovalInput:
    run_id: strawberry.ID


def _run_pk(value: str) -> int:
    pk = decode_id(value, "SyncRun")
    if pk is None:
        raise NotFound("sync run")
    return pk


@strawberry.type
class SyncQuery:
    @strawberry.field(
        description=(
            "R1: the account's runs, oldest first; filter by connection. `last` (1..maxPageSize) "
            "with an optional `before` cursor pages from the newest end instead (edges stay "
            "oldest first); `first`/`after` and `last`/`before` cannot be mixed."
        )
    )
    async def sync_runs(
        self,
        info: Info,
        connection_id: strawberry.ID | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[SyncRun]:
        conn_pk = None
        if connection_id is not None:
            conn_pk = decode_id(connection_id, "TenantConnection") or 0
        backward = last is not None or before is not None
        if backward and (first is not None or after is not None):
            raise GraphQLError(
                "use `first`/`after` or `last`/`before`, not both",
                extensions={"code": "BAD_PAGE_SIZE"},
            )
        maximum = info.context.limits.max_page_size
        page = await runs.list_runs(
            info.context.who,
            first=page_size(first, maximum),
            after_id=decode_cursor(after),
            connection_id=conn_pk,
            last=page_size(last, maximum, "last") if backward else None,
            before_id=decode_cursor(before),
        )
        return to_connection(page, SyncRun.from_model)  # type: ignore[arg-type]

    @strawberry.field(description="R8: a run's change log; filter by action and reason code.")
    async def change_log(
        self,
        info: Info,
        run_id: strawberry.ID,
        action: ChangeAction | None = None,  # type: ignore[valid-type]
        reason: str | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ChangeLogEntry]:
        pk = decode_id(run_id, "SyncRun")
        try:
            if pk is None:
                raise NotFound("sync run")
            page = await runs.list_changes(
                info.context.who,
                pk,
                first=page_size(first, info.context.limits.max_page_size),
                after_id=decode_cursor(after),
                action=action,
                reason=(reason or "").replace("\x00", "")[:40] or None,
            )
        except NotFound:
            raise GraphQLError("sync run not found", extensions={"code": "NOT_FOUND"}) from None
        return to_connection(page, ChangeLogEntry.from_model)  # type: ignore[arg-type]


@strawberry.type
class SyncMutation:
    @strawberry.mutation(
        description="R3/R5: start a sync now (or return the running one). Needs ADMIN."
    )
    async def start_sync(self, info: Info, input: StartSyncInput) -> StartSyncResult:
        try:
            info.context.who.require_admin()
            conn = await get_connection(info.context.who, _connection_pk(input.connection_id))
            run, created = await runs.start_sync(
                _runtime(info), info.context.who, conn, dry_run=input.dry_run
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SyncRunPayload(run=SyncRun.from_model(run), already_running=not created)

    @strawberry.mutation(
        description="Stop a run after its current batch; written batches stay. Needs ADMIN."
    )
    async def cancel_sync(self, info: Info, input: CancelSyncInput) -> CancelSyncResult:
        try:
            run = await runs.cancel_sync(_runtime(info), info.context.who, _run_pk(input.run_id))
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SyncRunPayload(
            run=SyncRun.from_model(run), already_running=run.status not in TERMINAL
        )

    @strawberry.mutation(
        description=(
            "Let a run the mass-change guard stopped (AWAITING_APPROVAL) apply its changes: it "
            "is queued again and runs once without the guard. Needs ADMIN."
        )
    )
    async def approve_sync_run(
        self, info: Info, input: SyncRunApprovalInput
    ) -> ApproveSyncRunResult:
        try:
            run = await guard.approve_run(_runtime(info), info.context.who, _run_pk(input.run_id))
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SyncRunPayload(
            run=SyncRun.from_model(run), already_running=run.status not in TERMINAL
        )

    @strawberry.mutation(
        description=(
            "Cancel a run the mass-change guard stopped (AWAITING_APPROVAL); it wrote nothing. "
            "Needs ADMIN."
        )
    )
    async def reject_sync_run(self, info: Info, input: SyncRunApprovalInput) -> RejectSyncRunResult:
        try:
            run = await guard.reject_run(_runtime(info), info.context.who, _run_pk(input.run_id))
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return SyncRunPayload(run=SyncRun.from_model(run), already_running=False)

    @strawberry.mutation(
        description="Set the connection's mass-change threshold, or turn the guard off. Needs ADMIN."
    )
    async def set_mass_change_guard(
        self, info: Info, input: SetMassChangeGuardInput
    ) -> SetMassChangeGuardResult:
        try:
            conn = await guard.set_threshold(
                info.context.who, _connection_pk(input.connection_id), input.threshold
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConnectionPayload(connection=TenantConnection.from_model(conn))

    @strawberry.mutation(description="R4: set or stop the connection's schedule. Needs ADMIN.")
    async def set_sync_schedule(
        self, info: Info, input: SetSyncScheduleInput
    ) -> SetSyncScheduleResult:
        try:
            conn = await scheduler.set_schedule(
                info.context.who, _connection_pk(input.connection_id), input.interval_minutes
            )
        except DomainError as exc:
            return to_error(exc)  # type: ignore[return-value]
        return ConnectionPayload(connection=TenantConnection.from_model(conn))


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="R2: progress of one run; the current state first, ends when the run does."
    )
    async def sync_progress(
        self, info: Info, run_id: strawberry.ID
    ) -> AsyncGenerator[SyncProgress, None]:
        caller = info.context.who
        pk = decode_id(run_id, "SyncRun")
        if pk is None or not await RunModel.exists(id=pk, account_id=caller.account_id):
            raise GraphQLError("sync run not found", extensions={"code": "NOT_FOUND"})
        async with _runtime(info).bus.subscribe(run_topic(pk)) as events:
            current = await RunModel.get(id=pk)
            yield SyncProgress.from_event(snapshot(current))
            if current.status in TERMINAL:
                return
            async for event in events:
                yield SyncProgress.from_event(event)
                if _RunStatus(event["status"]) in TERMINAL:
                    return

    @strawberry.subscription(description="A3: progress of every run of the account, as it happens.")
    async def sync_runs(self, info: Info) -> AsyncGenerator[SyncProgress, None]:
        caller = info.context.who
        async with _runtime(info).bus.subscribe(account_runs_topic(caller.account_id)) as events:
            async for event in events:
                yield SyncProgress.from_event(event)
