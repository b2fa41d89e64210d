"""Continuous sync (R4): schedules, due runs, and several schedulers never starting one twice."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from models import Classification, ConnectionStatus, RunTrigger, Site, SyncRun, TenantConnection
from schema.ids import encode_id
from services.connections import disconnect
from services.runtime import Runtime
from services.scheduler import tick
from services.wizard import ImportSettings, MappingInput, configure_import
from tests.factories import Tenant, admin_caller, connect_tenant, gql, make_account

SCHEDULE = """
mutation($id: ID!, $m: Int) {
  setSyncSchedule(input: {connectionId: $id, intervalMinutes: $m}) {
    __typename
    ... on ConnectionPayload { connection { syncIntervalMinutes nextSyncAt } }
    ... on Error { message }
  }
}"""


async def _configured(rt: Runtime) -> tuple[TenantConnection, Tenant]:
    t = await make_account()
    conn = await connect_tenant(rt, t)
    caller = await admin_caller(t)

    site = await Site.create(account_id=t.account.id, name="All")
    mappings = (MappingInput(value="Undefined", site_id=site.id),)
    await configure_import(
        rt,
        caller,
        conn.id,
        ImportSettings(
            classification=Classification.OFFICE, mappings=mappings, user_types=("MEMBER",)
        ),
    )
    return await TenantConnection.get(id=conn.id), t


async def test_r4_set_schedule_through_the_api(
    sim_client: httpx.AsyncClient, runtime: Runtime
) -> None:
    conn, t = await _configured(runtime)
    cid = encode_id("TenantConnection", conn.id)
    ok = (await gql(sim_client, t.admin_key, SCHEDULE, {"id": cid, "m": 60}))["data"][
        "setSyncSchedule"
    ]
    assert ok["connection"]["syncIntervalMinutes"] == 60 and ok["connection"]["nextSyncAt"]
    for bad in (1, 10081):
        res = (await gql(sim_client, t.admin_key, SCHEDULE, {"id": cid, "m": bad}))["data"][
            "setSyncSchedule"
        ]
        assert res["__typename"] == "ValidationError"
    denied = (await gql(sim_client, t.tech_key, SCHEDULE, {"id": cid, "m": 60}))["data"][
        "setSyncSchedule"
    ]
    assert denied["__typename"] == "PermissionDeniedError"
    other = await make_account()
    foreign = (await gql(sim_client, other.admin_key, SCHEDULE, {"id": cid, "m": 60}))["data"][
        "setSyncSchedule"
    ]
    assert foreign["__typename"] == "NotFoundError"
    off = (await gql(sim_client, t.admin_key, SCHEDULE, {"id": cid, "m": None}))["data"][
        "setSyncSchedule"
    ]
    assert off["connection"] == {"syncIntervalMinutes": None, "nextSyncAt": None}


async def test_r4_tick_starts_only_due_connections(runtime: Runtime) -> None:
    due, _ = await _configured(runtime)
    later, _ = await _configured(runtime)
    now = datetime.now(UTC)
    await TenantConnection.filter(id=due.id).update(
        sync_interval_minutes=30, next_sync_at=now - timedelta(seconds=1)
    )
    await TenantConnection.filter(id=later.id).update(
        sync_interval_minutes=30, next_sync_at=now + timedelta(minutes=5)
    )
    started = await tick(runtime, now)
    assert [r.connection_id for r in started] == [due.id]
    assert started[0].trigger is RunTrigger.SCHEDULE
    row = await TenantConnection.get(id=due.id)
    assert row.next_sync_at is not None and row.next_sync_at > now + timedelta(minutes=29)
    assert await tick(runtime, now) == []  # claimed: not due any more
    await runtime.extras["runner"].wait(started[0].id)


async def test_r4_r5_concurrent_schedulers_start_a_connection_once(
    runtime: Runtime, sim_settings: object
) -> None:
    from api.runtime import open_runtime

    conn, _ = await _configured(runtime)
    now = datetime.now(UTC)
    await TenantConnection.filter(id=conn.id).update(
        sync_interval_minutes=5, next_sync_at=now - timedelta(seconds=1)
    )
    async with open_runtime(sim_settings) as other, open_runtime(sim_settings) as third:  # type: ignore[arg-type]
        results = await asyncio.gather(tick(runtime, now), tick(other, now), tick(third, now))
        started = [run for batch in results for run in batch]
        assert len(started) == 1
        assert await SyncRun.filter(connection_id=conn.id).count() == 1
        for rt in (runtime, other, third):
            runner = rt.extras.get("runner")
            if runner is not None:
                await runner.wait(started[0].id)


async def test_c7_disconnect_stops_the_schedule(runtime: Runtime) -> None:
    conn, t = await _configured(runtime)
    now = datetime.now(UTC)
    await TenantConnection.filter(id=conn.id).update(
        sync_interval_minutes=5, next_sync_at=now - timedelta(seconds=1)
    )
    await disconnect(await admin_caller(t), conn.id)
    row = await TenantConnection.get(id=conn.id)
    assert row.status is ConnectionStatus.DISCONNECTED and row.sync_interval_minutes is None
    assert await tick(runtime, now) == []
