"""What each event's `data` holds, built from the objects the sync and connections already have.

Ids are the API's global ids, so a receiver can query the object back over GraphQL.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from models import (
    ConnectionStatus,
    ReviewItem,
    ReviewStatus,
    RunStatus,
    SyncRun,
    TenantConnection,
    WebhookEvent,
)
from services.runtime import Runtime
from services.webhooks.dispatcher import notify

log = logging.getLogger("entrasync.webhooks")

ATTENTION = (ConnectionStatus.NEEDS_REAUTH, ConnectionStatus.NEEDS_CONSENT)


def global_id(type_name: str, pk: int) -> str:
    """The API's global id of an object (Relay: base64 of "Type:pk")."""
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def _time(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def run_data(run: SyncRun) -> dict[str, Any]:
    """RUN_SUCCEEDED / RUN_FAILED: the run's counters, as the SyncRun type names them."""
    return {
        "run": {
            "id": global_id("SyncRun", run.id),
            "connectionId": global_id("TenantConnection", run.connection_id),
            "status": run.status.value,
            "trigger": run.trigger.value,
            "dryRun": run.dry_run,
            "fetched": run.fetched,
            "created": run.created,
            "updated": run.updated,
            "unchanged": run.unchanged,
            "skippedByFilter": run.skipped_filter,
            "skippedUnmapped": run.skipped_unmapped,
            "errors": run.errors,
            "errorMessage": run.error_message,
            "startedAt": _time(run.started_at),
            "finishedAt": _time(run.finished_at),
        }
    }


def connection_data(conn: TenantConnection) -> dict[str, Any]:
    """CONNECTION_NEEDS_ATTENTION: which connection, its status, and what an admin must do."""
    return {
        "connection": {
            "id": global_id("TenantConnection", conn.id),
            "status": conn.status.value,
            "statusMessage": conn.status_message,
            "tenantId": conn.entra_tenant_id,
            "tenantName": conn.tenant_name,
        }
    }


async def notify_run_finished(rt: Runtime, run: SyncRun) -> None:
    """RUN_SUCCEEDED or RUN_FAILED for a finished run; nothing for other statuses. Never raises."""
    if run.status is RunStatus.SUCCEEDED:
        await notify(rt, run.account_id, WebhookEvent.RUN_SUCCEEDED, run_data(run))
    elif run.status is RunStatus.FAILED:
        await notify(rt, run.account_id, WebhookEvent.RUN_FAILED, run_data(run))


def guard_data(run: SyncRun) -> dict[str, Any]:
    """MASS_CHANGE_GUARD_TRIPPED: the paused run, and what its check found."""
    imported, affected = run.guard_imported or 0, run.guard_affected or 0
    return {
        **run_data(run),
        "massChange": {
            "importedUsers": imported,
            "affectedUsers": affected,
            "share": round(affected / imported, 4) if imported else 0.0,
            "threshold": run.guard_threshold,
        },
    }


async def notify_guard_tripped(rt: Runtime, run: SyncRun) -> None:
    """MASS_CHANGE_GUARD_TRIPPED for a run the guard stopped (AWAITING_APPROVAL). Never raises."""
    if run.status is RunStatus.AWAITING_APPROVAL:
        await notify(rt, run.account_id, WebhookEvent.MASS_CHANGE_GUARD_TRIPPED, guard_data(run))


def review_data(run: SyncRun, new: int = 0) -> dict[str, Any]:
    """REVIEW_QUEUE_WAITING: the run that finished, how many review items wait, and how many of
    them this run queued."""
    return {
        **run_data(run),
        "reviewQueue": {
            "connectionId": global_id("TenantConnection", run.connection_id),
            "waiting": run.review_waiting,
            "new": new,
        },
    }


async def notify_review_waiting(rt: Runtime, run: SyncRun) -> None:
    """REVIEW_QUEUE_WAITING when a run (not a dry run) finished, succeeded or failed, and queued
    new review items: a scheduled sync meeting the same waiting cases again sends nothing.
    Never raises."""
    finished = run.status in (RunStatus.SUCCEEDED, RunStatus.FAILED)
    if not finished or run.dry_run or run.review_waiting <= 0:
        return
    try:
        new = await ReviewItem.filter(
            account_id=run.account_id,
            connection_id=run.connection_id,
            status=ReviewStatus.OPEN,
            first_run_id=run.id,
        ).count()
    except Exception:  # a notification never fails the run
        log.warning("sync run %s: review items not counted", run.id, exc_info=True)
        return
    if new:
        await notify(rt, run.account_id, WebhookEvent.REVIEW_QUEUE_WAITING, review_data(run, new))


async def notify_connection_status(rt: Runtime, conn: TenantConnection) -> None:
    """CONNECTION_NEEDS_ATTENTION when the connection is NEEDS_REAUTH or NEEDS_CONSENT. Never raises."""
    if conn.status in ATTENTION:
        await notify(
            rt, conn.account_id, WebhookEvent.CONNECTION_NEEDS_ATTENTION, connection_data(conn)
        )
