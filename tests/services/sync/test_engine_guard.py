"""The mass-change guard: a run that would change too many imported users waits for an admin."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from models import (
    ChangeLogEntry,
    EndUser,
    GroupFilter,
    RunStatus,
    SyncMode,
    SyncRun,
    TenantConnection,
)
from schema.ids import encode_id
from services.api_keys import authenticate
from services.errors import NotFound, PermissionDenied, RunNotAwaitingApproval
from services.sync import engine
from services.sync.delta import request_full_round
from services.sync.guard import REJECTED_MESSAGE, approve_run, reject_run, set_threshold
from services.sync.runs import cancel_sync, start_sync
from services.webhooks.dispatcher import configure, dispatch_due
from services.webhooks.policy import WebhookPolicy
from services.webhooks.registry import create_webhook
from services.wizard import ImportSettings, configure_import
from simulator.tenant import SimTenant
from tests.factories import admin_caller, gql, make_account
from tests.webhook_receiver import Receiver, serve_receiver

from .conftest import BOTH_TYPES, Harness

DOMAIN = "guarded.example"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async with serve_receiver() as r:
        yield r


async def _imported(harness: Harness, users: int = 50) -> tuple[SimTenant, TenantConnection, int]:
    """A connection that already imported a tenant of `users` users."""
    tenant = harness.big_tenant(users=users, domain=DOMAIN)
    conn = await harness.connect(domain=DOMAIN)
    first = await harness.run(conn)
    assert first.guard_imported is None
    linked = await EndUser.filter(entra_object_id__not_isnull=True).count()
    assert linked >= 40
    return tenant, conn, linked


async def _linked_ids() -> list[str]:
    ids = await EndUser.filter(entra_object_id__not_isnull=True).order_by("id")
    return [str(u.entra_object_id) for u in ids]


async def _settle(harness: Harness) -> None:
    for _ in range(100):
        if not await dispatch_due(harness.rt):
            return
        await asyncio.sleep(0.01)


async def test_a_first_import_never_trips(harness: Harness) -> None:
    harness.big_tenant(users=300, domain=DOMAIN)
    conn = await harness.connect(domain=DOMAIN)
    assert conn.mass_change_threshold == 0.5  # on by default

    run = await harness.run(conn)

    assert run.created > 250
    assert run.guard_imported is None  # nothing imported yet: the guard does not apply


async def test_an_emptied_group_filter_waits_for_approval_and_a_rejection_writes_nothing(
    harness: Harness, receiver: Receiver
) -> None:
    configure(harness.rt, WebhookPolicy(max_attempts=2, base_delay=0.01, jitter=0.0, timeout=2))
    await create_webhook(
        harness.rt, harness.caller, url=receiver.url(), events=["MASS_CHANGE_GUARD_TRIPPED"]
    )
    tenant, conn, linked = await _imported(harness)
    before = await harness.synced_state()
    empty = tenant.add_group("Nobody")
    conn = await configure_import(
        harness.rt,
        harness.caller,
        conn.id,
        ImportSettings(
            group_filter=GroupFilter.SELECTED,
            selected_group_ids=(empty["id"],),
            user_types=BOTH_TYPES,
        ),
    )

    paused = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)

    assert paused.mode is SyncMode.FULL
    assert (paused.guard_imported, paused.guard_affected) == (linked, linked)
    assert paused.guard_tripped and paused.guard_threshold == 0.5
    assert f"would change {linked:,} of {linked:,} imported users (100%)" in paused.error_message
    assert paused.finished_at is None
    # What it would have done, as a dry run reports it (counters and change log); no user written.
    assert paused.skipped_filter == paused.fetched == len(tenant.users)
    would = await ChangeLogEntry.filter(run_id=paused.id).values_list("action", "reason")
    assert would == [("SKIP", "FILTERED_GROUP")] * len(tenant.users)
    assert await harness.synced_state() == before
    # R5: it holds its connection; asking again (or a schedule) gets the paused run.
    again, created = await start_sync(harness.rt, harness.caller, conn)
    assert not created and again.id == paused.id

    await _settle(harness)
    [hook] = receiver.requests
    body = json.loads(hook.body)
    assert hook.headers["X-Entrasync-Event"] == "MASS_CHANGE_GUARD_TRIPPED"
    assert body["data"]["run"]["status"] == "AWAITING_APPROVAL"
    assert body["data"]["massChange"] == {
        "importedUsers": linked,
        "affectedUsers": linked,
        "share": 1.0,
        "threshold": 0.5,
    }

    rejected = await reject_run(harness.rt, harness.caller, paused.id)

    assert rejected.status is RunStatus.CANCELLED
    assert rejected.error_message == REJECTED_MESSAGE
    assert rejected.active_connection_id is None and rejected.finished_at is not None
    assert await harness.synced_state() == before
    with pytest.raises(RunNotAwaitingApproval):
        await approve_run(harness.rt, harness.caller, paused.id)
    # The connection is free again: the next run checks again (and pauses again).
    await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)


async def test_an_approved_run_applies_its_changes_once_without_the_guard(
    harness: Harness,
) -> None:
    tenant, conn, linked = await _imported(harness)
    for user in list(tenant.users.values()):
        tenant.update_user(user["id"], jobTitle=f"Renamed {user['id'][:8]}")
    await request_full_round(conn.id)
    before = await harness.users()

    paused = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)

    assert paused.guard_affected == linked and paused.updated == linked
    assert await harness.users() == before  # nothing written
    # Who it would change, field by field, for the admin who decides.
    would = await ChangeLogEntry.filter(run_id=paused.id, action="UPDATE").values_list(
        "changes", flat=True
    )
    assert len(would) == linked
    assert all(set(c) == {"job_title"} and c["job_title"][1].startswith("Renamed ") for c in would)

    approved = await approve_run(harness.rt, harness.caller, paused.id)
    assert approved.status in (RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.SUCCEEDED)
    done = await harness.wait(approved)

    assert done.status is RunStatus.SUCCEEDED, done.error_message
    assert done.id == paused.id and done.approved_at is not None
    assert done.approved_by == harness.caller.api_key_id
    assert done.updated == linked and done.guard_tripped  # the check's figures are kept
    titles = {u["job_title"] for u in (await harness.users()).values() if u["entra_object_id"]}
    assert all(t.startswith("Renamed ") for t in titles)
    # The writes' own log replaced the check's: each user once.
    assert await ChangeLogEntry.filter(run_id=done.id, action="UPDATE").count() == linked
    assert await ChangeLogEntry.filter(run_id=done.id).count() == len(
        set(await ChangeLogEntry.filter(run_id=done.id).values_list("entra_object_id", flat=True))
    )
    # The next run is guarded again, and passes: nothing changes.
    calm = await harness.run(conn)
    assert calm.guard_affected == 0 and not calm.guard_tripped


async def test_a_tenant_that_suddenly_returns_nothing_trips_in_delta_and_full_rounds(
    harness: Harness,
) -> None:
    tenant, conn, linked = await _imported(harness)
    for user_id in list(tenant.users):
        tenant.delete_user(user_id)

    delta = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)

    assert delta.mode is SyncMode.DELTA
    assert delta.guard_affected == linked and delta.guard_imported == linked
    assert delta.removed == len(tenant.deleted_users)

    await cancel_sync(harness.rt, harness.caller, delta.id)  # cancelSync ends a paused run too
    assert (await SyncRun.get(id=delta.id)).status is RunStatus.CANCELLED
    await request_full_round(conn.id)

    full = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)

    assert full.mode is SyncMode.FULL and full.fetched == 0
    assert full.guard_affected == linked  # none of them returned
    assert await EndUser.filter(entra_object_id__not_isnull=True).count() == linked


async def test_small_changes_pass_the_check_and_write_in_the_same_run(harness: Harness) -> None:
    tenant, conn, linked = await _imported(harness)
    ids = await _linked_ids()
    changed = ids[:5]
    for user_id in changed:
        tenant.update_user(user_id, jobTitle="Small change")
    tenant.delete_user(ids[-1])

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA
    assert (delta.guard_imported, delta.guard_affected, delta.guard_tripped) == (linked, 6, False)
    assert delta.updated == 5 and delta.removed == 1

    await request_full_round(conn.id)
    tenant.update_user(changed[0], jobTitle="Another change")
    full = await harness.run(conn)

    assert full.mode is SyncMode.FULL
    # One update, and the deleted user that the full round no longer returns.
    assert (full.guard_affected, full.updated) == (2, 1)
    assert full.created == 0 and full.unchanged == linked - 2


@pytest.mark.parametrize("kept", [True, False], ids=["changes-kept", "fetched-again"])
async def test_a_full_round_that_passes_the_check_writes_what_an_unguarded_one_would(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, kept: bool
) -> None:
    # The check keeps only the users it would write or log (fewer than REPLAY_USERS) and
    # writes those; beyond, it fetches the whole round again. Both end as a run without the
    # guard would: counters, change log and users. A creation makes the writes reload the scope.
    if not kept:
        monkeypatch.setattr(engine, "REPLAY_USERS", 1)
    tenant, conn, _ = await _imported(harness)
    await request_full_round(conn.id)
    calm = await harness.run(conn)  # what the tenant's own skips look like in a full round
    ids = await _linked_ids()
    for user_id in ids[:3]:
        tenant.update_user(user_id, jobTitle="Moved on")
    tenant.delete_user(ids[-1])
    taken = await EndUser.get(entra_object_id=ids[3])
    tenant.add_user(displayName="Twin", mail=taken.email, userPrincipalName=taken.email)
    newcomer = f"newcomer@{DOMAIN}"
    tenant.add_user(displayName="Newcomer", mail=newcomer, userPrincipalName=newcomer)
    await request_full_round(conn.id)

    full = await harness.run(conn)

    assert full.mode is SyncMode.FULL and not full.guard_tripped
    assert full.guard_affected == 4  # three updated, one no longer returned
    assert full.fetched == calm.fetched + 1 == len(tenant.users)
    assert (full.created, full.updated, full.errors) == (1, 3, calm.errors + 1)
    assert full.unchanged == calm.unchanged - 4
    actions = Counter(entry.action for entry in await harness.changes(full))
    actions.subtract(entry.action for entry in await harness.changes(calm))
    assert +actions == Counter({"UPDATE": 3, "CREATE": 1, "SKIP": 1})
    [created] = await ChangeLogEntry.filter(run_id=full.id, action="CREATE")
    assert created.end_user_id is not None
    assert (await EndUser.get(id=created.end_user_id)).email == newcomer
    titles = {u["entra_object_id"]: u["job_title"] for u in (await harness.users()).values()}
    assert [titles[user_id] for user_id in ids[:3]] == ["Moved on"] * 3
    await request_full_round(conn.id)
    again = await harness.run(conn)
    assert (again.created, again.updated) == (0, 0)
    assert again.guard_affected == 1  # still not returned


async def test_a_dry_run_reports_whether_the_guard_would_trip_and_never_waits(
    harness: Harness,
) -> None:
    tenant, conn, linked = await _imported(harness)
    for user_id in list(tenant.users):
        tenant.delete_user(user_id)

    dry = await harness.run(conn, dry_run=True)

    assert dry.guard_tripped and dry.guard_affected == linked
    assert dry.removed == len(tenant.deleted_users)


async def test_the_threshold_is_per_connection_and_null_turns_the_guard_off(
    harness: Harness,
) -> None:
    tenant, conn, linked = await _imported(harness)
    for user_id in (await _linked_ids())[: linked // 4]:
        tenant.update_user(user_id, jobTitle="A quarter")

    conn = await set_threshold(harness.caller, conn.id, 0.2)
    assert (await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)).guard_threshold == 0.2
    paused = await SyncRun.get(status=RunStatus.AWAITING_APPROVAL)
    await reject_run(harness.rt, harness.caller, paused.id)

    conn = await set_threshold(harness.caller, conn.id, None)
    run = await harness.run(conn)
    assert run.guard_imported is None and run.updated == linked // 4


async def test_only_admins_of_the_account_decide(harness: Harness) -> None:
    tenant, conn, _ = await _imported(harness)
    for user_id in list(tenant.users):
        tenant.delete_user(user_id)
    paused = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)
    technician = await authenticate(harness.account.tech_key)
    assert technician is not None
    other = await admin_caller(await make_account())

    for decide in (approve_run, reject_run):
        with pytest.raises(PermissionDenied):
            await decide(harness.rt, technician, paused.id)
        with pytest.raises(NotFound):
            await decide(harness.rt, other, paused.id)
        with pytest.raises(NotFound):
            await decide(harness.rt, harness.caller, paused.id + 1000)
    with pytest.raises(PermissionDenied):
        await set_threshold(technician, conn.id, 0.9)
    with pytest.raises(NotFound):
        await set_threshold(other, conn.id, None)

    assert (await SyncRun.get(id=paused.id)).status is RunStatus.AWAITING_APPROVAL
    first = await SyncRun.filter(connection_id=conn.id).order_by("id").first()
    assert first is not None
    with pytest.raises(RunNotAwaitingApproval):
        await approve_run(harness.rt, harness.caller, first.id)


DECIDE = """
mutation($id: ID!) {
  %s(input: {runId: $id}) {
    __typename
    ... on Error { message }
    ... on RunNotAwaitingApprovalError { status }
    ... on SyncRunPayload {
      run { status massChange { importedUsers affectedUsers share threshold tripped approvedAt } }
    }
  }
}
"""
GUARD = """
mutation($c: ID!, $t: Float) {
  setMassChangeGuard(input: {connectionId: $c, threshold: $t}) {
    __typename
    ... on ValidationError { field }
    ... on ConnectionPayload { connection { massChangeThreshold } }
  }
}
"""


async def test_the_api_approves_and_rejects_with_typed_errors(
    harness: Harness, sim_client: httpx.AsyncClient
) -> None:
    tenant, conn, linked = await _imported(harness)
    for user_id in list(tenant.users):
        tenant.delete_user(user_id)
    paused = await harness.run(conn, status=RunStatus.AWAITING_APPROVAL)
    run_id = encode_id("SyncRun", paused.id)
    other = await make_account()
    admin, tech = harness.account.admin_key, harness.account.tech_key

    async def decide(name: str, key: str) -> dict[str, Any]:
        body = await gql(sim_client, key, DECIDE % name, {"id": run_id})
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"][name]
        return result

    for name in ("approveSyncRun", "rejectSyncRun"):
        assert (await decide(name, tech))["__typename"] == "PermissionDeniedError"
        assert (await decide(name, other.admin_key))["__typename"] == "NotFoundError"
    assert (await SyncRun.get(id=paused.id)).status is RunStatus.AWAITING_APPROVAL

    approved = await decide("approveSyncRun", admin)
    check = approved["run"]["massChange"]
    assert (check["importedUsers"], check["affectedUsers"], check["share"]) == (linked, linked, 1)
    assert check["tripped"] and check["threshold"] == 0.5 and check["approvedAt"]
    assert (await harness.wait(paused)).status is RunStatus.SUCCEEDED
    again = await decide("rejectSyncRun", admin)
    assert again == {
        "__typename": "RunNotAwaitingApprovalError",
        "message": "the run is SUCCEEDED, not AWAITING_APPROVAL",
        "status": "SUCCEEDED",
    }

    conn_id = encode_id("TenantConnection", conn.id)
    bad = await gql(sim_client, admin, GUARD, {"c": conn_id, "t": 1.5})
    assert bad["data"]["setMassChangeGuard"] == {
        "__typename": "ValidationError",
        "field": "threshold",
    }
    off = await gql(sim_client, admin, GUARD, {"c": conn_id, "t": None})
    assert off["data"]["setMassChangeGuard"]["connection"] == {"massChangeThreshold": None}
    denied = await gql(sim_client, tech, GUARD, {"c": conn_id, "t": 0.3})
    assert denied["data"]["setMassChangeGuard"]["__typename"] == "PermissionDeniedError"
