"""Fixtures for the engine tests: an account connected to a simulated tenant, and runs to the end."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from models import (
    ChangeLogEntry,
    EndUser,
    RunStatus,
    Site,
    SyncRun,
    TenantConnection,
)
from services.caller import Caller
from services.runtime import Runtime
from services.sync.runs import SyncRunner, start_sync
from services.wizard import ImportSettings, configure_import
from simulator.server import Simulator
from simulator.tenant import SimTenant, generate_tenant
from tests.factories import Tenant, admin_caller, connect_tenant, make_account, make_site

BOTH_TYPES = ("MEMBER", "GUEST")
# The projection of an end user that a sync decides; ids and timestamps are left out.
SYNCED_COLUMNS = (
    "site_id",
    "email",
    "email_key",
    "first_name",
    "last_name",
    "job_title",
    "phone",
    "mobile",
    "source",
    "entra_object_id",
    "entra_tenant_id",
    "entra_last_email",
    "user_type",
    "account_enabled",
)


@dataclass
class Harness:
    """One account of the product, the simulator, and the real start_sync/runner path."""

    rt: Runtime
    sim: Simulator
    account: Tenant
    caller: Caller
    site: Site

    @property
    def tenant(self) -> SimTenant:
        return self.sim.tenant("contoso.example")

    def big_tenant(self, users: int = 2100, domain: str = "big.example") -> SimTenant:
        """A tenant of more than two 999-user pages, added to the running simulator."""
        tenant = generate_tenant(seed=7, users=users, domain=domain)
        self.sim.state.add_tenant(tenant)
        return tenant

    async def connect(
        self,
        settings: ImportSettings | None = None,
        *,
        scope: str = "SITE",
        site: Site | None = None,
        domain: str = "contoso.example",
    ) -> TenantConnection:
        """A CONNECTED, configured connection (SITE scope into `site` unless told otherwise)."""
        target = (site or self.site) if scope == "SITE" else None
        conn = await connect_tenant(
            self.rt, self.account, scope=scope, site=target, login_hint=f"admin@{domain}"
        )
        settings = settings or ImportSettings(user_types=BOTH_TYPES)
        return await configure_import(self.rt, self.caller, conn.id, settings)

    async def guard_off(self, conn: TenantConnection) -> None:
        """Turn the mass-change guard off, for tests that change every user on purpose."""
        await TenantConnection.filter(id=conn.id).update(mass_change_threshold=None)
        conn.mass_change_threshold = None

    async def start(self, conn: TenantConnection, *, dry_run: bool = False) -> SyncRun:
        run, created = await start_sync(self.rt, self.caller, conn, dry_run=dry_run)
        assert created
        return run

    async def wait(self, run: SyncRun) -> SyncRun:
        await asyncio.wait_for(self.runner.wait(run.id), timeout=20)
        return await SyncRun.get(id=run.id)

    async def run(
        self,
        conn: TenantConnection,
        *,
        dry_run: bool = False,
        status: RunStatus = RunStatus.SUCCEEDED,
    ) -> SyncRun:
        """Start a run, wait for its end, and check its status."""
        done = await self.wait(await self.start(conn, dry_run=dry_run))
        assert done.status is status, done.error_message
        return done

    @property
    def runner(self) -> SyncRunner:
        runner = self.rt.extras["runner"]
        assert isinstance(runner, SyncRunner)
        return runner

    async def users(self) -> dict[str, dict[str, Any]]:
        """The account's end users by email key, as the synced columns."""
        rows = await EndUser.filter(account_id=self.account.account.id).values(
            "id", "updated_at", *SYNCED_COLUMNS
        )
        return {str(r["email_key"]): r for r in rows}

    async def synced_state(self) -> set[tuple[Any, ...]]:
        """What a sync leaves in the product, independent of ids and write times."""
        rows = await EndUser.filter(account_id=self.account.account.id).values_list(*SYNCED_COLUMNS)
        return {tuple(r) for r in rows}

    async def changes(self, run: SyncRun) -> list[ChangeLogEntry]:
        return await ChangeLogEntry.filter(run_id=run.id).order_by("id")


async def wait_until(check: Callable[[], Awaitable[bool]]) -> None:
    """Poll the database until `check` holds; progress events are throttled, the rows are not."""
    async with asyncio.timeout(10):
        for _ in itertools.count():
            if await check():
                return
            await asyncio.sleep(0.01)


async def run_field(run: SyncRun, name: str) -> Any:
    values = await SyncRun.filter(id=run.id).values_list(name, flat=True)
    return values[0]


@pytest.fixture
async def harness(runtime: Runtime, sim: Simulator) -> Harness:
    account = await make_account()
    site = await make_site(account.account, "Headquarters")
    return Harness(runtime, sim, account, await admin_caller(account), site)
