"""The measured path: a product database, a tenant connected through the real sign-in, and syncs.

Everything goes through the services the API calls (create account and key, startConnect /
completeConnect with the simulator's auto-accept, the wizard's directory summary,
configureImport, startSync) and waits on the runner like a subscriber would.
"""

from __future__ import annotations

import asyncio
import os
import resource
import time
import tracemalloc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
from pydantic import SecretStr

from api.db import close_database, dialect_of, open_database
from api.runtime import open_runtime
from api.settings import Settings
from bench.import_db import StatementCounts, counting_statements, row_snapshot, rows_written
from entra.cipher import generate_key
from models import (
    AccountMode,
    Classification,
    ConnectionScope,
    EndUser,
    Role,
    SyncRun,
    TenantConnection,
)
from services.api_keys import authenticate, create_account, create_api_key
from services.caller import Caller
from services.connections import complete_connect, start_connect
from services.runtime import Runtime
from services.sync.progress import COUNTERS
from services.sync.runs import SyncRunner, cancel_sync, start_sync
from services.wizard import ImportSettings, MappingInput, configure_import, directory_summary
from simulator.registration import DEMO_APP

# A run that takes longer than this is stuck: it is cancelled and the benchmark stops.
RUN_TIMEOUT = 1800.0


def peak_rss_mb() -> float:
    """ru_maxrss of this process (kilobytes on Linux): Python, libraries and all data so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(slots=True)
class Product:
    url: str
    dialect: str
    rt: Runtime
    caller: Caller
    connection_id: int
    sites: int
    offices: list[tuple[str, int]]  # (office value, users) from the wizard's summary


async def _sign_in(url: str) -> dict[str, str]:
    """What the admin's browser does with the simulator's auto-accept: follow to the redirect."""
    async with aiohttp.ClientSession() as http, http.get(url, allow_redirects=False) as resp:
        if resp.status not in (302, 303):
            raise RuntimeError(f"sign-in answered {resp.status}: {(await resp.text())[:300]}")
        location = resp.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@asynccontextmanager
async def product(url: str, sim_url: str, data_dir: Path) -> AsyncIterator[Product]:
    """An account with an ADMIN key, its tenant connected and configured: ACCOUNT scope, OFFICE
    classification with every office value (Undefined too) mapped to a site of its own, members
    and guests, no group filter. The database must be empty and migrated."""
    await open_database(url)
    try:
        account = await create_account("Bench", AccountMode.IT_DEPARTMENT)
        key = await create_api_key(account.id, Role.ADMIN, "bench")
        caller = await authenticate(key.secret)
        assert caller is not None
        settings = Settings(
            database_url=url,
            data_dir=data_dir,
            encryption_key=SecretStr(f"k1:{generate_key()}"),
            entra_client_id=DEMO_APP.client_id,
            entra_client_secret=SecretStr(DEMO_APP.client_secret),
            entra_authority_host=sim_url,
            graph_url=sim_url + "/v1.0",
            public_url="http://127.0.0.1:8000",
        )
        async with open_runtime(settings) as rt:
            _, sign_in_url = await start_connect(rt, caller, scope=ConnectionScope.ACCOUNT)
            done, _ = await complete_connect(rt, caller, await _sign_in(sign_in_url))
            # (connection, notice) in the current working tree, the connection alone before.
            conn = done[0] if isinstance(done, tuple) else done
            summary = await directory_summary(rt, caller, conn.id)
            mappings = tuple(
                MappingInput(value=v.value, new_site_name=f"Office {v.value}")
                for v in summary.offices
            )
            choice = ImportSettings(
                classification=Classification.OFFICE,
                mappings=mappings,
                user_types=("MEMBER", "GUEST"),
            )
            conn = await configure_import(rt, caller, conn.id, choice)
            yield Product(
                url=url,
                dialect=dialect_of(url),
                rt=rt,
                caller=caller,
                connection_id=conn.id,
                sites=len(mappings),
                offices=[(v.value, v.count) for v in summary.offices],
            )
    finally:
        await close_database()


@dataclass(slots=True)
class Phase:
    """One sync as the benchmark saw it."""

    name: str
    wall_s: float
    users_per_s: float
    run_id: int
    status: str
    error: str
    counters: dict[str, int]
    engine_s: float | None  # the run's own started_at -> finished_at
    mode: str | None = None  # FULL or DELTA (R9), as the run recorded it
    mode_reason: str = ""
    statements: dict[str, Any] | None = None
    rows_written: dict[str, int] | None = None
    trigger_writes: dict[str, int] | None = None
    tracemalloc_peak_mb: float | None = None
    peak_rss_mb: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def sync_once(
    p: Product,
    name: str,
    *,
    full: bool = False,
    count_sql: bool = False,
    trace_memory: bool = False,
    snapshot_rows: bool = False,
) -> Phase:
    """startSync and wait for the run to end; optionally count SQL, trace memory, diff rows.

    `full` makes the run a full round (R9) as when incremental sync is off; otherwise the engine
    chooses (a delta round when it holds a fresh delta link). The row snapshot is taken before
    and after the timed window, never inside it. Raises TimeoutError (after asking the run to
    cancel) when it overstays RUN_TIMEOUT.
    """
    before = await row_snapshot(p.dialect) if snapshot_rows else None
    every = p.rt.full_sync_every
    if full:
        p.rt.full_sync_every = timedelta(0)
    conn = await TenantConnection.get(id=p.connection_id)
    counts: StatementCounts | None = None
    if trace_memory:
        tracemalloc.start()
    with counting_statements() if count_sql else nullcontext() as counted:
        counts = counted
        began = time.perf_counter()
        run, _ = await start_sync(p.rt, p.caller, conn)
        runner = p.rt.extras["runner"]
        assert isinstance(runner, SyncRunner)
        try:
            async with asyncio.timeout(RUN_TIMEOUT):
                await runner.wait(run.id)
        except TimeoutError:
            await cancel_sync(p.rt, p.caller, run.id)
            raise
        finally:
            p.rt.full_sync_every = every
        wall = time.perf_counter() - began
    traced = None
    if trace_memory:
        traced = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    run = await SyncRun.get(id=run.id)
    engine = (
        (run.finished_at - run.started_at).total_seconds()
        if run.finished_at and run.started_at
        else None
    )
    phase = Phase(
        name=name,
        wall_s=wall,
        users_per_s=run.fetched / wall if wall else 0.0,
        run_id=run.id,
        status=run.status.value,
        error=run.error_message,
        counters={c: int(getattr(run, c)) for c in COUNTERS},
        engine_s=engine,
        mode=str(getattr(run, "mode", None) or "") or None,
        mode_reason=str(getattr(run, "mode_reason", "")),
        tracemalloc_peak_mb=traced,
        peak_rss_mb=peak_rss_mb(),
        extra={"load": round(os.getloadavg()[0], 2)},
    )
    if counts is not None:
        phase.statements = counts.as_dict()
    if before is not None:
        phase.rows_written = rows_written(before, await row_snapshot(p.dialect))
    return phase


async def users_to_change(p: Product, share: float = 0.01) -> list[str]:
    """Every 1/share-th imported user's Entra id (1% of the users the import wrote)."""
    ids = (
        await EndUser.filter(entra_object_id__not_isnull=True)
        .order_by("id")
        .values_list("entra_object_id", flat=True)
    )
    step = max(1, round(1 / share))
    return [str(i) for i in ids[step // 2 :: step]]
