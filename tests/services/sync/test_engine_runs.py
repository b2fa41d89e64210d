"""Runs of the engine (R5, R7, R8, R10): dry runs, change logs, concurrency, cancel and failures."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from models import ChangeAction, ChangeLogEntry, EndUser, RunStatus, SyncRun, UserSource
from services.sync.runs import cancel_sync, start_sync
from simulator.faults import Fault
from tests.factories import make_user

from .conftest import Harness, run_field, wait_until


def _plan_of(entries: list[ChangeLogEntry]) -> list[tuple[Any, ...]]:
    """A change log as comparable data; a dry run has no ids for users it did not create."""
    return [
        (
            e.action,
            e.entra_object_id,
            e.email,
            e.display_name,
            None if e.action is ChangeAction.CREATE else e.end_user_id,
            e.site_id,
            e.reason,
            e.changes,
        )
        for e in entries
    ]


async def test_r7_dry_run_writes_nothing_and_logs_the_same_plan(harness: Harness) -> None:
    member = next(u for u in list(harness.tenant.users.values())[20:] if u["givenName"])
    await make_user(harness.site, email=member["userPrincipalName"], first_name="Old")
    conn = await harness.connect()
    before = await harness.users()

    dry = await harness.run(conn, dry_run=True)

    assert await harness.users() == before
    assert dry.dry_run and dry.created > 0 and dry.updated == 1
    real = await harness.run(conn)
    assert _plan_of(await harness.changes(dry)) == _plan_of(await harness.changes(real))
    counters = ("fetched", "created", "updated", "unchanged", "skipped_filter", "errors")
    assert [getattr(dry, c) for c in counters] == [getattr(real, c) for c in counters]
    assert await EndUser.all().count() == len(before) + real.created


async def test_r8_change_log_has_old_and_new_values(harness: Harness) -> None:
    people = [u for u in list(harness.tenant.users.values())[20:] if u["givenName"]]
    matched, created = people[0], people[1]
    manual = await make_user(
        harness.site, email=matched["userPrincipalName"], first_name="Old", last_name="Name"
    )
    conn = await harness.connect()

    run = await harness.run(conn)

    update = await ChangeLogEntry.get(run_id=run.id, entra_object_id=matched["id"])
    assert (update.action, update.end_user_id, update.site_id) == (
        ChangeAction.UPDATE,
        manual.id,
        harness.site.id,
    )
    assert update.changes["first_name"] == ["Old", matched["givenName"]]
    assert update.changes["last_name"] == ["Name", matched["surname"]]
    assert update.changes["source"] == ["MANUAL", "ENTRA"]
    assert "email" not in update.changes  # matched by email: nothing to change there
    create = await ChangeLogEntry.get(run_id=run.id, entra_object_id=created["id"])
    user = await EndUser.get(entra_object_id=created["id"])
    assert (create.action, create.end_user_id, create.site_id) == (
        ChangeAction.CREATE,
        user.id,
        harness.site.id,
    )
    assert create.email == user.email and create.display_name == created["displayName"]
    assert create.changes["email"] == ["", user.email]
    assert create.changes["first_name"] == ["", created["givenName"]]
    assert all(old == "" for old, _ in create.changes.values())


async def test_r5_concurrent_start_sync_returns_one_run(harness: Harness) -> None:
    conn = await harness.connect()
    # Slow pages keep the run going while every call is made (a finished run may be followed).
    harness.sim.state.faults.page_delay = 0.3

    started = await asyncio.gather(
        *(start_sync(harness.rt, harness.caller, conn) for _ in range(6))
    )

    assert sum(1 for _, created in started if created) == 1
    assert len({run.id for run, _ in started}) == 1
    done = await harness.wait(started[0][0])
    assert done.status is RunStatus.SUCCEEDED
    assert await SyncRun.filter(connection_id=conn.id).count() == 1


async def test_r1_cancel_mid_run_keeps_written_batches_whole(harness: Harness) -> None:
    tenant = harness.big_tenant()
    conn = await harness.connect(domain=tenant.domain)
    harness.sim.state.faults.page_delay = 0.4
    run = await harness.start(conn)
    await wait_until(lambda: _committed(run))

    await cancel_sync(harness.rt, harness.caller, run.id)
    done = await harness.wait(run)

    assert done.status is RunStatus.CANCELLED and done.error_message == "cancelled by an admin"
    assert done.fetched in (999, 1998)  # whole pages only, and not the last one
    assert await EndUser.all().count() == done.created
    logged = await ChangeLogEntry.filter(run_id=run.id).count()
    assert logged == done.created + done.updated + done.errors + done.skipped_filter


async def _committed(run: SyncRun) -> bool:
    return bool(await run_field(run, "fetched"))


async def test_r10_throttled_and_failing_pages_give_the_same_result(harness: Harness) -> None:
    harness.rt.full_sync_every = timedelta(0)  # the re-run is a full round, which re-creates
    tenant = harness.big_tenant()
    conn = await harness.connect(domain=tenant.domain)
    clean = await harness.run(conn)
    expected = await harness.synced_state()
    await EndUser.all().delete()
    faults = harness.sim.state.faults
    # The count gets its own faults (and gives up: it is best effort). The others hit the round's
    # first request matching /v1.0/users: its delta link ($deltatoken=latest, R9), then pages.
    faults.script("/v1.0/users/$count", [Fault(503, retry_after=0.01)] * 6)
    faults.script(
        "/v1.0/users",
        [
            Fault(503),
            Fault(429, retry_after=0.05),
            Fault(429, retry_after=0.123),
            Fault(504, retry_after=0.01),
            Fault(429, retry_after=0.01),
        ],
    )
    start = len(harness.sim.state.requests)

    again = await harness.run(conn)

    assert await harness.synced_state() == expected
    assert (again.created, again.fetched, again.errors) == (
        clean.created,
        clean.fetched,
        clean.errors,
    )
    # $count gave up; the completed full round's own count of users stands in (R2: percent).
    assert (clean.total, again.total) == (len(tenant.users), len(tenant.users))
    round_paths = ("/v1.0/users", "/v1.0/users/delta")
    statuses = [r.status for r in harness.sim.state.requests[start:] if r.path in round_paths]
    assert statuses.count(200) == 3 + 1 and sorted(set(statuses)) == [200, 429, 503, 504]


async def test_r10_graph_failure_beyond_retries_fails_the_run_without_a_partial_batch(
    harness: Harness,
) -> None:
    tenant = harness.big_tenant()
    conn = await harness.connect(domain=tenant.domain)
    harness.sim.state.faults.page_delay = 0.5
    run = await harness.start(conn)
    await wait_until(lambda: _committed(run))
    # The second page is already being served; the third gets nothing but 503s.
    harness.sim.state.faults.script("/v1.0/users", [Fault(503, retry_after=0.01)] * 10)

    done = await harness.wait(run)

    assert done.status is RunStatus.FAILED
    assert done.error_message.startswith("Microsoft is unavailable: Graph GET /v1.0/users")
    assert "gave up after 6 attempts" in done.error_message
    assert done.fetched == 1998
    assert await EndUser.all().count() == done.created
    logged = await ChangeLogEntry.filter(run_id=run.id).count()
    assert logged == done.created + done.errors + done.skipped_filter


async def test_a_batch_that_cannot_be_saved_is_rolled_back_whole(harness: Harness) -> None:
    tenant = harness.big_tenant()
    boom = tenant.add_user(displayName="Boom", userPrincipalName="boom@big.example")
    conn = await harness.connect(domain=tenant.domain)
    db = EndUser._meta.db
    postgres = db.capabilities.dialect == "postgres"
    # A database-side failure in the last batch's change-log insert, after its users were inserted.
    if postgres:
        await db.execute_script(
            "CREATE FUNCTION boom() RETURNS trigger AS $$ BEGIN "
            "IF NEW.email = 'boom@big.example' THEN RAISE EXCEPTION 'boom'; END IF; "
            "RETURN NEW; END $$ LANGUAGE plpgsql; "
            "CREATE TRIGGER boom BEFORE INSERT ON change_log_entry "
            "FOR EACH ROW EXECUTE FUNCTION boom();"
        )
    else:
        await db.execute_script(
            "CREATE TRIGGER boom BEFORE INSERT ON change_log_entry "
            "WHEN NEW.email = 'boom@big.example' BEGIN SELECT RAISE(ABORT, 'boom'); END;"
        )
    try:
        done = await harness.run(conn, status=RunStatus.FAILED)
    finally:
        await db.execute_script(
            "DROP TRIGGER boom ON change_log_entry; DROP FUNCTION boom();"
            if postgres
            else "DROP TRIGGER boom;"
        )

    assert done.error_message.startswith("could not save Entra users 1999-2101: ")
    assert "that batch was rolled back" in done.error_message
    assert done.fetched == 1998
    assert await EndUser.all().count() == done.created
    assert not await EndUser.filter(entra_object_id=boom["id"]).exists()
    last_page = list(tenant.users)[1998:]
    assert not await EndUser.filter(entra_object_id__in=last_page).exists()
    assert not await ChangeLogEntry.filter(run_id=done.id, entra_object_id__in=last_page).exists()


async def test_s2_batch_clashing_with_a_product_user_created_meanwhile_is_planned_again(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    person = next(u for u in list(harness.tenant.users.values())[20:] if u["givenName"])
    conn = await harness.connect()
    harness.sim.state.faults.page_delay = 0.4
    run = await harness.start(conn)
    await wait_until(lambda: _phase_is(run, "users"))
    # Created after the run loaded its scope, before its page is written: the insert clashes.
    manual = await make_user(harness.site, email=person["userPrincipalName"], job_title="Manual")

    done = await harness.wait(run)

    assert done.status is RunStatus.SUCCEEDED, done.error_message
    assert any("planning it again" in r.getMessage() for r in caplog.records)
    user = await EndUser.get(id=manual.id)
    assert (user.source, user.entra_object_id) == (UserSource.ENTRA, person["id"])
    assert await EndUser.filter(email_key=user.email_key).count() == 1
    assert done.updated == 1
    entry = await ChangeLogEntry.get(run_id=run.id, entra_object_id=person["id"])
    assert (entry.action, entry.end_user_id) == (ChangeAction.UPDATE, manual.id)
    assert await ChangeLogEntry.filter(run_id=run.id).count() == done.created + 1 + done.errors


async def _phase_is(run: SyncRun, phase: str) -> bool:
    return bool(await run_field(run, "phase") == phase)
