"""Issue 6's managerEmail field rule through full and delta runs (the manager read from Graph)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from models import ChangeAction, EndUser, SyncMode, TenantConnection
from services.sync.delta import request_full_round
from services.sync.explain import explain_user
from simulator.tenant import SimTenant

from .conftest import Harness
from .test_engine_policies import log_of, people, save


def graph_queries(harness: Harness) -> list[str]:
    return [
        unquote(r.path + "?" + r.query)
        for r in harness.sim.state.requests
        if r.path.startswith("/v1.0/users")
    ]


def upn(tenant: SimTenant, user_id: str) -> str:
    return str(tenant.users[user_id]["userPrincipalName"])


def managed(tenant: SimTenant) -> list[dict[str, Any]]:
    """People (no planted oddity) whose generated manager is one of the people too."""
    ids = {u["id"] for u in people(tenant)}
    return [u for u in people(tenant) if tenant.managers.get(u["id"]) in ids]


async def emails(conn: TenantConnection) -> dict[str, str]:
    rows = await EndUser.filter(account_id=conn.account_id).values_list(
        "entra_object_id", "manager_email"
    )
    return {str(object_id): str(email) for object_id, email in rows}


async def test_default_rules_never_ask_graph_for_managers(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    a, b = managed(tenant)[:2]
    tenant.set_manager(a["id"], b["id"])
    tenant.update_user(b["id"], jobTitle="Changed")

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA and delta.updated == 1
    queries = graph_queries(harness)
    assert queries and not any("expand" in q or "manager" in q for q in queries)
    # The full round still reads pages of 999.
    assert any("$top=999" in q for q in queries)
    assert set((await emails(conn)).values()) == {""}


async def test_overwrite_through_full_and_delta_runs(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.guard_off(conn)
    preview_run = await save(harness, conn, field_rules=[("managerEmail", "OVERWRITE")])
    assert preview_run.dry_run and not any((await emails(conn)).values())

    first = await harness.run(conn)

    assert first.mode is SyncMode.FULL
    stored = await emails(conn)
    for person in managed(tenant):
        assert stored[person["id"]] == upn(tenant, tenant.managers[person["id"]])
    guest = next(u for u in tenant.users.values() if u["userType"] == "Guest")
    assert stored[guest["id"]] == ""  # no manager
    queries = graph_queries(harness)
    listing = [q for q in queries if q.startswith("/v1.0/users?") and "$skiptoken" not in q]
    assert listing and all(
        "$expand=manager($select=id,mail,userPrincipalName)" in q and "$top=100" in q
        for q in listing
    )
    assert any("$deltatoken=latest" in q and ",manager" in q for q in queries)
    created = {e.entra_object_id: e for e in await harness.changes(first)}
    person = managed(tenant)[0]
    assert created[person["id"]].changes["manager_email"] == [
        "",
        upn(tenant, tenant.managers[person["id"]]),
    ]

    # Delta: a new manager (in the round), one taken away, one whose end user the product
    # deleted (looked up in Graph by id), and a newcomer managed by someone in the round.
    a, b, d, new_boss, far_boss = managed(tenant)[10:15]
    tenant.set_manager(a["id"], new_boss["id"])
    tenant.update_user(new_boss["id"], jobTitle="Promoted")
    tenant.set_manager(b["id"], None)
    tenant.set_manager(d["id"], far_boss["id"])
    await EndUser.filter(entra_object_id=far_boss["id"]).delete()
    newcomer = tenant.add_user(
        displayName="New Report", mail="new.report@contoso.example", givenName="New"
    )
    tenant.set_manager(newcomer["id"], a["id"])
    before = len(harness.sim.state.requests)

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA
    after = await emails(conn)
    assert after[a["id"]] == upn(tenant, new_boss["id"])
    assert after[b["id"]] == ""
    assert after[d["id"]] == upn(tenant, far_boss["id"])
    assert after[newcomer["id"]] == upn(tenant, a["id"])
    log = await log_of(delta)
    assert log[a["id"]].changes == {"manager_email": [stored[a["id"]], upn(tenant, new_boss["id"])]}
    assert log[b["id"]].changes == {"manager_email": [stored[b["id"]], ""]}
    assert log[newcomer["id"]].action is ChangeAction.CREATE
    round_queries = [unquote(r.path + "?" + r.query) for r in harness.sim.state.requests[before:]]
    assert not any("expand" in q for q in round_queries if "/users/delta" in q)
    # One batched look-up by id for the manager nobody in the round or the product knew.
    lookups = [q for q in round_queries if "id in (" in q]
    assert len(lookups) == 1 and far_boss["id"] in lookups[0]
    assert new_boss["id"] not in lookups[0] and a["id"] not in lookups[0]
    # Nobody else's manager email moved.
    expected = {k: v for k, v in stored.items() if k != far_boss["id"]}
    expected.update({k: after[k] for k in (a["id"], b["id"], d["id"], newcomer["id"])})
    assert after == expected

    # A full round agrees with the delta round: only the deleted end user comes back.
    await request_full_round(conn.id)
    full = await harness.run(conn)
    assert full.mode is SyncMode.FULL and (full.created, full.updated) == (1, 0)
    assert await emails(conn) == {
        **after,
        far_boss["id"]: upn(tenant, tenant.managers[far_boss["id"]]),
    }


async def test_keep_when_blank_never_erases_a_manager(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await save(harness, conn, field_rules=[("managerEmail", "KEEP_WHEN_BLANK")])
    await harness.run(conn)
    a, b, boss = managed(tenant)[:3]
    stored = await emails(conn)
    assert stored[b["id"]] == upn(tenant, tenant.managers[b["id"]])
    tenant.set_manager(b["id"], None)
    tenant.set_manager(a["id"], boss["id"])

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA and delta.updated == 1
    after = await emails(conn)
    assert after[b["id"]] == stored[b["id"]]
    assert after[a["id"]] == upn(tenant, boss["id"])
    await request_full_round(conn.id)
    full = await harness.run(conn)
    assert (full.created, full.updated) == (0, 0) and await emails(conn) == after


async def test_create_only_sets_the_manager_on_creation_only(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await save(harness, conn, field_rules=[("managerEmail", "CREATE_ONLY")])
    await harness.run(conn)
    a, b, boss = managed(tenant)[:3]
    stored = await emails(conn)
    assert stored[a["id"]] == upn(tenant, tenant.managers[a["id"]])
    tenant.set_manager(a["id"], boss["id"])
    tenant.set_manager(b["id"], None)
    newcomer = tenant.add_user(displayName="Fresh Hire", mail="fresh@contoso.example")
    tenant.set_manager(newcomer["id"], boss["id"])

    delta = await harness.run(conn)

    assert delta.mode is SyncMode.DELTA and (delta.created, delta.updated) == (1, 0)
    after = await emails(conn)
    assert (after[a["id"]], after[b["id"]]) == (stored[a["id"]], stored[b["id"]])
    assert after[newcomer["id"]] == upn(tenant, boss["id"])
    await request_full_round(conn.id)
    full = await harness.run(conn)
    assert (full.created, full.updated) == (0, 0)


async def test_explain_shows_the_manager_email_the_next_sync_writes(harness: Harness) -> None:
    tenant = harness.tenant
    conn = await harness.connect()
    await harness.run(conn)
    a, boss = managed(tenant)[:2]
    # Default rules: the manager is neither read nor explained.
    plain = await explain_user(harness.rt, harness.caller, conn.id, entra_user_id=a["id"])
    assert "manager_email" not in plain.decision.changes
    await save(harness, conn, field_rules=[("managerEmail", "OVERWRITE")])
    tenant.set_manager(a["id"], boss["id"])

    e = await explain_user(harness.rt, harness.caller, conn.id, entra_user_id=a["id"])

    assert e.decision.changes["manager_email"] == ("", upn(tenant, boss["id"]))
