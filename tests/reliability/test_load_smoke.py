"""CI smoke of bench/load_test.py: 30 clients mixing queries, mutations and subscriptions for
about 3 s while a 2,000-user import runs. No error, and the import SUCCEEDS; no timing assertion.

The app, the simulator and the clients share this test's event loop (the benchmark puts each in
its own process); the clients, the set-up through the API and the checks are the benchmark's.
"""

from __future__ import annotations

from collections import Counter

import aiohttp

from bench.load_test import MIX, WS_EVERY, Target, connect_and_configure, drive
from models import EndUser, Role
from services.api_keys import create_api_key
from simulator.server import Simulator
from simulator.tenant import generate_tenant
from tests.factories import make_account

CLIENTS = 30
USERS = 2_000


async def test_clients_mixing_queries_mutations_and_subscriptions_during_an_import(
    load_server: str, sim: Simulator
) -> None:
    sim.state.add_tenant(generate_tenant(seed=30, users=USERS, domain="load.example"))
    account = await make_account("Load")
    # One key per client: the per-key rate limit stays at its defaults and refuses nobody.
    keys = [
        (await create_api_key(account.account.id, Role.ADMIN, f"client {n}")).secret
        for n in range(CLIENTS)
    ]
    async with aiohttp.ClientSession() as http:
        connection_id = await connect_and_configure(
            http, load_server, account.admin_key, login_hint="admin@load.example"
        )
    target = Target(load_server, account.admin_key, keys, connection_id)

    result = await drive(target, seconds=3.0, think=0.05)

    stats = result.stats
    assert stats.errors == Counter()
    assert (result.status, result.fetched, result.error_message) == ("SUCCEEDED", USERS, "")
    assert (
        result.created
        == await EndUser.filter(account_id=account.account.id, source="ENTRA").count()
    )
    # Every kind of operation ran, and every websocket saw the run through to its end.
    assert {kind for kind, _ in MIX} | {"createEndUser"} <= set(stats.latencies)
    assert len(stats.latencies["createEndUser"]) == CLIENTS
    subscribers = len(range(0, CLIENTS, WS_EVERY))
    assert stats.subscribed == Counter(syncRuns=subscribers, syncProgress=subscribers)
    assert stats.completed["syncProgress"] == subscribers
    assert stats.progress_final == Counter(SUCCEEDED=subscribers)
    assert stats.events["syncRuns"] >= subscribers
